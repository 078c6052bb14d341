"""Slider boilerplate shared by the notebook widgets (the only module here that imports ipywidgets).

A widget is three plain pieces: ``<thing>_state`` (slider values -> a frozen dataclass; unit-tested),
``draw_<thing>`` (state -> matplotlib figure) and the builder ``<thing>_widget``, which hands
:func:`interactive_figure` a function of the slider values that draws, and the controls made here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt


def slider(description: str, value: float, low: float, high: float, step: float, *, log: bool = False,
           continuous: bool = False) -> widgets.FloatSlider | widgets.FloatLogSlider:
    """A float slider from ``low`` to ``high``; ``log=True``: a base-10 log slider whose ``low``,
    ``high`` and ``step`` are exponents. ``continuous=False`` redraws only when the handle is released
    (for states that train or sort)."""
    if log:
        return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=step, description=description,
                                      continuous_update=continuous)
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               continuous_update=continuous)


def int_slider(description: str, value: int, low: int, high: int, step: int = 1, *,
               continuous: bool = False) -> widgets.IntSlider:
    """An integer slider from ``low`` to ``high``."""
    return widgets.IntSlider(value=value, min=low, max=high, step=step, description=description,
                             continuous_update=continuous)


def choice(description: str, options: Sequence, value) -> widgets.Dropdown:
    """A dropdown over ``options`` (values, or ``(label, value)`` pairs)."""
    return widgets.Dropdown(options=list(options), value=value, description=description)


def interactive_figure(update: Callable[..., object], controls: dict[str, widgets.ValueWidget]
                       ) -> widgets.interactive:
    """``ipywidgets.interactive`` over ``controls`` (parameter name of ``update`` -> control): on every
    change ``update`` is called with all control values by name, draws, and the figure is shown."""
    def show(**values):
        update(**values)
        plt.show()

    return widgets.interactive(show, **controls)


def with_play_button(ui: widgets.interactive, step: widgets.IntSlider, interval_ms: int = 400) -> widgets.VBox:
    """``ui`` below a play button that advances ``step`` (one of its controls) every ``interval_ms``."""
    play = widgets.Play(value=step.value, min=step.min, max=step.max, step=1, interval=interval_ms,
                        description="play")
    widgets.jslink((play, "value"), (step, "value"))
    return widgets.VBox([play, ui])
