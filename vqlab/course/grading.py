"""Grading a class: every submission untrusted, sandboxed, limited, graded in parallel, never stopping the class.

Per submission (:func:`grade_submission`): the file is read here as JSON (never executed here); a file
that is not a notebook of this course gets rows with a reason. Otherwise two sandboxes start side by
side (:mod:`vqlab.course.sandbox`): the student's notebook (:mod:`vqlab.course.runner`) and the checker
with the assignment's otter tests (:mod:`vqlab.course.checker`), joined by two pipes that carry plain
data only. The checker's results come back here as JSON lines; the score of an exercise is otter's score
of its test file, capped to the points possible that this process read from the autograder.

A class (:func:`grade`): ``jobs`` submissions at once; each one's rows are appended to the CSV grade book
(and its feedback file written) as soon as it is done, so an interrupted run keeps what it finished, and a
rerun skips submissions already graded (same file name and content) unless ``regrade``.
"""
from __future__ import annotations

import ast
import csv
import dataclasses
import hashlib
import json
import os
import re
import signal
import symtable
import sys
import threading
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from vqlab.course.sandbox import HOME, Limits, Sandbox, python_trees, require_bwrap, stop_all

__all__ = ["COLUMNS", "Assignment", "Graded", "GradeBook", "notebook_stem", "grade_submission", "grade"]

#: The grade book's columns.
COLUMNS = ["submission", "notebook", "exercise", "score", "possible", "reason", "sha256"]
#: The largest submission read (bytes).
MAX_NOTEBOOK = 32 * 2**20


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


def _imports(notebook: Path) -> dict[str, str]:
    """``{name: import statement}`` for every name the notebook binds by a top-level import only (a name
    it also defines, e.g. an exercise, is left out): the checker imports these itself."""
    from IPython.core.inputtransformer2 import TransformerManager

    bound, defined = {}, set()
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = TransformerManager().transform_cell("".join(cell["source"]))
        try:
            tree, table = ast.parse(source), symtable.symtable(source, "<cell>", "exec")
        except SyntaxError:
            continue
        defined |= {s.get_name() for s in table.get_symbols() if s.is_assigned()}
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                for alias in node.names:
                    single = ast.Import([alias]) if isinstance(node, ast.Import) else ast.ImportFrom(node.module, [alias], 0)
                    bound[alias.asname or alias.name.split(".")[0]] = ast.unparse(single)
    return {name: statement for name, statement in bound.items() if name not in defined}


@dataclasses.dataclass(frozen=True)
class Assignment:
    """One notebook's grading material: its otter test files (from ``NN_topic-autograder.zip``), the
    instructor's imports (from the autograder notebook) and the points possible per exercise."""

    name: str
    tests: dict[str, str]
    imports: dict[str, str]
    possible: dict[str, float]

    @classmethod
    def load(cls, autograder: Path, name: str) -> "Assignment":
        from otter.test_files import create_test_file

        notebook = autograder / f"{name}.ipynb"
        if not notebook.is_file():
            raise FileNotFoundError(f"autograder: no {notebook.name} in {autograder} (run make student)")
        with zipfile.ZipFile(autograder / f"{name}-autograder.zip") as z:
            tests = {Path(n).name: z.read(n).decode() for n in sorted(z.namelist())
                     if n.startswith("tests/") and n.endswith(".py")}
        possible = {}
        for filename, source in tests.items():  # the instructor's files: otter reads them by running them
            test_file = _parse_test(filename, source, create_test_file)
            possible[test_file.name] = float(test_file.possible)
        return cls(name, tests, _imports(notebook), possible)


def _parse_test(filename: str, source: str, create_test_file) -> object:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, filename)
        path.write_text(source)
        return create_test_file(str(path), None)


@dataclasses.dataclass
class Graded:
    """What grading one submission found: otter's results per exercise, and why anything is missing."""

    submission: str
    notebook: str
    sha256: str
    possible: dict[str, float]
    results: dict[str, dict] = dataclasses.field(default_factory=dict)
    reason: str = ""
    cell_errors: list[dict] = dataclasses.field(default_factory=list)
    log: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory: int = 0

    def score(self, exercise: str) -> float:
        """Otter's score of ``exercise``, capped to [0, points possible]; 0 if it was not checked."""
        result = self.results.get(exercise)
        got = float(result["score"]) if result and isinstance(result.get("score"), (int, float)) else 0.0
        return min(max(got, 0.0), self.possible[exercise])

    def rows(self) -> list[dict]:
        """One row per exercise (score, or 0 and the reason); one row in all for an unknown notebook."""
        if not self.possible:
            return [dict(zip(COLUMNS, (self.submission, self.notebook, "", 0.0, 0.0, self.reason, self.sha256)))]
        return [dict(zip(COLUMNS, (self.submission, self.notebook, name, self.score(name), possible,
                                   self.reason or ("" if name in self.results else "not checked"), self.sha256)))
                for name, possible in self.possible.items()]


def _read_notebook(data: bytes, assignment: Assignment) -> str:
    """Why ``data`` is not a notebook of ``assignment`` ('' if it is one)."""
    if len(data) > MAX_NOTEBOOK:
        return f"not a notebook: larger than {MAX_NOTEBOOK // 2**20} MB"
    try:
        nb = json.loads(data)
    except (ValueError, RecursionError) as err:
        return f"not a notebook: invalid JSON ({str(err)[:120]})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return "not a notebook: no nbformat-4 cell list"
    otter = nb.get("metadata", {}).get("otter", {}) if isinstance(nb.get("metadata"), dict) else {}
    found = otter.get("assignment_name") if isinstance(otter, dict) else None
    if found != assignment.name:
        return (f"wrong assignment: the notebook is {str(found)[:80]!s}'s, the file name says {assignment.name}"
                if found else f"wrong assignment: the notebook has no otter assignment name ({assignment.name} expected)")
    return ""


def grade_submission(submission: Path, assignment: Assignment, *, limits: Limits = Limits()) -> Graded:
    """Grade one submitted notebook in two sandboxes (student's notebook; checker with the tests)."""
    start = time.monotonic()
    data = Path(submission).read_bytes()
    graded = Graded(Path(submission).name, assignment.name, hashlib.sha256(data).hexdigest()[:16],
                    assignment.possible)
    graded.reason = _read_notebook(data, assignment)
    if graded.reason:
        return graded
    events: dict = {"cell": None, "ready": None, "done": False}

    def on_event(line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "result" and event.get("name") in assignment.possible:
            graded.results[event["name"]] = event
        elif kind in ("cell", "ready"):
            events[kind] = event
        elif kind == "done":
            events["done"] = True

    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    notebook = os.memfd_create("submission")
    os.write(notebook, data)
    os.lseek(notebook, 0, os.SEEK_SET)
    python = [sys.executable, "-I", "-B", "-m"]
    inside = f"{HOME}/{assignment.name}.ipynb"
    runner = None
    try:
        runner = Sandbox(python + ["vqlab.course.runner", inside, "--requests", str(requests_r), "--replies",
                                   str(replies_w), "--limits", limits.to_json()],
                         limits, files={inside: notebook}, pass_fds=(requests_r, replies_w))
        spec = json.dumps({"tests": assignment.tests, "imports": assignment.imports}).encode()
        checker = Sandbox(python + ["vqlab.course.checker", "--requests", str(requests_w), "--replies",
                                    str(replies_r), "--limits", limits.to_json()],
                          limits, pass_fds=(requests_w, replies_r), stdin=spec, events=on_event)
    except BaseException:
        if runner is not None:
            runner.stop()
        raise
    finally:
        for fd in (requests_r, requests_w, replies_r, replies_w, notebook):
            os.close(fd)
    deadline = start + limits.wall
    checker_status = checker.wait(deadline)
    status = runner.wait(min(deadline, time.monotonic() + 5))
    graded.peak_memory, graded.cpu_seconds = runner.peak_memory, runner.cpu_seconds
    graded.cell_errors = (events["ready"] or {}).get("errors") or []
    graded.reason = _reason(runner, status, graded, events, limits) or _checker_failure(checker, checker_status, events)
    graded.log = (f"{graded.submission}: {time.monotonic() - start:.1f} s, notebook {graded.cpu_seconds:.1f} CPU-s, "
                  f"checker {checker.cpu_seconds:.1f} CPU-s, "
                  f"peak memory {graded.peak_memory / 2**20:.0f} MB, exit status {status}; {graded.reason or 'ok'}\n"
                  f"--- notebook output (last {Sandbox.TAIL // 1024} kB)\n{runner.out_tail.decode(errors='replace')}\n"
                  f"--- checker\n{checker.out_tail.decode(errors='replace')}")
    graded.seconds = time.monotonic() - start
    return graded


def _reason(runner: Sandbox, status: int, graded: Graded, events: dict, limits: Limits) -> str:
    """Why the student's process did not run to the end ('' if it did), and where it stopped."""
    cell = events["cell"] or {}
    where = "during the checks" if events["ready"] else f"in cell {cell.get('cell', 0)} of {cell.get('of', '?')}"
    if runner.reason and runner.reason.startswith("timed out") and events["ready"] and events["done"]:
        return ""  # the checks were done; it only did not exit in time
    if runner.reason:
        return f"{runner.reason} {where}"
    if status == 128 + signal.SIGXCPU:
        return f"CPU time limit ({limits.cpu:g} s) reached {where}"
    if status != 0 or not events["ready"]:
        return f"the notebook's process died (exit status {status}) {where}"
    memory = [e for e in graded.cell_errors if str(e.get("error", "")).startswith("MemoryError")]
    if memory:
        return f"memory limit ({limits.memory / 2**30:g} GB): MemoryError in cell {memory[0].get('cell')}"
    return ""


def _checker_failure(checker: Sandbox, status: int, events: dict) -> str:
    if events["done"]:
        return ""
    tail = checker.out_tail.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {status}"]
    return f"the checker failed ({checker.reason or tail[0][:200]})"


class GradeBook:
    """The CSV grade book: rows appended as submissions finish; a rerun keeps completely graded ones."""

    def __init__(self, path: Path, expected: dict[str, int], regrade: bool):
        self.path, self._lock = path, threading.Lock()
        rows: list[dict] = []
        if path.exists() and not regrade:
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != COLUMNS:
                    raise ValueError(f"csv_path: {path} has the columns {reader.fieldnames}, not {COLUMNS}: "
                                     "move it away, or regrade every submission")
                rows = [r for r in reader if None not in r.values()]
        count: dict[tuple, int] = {}
        for r in rows:
            count[r["submission"], r["sha256"]] = count.get((r["submission"], r["sha256"]), 0) + 1
        complete = {key for key, n in count.items() if key[0] not in expected or n == expected[key[0]]}
        self.rows = [_typed(r) for r in rows if (r["submission"], r["sha256"]) in complete]
        self.graded = complete

    def keep_only(self, names: set[str]) -> None:
        """Drop rows of submissions in ``names`` (about to be regraded); rewrite the file."""
        self.rows = [r for r in self.rows if r["submission"] not in names]
        self._rewrite()

    def add(self, rows: list[dict]) -> None:
        with self._lock:
            self.rows += rows
            with self.path.open("a", newline="") as f:
                csv.DictWriter(f, fieldnames=COLUMNS).writerows(rows)
                f.flush()
                os.fsync(f.fileno())

    def _rewrite(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(tmp, self.path)

    def finish(self) -> list[dict]:
        """Sort the rows by submission (exercises in their order) and rewrite; return them."""
        self.rows.sort(key=lambda r: r["submission"])
        self._rewrite()
        return self.rows


def _typed(row: dict) -> dict:
    return {**row, "score": float(row["score"]), "possible": float(row["possible"])}


def _hidden_from_sandbox(paths: dict[str, Path]) -> None:
    for what, path in paths.items():
        for tree in python_trees() + ["/usr", "/etc"]:
            if Path(path).resolve().is_relative_to(tree):
                raise ValueError(f"{what}: {path} is inside {tree}, which every sandbox sees: move it elsewhere")


def grade(submissions: Path, autograder: Path, csv_path: Path, *, feedback: Path | None = None,
          logs: Path | None = None, jobs: int | None = None, limits: Limits = Limits(),
          regrade: bool = False, progress: bool = True) -> list[dict]:
    """Grade every ``*.ipynb`` in ``submissions`` against ``autograder/NN_topic-autograder.zip``.

    Args:
        submissions: the class folder (read here; never visible to a sandbox).
        autograder: ``make student``'s ``dist/autograder`` (zips and autograder notebooks).
        csv_path: the grade book (columns :data:`COLUMNS`), appended to as submissions finish.
        feedback: a Markdown file per submission is written here (default: ``csv_path``'s folder /
            ``feedback``); ``logs``: each sandbox's output, for the instructor (default: ... / ``logs``).
        jobs: submissions graded at once (default: the number of CPU cores).
        limits: each submission's :class:`~vqlab.course.sandbox.Limits`.
        regrade: grade every submission again (default: skip those already in ``csv_path``).
    Returns:
        every row of the grade book.
    """
    from vqlab.course.feedback import write_feedback

    zips = sorted(Path(autograder).glob("*-autograder.zip"))
    if not zips:
        raise FileNotFoundError(f"autograder: no *-autograder.zip in {autograder} (run make student first)")
    files = sorted(Path(submissions).glob("*.ipynb"))
    if not files:
        raise FileNotFoundError(f"submissions: no .ipynb files in {submissions}")
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    feedback = Path(feedback or Path(csv_path).parent / "feedback")
    logs = Path(logs or Path(csv_path).parent / "logs")
    require_bwrap()
    _hidden_from_sandbox({"submissions": submissions, "autograder": autograder, "csv_path": Path(csv_path).parent,
                          "feedback": feedback, "logs": logs})
    assignments = {a.name: a for a in (Assignment.load(autograder, z.name.removesuffix("-autograder.zip")) for z in zips)}
    stems = list(assignments)

    def expected(path: Path) -> int:
        try:
            return len(assignments[notebook_stem(path, stems)].possible)
        except ValueError:
            return 1

    book = GradeBook(Path(csv_path), {f.name: expected(f) for f in files}, regrade)
    digests = {f: hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in files}
    todo = [f for f in files if (f.name, digests[f]) not in book.graded]
    book.keep_only({f.name for f in todo})
    feedback.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> Graded:
        try:
            stem = notebook_stem(path, stems)
        except ValueError as err:
            return Graded(path.name, "", digests[path], {}, reason=f"no notebook number in the file name ({err})")
        try:
            return grade_submission(path, assignments[stem], limits=limits)
        except Exception as err:  # never stop the class: this submission gets rows saying what failed
            return Graded(path.name, stem, digests[path], assignments[stem].possible,
                          reason=f"grading failed: {type(err).__name__}: {err}"[:500])

    if progress:
        print(f"grading {len(todo)} of {len(files)} submissions ({len(files) - len(todo)} already graded), "
              f"{jobs} at a time", file=sys.stderr)
    pool, began = ThreadPoolExecutor(max_workers=jobs), time.monotonic()
    try:
        for n, future in enumerate(as_completed([pool.submit(one, f) for f in todo]), 1):
            graded = future.result()
            book.add(graded.rows())
            write_feedback(graded, feedback / f"{Path(graded.submission).stem}.md")
            (logs / f"{Path(graded.submission).stem}.log").write_text(graded.log)
            if progress:
                total = sum(graded.score(e) for e in graded.possible)
                print(f"[{n}/{len(todo)}] {graded.submission}: {total:g} / {sum(graded.possible.values()):g}"
                      f"{' -- ' + graded.reason if graded.reason else ''} ({graded.seconds:.0f} s, notebook "
                      f"{graded.cpu_seconds:.0f} CPU-s)", file=sys.stderr)
    except BaseException:  # Ctrl-C or a failing disk: stop the sandboxes still running, keep what is written
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all("the grader stopped")
        raise
    pool.shutdown()
    if progress and todo:
        seconds = time.monotonic() - began
        print(f"graded {len(todo)} submissions in {seconds:.0f} s, {jobs} at a time: "
              f"{60 * len(todo) / seconds:.1f} submissions per minute", file=sys.stderr)
    return book.finish()
