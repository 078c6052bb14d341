"""`make book`: the HTML book builds from the notebooks' stored outputs and fails on a broken internal link.

Skipped unless the book extra (pyproject.toml) is installed. The builds run book/conf.py as `make book` does;
`make test-book` checks the book `make book` built.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/[0-9]*.ipynb"))


def sphinx_build(source: Path, out: Path) -> subprocess.CompletedProcess:
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")]  # autodoc imports this checkout's vqlab
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                           "-c", str(ROOT / "book"), str(source), str(out)],
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """The built book: ``VQLAB_BOOK_HTML`` (``make test-book`` checks what ``make book`` built), else a
    fresh build of this checkout."""
    if os.environ.get("VQLAB_BOOK_HTML"):
        return Path(os.environ["VQLAB_BOOK_HTML"])
    out = tmp_path_factory.mktemp("book") / "html"
    done = sphinx_build(ROOT, out)
    assert done.returncode == 0, done.stderr
    return out


def test_one_page_per_notebook_with_its_stored_figures(book):
    """Every stored figure is on the page, and every widget is shown as the picture it saved."""
    import nbformat

    assert NOTEBOOKS, "no notebooks found"
    for notebook in NOTEBOOKS:
        page = (book / "notebooks" / f"{notebook.stem}.html").read_text()
        outputs = [o for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
        figures = sum("image/png" in o.get("data", {}) for o in outputs)
        widgets = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
        assert widgets and page.count("<img") >= figures + widgets, (notebook.name, figures, widgets)
        assert "widget-view+json" not in page, notebook.name  # no widget JavaScript needed


def test_every_notebook_page_links_to_the_notebook_on_colab_and_binder(book):
    import tomllib

    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]
    repo = repo.removeprefix("https://github.com/")
    for notebook in NOTEBOOKS:
        page = (book / "notebooks" / f"{notebook.stem}.html").read_text()
        path = f"notebooks/{notebook.name}"
        assert f'href="https://colab.research.google.com/github/{repo}/blob/main/{path}"' in page, notebook.name
        assert f'href="https://mybinder.org/v2/gh/{repo}/HEAD?labpath={path}"' in page, notebook.name


def test_landing_page_is_the_readme_and_every_module_has_a_reference_page(book):
    landing = (book / "book" / "index.html").read_text()
    assert "The notebooks" in landing and "https://arxiv.org/abs/1711.00937" in landing
    assert "book/index.html" in (book / "index.html").read_text()
    modules = sorted(p.stem for p in (ROOT / "vqlab").glob("[a-z]*.py"))
    packages = sorted(p.parent.name for p in (ROOT / "vqlab").glob("[a-z]*/__init__.py"))
    pages = sorted(p.stem for p in (ROOT / "book" / "reference").glob("*.md"))
    assert pages == sorted(modules + packages + ["index", "vqlab"])  # a new module needs its page in book/reference/
    for module in modules + packages:
        assert f'id="module-vqlab.{module}"' in (book / "book" / "reference" / f"{module}.html").read_text()
    for package in packages:  # one page per package, which documents each of its public modules
        page = (book / "book" / "reference" / f"{package}.html").read_text()
        for sub in sorted((ROOT / "vqlab" / package).glob("[a-z]*.py")):
            assert f'id="module-vqlab.{package}.{sub.stem}"' in page, (package, sub.stem)


def test_a_broken_internal_link_fails_the_build(tmp_path):
    (tmp_path / "src" / "book").mkdir(parents=True)
    (tmp_path / "src" / "book" / "index.md").write_text(
        "# A book\n\nSee {doc}`no-such-page` and [notebook 99](../notebooks/99_no_such_notebook.ipynb).\n")
    done = sphinx_build(tmp_path / "src", tmp_path / "html")
    assert done.returncode != 0
    assert "no-such-page" in done.stderr and "99_no_such_notebook" in done.stderr
