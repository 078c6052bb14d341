"""The two dependency lists (pip/pyproject and conda/Binder) must agree, and the set-up must stay offline-safe."""
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


def environment_deps() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    deps = {}
    for line in lines[start + 1:]:
        item = line.strip()
        if not item.startswith("- "):
            break
        item = item[2:].strip()
        if item.startswith("-e"):
            continue
        name, spec = _norm(item)
        deps[name] = spec
    return deps


def test_environment_yml_matches_pyproject():
    assert environment_deps() == pyproject_deps()


def test_required_dependencies_are_listed():
    required = {"torch", "numpy", "scipy", "scikit-learn", "matplotlib", "ipywidgets", "jupyterlab", "tqdm",
                "nbval", "jupytext", "pytest", "ripser", "persim", "giotto-ph"}
    assert required <= set(pyproject_deps())


def test_torch_is_pinned_to_the_local_cpu_build():
    # A bare or open-ended torch requirement makes pip download a multi-GB CUDA build.
    assert pyproject_deps()["torch"] == "==2.13.0"
    assert "torch==2.13.0" in (ROOT / "Makefile").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
