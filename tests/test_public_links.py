"""What readers are pointed at exists for them: no path to the course machines' ``../shared`` folder in the
README, the book's pages or anything the book renders (the package's docstrings, the notebooks)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/papers/, /work/shared/...: folders beside the course machines' checkouts, not in a user's clone
SHARED = re.compile(r"(\.\./|/work/)shared\b|\bshared/papers\b")
READER_FILES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *ROOT.glob("book/**/*.md"), *ROOT.glob("book/**/*.py"),
                *ROOT.glob("book/**/*.html"), *ROOT.glob("vqlab/**/*.py"), *ROOT.glob("notebooks/[0-9]*.ipynb"),
                *ROOT.glob("notebooks/[0-9]*.py")]


def test_no_path_to_the_course_machines_shared_folder():
    assert any(p.parent.name == "book" for p in READER_FILES) and any(p.suffix == ".ipynb" for p in READER_FILES)
    found = [f"{path.relative_to(ROOT)} line {n}: {line.strip()[:100]}" for path in READER_FILES
             for n, line in enumerate(path.read_text().splitlines(), 1) if SHARED.search(line)]
    assert not found, f"paths a clone does not have (point at a public link instead): {found}"
