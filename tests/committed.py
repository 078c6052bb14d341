"""The notebooks the repository's checks look at: the committed ones, not a student's working copy.

A student who runs and saves a notebook in ``notebooks/`` changes its outputs and execution counts; the
checks of the *code* must not turn red for that. So the notebook tests (and ``make notebooks``, the nbval
run) read the notebooks as committed at git ``HEAD``. ``VQLAB_NOTEBOOKS=worktree`` (``make test
NOTEBOOKS_FROM=worktree``) checks the working copy instead: for developers, before they commit a change.
Outside a git checkout (an unpacked archive) the working copy is all there is.
"""
import atexit
import functools
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from vqlab.course import NOTEBOOK_PATTERN

REPO = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def committed_notebooks() -> Path:
    """The ``notebooks/`` folder as committed: exported from git ``HEAD`` into a temporary folder."""
    source = os.environ.get("VQLAB_NOTEBOOKS", "HEAD")
    if source not in ("HEAD", "worktree"):
        raise ValueError(f"VQLAB_NOTEBOOKS must be 'HEAD' or 'worktree', got {source!r}")
    if source == "worktree":
        return REPO / "notebooks"
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "notebooks"],
                                 capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return REPO / "notebooks"
    out = Path(tempfile.mkdtemp(prefix="vqlab-committed-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")
    return out / "notebooks"


def notebook_paths() -> list[Path]:
    """Every numbered notebook (``NN_topic.ipynb``) as committed, in order."""
    return sorted(committed_notebooks().glob(NOTEBOOK_PATTERN))


def saved_widget_pictures(path: Path) -> list[tuple[bool, list[list[str]]]]:
    """One row per widget output of the notebook at ``path``: whether it is a vqlab slider figure, and the MIME
    types of what JupyterLab and the book show from its saved state before the notebook is run (issue 30: a
    slider figure shows ``[["image/png"]]``, its saved picture; a bare ``VBox``/``interactive`` shows nothing)."""
    import json
    import sys

    sys.path.insert(0, str(REPO / "book"))
    import static_widgets

    nb = json.loads(path.read_text())
    state = nb["metadata"].get("widgets", {}).get(static_widgets.WIDGET_STATE, {}).get("state", {})
    views = [o["data"][static_widgets.WIDGET_VIEW]["model_id"] for c in nb["cells"] if c["cell_type"] == "code"
             for o in c.get("outputs", []) if static_widgets.WIDGET_VIEW in o.get("data", {})]
    return [("vqlab-slider-figure" in state.get(m, {}).get("state", {}).get("_dom_classes", []),
             [list(o["data"]) for o in static_widgets._saved_outputs(m, state)]) for m in views]
