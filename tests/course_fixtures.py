"""Shared by the course-lab tests: the student/autograder versions of every notebook, built once per run,
and small notebooks made from code (a copy of a student version with other cells)."""
import ast
import copy
import fcntl
import json
from pathlib import Path

import pytest

from committed import notebook_paths
from vqlab.course import assign

NOTEBOOKS = notebook_paths()


@pytest.fixture(scope="module")
def dist(tmp_path_factory, worker_id):
    """The student and autograder versions of every notebook, built once per run: under pytest-xdist the
    first worker builds them in the run's shared temporary folder while the other waits on a lock."""
    if worker_id == "master":
        out = tmp_path_factory.getbasetemp() / "dist"
        if not (out / "built").exists():
            assign(NOTEBOOKS, out)
            (out / "built").touch()
        return out
    shared = tmp_path_factory.getbasetemp().parent
    out = shared / "dist"
    with open(shared / "dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "built").exists():
            assign(NOTEBOOKS, out)
            (out / "built").touch()
    return out


def notebook_with(student: Path, sources: list[str]) -> str:
    """The student version ``student`` (its otter metadata: assignment name, public tests) with its cells
    replaced by one code cell per source; as notebook JSON."""
    nb = copy.deepcopy(json.loads(student.read_text()))
    nb["cells"] = [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
                    "source": source} for i, source in enumerate(sources)]
    return json.dumps(nb)


def cells(script: str) -> list[str]:
    """A ``# %%``-separated script's cells."""
    return [c.strip("\n") for c in script.split("# %%") if c.strip()]


def answers_only(notebook: Path, names: set[str]) -> list[str]:
    """A short submission made of ``notebook``'s own cells: its imports, then every code cell that defines
    one of ``names`` (the exercises), unchanged; the rest of the notebook (its experiments) left out."""
    imports, answers = [], []
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:   # IPython's %magic and !shell lines are left out of what is parsed
            tree = ast.parse("\n".join(line for line in source.splitlines() if not line.startswith(("%", "!"))))
        except SyntaxError:
            continue
        imports += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        bound = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        bound |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                  if isinstance(t, ast.Name)}
        if bound & names:
            answers.append(source)
    return ["\n".join(imports)] + answers
