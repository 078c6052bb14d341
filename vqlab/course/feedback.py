"""The feedback a student gets: one Markdown file per submission.

Per exercise: the score, each public check with otter's message (what ``grader.check`` shows), each
hidden check named and marked passed or failed, never shown; then why grading stopped early, if it did,
and the cells that raised. Text that came from the student's code (an exception message) is fenced, so
it cannot turn into Markdown or HTML.
"""
from __future__ import annotations

import re
from pathlib import Path

from vqlab.course.grading import Graded

__all__ = ["feedback_markdown", "write_feedback"]


def _fenced(text: str) -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _inline(text: str) -> str:
    """``text`` as one line of plain Markdown (no markup, no HTML)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", " ".join(str(text).split()))


def feedback_markdown(graded: Graded) -> str:
    """The feedback file's text."""
    total, possible = sum(graded.score(e) for e in graded.possible), sum(graded.possible.values())
    lines = [f"# Feedback: {_inline(graded.submission)}", ""]
    if graded.notebook:
        lines += [f"Notebook **{_inline(graded.notebook)}**: **{total:g} / {possible:g}** points.", ""]
    if graded.reason:
        lines += [f"**Grading did not run to the end:** {_inline(graded.reason)}.", ""]
    for name, points in graded.possible.items():
        result = graded.results.get(name)
        lines += [f"## {_inline(name)}: {graded.score(name):g} / {points:g}", ""]
        if result is None:
            lines += ["Not checked (see above).", ""]
            continue
        hidden = 0
        for case in result.get("cases", []):
            mark = "passed" if case.get("passed") else "failed"
            if case.get("hidden"):
                hidden += 1
                lines += [f"- hidden check {hidden}: {mark}"]
            elif case.get("passed"):
                lines += [f"- public check {_inline(case.get('name', ''))}: passed"]
            else:
                lines += [f"- public check {_inline(case.get('name', ''))}: failed", "", _fenced(str(case.get("message", ""))), ""]
        lines += [""]
    if graded.cell_errors:
        lines += ["## Cells that raised an error", ""]
        lines += [f"- cell {e.get('cell')}: {_inline(e.get('error', ''))[:300]}" for e in graded.cell_errors[:20]]
        lines += [""]
    return "\n".join(lines)


def write_feedback(graded: Graded, path: Path) -> None:
    """Write :func:`feedback_markdown` to ``path``."""
    Path(path).write_text(feedback_markdown(graded))
