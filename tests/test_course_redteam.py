"""The grader against hostile and broken submissions (``tests/course_redteam/``), in one class run.

One class folder holds an honest full-marks submission (notebook 01's imports and exercise cells from its
solution), an honest zero (the same cells of its untouched student version; the whole notebooks are graded
in ``tests/test_course.py``), every red-team notebook, a file that is not JSON, another notebook's
assignment and a file name without a number. It is graded once (two at a time, small limits); then each
submission's rows are checked against ``CASES``, and the host against what the attacks tried: no file
written outside the sandbox, the class folder, autograder and grade book unchanged, no process left,
no connection made. Marked ``course``: ``make test-course`` (needs bubblewrap).
"""
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

import pytest

from course_fixtures import NOTEBOOKS, answers_only, cells, dist, notebook_with  # noqa: F401 (dist is a fixture)
from vqlab.course import COLUMNS, Limits, grade

REDTEAM = Path(__file__).parent / "course_redteam"
REPO = Path(__file__).resolve().parents[1]
FIRST = "01_vector_quantization"   # the assignment of the red-team class
SECOND = next(p for p in NOTEBOOKS if p.stem.startswith("02_"))   # another notebook's assignment
# notebook 01's auto-checked exercises and their points (its manual ones are graded by hand, not here)
POINTS = {"predicted_paths": 1, "predicted_factor": 1, "lloyd_step": 2, "vq_losses": 2}
LIMITS = Limits(wall=900, cpu=30, memory=2 * 2**30, processes=32, output=2**20, disk=64 * 2**20)

# submission -> (red-team file or how it is made, points expected per exercise or "all"/0, reason expected)
CASES = {
    f"{FIRST}-full.ipynb": ("solution's answers", "all", ""),
    f"{FIRST}-zero.ipynb": ("student version's answers", 0, ""),
    f"{FIRST}-writes.ipynb": ("writes_outside.py", 0, ""),
    f"{FIRST}-tampers.ipynb": ("tampers.py", 0, ""),
    f"{FIRST}-steals.ipynb": ("steals_tests.py", 0, ""),
    f"{FIRST}-forges.ipynb": ("forges.py", 0, ""),
    f"{FIRST}-pickle.ipynb": ("malicious_pickle.py", 0, ""),
    f"{FIRST}-network.ipynb": ("network.py", 0, ""),
    f"{FIRST}-exits.ipynb": ("exits.py", 0, "the notebook's process died (exit status 3) in cell 2 of 3"),
    f"{FIRST}-loops.ipynb": ("infinite_loop.py", {"lloyd_step": 2}, "CPU time limit (30 s) reached in cell 2 of 2"),
    f"{FIRST}-floods.ipynb": ("output_flood.py", 0, "output limit (1 MB) reached in cell 1 of 1"),
    f"{FIRST}-hogs.ipynb": ("memory_hog.py", 0, "memory limit (2 GB"),
    f"{FIRST}-hogs-forked.ipynb": ("memory_hog_forked.py", 0, "memory limit (2 GB) reached in cell 1 of 1"),
    f"{FIRST}-forks.ipynb": ("fork_storm.py", 0, "process limit (32) reached in cell 1 of 1"),
    f"{FIRST}-background.ipynb": ("background_process.py", {"lloyd_step": 2}, ""),
    f"{FIRST}-broken.ipynb": ("invalid JSON", 0, "not a notebook: invalid JSON"),
    f"{FIRST}-wrong.ipynb": ("notebook 02's student version", 0, f"wrong assignment: the notebook is {SECOND.stem}'s"),
    "homework.ipynb": ("no number", None, "no notebook number in the file name"),
}


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _processes_with(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


@pytest.fixture(scope="module")
def redteam(dist, tmp_path_factory):  # noqa: F811
    """Build the class, listen where the attacks aim, grade the class once; everything the checks need."""
    root = tmp_path_factory.mktemp("redteam")
    marker = uuid.uuid4().hex[:12]
    home, subs, out, autograder = Path.home(), root / "class", root / "out", root / "autograder"
    subs.mkdir()
    shutil.copytree(dist / "autograder", autograder)   # a copy no other test touches
    tcp, udp = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    udp.bind(("127.0.0.1", tcp.getsockname()[1]))
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0vqlab-redteam-{marker}")
    abstract.listen()
    for s in (tcp, udp, abstract):
        s.setblocking(False)
    hidden_test = "test_lloyd_step_is_one_kmeans_iteration"
    tokens = {"@CLASS@": str(subs), "@GRADEBOOK@": str(out / "grades.csv"), "@AUTOGRADER@": str(autograder),
              "@HOSTHOME@": str(home), "@REPO@": str(REPO), "@MARKER@": marker, "@PORT@": str(tcp.getsockname()[1]),
              "@ABSTRACT@": f"vqlab-redteam-{marker}", "@HIDDEN_HEAD@": hidden_test[:12], "@HIDDEN_TAIL@": hidden_test[12:],
              "@PICKLEDROP@": f"/tmp/vqlab-redteam-{marker}-unpickled"}
    student = dist / "student" / f"{FIRST}.ipynb"
    for name, (source, _, _) in CASES.items():
        if source.endswith(".py"):
            script = (REDTEAM / source).read_text()
            for token, value in tokens.items():
                script = script.replace(token, value)
            text = notebook_with(student, cells(script))
        else:
            text = {"solution's answers": notebook_with(student, answers_only(dist / "autograder" / f"{FIRST}.ipynb", set(POINTS))),
                    "student version's answers": notebook_with(student, answers_only(student, set(POINTS))),
                    "invalid JSON": '{"cells": [{"cell_type": "code", "source": "', "no number": student.read_text(),
                    "notebook 02's student version": (dist / "student" / SECOND.name).read_text()}[source]
        (subs / name).write_text(text)
    before = {"class": _snapshot(subs), "autograder": _snapshot(autograder),
              "bashrc": (home / ".bashrc").read_bytes() if (home / ".bashrc").exists() else None}
    start = time.monotonic()
    rows = grade(subs, autograder, out / "grades.csv", jobs=2, limits=LIMITS, progress=False)
    seconds = time.monotonic() - start
    print(f"red-team class: {len(CASES)} submissions graded in {seconds:.0f} s, 2 at a time")
    time.sleep(1)   # anything left behind would have a second to show itself
    yield {"rows": rows, "out": out, "subs": subs, "marker": marker, "home": home, "before": before,
           "autograder": autograder, "sockets": (tcp, udp, abstract), "tokens": tokens, "seconds": seconds, "hidden": hidden_test}
    for s in (tcp, udp, abstract):
        s.close()


# make test-course; pytest-timeout: the class run (in the first test's setup) takes minutes on a busy machine,
# past the suite's default 600 s, and bounds itself (each submission's wall limit).
pytestmark = [pytest.mark.course, pytest.mark.timeout(3600)]


@pytest.mark.parametrize("name", list(CASES))
def test_every_submission_gets_its_rows(redteam, name):
    _, expected, reason = CASES[name]
    rows = [r for r in redteam["rows"] if r["submission"] == name]
    if expected is None:                   # no assignment known: one row that says why
        assert len(rows) == 1 and rows[0]["possible"] == 0 and reason in rows[0]["reason"], rows
        return
    exercises = {r["exercise"]: r for r in rows}
    assert set(exercises) == set(POINTS), rows
    for exercise, row in exercises.items():
        want = POINTS[exercise] if expected == "all" else (expected.get(exercise, 0) if isinstance(expected, dict) else 0)
        assert row["score"] == want and row["possible"] == POINTS[exercise], (name, row)
        assert (reason in row["reason"]) if reason else row["reason"] == "", (name, row)
    assert (redteam["out"] / "feedback" / f"{Path(name).stem}.md").is_file()


def test_the_grade_book_is_what_grade_returned_and_nothing_else(redteam):
    import csv

    with (redteam["out"] / "grades.csv").open() as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        book = list(reader)
    assert [(r["submission"], r["exercise"], float(r["score"])) for r in book] == \
           [(r["submission"], r["exercise"], r["score"]) for r in redteam["rows"]]
    assert {r["submission"] for r in book} == set(CASES)
    assert "tampered" not in (redteam["out"] / "grades.csv").read_text()


def test_the_class_folder_and_the_autograder_are_unchanged(redteam):
    assert _snapshot(redteam["subs"]) == redteam["before"]["class"]
    assert _snapshot(redteam["autograder"]) == redteam["before"]["autograder"]


def test_nothing_was_written_on_the_host(redteam):
    marker, home = redteam["marker"], redteam["home"]
    places = [home, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), REPO, redteam["subs"], redteam["subs"].parent,
              redteam["out"], Path("/"), Path("/etc"), Path("/usr/local")]
    left = [str(p) for place in places if place.is_dir() for p in place.iterdir() if marker in p.name]
    assert not left, left
    assert not Path(redteam["tokens"]["@PICKLEDROP@"]).exists(), "a pickle written by a student was loaded"
    bashrc = home / ".bashrc"
    assert (bashrc.read_bytes() if bashrc.exists() else None) == redteam["before"]["bashrc"]


def test_no_process_outlived_its_sandbox(redteam):
    assert not _processes_with(redteam["marker"])
    children = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[1]) == os.getpid():
                children.append(pid)
        except (OSError, IndexError):
            continue
    assert not children, _processes_with("")  # the grader's sandboxes are all gone


def test_no_connection_reached_the_host(redteam):
    tcp, udp, abstract = redteam["sockets"]
    for s, action in ((tcp, tcp.accept), (abstract, abstract.accept), (udp, lambda: udp.recvfrom(100))):
        with pytest.raises(BlockingIOError):
            action()
    log = (redteam["out"] / "logs" / f"{FIRST}-network.log").read_text()
    assert "CONNECTED" not in log and log.count("refused") == 5, log


def test_the_hidden_tests_never_reached_a_sandbox_or_a_student(redteam):
    log = (redteam["out"] / "logs" / f"{FIRST}-steals.log").read_text()
    assert "SEARCH DONE 0" in log and "FOUND" not in log, log
    assert not list(redteam["home"].glob(f"stolen-{redteam['marker']}"))
    for feedback in (redteam["out"] / "feedback").iterdir():
        text = feedback.read_text()
        assert redteam["hidden"] not in text, feedback.name


def test_feedback_shows_public_messages_and_names_hidden_checks(redteam):
    zero = (redteam["out"] / "feedback" / f"{FIRST}-zero.md").read_text()
    assert "0 / 6" in zero and "return the new codebook, a tensor [K, D] like e" in zero and "hidden check 1: failed" in zero
    full = (redteam["out"] / "feedback" / f"{FIRST}-full.md").read_text()
    assert "6 / 6" in full and "hidden check 1: passed" in full and "failed" not in full
    loops = (redteam["out"] / "feedback" / f"{FIRST}-loops.md").read_text()
    assert "CPU time limit" in loops and "lloyd\\_step: 2 / 2" in loops

