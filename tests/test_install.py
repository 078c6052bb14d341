"""Installing in a lab room: the offline wheelhouse route, the interpreter `make` picks, and true version floors."""
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()
WHEELHOUSE = ROOT / "wheelhouse"


def floors() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins[req.name.lower()] = Version(spec.version)
    return pins


def test_floors_file_pins_every_dependency_at_its_declared_minimum():
    declared = {}
    for line in PYPROJECT["project"]["dependencies"]:
        req = Requirement(line)
        (spec,) = req.specifier  # one bound per dependency: the floor (torch: the pin)
        assert spec.operator in (">=", "=="), line
        declared[req.name.lower()] = Version(spec.version)
    assert floors() == declared


def test_python_range_is_the_one_make_checks():
    spec = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert "3.10" not in spec  # the tests import tomllib (3.11+)
    assert "3.11" in spec
    (low,) = [s.version for s in spec if s.operator == ">="]
    (high,) = [s.version for s in spec if s.operator == "<"]
    as_tuple = lambda v: "({}, {})".format(*Version(v).release[:2])  # noqa: E731
    assert f"{as_tuple(low)} <= sys.version_info[:2] < {as_tuple(high)}" in MAKEFILE
    assert sys.version_info[:2] >= Version(low).release[:2]


def test_make_installs_the_build_requirements_itself():
    # --no-build-isolation needs them in the venv; an isolated build would fetch setuptools from the network.
    (line,) = [ln for ln in MAKEFILE.splitlines() if ln.startswith("BUILD_REQS :=")]
    assert sorted(shlex.split(line.split(":=", 1)[1])) == sorted(PYPROJECT["build-system"]["requires"] + ["wheel"])
    assert "--no-build-isolation -e ." in MAKEFILE


def _fake_python(path: Path, works: bool) -> None:
    path.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n" if works else "#!/bin/sh\nexit 1\n")
    path.chmod(0o755)


@pytest.mark.parametrize("good", ["python3.11", "python3", "python"])
def test_make_takes_the_first_supported_interpreter(tmp_path, good):
    names = ["python3.11", "python3", "python"]
    for name in names:
        _fake_python(tmp_path / name, works=names.index(name) >= names.index(good))
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    env.pop("PYTHON", None)
    out = subprocess.run(["make", "-n", "wheelhouse"], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert f"\n{good} -m pip download" in out


def test_make_says_what_is_missing_without_a_supported_interpreter(tmp_path):
    for name in ("python3.11", "python3", "python"):
        _fake_python(tmp_path / name, works=False)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    done = subprocess.run(["make", "wheelhouse"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "Python 3.11 is needed (tried: python3.11 python3 python)" in done.stdout


@pytest.mark.skipif(not any(WHEELHOUSE.glob("*.whl")), reason="no wheelhouse/ (make wheelhouse builds it)")
@pytest.mark.timeout(1200)  # past the install's own 900 s
def test_offline_install_from_wheelhouse(tmp_path):
    """`make install` into a fresh venv with every index switched off: only wheelhouse/ can supply wheels."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_INDEX_URL="http://127.0.0.1:9/simple",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", VIRTUAL_ENV="")
    done = subprocess.run(["make", "install", f"VENV={venv}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--no-index --find-links wheelhouse" in done.stdout
    probe = "import torch, vqlab, vqlab.train; print(torch.__version__, vqlab.__file__)"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "2.13.0+cpu"
    assert Path(out[1]).is_relative_to(ROOT)
