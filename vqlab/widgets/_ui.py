"""The slider boilerplate every widget builder shares: controls above a figure that is redrawn in place.

A widget is ``slider_figure(state, draw, **controls)``: ``state(**values)`` computes what to show from the
control values (a dataclass, unit-tested), and ``draw(state, fig=None)`` draws it, into a new figure or,
for a slider move, into the axes of ``fig``, a figure it drew before (:func:`subplots` hands those back
emptied of their data). Three things keep a move fast (tests/test_widgets_ui.py, the browser test times it):

* **Only what changes is redrawn** (blitting, the technique behind matplotlib's animations,
  https://matplotlib.org/stable/users/explain/animations/blitting.html). Frames, ticks and axis labels are
  drawn once and kept as a picture; a move redraws the data, titles and legends over it. When the frame
  itself changes (new limits or scales, other axes) the whole figure is redrawn. :class:`LiveFigure`.
* **The picture is a PNG in an** ``ipywidgets.Image``: one message per move, no output area to clear.
* **The latest value wins.** The browser sends a control's next value only once the kernel has finished
  with the previous one and merges the moves made meanwhile into one message (ipywidgets' message
  throttling), so a burst of moves costs at most one redraw of a value already passed, never one redraw
  per move; redrawing inside the message handler, as here, is what keeps that throttling effective.
"""
from __future__ import annotations

import functools
import io
import traceback
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.spines import Spine
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

__all__ = ["subplots", "clear_data", "LiveFigure", "SliderFigure", "slider_figure", "axes_figure"]

#: Label matplotlib gives a colorbar's axes: drawn once with the frame, never cleared.
COLORBAR = "<colorbar>"


def clear_data(ax: Axes) -> None:
    """Remove what was drawn into ``ax`` (lines, collections, patches, images, texts, legend), forget its
    data limits and colour cycle and autoscale again, so a new state drawn into it looks as in a new axes
    (limits a drawing sets must be set by every drawing). Spines, axis labels and scales stay; titles
    are overwritten by the next drawing."""
    for container in list(ax.containers):
        container.remove()
    for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.images, *ax.texts, *ax.artists]:
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    ax.set_prop_cycle(None)
    ax.dataLim.set_points(Bbox.null().get_points())
    ax.ignore_existing_data_limits = True
    ax.set_autoscale_on(True)


def subplots(fig: Figure | None, nrows: int = 1, ncols: int = 1, **kwargs) -> tuple[Figure, list[Axes], bool]:
    """``plt.subplots(nrows, ncols, **kwargs)`` (a new figure: ``new`` is True), or the first
    ``nrows * ncols`` axes of ``fig`` emptied by :func:`clear_data` (``new`` is False: lay the figure out
    and add colorbars only when it is new).

    Returns:
        ``(fig, axes, new)`` with ``axes`` a flat list in row-major order.
    """
    if fig is None:
        fig, axes = plt.subplots(nrows, ncols, squeeze=False, **kwargs)
        return fig, list(axes.ravel()), True
    for ax in fig.axes:
        if ax.get_label() != COLORBAR:
            clear_data(ax)
    return fig, fig.axes[: nrows * ncols], False


def axes_figure(draw_on_axes: Callable[..., object], figsize: tuple[float, float]) -> Callable[..., Figure]:
    """Adapt ``draw_on_axes(state, ax=ax)`` (a drawing of one axes) to the ``draw(state, fig=None)`` of
    :func:`slider_figure`: a one-axes figure of ``figsize``."""
    def draw(state, fig: Figure | None = None) -> Figure:
        fig, (ax,), _ = subplots(fig, figsize=figsize)
        draw_on_axes(state, ax=ax)
        return fig

    return draw


def _titles(ax: Axes) -> list[Text]:
    """The axes' three titles (centre, left, right): the texts among its children that are not ``ax.texts``."""
    return [a for a in ax.get_children() if isinstance(a, Text) and a not in ax.texts]


def _live_artists(ax: Axes) -> list[Artist]:
    """What a redraw of ``ax`` paints: every child but its background patch and its x/y axis (the data,
    texts, titles, legend, and the spines of a framed axes, which sit on top of the data), in the order
    :meth:`Axes.draw` draws them (by zorder, ties in the order they were added)."""
    framed = ax.axison and ax.get_frame_on()
    live = [a for a in ax.get_children()
            if a is not ax.patch and not isinstance(a, Axis) and (framed or not isinstance(a, Spine))]
    return sorted(live, key=lambda a: a.get_zorder())


class LiveFigure:
    """A figure drawn by ``draw(state, fig=None)`` once and then redrawn in place for every new state.

    ``update(state)`` calls ``draw(state, self.figure)``; :meth:`png` then redraws only the artists of the
    non-colorbar axes over a cached picture of the frame, drawing the frame first when it changed (a
    figure with a 3-D axes is always drawn whole). The figure is not managed by pyplot (no inline display).
    """

    def __init__(self, draw: Callable[..., Figure], state) -> None:
        self.draw = draw
        self.figure = draw(state)
        plt.close(self.figure)
        FigureCanvasAgg(self.figure)
        self._frame_key: tuple | None = None
        self._background = None  # the frame's pixels, for self._frame_key

    def update(self, state) -> None:
        """Draw ``state`` into the same figure (``draw(state, fig=self.figure)``)."""
        self.draw(state, fig=self.figure)

    def _key(self) -> tuple | None:
        """What the cached frame depends on: figure size, and per axes its place, limits and scales
        (``None`` when a 3-D axes makes the frame depend on everything)."""
        key = [tuple(self.figure.bbox.bounds)]
        for ax in self.figure.axes:
            if ax.name == "3d":
                return None
            ax.apply_aspect()
            key.append((id(ax), tuple(ax.get_position().bounds), tuple(ax.viewLim.bounds), ax.get_xscale(),
                        ax.get_yscale(), ax.axison))
        return tuple(key)

    def render(self) -> np.ndarray:
        """The current picture as ``[H, W, 4]`` RGBA bytes (a view of the canvas)."""
        canvas = self.figure.canvas
        key = self._key()
        if key is None:
            canvas.draw()
            self._frame_key = None
            return np.asarray(canvas.buffer_rgba())
        axes = [ax for ax in self.figure.axes if ax.get_label() != COLORBAR]
        live = [artist for ax in axes for artist in _live_artists(ax) if artist.get_visible()]
        if key != self._frame_key:
            # the frame alone: titles emptied (an invisible title would be misplaced by Axes.draw),
            # the other live artists hidden
            titles = {title: title.get_text() for ax in axes for title in _titles(ax)}
            hidden = [a for a in live if a not in titles]
            for artist in hidden:
                artist.set_visible(False)
            for title in titles:
                title.set_text("")
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._frame_key = key
            for artist in hidden:
                artist.set_visible(True)
            for title, text in titles.items():
                title.set_text(text)
        else:
            canvas.restore_region(self._background)
        for artist in live:
            self.figure.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())

    def png(self) -> bytes:
        """The current picture as PNG bytes."""
        out = io.BytesIO()
        Image.fromarray(self.render()[..., :3]).save(out, format="png", compress_level=1)
        return out.getvalue()


class SliderFigure(widgets.VBox):
    """Controls above the picture of ``draw(state(**values))``, redrawn in place after every change.

    Args:
        state: ``state(**values) -> state`` for the controls' current values (keyword = control name).
        draw: ``draw(state, fig=None) -> Figure`` (see :func:`subplots`).
        controls: the controls by name.
        rebuild_on: names of controls whose change needs a new figure (other axes, a colorbar, 2-D vs 3-D).
        trains: the redraw trains a model (a second or so, not a tenth): its sliders should update on
            release (``continuous_update=False``); the browser test holds it to the longer time budget
            (CSS class ``vqlab-trains``).

    A redraw that raises shows its traceback under the figure (the figure keeps the last good state);
    the first drawing raises as usual.
    """

    def __init__(self, state: Callable[..., object], draw: Callable[..., Figure],
                 controls: dict[str, widgets.Widget], rebuild_on: tuple[str, ...] = (), trains: bool = False) -> None:
        unknown = set(rebuild_on) - set(controls)
        if unknown:
            raise ValueError(f"rebuild_on names no control: {sorted(unknown)} (controls: {sorted(controls)})")
        live = LiveFigure(draw, state(**{name: control.value for name, control in controls.items()}))
        self.image = widgets.Image(value=live.png(), format="png")
        self.errors = widgets.Output()
        super().__init__([*controls.values(), self.image, self.errors])
        self.add_class("vqlab-slider-figure")
        if trains:
            self.add_class("vqlab-trains")
        self.live, self.controls, self.rebuild_on = live, controls, rebuild_on
        self.state_fn, self.draw_fn = state, draw
        for name, control in controls.items():
            control.observe(functools.partial(self._changed, rebuild=name in rebuild_on), names="value")

    def values(self) -> dict[str, object]:
        """The controls' current values by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _changed(self, change: dict, rebuild: bool) -> None:
        self.redraw(rebuild=rebuild)

    def redraw(self, rebuild: bool = False) -> None:
        """Draw the state of the controls' current values (into a new figure if ``rebuild``) and show it."""
        try:
            state = self.state_fn(**self.values())
            if rebuild:
                self.live = LiveFigure(self.draw_fn, state)
            else:
                self.live.update(state)
            self.image.value = self.live.png()
            self.errors.outputs = ()
        except Exception:  # shown to the student under the figure; the kernel must not lose the widget
            self.errors.outputs = ()
            self.errors.append_stderr(traceback.format_exc())


def slider_figure(state: Callable[..., object], draw: Callable[..., Figure], *, rebuild_on: tuple[str, ...] = (),
                  trains: bool = False, **controls: widgets.Widget) -> SliderFigure:
    """``SliderFigure(state, draw, controls, rebuild_on, trains)``: the widget of one notebook picture."""
    return SliderFigure(state, draw, controls, rebuild_on, trains)
