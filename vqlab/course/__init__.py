"""The course lab: student versions of the notebooks, and safe grading of a class, with otter-grader.

The notebooks in ``notebooks/`` are otter *master* notebooks (the instructor version): each exercise is
an otter question with its solution and its checks (public tests a student runs with
``grader.check("name")``, hidden tests for grading).

* :func:`~vqlab.course.versions.assign` runs ``otter assign`` on every notebook: ``dist/student/NN_topic.ipynb``
  (solutions replaced by stubs, public tests kept) and ``dist/autograder/NN_topic.ipynb`` +
  ``NN_topic-autograder.zip`` (hidden tests too).
* :func:`~vqlab.course.grading.grade` grades a folder of submitted notebooks. Everything a student wrote is
  treated as hostile. Each submission runs in a bubblewrap sandbox of its own
  (:mod:`~vqlab.course.sandbox`: it sees no class folder, grade book or tests, has no network, and is
  limited in wall time, CPU, memory, processes, output and disk); the notebook's process
  (:mod:`~vqlab.course.runner`) only executes cells and answers calls with plain data
  (:mod:`~vqlab.course.wire`, never pickle); otter's tests run in a second sandbox, the checker
  (:mod:`~vqlab.course.checker`), which the student's code never enters. Rows go to the CSV grade book as
  each submission finishes (a rerun resumes), ``jobs`` at a time, with a Markdown feedback file per
  student (:mod:`~vqlab.course.feedback`). A submission that cannot be graded gets rows with the reason.

Command line (what ``make student`` and ``make grade SUBMISSIONS=dir`` call)::

    python -m vqlab.course student [--out dist]
    python -m vqlab.course grade SUBMISSIONS [--autograder dist/autograder] [--csv dist/grades.csv]
        [--jobs N] [--timeout S] [--cpu S] [--memory 4G] [--processes N] [--output 10M] [--regrade]
"""
from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from vqlab.course.grading import COLUMNS, Assignment, Graded, grade, grade_submission, notebook_stem
from vqlab.course.versions import assign
from vqlab.course.sandbox import Limits

__all__ = ["NOTEBOOK_PATTERN", "COLUMNS", "Assignment", "Graded", "Limits", "assign", "notebook_stem",
           "grade_submission", "grade", "main"]

#: The course notebooks: ``NN_topic.ipynb``.
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"


def _bytes(text: str) -> int:
    """``'4G'``, ``'512M'``, ``'64k'`` or a plain number of bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 4G, 512M)")
    return int(float(match.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[match.group(2).lower()])


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``student`` (:func:`assign`) and ``grade`` (:func:`grade`); see this module's docstring."""
    p = argparse.ArgumentParser(prog="python -m vqlab.course", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("student", help="otter assign every notebook into OUT/student and OUT/autograder")
    s.add_argument("--notebooks", default="notebooks")
    s.add_argument("--out", default="dist")
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks into a CSV and feedback files")
    g.add_argument("submissions")
    g.add_argument("--autograder", default="dist/autograder")
    g.add_argument("--csv", default="dist/grades.csv")
    g.add_argument("--feedback", default=None, help="feedback folder (default: beside the CSV, feedback/)")
    g.add_argument("--jobs", type=int, default=None, help="submissions at once (default: CPU cores)")
    g.add_argument("--regrade", action="store_true", help="grade again submissions the CSV already has")
    default = Limits()
    g.add_argument("--timeout", type=float, default=default.wall, help="wall seconds per submission")
    g.add_argument("--cpu", type=float, default=default.cpu, help="CPU seconds per process")
    g.add_argument("--memory", type=_bytes, default=default.memory, help="memory per submission (4G)")
    g.add_argument("--processes", type=int, default=default.processes, help="processes per submission")
    g.add_argument("--output", type=_bytes, default=default.output, help="printed output per submission")
    g.add_argument("--disk", type=_bytes, default=default.disk, help="size of each private folder")
    a = p.parse_args(argv)
    if a.command == "student":
        for path in assign(sorted(Path(a.notebooks).glob(NOTEBOOK_PATTERN)), Path(a.out)):
            print(path)
        return
    limits = Limits(wall=a.timeout, cpu=a.cpu, memory=a.memory, processes=a.processes, output=a.output, disk=a.disk)
    rows = grade(Path(a.submissions), Path(a.autograder), Path(a.csv), feedback=a.feedback and Path(a.feedback),
                 jobs=a.jobs, limits=limits, regrade=a.regrade)
    per: dict[str, tuple[float, float]] = {}
    for r in rows:
        got, possible = per.get(r["submission"], (0.0, 0.0))
        per[r["submission"]] = (got + r["score"], possible + r["possible"])
    for name, (got, possible) in per.items():
        print(f"{name}: {got:g} / {possible:g}")
    print(f"-> {a.csv}")
