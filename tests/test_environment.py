"""The conda route (environment.yml) stays in step with pyproject.toml, and the README promises only what exists."""
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENV = yaml.safe_load((ROOT / "environment.yml").read_text())
# conda-forge names where they differ from PyPI's: the CPU build of torch, matplotlib without its Qt backend.
CONDA_NAME = {"torch": "pytorch-cpu", "matplotlib": "matplotlib-base"}
# Installed by the file's pip step (`-e .`, vqlab's own requirements) rather than from conda-forge.
FROM_PIP = {"giotto-ph"}


def conda_bounds() -> dict[str, SpecifierSet]:
    out = {}
    for dep in ENV["dependencies"]:
        if isinstance(dep, str):
            req = Requirement(dep)
            out[req.name] = req.specifier
    return out


def test_conda_forge_only_with_cpu_torch():
    assert ENV["channels"] == ["conda-forge"]
    assert "pytorch-cpu" in conda_bounds() and "pytorch" not in conda_bounds()


def test_lower_bounds_match_pyproject():
    conda = conda_bounds()
    for line in PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["lab"]:
        req = Requirement(line)
        if req.name in FROM_PIP:
            continue
        name = CONDA_NAME.get(req.name, req.name)
        assert name in conda, f"environment.yml lacks {name} ({req})"
        assert {str(s) for s in conda[name] if s.operator == ">="} == {str(s) for s in req.specifier}, name
    python_floor = {str(s) for s in conda["python"] if s.operator == ">="}
    assert python_floor == {PYPROJECT["project"]["requires-python"]}


def test_pip_step_installs_this_clone():
    (pip_step,) = [d["pip"] for d in ENV["dependencies"] if isinstance(d, dict)]
    assert pip_step == ["-e ."]


def test_readme_says_what_the_conda_route_is_and_what_was_not_run():
    readme = (ROOT / "README.md").read_text()
    assert "conda env create -f environment.yml" in readme
    assert "not run here" in readme.split("conda env create -f environment.yml", 1)[1][:1200]


def test_readme_names_the_repository_pyproject_names():
    # [project.urls] Source is the one place the repository URL is set; the README's commands repeat it.
    readme = (ROOT / "README.md").read_text()
    source = PYPROJECT["project"]["urls"]["Source"]
    repos = set(re.findall(r"github\.com/([\w.-]+/vqlab)\b", readme)) | set(re.findall(r"gh/([\w.-]+/vqlab)\b", readme))
    assert repos == {source.removeprefix("https://github.com/")}


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    for step in ("make wheelhouse", "make test-floors"):
        assert step in readme and step in ci
