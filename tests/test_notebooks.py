"""Every notebook is paired with a jupytext py:percent file whose cells are identical, and was committed
executed top to bottom with outputs (so its figures show on GitHub)."""
import json
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_pair_in_sync(path):
    script = path.with_suffix(".py")
    assert script.is_file(), f"{path.name} has no paired {script.name} (run: jupytext --sync {path})"
    assert _cells(jupytext.read(path)) == _cells(jupytext.read(script)), \
        f"{path.name} and {script.name} differ: run `jupytext --sync {script}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order_with_outputs(path):
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code]
    assert None not in counts and counts == list(range(1, len(code) + 1)), \
        f"{path.name} was not executed top to bottom in one kernel (make outputs NB={path.with_suffix('.py')})"
    assert any(o.get("output_type") == "display_data" for c in code for o in c.get("outputs", [])), \
        f"{path.name} has no stored figures"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_control_characters_in_the_text(path):
    """A tab or other control character in a cell is almost always a LaTeX command whose backslash was
    read as an escape (``\\times`` -> tab + ``imes``)."""
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        bad = sorted({c for c in "".join(cell["source"]) if ord(c) < 32 and c != "\n"})
        assert not bad, f"{path.name} cell {i}: control characters {bad!r} in the source"
