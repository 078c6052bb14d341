"""The course lab (otter-grader): the notebooks are otter master notebooks.

Fast checks of every notebook's exercises (structure only) run with the unit tests. The end-to-end checks
(marked ``course``, run by ``make test-course``) build the student versions with :func:`vqlab.course.assign`
and grade, per notebook, the untouched student version (it must run to the end: otter's debug mode raises on
any error; every check fails, 0 points); run every solution against its public and hidden checks; grade a
folder with a solution and a student version (full marks and zero); and check that a wrong answer kept
here, one per notebook, fails its public check with the message a student sees. The notebooks are the
committed ones (``tests/committed.py``), not a working copy a student has saved.
"""
import ast
import fcntl
import json
from pathlib import Path

import pytest

from committed import notebook_paths
from vqlab.course import assign, grade, grade_submission, notebook_stem

NOTEBOOKS = notebook_paths()
# pytest-timeout: past the grading's own bounds (600 s an attempt, two attempts, two submissions), so a
# hung submission is killed and reported by vqlab.course rather than left running.
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


def test_grade_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="make student"):
        grade(tmp_path, tmp_path, tmp_path / "g.csv")
    with pytest.raises(ValueError, match="notebooks"):
        assign([], tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        grade_submission(tmp_path / "a.ipynb", tmp_path / "a.zip", timeout=0)
    with pytest.raises(ValueError, match="attempts"):
        grade_submission(tmp_path / "a.ipynb", tmp_path / "a.zip", attempts=0)


@pytest.fixture(scope="module")
def dist(tmp_path_factory, worker_id):
    """The student and autograder versions of every notebook, built once per run: under pytest-xdist the
    first worker builds them in the run's shared temporary folder while the other waits on a lock."""
    if worker_id == "master":
        out = tmp_path_factory.mktemp("dist")
        assign(NOTEBOOKS, out)
        return out
    shared = tmp_path_factory.getbasetemp().parent
    out = shared / "dist"
    with open(shared / "dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "built").exists():
            assign(NOTEBOOKS, out)
            (out / "built").touch()
    return out


# Tests that start Jupyter kernels (otter run) share one pytest-xdist worker, so kernels start one at a time
# (two starting at the same moment can stall: a port race in jupyter_client); the other tests run beside them.
KERNELS = pytest.mark.xdist_group("kernels")


@pytest.mark.course
@KERNELS
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_runs_to_the_end_with_every_check_not_yet(dist, path):
    student = dist / "student" / path.name
    assert "BEGIN SOLUTION" not in student.read_text()
    # debug=True: an error anywhere in the untouched student version fails the test (stubs must not crash)
    stub = grade_submission(student, dist / "autograder" / f"{path.stem}-autograder.zip", debug=True, timeout=600)
    assert len(stub) >= 3 and all(score == 0 < possible for score, possible in stub.values()), stub


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


@pytest.mark.course
@KERNELS
def test_make_grade_gives_a_solution_full_marks_and_the_student_version_zero(dist, tmp_path):
    """`make grade` (vqlab.course.grade) on a folder with a solution and an untouched student version."""
    first = NOTEBOOKS[0]
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / f"{first.stem}-solution.ipynb").write_bytes((dist / "autograder" / first.name).read_bytes())
    (subs / f"{first.stem}-student.ipynb").write_bytes((dist / "student" / first.name).read_bytes())
    rows = grade(subs, dist / "autograder", tmp_path / "grades.csv", timeout=600)
    solution = [r for r in rows if r["submission"].endswith("-solution.ipynb")]
    student = [r for r in rows if r["submission"].endswith("-student.ipynb")]
    assert len(solution) >= 3 and all(r["score"] == r["possible"] > 0 for r in solution), solution
    assert {r["exercise"] for r in student} == {r["exercise"] for r in solution}
    assert all(r["score"] == 0 < r["possible"] for r in student), student
    assert (tmp_path / "grades.csv").read_text().startswith("submission,notebook,exercise,score,possible")


@pytest.mark.course
@KERNELS
def test_a_submission_that_hangs_is_killed_after_the_timeout_and_reported(dist, tmp_path):
    import time

    nb = json.loads((dist / "student" / NOTEBOOKS[0].name).read_text())
    nb["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "hang", "metadata": {},
                           "outputs": [], "source": "import time\ntime.sleep(600)"})
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / f"{NOTEBOOKS[0].stem}-hangs.ipynb").write_text(json.dumps(nb))
    start = time.monotonic()
    rows = grade(subs, dist / "autograder", tmp_path / "grades.csv", timeout=15)
    assert time.monotonic() - start < 120       # two attempts of 15 s, not the 600 s the cell sleeps
    assert rows == [{"submission": f"{NOTEBOOKS[0].stem}-hangs.ipynb", "notebook": NOTEBOOKS[0].stem,
                     "exercise": "TIMED OUT", "score": 0.0, "possible": 0.0}]


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
