"""No code cell a student sees carries test machinery: nbval's instructions live in cell tags
(``nbval-ignore-output``, ``nbval-skip``, ...; jupytext keeps them in the pair as ``# %% tags=[...]``), which
JupyterLab does not show in the cell, not in ``# NBVAL_...`` comments, which it does.

The notebooks checked are the committed ones (``tests/committed.py``)."""
import re

import jupytext
import pytest

from committed import notebook_paths

NOTEBOOKS = notebook_paths()
# A comment line nbval reads as an instruction (nbval.plugin.comment_markers; PYTEST_VALIDATE_ is its old name)
MARKER = re.compile(r"^\s*#\s*(NBVAL_|PYTEST_VALIDATE_)\w*", re.MULTILINE)
# The cell tags nbval reads (nbval.plugin.metadata_tags): a misspelt one would be ignored without a word
NBVAL_TAGS = {"nbval-ignore-output", "nbval-check-output", "nbval-raises-exception", "nbval-skip",
              "raises-exception"}


def _nbval_tags(nb) -> list[list[str]]:
    """Each code cell's nbval tags (and any tag that looks like one)."""
    return [[t for t in c.metadata.get("tags", []) if t.startswith("nbval") or t in NBVAL_TAGS]
            for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_nbval_comment_in_a_code_cell(path):
    found = [f"cell {i}: {m.group(0).strip()}" for i, cell in enumerate(jupytext.read(path).cells)
             if cell.cell_type == "code" for m in MARKER.finditer(cell.source)]
    assert not found, (f"{path.name}: nbval instructions a student sees, {found}; use the cell tag instead "
                       "(# NBVAL_IGNORE_OUTPUT -> tags: nbval-ignore-output)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbval_tags_are_known_and_kept_in_the_pair(path):
    tags, pair_tags = _nbval_tags(jupytext.read(path)), _nbval_tags(jupytext.read(path.with_suffix(".py")))
    unknown = sorted({t for cell in tags for t in cell} - NBVAL_TAGS)
    assert not unknown, f"{path.name}: tags nbval does not know (and ignores): {unknown}"
    assert tags == pair_tags, (f"{path.name} and {path.with_suffix('.py').name} carry different nbval tags: "
                               f"run `jupytext --sync notebooks/{path.name}`")
