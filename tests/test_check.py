"""`python -m vqlab.check`: one OK/FAIL line per part, read from vqlab's installed metadata; exit status 1 when a
required part fails."""
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from vqlab import check

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_documented_command_passes_here_with_a_line_per_dependency():
    done = subprocess.run([sys.executable, "-m", "vqlab.check", "test"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for line in PROJECT["dependencies"]:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate():
            assert any(ln.startswith("OK") and ln.split()[1] == req.name for ln in lines), req.name
    assert any(ln.startswith("OK    device: vqlab trains on") for ln in lines)
    assert any(ln.startswith("OK    [test] pytest") for ln in lines)
    assert lines[-1] == "everything required is in place"


def _uninstall(monkeypatch, missing: str) -> None:
    """Make the check see ``missing`` as not installed."""
    version = importlib.metadata.version

    def without(name):
        if name == missing:
            raise importlib.metadata.PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr(check.metadata, "version", without)


def test_a_missing_dependency_fails(monkeypatch, capsys):
    _uninstall(monkeypatch, "tqdm")
    assert check.main([]) == 1
    out = capsys.readouterr().out
    assert "FAIL  tqdm: not installed" in out and "1 required part(s) failed" in out


def test_requirement_states():
    assert check._requirement_status(Requirement("numpy>=1.0"))[0] == "ok"
    assert check._requirement_status(Requirement("numpy>=999"))[0] == "broken"
    assert check._requirement_status(Requirement("surely-not-a-vqlab-dependency"))[0] == "missing"


def test_a_required_extra_that_is_missing_or_unknown_fails(monkeypatch, capsys):
    assert check.main(["no-such-extra"]) == 1
    assert "FAIL  [no-such-extra]: no such extra" in capsys.readouterr().out
    _uninstall(monkeypatch, "jupyterlab")
    assert check.main(["lab"]) == 1
    assert "FAIL  [lab] jupyterlab: not installed" in capsys.readouterr().out
    assert check.main([]) == 0  # optional: shown as --, not a failure
    assert "--    [lab] jupyterlab: not installed" in capsys.readouterr().out


def test_the_distribution_name_is_pyproject_s():
    assert check.DISTRIBUTION == PROJECT["name"]


def test_pypi_s_other_vqlab_is_named(monkeypatch, capsys):
    distributions = importlib.metadata.packages_distributions
    monkeypatch.setattr(check.metadata, "packages_distributions", lambda: {**distributions(), "vqlab": ["VQLab"]})
    assert check.main([]) == 1
    assert "installed by VQLab" in capsys.readouterr().out
