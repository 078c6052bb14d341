"""The course lab (otter-grader): the notebooks are otter master notebooks; grading is sandboxed.

Fast checks (the unit tests): every notebook's exercises (structure only); the pieces of the grader that
need no sandbox (the wire format refuses what is not plain data, the names a test needs, the trusted
imports, the feedback's escaping, the grade book's resume rules, the errors that name what is missing).

End-to-end checks (marked ``course``, run by ``make test-course``, need bubblewrap) build the student
versions with :func:`vqlab.course.assign` and grade, in one class run, every notebook's untouched student
version (it runs to the end without an error; every check fails, 0 points) and a stub of every solution
(full marks through the sandbox: every test's calls, gradients included, cross the wall); run every
solution against its public and hidden checks, and every wrong answer kept here against its public
check, in this process with otter's own checker (what ``grader.check`` shows a student); kill a class run
half-way and resume it. The red-team class is in
``tests/test_course_redteam.py``. The notebooks are the committed ones (``tests/committed.py``).
"""
import ast
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

from course_fixtures import NOTEBOOKS, cells, dist, notebook_with  # noqa: F401 (dist is a fixture)
from vqlab.course import COLUMNS, Graded, Limits, assign, grade, notebook_stem
from vqlab.course.checker import names_needed
from vqlab.course.feedback import feedback_markdown
from vqlab.course.grading import GradeBook
from vqlab.course.grading import _imports as trusted_imports
from vqlab.course.wire import Decoder, Encoder, WireError, receive, send

# pytest-timeout: past the grading's own bounds (a class run of every notebook, a killed run and its rerun),
# so a hung submission is killed and reported by vqlab.course rather than left running.
pytestmark = pytest.mark.timeout(3600)


def _questions(path: Path) -> list[dict]:
    """Each otter question of a master notebook: its config, solution cells and test cells."""
    questions, block = [], []
    for cell in json.loads(path.read_text())["cells"]:
        src = "".join(cell["source"])
        first = src.split("\n", 1)[0].strip()
        if cell["cell_type"] == "raw" and first.startswith("# BEGIN "):
            block.append(first[len("# BEGIN "):])
            if first == "# BEGIN QUESTION":
                config = dict(line.split(":", 1) for line in src.splitlines()[1:] if ":" in line)
                questions.append({"config": {k.strip(): v.strip() for k, v in config.items()},
                                  "solution": [], "tests": []})
        elif cell["cell_type"] == "raw" and first.startswith("# END "):
            block.pop()
        elif block[-1:] == ["SOLUTION"]:
            questions[-1]["solution"].append(cell)
        elif block[-1:] == ["TESTS"]:
            questions[-1]["tests"].append(src)
    return questions


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_is_a_master_notebook_with_checked_exercises(path):
    cells = json.loads(path.read_text())["cells"]
    assert any(c["cell_type"] == "raw" and "".join(c["source"]).startswith("# ASSIGNMENT CONFIG") for c in cells)
    questions = _questions(path)
    coded = [q for q in questions if q["config"].get("manual") != "true"]
    assert len(coded) >= 3, f"{path.name}: {len(coded)} auto-checked exercises, expected at least 3"
    for q in questions:
        name = q["config"]["name"]
        assert q["solution"], f"{path.name}: exercise {name} has no solution (or model answer)"
        if q in coded:
            hidden = [t for t in q["tests"] if "hidden: true" in t]
            assert hidden and len(hidden) < len(q["tests"]), \
                f"{path.name}: exercise {name} needs public tests and hidden tests"


def test_submissions_are_matched_to_notebooks_by_number():
    stems = ["01_vector_quantization", "02_information_bottleneck"]
    assert notebook_stem(Path("01_vector_quantization-ada.ipynb"), stems) == "01_vector_quantization"
    assert notebook_stem(Path("02-bob.ipynb"), stems) == "02_information_bottleneck"
    with pytest.raises(ValueError, match="does not start with the number"):
        notebook_stem(Path("homework.ipynb"), stems)


def test_grade_says_what_is_missing(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="make student"):
        grade(tmp_path, tmp_path, tmp_path / "g.csv")
    with pytest.raises(ValueError, match="notebooks"):
        assign([], tmp_path)
    for name in ("wall", "cpu", "memory", "processes", "output", "disk"):
        with pytest.raises(ValueError, match=name):
            Limits(**{name: 0})
    (tmp_path / "ag").mkdir()
    (tmp_path / "ag" / "01_a-autograder.zip").touch()
    (tmp_path / "01_a.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="jobs"):
        grade(tmp_path, tmp_path / "ag", tmp_path / "g.csv", jobs=0)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install bubblewrap"):
        grade(tmp_path, tmp_path / "ag", tmp_path / "out" / "g.csv")


def _through_a_pipe(message: dict, buffers: list[bytes]) -> tuple[dict, list[bytes]]:
    r, w = os.pipe()
    with os.fdopen(w, "wb", buffering=0) as writer, os.fdopen(r, "rb", buffering=0) as reader:
        send(writer, message, buffers)
        writer.close()
        return receive(reader)


def test_plain_values_cross_the_wire_unchanged():
    g = torch.Generator().manual_seed(3)
    values = [None, True, 3, 2**70, 2.5, math.inf, 1 + 2j, "é", b"\x00bytes", [1, (2, 3)], {"a": {1: 2.0}}, {1, 2},
              torch.arange(6.0).reshape(2, 3), torch.tensor([1, 2], dtype=torch.int32), torch.ones(2, dtype=torch.bfloat16),
              torch.zeros(0, 3, dtype=torch.bool), np.arange(4, dtype=">i4"), np.float32(1.5), torch.Size([2, 3]),
              torch.float64, torch.device("cpu")]
    encode = Encoder()
    message, buffers = _through_a_pipe({"value": encode(values + [g])}, encode.buffers)
    decode = Decoder(buffers)
    got = decode(message["value"])
    assert len(got) == len(values) + 1
    for a, b in zip(values, got):
        if isinstance(a, torch.Tensor):
            assert type(b) is torch.Tensor and a.dtype == b.dtype and torch.equal(a, b)
        elif isinstance(a, (np.ndarray, np.generic)):
            assert type(b) is type(a) and np.array_equal(a, b) and b.dtype == a.dtype.newbyteorder("=")
        else:
            assert type(b) is type(a) and b == a, (a, b)
    assert torch.equal(got[-1].get_state(), g.get_state())
    grad = Encoder()
    sent = grad(torch.ones(2, requires_grad=True))
    assert Decoder(grad.buffers, grad=True)(sent).requires_grad and not Decoder(grad.buffers)(sent).requires_grad


def test_the_wire_refuses_what_is_not_plain_data():
    for value in (lambda: 0, np.array([object()]), torch.ones(2).to_sparse(), type("T", (torch.Tensor,), {})()):
        with pytest.raises(TypeError):
            Encoder()(value)
    ok = np.arange(3.0).tobytes()
    for obj, buffers in [({"$pickle": 0}, [ok]), ({"$ndarray": 0, "dtype": "|O", "shape": [3]}, [ok]),
                         ({"$ndarray": 0, "dtype": "<f8", "shape": [4]}, [ok]), ({"$ndarray": 5, "dtype": "<f8", "shape": [3]}, [ok]),
                         ({"$tensor": 0, "dtype": "object", "shape": [3]}, [ok]), ({"$dtype": "__class__"}, []),
                         ({"$ref": 1}, []), ({"not": "tagged"}, [])]:
        with pytest.raises(WireError):
            Decoder(buffers)(obj)
    r, w = os.pipe()
    with os.fdopen(w, "wb", buffering=0) as writer, os.fdopen(r, "rb", buffering=0) as reader:
        writer.write((2**40).to_bytes(8, "big") + bytes(8))
        with pytest.raises(WireError, match="larger"):
            receive(reader)


def test_the_checker_asks_the_notebook_only_for_the_names_a_test_needs():
    doctest_code = ("def test_small(nearest_code, torch):\n    from vqlab.posteriors import squared_distances\n"
                    "    d = squared_distances(torch.ones(2, 2), helper())\n    assert isinstance(d, torch.Tensor)\n"
                    "test_small(nearest_code, torch)\n")
    assert names_needed(doctest_code) == {"nearest_code", "torch", "helper"}
    exception_format = "from otter.test_files import test_case\n@test_case(points=1)\ndef t(env, vq_losses):\n    assert vq_losses\n"
    assert names_needed(exception_format) == {"vq_losses"}


def test_the_instructors_imports_are_trusted_but_not_the_names_of_exercises(tmp_path):
    code = ["%matplotlib inline\nimport torch\nimport numpy as np\nfrom vqlab import priors",
            "from vqlab.posteriors import hard_posterior as nearest_code\nimport os.path",
            "def nearest_code(z, w):\n    import math\n    return z"]
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": c} for c in code]}))
    assert trusted_imports(tmp_path / "nb.ipynb") == {"torch": "import torch", "np": "import numpy as np",
                                               "priors": "from vqlab import priors", "os": "import os.path"}


def _graded(**kw) -> Graded:
    return Graded("01_a-ada.ipynb", "01_a", "0" * 16, {"q1": 2.0, "q2": 1.0}, **kw)


def test_feedback_fences_the_students_text_and_never_shows_a_hidden_check():
    hostile = "```\n<script>alert(1)</script>\n# Full marks"
    cases = [{"name": "q1 - 1", "hidden": False, "passed": False, "message": hostile},
             {"name": "q1 - 2", "hidden": True, "passed": False, "message": None}]
    text = feedback_markdown(_graded(results={"q1": {"score": 0, "cases": cases}}, reason="timed out <b>",
                                     cell_errors=[{"cell": 2, "error": "NameError: <img src=x>"}]))
    assert "````text\n" + hostile + "\n````" in text and "hidden check 1: failed" in text
    outside = text.replace("````text\n" + hostile + "\n````", "")
    assert "q2: 0 / 1" in outside and "Not checked" in outside and "0 / 3" in outside
    assert "\\<img src=x\\>" in outside and not re.search(r"(?<!\\)<", outside), outside   # escaped: no HTML


def test_the_grade_book_keeps_complete_submissions_and_appends_rows(tmp_path):
    book_path = tmp_path / "grades.csv"
    book = GradeBook(book_path, {}, regrade=False)
    book.keep_only(set())
    book.add(_graded(results={"q1": {"score": 2}, "q2": {"score": 7}}).rows())
    rows = book_path.read_text().splitlines()
    assert rows[0] == ",".join(COLUMNS) and len(rows) == 3 and rows[2].split(",")[3] == "1.0"   # capped at possible
    with book_path.open("a") as f:
        f.write("01_a-bob.ipynb,01_a,q1,2.0,2.0,,1111111111111111\n01_a-bob.ipynb,01_a,q2,1.")  # cut off
    again = GradeBook(book_path, {"01_a-ada.ipynb": 2, "01_a-bob.ipynb": 2}, regrade=False)
    assert again.graded == {("01_a-ada.ipynb", "0" * 16)}
    assert GradeBook(book_path, {"01_a-ada.ipynb": 2}, regrade=True).graded == set()
    book_path.write_text("submission,score\n")
    with pytest.raises(ValueError, match="csv_path"):
        GradeBook(book_path, {}, regrade=False)


def _imports(path: Path) -> str:
    """Every import statement of a notebook, one per line (what its exercises' solutions may use)."""
    lines = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(lines)


@pytest.mark.course
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_passes_its_public_and_hidden_checks(dist, path, monkeypatch):
    """otter's checker runs each auto-checked exercise's tests (public and hidden, from the autograder
    notebook) against its solution, defined after the notebook's imports. (nbval runs the solutions in the
    whole notebook; the next test grades a whole solution notebook end to end.)"""
    from otter.check.notebook import Notebook

    monkeypatch.chdir(dist / "autograder")
    checked = [q for q in _questions(path) if q["config"].get("manual") != "true"]
    for q in checked:
        env: dict = {}
        exec(_imports(path), env)
        exec("\n".join("".join(c["source"]) for c in q["solution"] if c["cell_type"] == "code"), env)
        result = Notebook(nb_path=path.name).check(q["config"]["name"], global_env=env)
        hidden = [r for r in result.test_case_results if r.test_case.hidden]
        assert hidden and result.grade == 1, f"{path.stem}: {q['config']['name']}: {result!r}"


def _solution_code(path: Path) -> list[str]:
    """A stub submission's cells: the notebook's imports, then every exercise's solution cells."""
    return [_imports(path)] + ["".join(c["source"]) for q in _questions(path) for c in q["solution"]
                               if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def course_class(dist, tmp_path_factory):  # noqa: F811
    """One class run: every notebook's student version and a stub of its solutions (two at a time)."""
    root = tmp_path_factory.mktemp("course-class")
    subs = root / "class"
    subs.mkdir()
    for path in NOTEBOOKS:
        student = dist / "student" / path.name
        (subs / f"{path.stem}-student.ipynb").write_bytes(student.read_bytes())
        (subs / f"{path.stem}-solution.ipynb").write_text(notebook_with(student, _solution_code(path)))
    rows = grade(subs, dist / "autograder", root / "out" / "grades.csv", jobs=2, limits=Limits(wall=600), progress=False)
    return rows, root / "out"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.course
def test_student_version_runs_to_the_end_with_every_check_not_yet(course_class, path):
    rows, out = course_class
    mine = [r for r in rows if r["submission"] == f"{path.stem}-student.ipynb"]
    assert len(mine) >= 3 and all(r["score"] == 0 < r["possible"] and r["reason"] == "" for r in mine), mine
    feedback = (out / "feedback" / f"{path.stem}-student.md").read_text()
    assert "Cells that raised an error" not in feedback, feedback   # stubs must not crash


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.course
def test_solutions_get_full_marks_through_the_sandbox(course_class, path):
    """Every test's calls (tensors, generators, lists, gradients, Jacobians) cross the wall and back."""
    rows, _ = course_class
    solution = [r for r in rows if r["submission"] == f"{path.stem}-solution.ipynb"]
    assert len(solution) >= 3 and all(r["score"] == r["possible"] > 0 and r["reason"] == "" for r in solution), solution


@pytest.mark.course
def test_an_interrupted_class_run_keeps_its_rows_leaves_nothing_running_and_resumes(dist, tmp_path):  # noqa: F811
    """`make grade` killed half-way: the finished submission's rows are in the grade book, the running
    sandbox died with the grader; the rerun grades only the rest (a hang: timed out, reported)."""
    marker = uuid.uuid4().hex
    subs, book = tmp_path / "class", tmp_path / "out" / "grades.csv"
    subs.mkdir()
    first = NOTEBOOKS[0].stem
    n = sum(q["config"].get("manual") != "true" for q in _questions(NOTEBOOKS[0]))   # rows per submission
    (subs / f"{first}-a-broken.ipynb").write_text("{")
    hang = f"import subprocess\nsubprocess.run(['sh', '-c', 'sleep 600', '{marker}'])"
    (subs / f"{first}-b-hangs.ipynb").write_text(notebook_with(dist / "student" / f"{first}.ipynb", [hang]))
    command = [sys.executable, "-m", "vqlab.course", "grade", str(subs), "--autograder", str(dist / "autograder"),
               "--csv", str(book), "--jobs", "1"]
    grader = subprocess.Popen(command + ["--timeout", "600"], start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not _running(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _running(marker), "the hanging submission never started"
    assert f"{first}-a-broken.ipynb" in book.read_text()          # written before the class finished
    os.killpg(grader.pid, signal.SIGKILL)
    grader.wait()
    time.sleep(2)
    assert not _running(marker), "a sandbox outlived the grader"
    rerun = subprocess.run(command + ["--timeout", "60"], capture_output=True, text=True, timeout=600)
    assert "grading 1 of 2 submissions (1 already graded)" in rerun.stderr, rerun.stderr
    rows = list(csv_rows(book))
    assert [r["submission"] for r in rows] == [f"{first}-a-broken.ipynb"] * n + [f"{first}-b-hangs.ipynb"] * n
    assert all("timed out after 60 s in cell 1 of 1" in r["reason"] for r in rows[n:]), rows
    assert not _running(marker)


def csv_rows(path: Path) -> list[dict]:
    import csv

    with path.open() as f:
        return list(csv.DictReader(f))


def _running(text: str) -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if text in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


# Kept wrong answers (mistakes students make), one file per notebook in tests/wrong_answers/<stem>.py:
# WRONG_ANSWERS = [(exercise, message, source), ...]. Each must fail a public check (graded hints: it may pass the
# first ones) with the message: the student runs grader.check(name) and learns what to fix.
def _wrong_answers() -> dict[str, list[tuple[str, str, str]]]:
    found = {}
    for path in sorted((Path(__file__).parent / "wrong_answers").glob("[0-9][0-9]_*.py")):
        env: dict = {}
        exec(path.read_text(), env)
        found[path.stem] = env["WRONG_ANSWERS"]
    return found


WRONG_ANSWERS = _wrong_answers()
WRONG_CASES = [(path, case) for path in NOTEBOOKS for case in WRONG_ANSWERS.get(path.stem, [])]


def test_every_notebook_has_a_wrong_answer_kept_for_its_checks():
    assert sorted(WRONG_ANSWERS) == [p.stem for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        assert WRONG_ANSWERS[path.stem], f"{path.stem}: no wrong answer kept"
        for name, _, _ in WRONG_ANSWERS[path.stem]:
            assert name in {q["config"]["name"] for q in _questions(path)}, (path.name, name)


@pytest.mark.course
@pytest.mark.parametrize("path, case", WRONG_CASES, ids=lambda v: v.stem if isinstance(v, Path) else v[0])
def test_a_wrong_answer_fails_its_check_with_a_message_the_student_can_act_on(dist, path, case, monkeypatch):
    import math

    import torch
    from otter.check.notebook import Notebook

    name, message, source = case
    env = {"torch": torch, "math": math}
    exec(source, env)
    monkeypatch.chdir(dist / "student")
    result = Notebook(nb_path=path.name).check(name, global_env=env)
    assert result.grade < 1, f"{path.stem}: the wrong {name} passed every public check"
    assert message in repr(result), repr(result)
