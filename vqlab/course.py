"""The course lab: student versions of the notebooks and local grading, both with otter-grader.

The notebooks in ``notebooks/`` are otter *master* notebooks (the instructor version): each exercise is
an otter question with its solution and its checks (public tests a student can run with
``grader.check("name")``, hidden tests for grading). This module only drives otter:

* :func:`assign` runs ``otter assign`` on every notebook and collects the results as
  ``dist/student/NN_topic.ipynb`` (solutions replaced by stubs, public tests kept, no outputs) and
  ``dist/autograder/NN_topic.ipynb`` + ``dist/autograder/NN_topic-autograder.zip`` (hidden tests too).
* :func:`grade` grades a folder of submitted student notebooks with ``otter.api.grade_submission`` (no
  containers, no network: the submission runs in this environment) and writes one CSV row per
  submission and exercise.

Command line (what ``make student`` and ``make grade SUBMISSIONS=dir`` call)::

    python -m vqlab.course student [--out dist]
    python -m vqlab.course grade SUBMISSIONS [--autograder dist/autograder] [--csv dist/grades.csv]
"""
from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["NOTEBOOK_PATTERN", "assign", "notebook_stem", "grade", "main"]

#: The course notebooks: ``NN_topic.ipynb``.
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"


def assign(notebooks: Sequence[Path], out: Path) -> list[Path]:
    """``otter assign`` every master notebook into ``out/student`` and ``out/autograder``.

    Args:
        notebooks: master notebooks (``NN_topic.ipynb``, each with an ``# ASSIGNMENT CONFIG`` raw cell).
        out: the output folder; its ``student`` and ``autograder`` sub-folders are replaced.
    Returns:
        the student notebooks written, in the order of ``notebooks``.
    """
    if not notebooks:
        raise ValueError("notebooks must name at least one master notebook")
    student, autograder = out / "student", out / "autograder"
    for folder in (student, autograder):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    written = []
    for master in map(Path, notebooks):
        if not master.is_file():
            raise FileNotFoundError(f"notebooks: no master notebook {master}")
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run([sys.executable, "-m", "otter", "assign", str(master), tmp],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"otter assign failed on {master}:\n{result.stdout}{result.stderr}")
            shutil.copy(Path(tmp, "student", master.name), student / master.name)
            shutil.copy(Path(tmp, "autograder", master.name), autograder / master.name)
            (zip_path,) = Path(tmp, "autograder").glob("*-autograder_*.zip")
            shutil.copy(zip_path, autograder / f"{master.stem}-autograder.zip")
        written.append(student / master.name)
    return written


def notebook_stem(submission: Path, stems: Sequence[str]) -> str:
    """Which course notebook a submitted file is: the stem whose number ``NN`` starts the file name
    (``01_vector_quantization.ipynb``, ``01_vector_quantization-ada.ipynb``, ``01-ada.ipynb`` all map to
    ``01_vector_quantization``)."""
    match = re.match(r"(\d\d)", submission.name)
    found = [s for s in stems if match and s.startswith(match.group(1))]
    if len(found) != 1:
        raise ValueError(f"submission {submission.name} does not start with the number of a notebook "
                         f"(NN_..., one of {', '.join(stems)})")
    return found[0]


def grade(submissions: Path, autograder: Path, csv_path: Path) -> list[dict[str, object]]:
    """Grade every ``*.ipynb`` in ``submissions`` against ``autograder/NN_topic-autograder.zip``.

    Each submission is executed in this environment by otter (public and hidden tests). Writes
    ``csv_path`` with the columns ``submission, notebook, exercise, score, possible`` (one row per
    exercise and submission) and returns the rows.
    """
    zips = {p.name.removesuffix("-autograder.zip"): p for p in sorted(autograder.glob("*-autograder.zip"))}
    if not zips:
        raise FileNotFoundError(f"autograder: no *-autograder.zip in {autograder} (run make student first)")
    files = sorted(submissions.glob("*.ipynb"))
    if not files:
        raise FileNotFoundError(f"submissions: no .ipynb files in {submissions}")
    from otter.api import grade_submission

    rows = []
    for path in files:
        stem = notebook_stem(path, list(zips))
        results = grade_submission(str(path), str(zips[stem]), quiet=True)
        for name, result in results.results.items():
            rows.append({"submission": path.name, "notebook": stem, "exercise": name,
                         "score": result.score, "possible": result.possible})
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["submission", "notebook", "exercise", "score", "possible"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqlab.course", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("student", help="otter assign every notebook into OUT/student and OUT/autograder")
    s.add_argument("--notebooks", default="notebooks")
    s.add_argument("--out", default="dist")
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks into a CSV")
    g.add_argument("submissions")
    g.add_argument("--autograder", default="dist/autograder")
    g.add_argument("--csv", default="dist/grades.csv")
    a = p.parse_args(argv)
    if a.command == "student":
        for path in assign(sorted(Path(a.notebooks).glob(NOTEBOOK_PATTERN)), Path(a.out)):
            print(path)
    else:
        rows = grade(Path(a.submissions), Path(a.autograder), Path(a.csv))
        per = {}
        for r in rows:
            got, possible = per.get(r["submission"], (0.0, 0.0))
            per[r["submission"]] = (got + r["score"], possible + r["possible"])
        for name, (got, possible) in per.items():
            print(f"{name}: {got:g} / {possible:g}")
        print(f"-> {a.csv}")


if __name__ == "__main__":  # pragma: no cover
    main()
