"""The course lab: student versions of the notebooks and local grading, both with otter-grader.

The notebooks in ``notebooks/`` are otter *master* notebooks (the instructor version): each exercise is
an otter question with its solution and its checks (public tests a student can run with
``grader.check("name")``, hidden tests for grading). This module only drives otter:

* :func:`assign` runs ``otter assign`` on every notebook and collects the results as
  ``dist/student/NN_topic.ipynb`` (solutions replaced by stubs, public tests kept, no outputs) and
  ``dist/autograder/NN_topic.ipynb`` + ``dist/autograder/NN_topic-autograder.zip`` (hidden tests too).
* :func:`grade` grades a folder of submitted student notebooks with ``otter run`` (no containers, no
  network: the submission runs in this environment; one child process per submission, killed and retried
  after a timeout) and writes one CSV row per submission and exercise.

Command line (what ``make student`` and ``make grade SUBMISSIONS=dir`` call)::

    python -m vqlab.course student [--out dist]
    python -m vqlab.course grade SUBMISSIONS [--autograder dist/autograder] [--csv dist/grades.csv]
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["NOTEBOOK_PATTERN", "assign", "notebook_stem", "grade_submission", "grade", "main"]

#: The course notebooks: ``NN_topic.ipynb``.
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"


def assign(notebooks: Sequence[Path], out: Path) -> list[Path]:
    """``otter assign`` every master notebook into ``out/student`` and ``out/autograder``.

    One ``otter assign`` child process per notebook, as many at a time as there are CPU cores (each
    only reads and writes notebooks: no kernel is started).

    Args:
        notebooks: master notebooks (``NN_topic.ipynb``, each with an ``# ASSIGNMENT CONFIG`` raw cell).
        out: the output folder; its ``student`` and ``autograder`` sub-folders are replaced.
    Returns:
        the student notebooks written, in the order of ``notebooks``.
    """
    if not notebooks:
        raise ValueError("notebooks must name at least one master notebook")
    for master in map(Path, notebooks):
        if not master.is_file():
            raise FileNotFoundError(f"notebooks: no master notebook {master}")
    student, autograder = out / "student", out / "autograder"
    for folder in (student, autograder):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda master: _assign_one(Path(master), student, autograder), notebooks))


def _assign_one(master: Path, student: Path, autograder: Path) -> Path:
    """``otter assign`` one master notebook; copy its student notebook, autograder notebook and zip."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([sys.executable, "-m", "otter", "assign", str(master), tmp],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"otter assign failed on {master}:\n{result.stdout}{result.stderr}")
        shutil.copy(Path(tmp, "student", master.name), student / master.name)
        shutil.copy(Path(tmp, "autograder", master.name), autograder / master.name)
        (zip_path,) = Path(tmp, "autograder").glob("*-autograder_*.zip")
        shutil.copy(zip_path, autograder / f"{master.stem}-autograder.zip")
    return student / master.name


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


def grade_submission(submission: Path, autograder_zip: Path, *, debug: bool = False, timeout: float = 900.0,
                     attempts: int = 2) -> dict[str, tuple[float, float]]:
    """Grade one notebook with ``otter run`` in a child process; ``{exercise: (score, possible)}``.

    The child runs in its own session, so a submission (or a Jupyter kernel) that hangs is killed with it
    after ``timeout`` seconds and graded again, ``attempts`` times in all: a kernel that stalls at start-up
    (a port race in jupyter_client) then costs one ``timeout`` instead of the whole run.

    Args:
        submission: the notebook to grade.
        autograder_zip: its ``NN_topic-autograder.zip`` (from :func:`assign`).
        debug: otter's debug mode: an error anywhere in the notebook fails the grading (RuntimeError),
            instead of being ignored.
        timeout: seconds one attempt may take (> 0).
        attempts: how often to try before giving up (>= 1).
    Raises:
        RuntimeError: ``otter run`` failed (in debug mode: the notebook raised).
        TimeoutError: every attempt took longer than ``timeout``.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts!r}")
    import dill

    cmd = [sys.executable, "-m", "otter", "run", "--no-logo", "--pickle-results",
           "--autograder", str(Path(autograder_zip).resolve()), *(["--debug"] if debug else []),
           str(Path(submission).resolve())]
    for _ in range(attempts):
        with tempfile.TemporaryDirectory() as tmp:
            child = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
            try:
                log, _ = child.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.communicate()
                continue
            if child.returncode != 0:
                raise RuntimeError(f"otter run failed on {submission}:\n{log[-6000:]}")
            with open(Path(tmp, "results.pkl"), "rb") as f:
                results = dill.load(f)
        return {name: (float(r.score), float(r.possible)) for name, r in results.results.items()}
    raise TimeoutError(f"grading {Path(submission).name} took longer than timeout={timeout:g} s "
                       f"{attempts} times")


def grade(submissions: Path, autograder: Path, csv_path: Path, *, timeout: float = 900.0) -> list[dict[str, object]]:
    """Grade every ``*.ipynb`` in ``submissions`` against ``autograder/NN_topic-autograder.zip``.

    Each submission is executed in this environment by otter (public and hidden tests) through
    :func:`grade_submission` (``timeout`` seconds per attempt). Writes ``csv_path`` with the columns
    ``submission, notebook, exercise, score, possible`` (one row per exercise and submission; a submission
    that timed out gets one row with exercise ``TIMED OUT`` and 0 / 0 points) and returns the rows.
    """
    zips = {p.name.removesuffix("-autograder.zip"): p for p in sorted(autograder.glob("*-autograder.zip"))}
    if not zips:
        raise FileNotFoundError(f"autograder: no *-autograder.zip in {autograder} (run make student first)")
    files = sorted(submissions.glob("*.ipynb"))
    if not files:
        raise FileNotFoundError(f"submissions: no .ipynb files in {submissions}")
    rows = []
    for path in files:
        stem = notebook_stem(path, list(zips))
        try:
            scores = grade_submission(path, zips[stem], timeout=timeout)
        except TimeoutError as err:
            print(f"{path.name}: {err}", file=sys.stderr)
            scores = {"TIMED OUT": (0.0, 0.0)}
        for name, (score, possible) in scores.items():
            rows.append({"submission": path.name, "notebook": stem, "exercise": name,
                         "score": score, "possible": possible})
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
    g.add_argument("--timeout", type=float, default=900.0, help="seconds per submission and attempt")
    a = p.parse_args(argv)
    if a.command == "student":
        for path in assign(sorted(Path(a.notebooks).glob(NOTEBOOK_PATTERN)), Path(a.out)):
            print(path)
    else:
        rows = grade(Path(a.submissions), Path(a.autograder), Path(a.csv), timeout=a.timeout)
        per = {}
        for r in rows:
            got, possible = per.get(r["submission"], (0.0, 0.0))
            per[r["submission"]] = (got + r["score"], possible + r["possible"])
        for name, (got, possible) in per.items():
            print(f"{name}: {got:g} / {possible:g}")
        print(f"-> {a.csv}")


if __name__ == "__main__":  # pragma: no cover
    main()
