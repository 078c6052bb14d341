"""Every notebook is paired with a jupytext py:percent file whose cells are identical, and was committed
executed top to bottom with outputs (so its figures show on GitHub).

The notebooks checked are the committed ones (``tests/committed.py``): a student's saved working copy
does not turn these tests red."""
import json
import os
import re
import shutil
import subprocess
import sys

import jupytext
import pytest

from committed import REPO, notebook_paths

NOTEBOOKS = notebook_paths()


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_pair_in_sync(path):
    script = path.with_suffix(".py")
    assert script.is_file(), f"{path.name} has no paired {script.name} (run: jupytext --sync notebooks/{path.name})"
    assert _cells(jupytext.read(path)) == _cells(jupytext.read(script)), \
        f"{path.name} and {script.name} differ: run `jupytext --sync notebooks/{script.name}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order_with_outputs(path):
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code]
    assert None not in counts and counts == list(range(1, len(code) + 1)), \
        f"{path.name} was not executed top to bottom in one kernel (make outputs NB=notebooks/{path.stem}.py)"
    assert any(o.get("output_type") == "display_data" for c in code for o in c.get("outputs", [])), \
        f"{path.name} has no stored figures"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_control_characters_in_the_text(path):
    """A tab or other control character in a cell is almost always a LaTeX command whose backslash was
    read as an escape (``\\times`` -> tab + ``imes``)."""
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        bad = sorted({c for c in "".join(cell["source"]) if ord(c) < 32 and c != "\n"})
        assert not bad, f"{path.name} cell {i}: control characters {bad!r} in the source"


def test_a_half_executed_saved_working_copy_does_not_fail_the_notebook_tests(tmp_path):
    """A student ran notebook 01 halfway and saved it. The notebook tests read the committed notebooks and
    stay green; pointed at the working copy (``VQLAB_NOTEBOOKS=worktree``) they report it."""
    if subprocess.run(["git", "-C", str(REPO), "rev-parse", "-q", "--verify", "HEAD"],
                      capture_output=True).returncode:
        pytest.skip("not a git checkout: the working copy is all there is")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    shutil.copytree(REPO / "tests", clone / "tests", dirs_exist_ok=True)    # these tests, committed or not
    saved = clone / "notebooks" / NOTEBOOKS[0].name
    nb = json.loads(saved.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in code[len(code) // 2:]:
        cell["execution_count"], cell["outputs"] = None, []
    saved.write_text(json.dumps(nb))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_notebooks.py",
           "-k", "not half_executed"]
    run = {src: subprocess.run(cmd, cwd=clone, capture_output=True, text=True,
                               env={**os.environ, "VQLAB_NOTEBOOKS": src}) for src in ("HEAD", "worktree")}
    assert run["HEAD"].returncode == 0, run["HEAD"].stdout[-3000:]
    assert run["worktree"].returncode == 1 and "was not executed top to bottom" in run["worktree"].stdout


# "Author et al. 2017", "Wu & Flierl (2020", "van der Maaten & Hinton 2008": a citation of a paper by year
CITATION = re.compile(r"([A-Z][\w\-]+(?: [a-z]{2,3} [a-z]{2,4})? (?:et al\.|& [A-Z][\w\-]+),? \(?((?:19|20)\d\d))")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cited_papers_carry_a_public_link(path):
    """The first citation of each paper in a notebook's text carries its arXiv, DOI or journal link (in the
    same paragraph, right after it); the course copies beside the repository are not a reference."""
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    assert "shared/papers" not in text, f"{path.name} points at ../shared/papers, which a clone does not have"
    seen = set()
    for match in CITATION.finditer(text):
        key = (match.group(1).split()[0], match.group(2))
        if key not in seen:
            seen.add(key)
            after = text[match.start(): match.end() + 160].split("\n\n")[0]
            assert "https://" in after, f"{path.name}: '{match.group(1)}' is cited without a link"
