"""One symbol, one meaning: the course notation (``book/notation.md``, ``book/notation.toml``).

``book/notation.toml`` lists the reserved course symbols (their LaTeX, their one meaning, the package name)
and how each paper's letters map onto them; ``book/notation.md`` shows the same to readers. Checked here:

* the page and the TOML agree, row by row, and no two symbols share a meaning or a spelling;
* every package name of the TOML exists in ``vqlab`` (a rename in the code must update the notation);
* every "paper symbol | course symbol | meaning" table, on the page and in each notebook (as committed),
  maps only to reserved symbols, with the meaning the page gives them;
* every notebook carries at least one such table and links the notation page from its opening.

The table format is documented on the page and in CONTRIBUTING.md's notebook rules.
"""
import json
import re
import tomllib

import pytest

from committed import REPO, notebook_paths

NOTATION = tomllib.loads((REPO / "book" / "notation.toml").read_text())
SYMBOLS = NOTATION["symbol"]
PAGE = (REPO / "book" / "notation.md").read_text()
PAPER_HEADER = ("paper symbol", "course symbol", "meaning")
SYMBOL_HEADER = ("symbol", "meaning", "package name", "introduced in")


def normalise(latex: str) -> str:
    """One spelling per symbol: no ``$``, spacing, braces or ``\\left``/``\\right``; ``|`` for ``\\mid``."""
    s = latex.strip().strip("$")
    s = s.replace(r"\operatorname", r"\mathrm").replace(r"\mid", "|").replace(r"\left", "").replace(r"\right", "")
    s = re.sub(r"\\[,;:! ]", "", s)
    return re.sub(r"[\s{}]", "", s)


def meaning_key(text: str) -> str:
    """The meaning a table names: the cell up to a ``;`` or ``(`` note, lower case, one kind of dash."""
    text = re.split(r";|\(", text, maxsplit=1)[0]
    text = text.replace("–", "-").replace("—", "-").replace("*", "").replace("_", " ")
    return " ".join(text.lower().split())


RESERVED = {}  # normalised spelling -> its symbol
for _symbol in SYMBOLS:
    for _spelling in {normalise(s) for s in (_symbol["latex"], *_symbol["aliases"])}:
        RESERVED.setdefault(_spelling, []).append(_symbol)


def tables(markdown: str, header: tuple[str, ...]) -> list[list[list[str]]]:
    """The markdown tables with this header, each a list of rows (lists of stripped cells)."""
    found, current = [], None
    for line in markdown.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if current is None:
            current = [] if tuple(c.lower() for c in cells) == header else False
            if current is not False:
                found.append(current)
        elif current is not False and not all(re.fullmatch(r":?-+:?", c) for c in cells):
            current.append(cells)
    return found


def paper_table_errors(rows: list[list[str]]) -> list[str]:
    """What is wrong with one "paper symbol | course symbol | meaning" table (empty: nothing)."""
    errors = []
    for row in rows:
        if len(row) != 3:
            errors.append(f"{row}: a row needs three cells")
            continue
        paper, course, meaning = row
        math = re.fullmatch(r"\$([^$]+)\$", course)
        if not paper:
            errors.append(f"{row}: the paper symbol is empty")
        if not math:
            errors.append(f"{row}: the course symbol must be one $...$ span")
            continue
        symbol = RESERVED.get(normalise(math.group(1)))
        if symbol is None:
            errors.append(f"{row}: {course} is not a reserved course symbol (book/notation.toml)")
        elif meaning_key(meaning) != meaning_key(symbol[0]["meaning"]):
            errors.append(f"{row}: {course} means {symbol[0]['meaning']!r} in the course, not {meaning!r}")
    return errors


def markdown_of(notebook) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_one_symbol_per_spelling_and_one_symbol_per_meaning():
    clashes = {s: [x["latex"] for x in xs] for s, xs in RESERVED.items() if len(xs) > 1}
    assert not clashes, f"one spelling, several symbols: {clashes}"
    meanings = [meaning_key(s["meaning"]) for s in SYMBOLS]
    assert len(set(meanings)) == len(meanings), sorted(m for m in meanings if meanings.count(m) > 1)
    assert all(re.fullmatch(r"0\d", s["introduced"]) for s in SYMBOLS)


def test_page_shows_the_toml():
    (symbol_table,) = tables(PAGE, SYMBOL_HEADER)
    shown = [(normalise(row[0]), meaning_key(row[1]), row[2].replace("`", "").replace("—", ""), row[3])
             for row in symbol_table]
    listed = [(normalise(s["latex"]), meaning_key(s["meaning"]), s["package"], s["introduced"]) for s in SYMBOLS]
    assert shown == listed
    paper_tables = tables(PAGE, PAPER_HEADER)
    assert len(paper_tables) == len(NOTATION["paper"]) + 1  # the format example, then one per paper
    for table, paper in zip(paper_tables[1:], NOTATION["paper"]):
        assert [(row[0], normalise(row[1])) for row in table] == \
               [(r["paper"], normalise(r["course"])) for r in paper["rows"]], paper["name"]
    assert "notation" in (REPO / "book" / "index.md").read_text()  # in the book's toctree


def test_page_paper_tables_map_to_reserved_symbols():
    errors = [e for table in tables(PAGE, PAPER_HEADER) for e in paper_table_errors(table)]
    assert not errors, "\n".join(errors)


def test_package_names_exist_in_vqlab():
    source = "\n".join(p.read_text() for p in (REPO / "vqlab").rglob("*.py"))
    missing = sorted({name for s in SYMBOLS for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s["package"])
                      if not re.search(rf"\b{name}\b", source)})
    assert not missing, f"package names of book/notation.toml that vqlab does not use: {missing}"


def test_the_checker_rejects_a_wrong_table():
    """The notebook check can fail: an unreserved symbol, a second meaning, a malformed cell."""
    good = tables("| paper symbol | course symbol | meaning |\n|---|---|---|\n"
                  "| $\\beta$ (eq. 3) | $w_{\\mathrm{IB}}$ | IB trade-off; the Lagrange multiplier |\n"
                  "| $\\alpha$ | $\\beta$ | Commitment weight (thesis) |", PAPER_HEADER)
    assert good and not paper_table_errors(good[0])
    for row in (["$\\beta$", "$\\beta$", "IB trade-off"], ["$\\gamma(x)$", "$\\gamma(x)$", "nearest code"],
                ["$w$", "w_IB", "IB trade-off"], ["", "$\\beta$", "commitment weight"]):
        assert paper_table_errors([row]), row


@pytest.mark.parametrize("notebook", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_maps_paper_symbols_to_course_symbols(notebook):
    found = tables(markdown_of(notebook), PAPER_HEADER)
    assert found, (f"{notebook.name} has no '| paper symbol | course symbol | meaning |' table "
                   "(format: book/notation.md, 'Notation tables in the notebooks')")
    errors = [e for table in found for e in paper_table_errors(table)]
    assert not errors, f"{notebook.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("notebook", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_links_the_notation_page_from_its_opening(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    opening = []
    for cell in cells:
        if cell["cell_type"] == "code":
            break
        opening.append("".join(cell["source"]))
    assert "../book/notation.md" in "\n".join(opening), \
        f"{notebook.name}: link the notation page (../book/notation.md) before the first code cell"
