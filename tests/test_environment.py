"""The dependency list stays offline-safe, and the README promises only set-ups that exist and are tested."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(_norm(r) for r in data["project"]["dependencies"])


def test_required_dependencies_are_listed():
    required = {"torch", "numpy", "scipy", "scikit-learn", "matplotlib", "ipywidgets", "jupyterlab", "tqdm",
                "nbval", "jupytext", "pytest", "ripser", "persim", "giotto-ph"}
    assert required <= set(pyproject_deps())


def test_torch_is_pinned_to_the_local_cpu_build():
    # A bare or open-ended torch requirement makes pip download a multi-GB CUDA build.
    assert pyproject_deps()["torch"] == "==2.13.0"
    assert "torch==2.13.0" in (ROOT / "Makefile").read_text()


def test_no_untested_conda_claim():
    # conda cannot be installed or tried here, so there is no environment.yml and the README offers none.
    assert not (ROOT / "environment.yml").exists()
    readme = (ROOT / "README.md").read_text()
    assert "environment.yml" not in readme and "Binder" not in readme


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    for step in ("make wheelhouse", "make test-floors"):
        assert step in readme and step in ci
