"""Every notebook runs on the standard `python3` kernel and opens with the install cell: where `vqlab` is not
importable (Colab, Binder without it, a fresh Python) the cell installs the course from its source URL, the one
in pyproject.toml's [project.urls]; where PyPI's other `vqlab` is installed it says so; elsewhere it does
nothing. The notebooks checked are the committed ones (tests/committed.py)."""
import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from committed import notebook_paths

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SOURCE = PROJECT["urls"]["Source"]
DISTRIBUTION = PROJECT["name"]
# The first code cell of every notebook. No `%pip` magic: jupytext writes an indented magic into the .py pair
# as a comment and does not read it back, so the cell calls pip through the kernel's own Python instead.
INSTALL_CELL = f'''\
# This course's package `vqlab`: where this Python lacks it (Colab, a fresh environment), the course's repository is
# cloned beside this notebook and installed from there, with the measurements its notebooks load (results/); where
# vqlab is installed, this cell does nothing.
import importlib.metadata, importlib.util, pathlib, subprocess, sys

COURSE = "{SOURCE}"
if importlib.util.find_spec("vqlab") is None:
    clone = pathlib.Path("vqlab-course").resolve()
    if not clone.exists():
        subprocess.run(["git", "clone", "--depth", "1", COURSE, str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", str(clone)], check=True)
    sys.path.insert(0, str(clone))  # this kernel started before the install: import from the clone
    importlib.invalidate_caches()
other = set(importlib.metadata.packages_distributions().get("vqlab", [])) - {{"{DISTRIBUTION}"}}
if other:  # PyPI's `vqlab` is a different project with the same import name
    raise ImportError(f"`import vqlab` finds {{', '.join(sorted(other))}}, not this course's package: run "
                      f"pip uninstall -y {{' '.join(sorted(other))}}, restart the kernel and run this cell again")'''
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_runs_on_python3_and_opens_with_the_install_cell(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"] == KERNELSPEC, f"{path.name}: kernelspec is not the standard python3"
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "".join(first_code["source"]) == INSTALL_CELL, f"{path.name}: the first code cell is not the install cell"
    assert first_code["outputs"] == [], f"{path.name}: the install cell printed something where vqlab is installed"


def _run_cell(monkeypatch, *, spec_found: bool, owners: list[str]) -> list[list[str]]:
    """Execute the cell with vqlab found or not and ``owners`` as the distributions providing it; the pip
    commands it ran (recorded, not run)."""
    calls = []
    find_spec, distributions = importlib.util.find_spec, importlib.metadata.packages_distributions
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: find_spec(name, *a) if name != "vqlab" or spec_found else None)
    monkeypatch.setattr(importlib.metadata, "packages_distributions", lambda: {**distributions(), "vqlab": owners})
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(INSTALL_CELL, "install cell", "exec"), {})
    return calls


def test_the_cell_does_nothing_where_the_course_is_installed(monkeypatch):
    assert _run_cell(monkeypatch, spec_found=True, owners=[DISTRIBUTION]) == []


def test_the_cell_installs_the_course_from_a_clone_of_its_source_url_where_vqlab_is_missing(monkeypatch, tmp_path):
    # a clone, so that the notebooks find the measurements they load (results/ is not in the package)
    monkeypatch.chdir(tmp_path)
    clone, install = _run_cell(monkeypatch, spec_found=False, owners=[DISTRIBUTION])
    assert clone == ["git", "clone", "--depth", "1", SOURCE, str(tmp_path / "vqlab-course")]
    assert install[1:] == ["-m", "pip", "install", "--quiet", "-e", str(tmp_path / "vqlab-course")]
    (tmp_path / "vqlab-course").mkdir()  # run again: the clone is there, only the install
    assert _run_cell(monkeypatch, spec_found=False, owners=[DISTRIBUTION]) == [install]


def test_the_cell_names_the_other_vqlab_and_how_to_replace_it(monkeypatch):
    with pytest.raises(ImportError) as err:
        _run_cell(monkeypatch, spec_found=True, owners=["VQLab"])
    assert "finds VQLab" in str(err.value) and "pip uninstall -y VQLab" in str(err.value)
    assert "restart the kernel and run this cell again" in str(err.value)


def test_this_environment_has_this_course_s_vqlab():
    assert set(importlib.metadata.packages_distributions()["vqlab"]) == {DISTRIBUTION}
