"""Benchmark: the course lab's grader -- grading rate serial vs parallel, and what the sandbox costs.

    .venv/bin/python benchmarks/grading.py [--notebooks 01,08] [--copies 2] [--jobs 1,2] [--repeats 5]

Builds the student/autograder versions of the chosen notebooks (``otter assign``) in a temporary folder, then
times, in one run on one machine:

1. bwrap's own start-up: ``python -c pass`` in a sandbox (:mod:`vqlab.course.sandbox`) against the same
   command started directly (median of ``repeats``);
2. the cost of one submission with nothing to do (one trivial cell): :func:`vqlab.course.grade_submission`
   (two sandboxes: the notebook's process and the checker, each a Python with torch) against the pipeline it
   replaced, ``otter run`` on the same notebook (a Jupyter kernel, no sandbox);
3. the grading rate: ``copies`` copies of each notebook's solution graded as a class with each ``jobs``
   value (submissions per hour, and the notebook process's CPU seconds as seen by the sandbox's watcher).

Wall times depend on the machine and on its load (``os.getloadavg()`` is printed with each line).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vqlab.course import Assignment, Limits, assign, grade, grade_submission
from vqlab.course.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]


def _load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def _median_start(argv: list[str], sandboxed: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        if sandboxed:
            Sandbox(argv, Limits()).wait(time.monotonic() + 60)
        else:
            subprocess.run(argv, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _trivial(dist: Path, name: str, folder: Path) -> Path:
    nb = json.loads((dist / "student" / f"{name}.ipynb").read_text())
    nb["cells"] = [{"cell_type": "code", "execution_count": None, "id": "x", "metadata": {}, "outputs": [],
                    "source": "x = 1"}]
    path = folder / f"{name}-trivial.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notebooks", default="01,08", help="notebook numbers, comma-separated")
    p.add_argument("--copies", type=int, default=2, help="submissions per notebook in a class")
    p.add_argument("--jobs", default="1,2", help="jobs values to compare, comma-separated")
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    masters = [next((REPO / "notebooks").glob(f"{n}_*.ipynb")) for n in a.notebooks.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        assign(masters, tmp / "dist")
        dist = tmp / "dist"
        plain = _median_start([sys.executable, "-c", "pass"], False, a.repeats)
        boxed = _median_start([sys.executable, "-c", "pass"], True, a.repeats)
        print(f"python -c pass: {plain:.3f} s directly, {boxed:.3f} s in a sandbox (+{boxed - plain:.3f} s); {_load()}")

        name = masters[0].stem
        trivial = _trivial(dist, name, tmp)
        assignment = Assignment.load(dist / "autograder", name)
        for _ in range(2):
            start = time.perf_counter()
            graded = grade_submission(trivial, assignment)
            ours = time.perf_counter() - start
            start, cpu = time.perf_counter(), _children_cpu()
            subprocess.run([sys.executable, "-m", "otter", "run", "--no-logo", "-a",
                            str(dist / "autograder" / f"{name}-autograder.zip"), "-o", str(tmp), str(trivial)],
                           check=True, capture_output=True)
            checker = float(graded.log.split(" checker ")[1].split()[0])
            print(f"trivial submission: sandboxed grader {ours:.1f} s (notebook process {graded.cpu_seconds:.1f} "
                  f"CPU-s, checker {checker:.1f} CPU-s), otter run {time.perf_counter() - start:.1f} s ({_children_cpu() - cpu:.1f} CPU-s); {_load()}")

        for master in masters:
            for jobs in map(int, a.jobs.split(",")):
                subs = tmp / f"class-{master.stem}-{jobs}"
                subs.mkdir()
                for i in range(a.copies):
                    shutil.copy(dist / "autograder" / master.name, subs / f"{master.stem}-{i}.ipynb")
                start = time.perf_counter()
                rows = grade(subs, dist / "autograder", tmp / f"grades-{master.stem}-{jobs}.csv", jobs=jobs,
                             progress=False)
                seconds = time.perf_counter() - start
                assert all(r["score"] == r["possible"] for r in rows), rows
                cpu = [float(log.read_text().split(" notebook ")[1].split()[0])
                       for log in (tmp / "logs").glob(f"{master.stem}-*.log")]
                print(f"{master.stem}: {a.copies} submissions, jobs={jobs}: {seconds:.0f} s, "
                      f"{3600 * a.copies / seconds:.0f} submissions/hour (notebook process "
                      f"{statistics.mean(cpu):.0f} CPU-s each); {_load()}")
                shutil.rmtree(tmp / "logs")


if __name__ == "__main__":
    main()
