"""Widget logic and builders for the notebooks.

Pattern: every widget has a plain, unit-tested *state* function that takes the slider values and
returns the numbers and arrays to show (no ipywidgets involved), a *draw* function that turns that
state into a matplotlib figure, and a small *builder* that wires sliders to the draw function with
``ipywidgets.interactive``. Notebooks call the builder (and the draw function once with default values,
so a static figure is stored in the notebook for readers on GitHub).

Sections below are grouped by notebook.
"""
from __future__ import annotations

__all__: list[str] = []
