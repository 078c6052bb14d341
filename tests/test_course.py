"""The course lab (otter-grader): the notebooks are otter master notebooks.

Fast checks of every notebook's exercises (structure only) run with the unit tests. The end-to-end checks
(marked ``course``, run by ``make test-course``) build the student versions with :func:`vqlab.course.assign`
and grade, per notebook, the untouched student version (it must run to the end: otter's debug mode raises on
any error; every check fails, 0 points) and the solution version (full marks).
"""
import json
from pathlib import Path

import pytest

from vqlab.course import NOTEBOOK_PATTERN, assign, grade, grade_submission, notebook_stem

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob(NOTEBOOK_PATTERN))


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
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    assign(NOTEBOOKS, out)
    return out


@pytest.mark.course
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_version_runs_to_the_end_with_every_check_not_yet_and_the_solution_gets_full_marks(
        dist, path, tmp_path):
    student = dist / "student" / path.name
    assert "BEGIN SOLUTION" not in student.read_text()
    # debug=True: an error anywhere in the untouched student version fails the test (stubs must not crash)
    stub = grade_submission(student, dist / "autograder" / f"{path.stem}-autograder.zip", debug=True, timeout=600)
    assert len(stub) >= 3 and all(score == 0 < possible for score, possible in stub.values()), stub
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / f"{path.stem}-solution.ipynb").write_bytes((dist / "autograder" / path.name).read_bytes())
    rows = grade(subs, dist / "autograder", tmp_path / "grades.csv", timeout=600)
    assert rows and all(r["score"] == r["possible"] > 0 for r in rows), rows
    assert (tmp_path / "grades.csv").read_text().startswith("submission,notebook,exercise,score,possible")


@pytest.mark.course
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
