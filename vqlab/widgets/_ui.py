"""The slider boilerplate every widget builder shares."""
from __future__ import annotations

import functools
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt

__all__ = ["interactive"]


def interactive(draw: Callable[..., object], **controls: widgets.Widget) -> widgets.interactive:
    """``ipywidgets.interactive(draw, **controls)`` that shows the figure ``draw`` makes after every change.

    ``draw(**slider values)`` computes a state and draws it (e.g. ``draw_rips(rips_state(eps, cloud))``);
    the controls are matched to its parameters by name. The figure is shown with ``plt.show()`` inside the
    widget's output area, so it replaces the previous one instead of piling up below it.
    """
    @functools.wraps(draw)
    def update(*args, **kwargs) -> None:
        draw(*args, **kwargs)
        plt.show()

    return widgets.interactive(update, **controls)
