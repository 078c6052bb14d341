"""Sphinx configuration of the vqlab book: `make book` runs `sphinx-build -c book . _build/book/html`.

The source directory is the repository root, so the notebooks are read where they live (no copies, no
symlinks); `include_patterns` keeps every other file out. Notebooks are rendered from their stored
outputs and never executed, each widget shown as the figure it saved (static_widgets.py); nothing here
fetches anything, so the build runs without a network. Each notebook page links to the notebook on Colab
and Binder.
"""
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # for the notebook reader, static_widgets.py
# The repository on GitHub: pyproject.toml's [project.urls] Source, the one place it is written.
SOURCE = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["urls"]["Source"]

project = "vqlab"
author = "the vqlab authors"
copyright = "the vqlab authors, MIT licence"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]  # napoleon: Google-style docstrings
root_doc = "book/index"
include_patterns = ["book/**", "notebooks/[0-9]*.ipynb"]

nb_execution_mode = "off"
nb_custom_formats = {".ipynb": "static_widgets.read"}
myst_enable_extensions = ["dollarmath", "amsmath"]
# A notebook's "### Paper ↔ this notebook" box follows its title directly: a box, not a section of its own.
suppress_warnings = ["myst.header"]

autodoc_member_order = "bysource"  # the modules are written in teaching order
autodoc_default_options = {"members": True, "show-inheritance": True}

html_title = "vqlab"
html_theme = "alabaster"
templates_path = ["_templates"]
html_additional_pages = {"index": "redirect.html"}  # _build/book/html/index.html opens book/index.html
# Launch links on every notebook page (_templates/layout.html): the notebook on Colab, or on Binder, which
# builds its environment from environment.yml.
_REPO = SOURCE.removeprefix("https://github.com/")
html_context = {"colab_url": f"https://colab.research.google.com/github/{_REPO}/blob/main",
                "binder_url": f"https://mybinder.org/v2/gh/{_REPO}/HEAD"}
