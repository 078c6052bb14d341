"""The widget engine (vqlab.widgets._ui) and every notebook widget on it.

For each widget of notebooks 00-08, moving its first control (as the browser test does) must show the
same picture as drawing the whole figure again, and the same as a new figure of the new state (laid out
alike): blitting only redraws what changed, so these two checks catch an artist the redraw forgets, a
stale frame, or state leaking from the previous drawing (a colour cycle, autoscaled limits).
"""
import io
import math

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from PIL import Image  # noqa: E402

from vqlab.priors import GatedPixelCNN  # noqa: E402
from vqlab.widgets import fsq, hcvq, homology, ib, ng_fcm, prereq, priors, soft_vq, vq  # noqa: E402
from vqlab.widgets._ui import LiveFigure, SliderFigure, clear_data, slider_figure, subplots  # noqa: E402


def _decode(codes):
    return codes.float().unsqueeze(1) / 4.0


BUILDERS = {
    "00 divergence": lambda dm: prereq.divergence_widget(),
    "00 information": lambda dm: prereq.information_widget(),
    "00 elbo": lambda dm: prereq.elbo_widget(),
    "00 straight_through": lambda dm: prereq.straight_through_widget(),
    "01 toy_vq": lambda dm: vq.toy_vq_widget(steps=20),
    "01 code_browser": lambda dm: vq.code_browser_widget(*dm, (8, 8)),
    "02 ib_toy": lambda dm: ib.ib_toy_widget(),
    "03 soft_vq": lambda dm: soft_vq.soft_vq_widget(),
    "04 ng_fcm": lambda dm: ng_fcm.ng_fcm_widget(),
    "04 ng_annealing": lambda dm: ng_fcm.ng_annealing_widget(),
    "04 codebook_pull": lambda dm: ng_fcm.codebook_pull_widget(),
    "05 rips": lambda dm: homology.rips_widget(),
    "05 death_ascent": lambda dm: homology.death_ascent_widget(homology.death_ascent_state(n=20, steps=(0, 3, 6))),
    "06 hcvq": lambda dm: hcvq.hcvq_widget(epochs=1, n_train=96),
    "07 receptive_field": lambda dm: priors.receptive_field_widget(),
    "07 prior_samples": lambda dm: priors.prior_samples_widget(GatedPixelCNN(5, (3, 3), channels=8, n_layers=2),
                                                               _decode, 6),
    "07 completion": lambda dm: priors.completion_widget(GatedPixelCNN(5, (3, 3), channels=8, n_layers=2),
                                                         _decode, torch.randint(0, 5, (4, 3, 3)), 3),
    "08 fsq": lambda dm: fsq.fsq_widget(),
}


def first_control(w: SliderFigure) -> widgets.Widget:
    """The control the browser test moves: the first slider, else the first menu."""
    controls = list(w.controls.values())
    sliders = [c for c in controls if isinstance(c, (widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider))]
    return (sliders or controls)[0]


def step(control: widgets.Widget, times: int = 1) -> None:
    """Move ``control`` ``times`` steps right (a slider, as the arrow key does) or to a later option."""
    if isinstance(control, widgets.FloatLogSlider):
        exponent = math.log(control.value, control.base) + times * control.step
        control.value = control.base ** min(exponent, control.max)
    elif isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
        control.value = min(control.max, control.value + times * control.step)
    else:
        control.index = (control.index + times) % len(control.options)


def picture(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def full_draw(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def assert_same_picture(a: np.ndarray, b: np.ndarray, label: str) -> None:
    assert a.shape == b.shape, (label, a.shape, b.shape)
    differ = (np.abs(a - b).max(-1) > 8).mean()
    assert differ < 1e-4, f"{label}: {differ:.2%} of the pixels differ"


@pytest.mark.parametrize("name", BUILDERS)
def test_moving_the_first_control_redraws_what_a_new_drawing_shows(name, digits_model):
    w = BUILDERS[name](digits_model)
    assert isinstance(w, SliderFigure)
    before = w.image.value
    step(first_control(w))
    assert not w.errors.outputs, w.errors.outputs
    assert w.image.value != before, f"{name}: the picture did not change"
    shown = picture(w.image.value)
    assert_same_picture(shown, full_draw(w.live.figure), f"{name}: blitted vs full redraw")
    fresh = w.draw_fn(w.state_fn(**w.values()))
    plt.close(fresh)
    FigureCanvasAgg(fresh)
    assert len(fresh.axes) == len(w.live.figure.axes)
    for new, old in zip(fresh.axes, w.live.figure.axes):
        new.set_position(old.get_position(original=True))
    assert_same_picture(shown, full_draw(fresh), f"{name}: redrawn vs new figure")


def _counting_widget(calls: list):
    def state(a, b):
        calls.append((a, b))
        if a < 0:
            raise ValueError("a must be >= 0")
        return a, b

    def draw(s, fig=None):
        fig, (ax,), new = subplots(fig, figsize=(2, 2))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.plot([0, s[0]], [0, s[1]])
        ax.set_title(f"a = {s[0]}")
        return fig

    return slider_figure(state, draw, a=widgets.IntSlider(value=1, min=-1, max=10),
                         b=widgets.IntSlider(value=1, max=10))


def test_a_move_that_keeps_the_frame_redraws_only_the_data(monkeypatch):
    calls = []
    w = _counting_widget(calls)
    full_draws = []
    canvas = w.live.figure.canvas
    monkeypatch.setattr(canvas, "draw", lambda: (full_draws.append(1), type(canvas).draw(canvas)))
    w.controls["a"].value = 5
    assert full_draws == [] and calls[-1] == (5, 1)
    assert_same_picture(picture(w.image.value), full_draw(w.live.figure), "blit")


def test_a_failing_redraw_shows_its_traceback_and_keeps_the_last_picture():
    w = _counting_widget([])
    good = w.image.value
    w.controls["a"].value = -1
    assert w.image.value == good
    assert "a must be >= 0" in "".join(o["text"] for o in w.errors.outputs)
    w.controls["a"].value = 3
    assert not w.errors.outputs and w.image.value != good


def test_rebuild_on_draws_a_new_figure_and_names_are_checked():
    w = ib.ib_toy_widget()
    figure = w.live.figure
    w.controls["log10_tau"].value = 0.0
    assert w.live.figure is figure
    w.controls["num_codes"].value = 9
    assert w.live.figure is not figure
    with pytest.raises(ValueError, match="rebuild_on"):
        slider_figure(lambda a: a, lambda s, fig=None: plt.figure(), rebuild_on=("b",), a=widgets.IntSlider())


def test_clear_data_empties_the_axes_and_forgets_limits_and_colours():
    fig, (ax,), new = subplots(None)
    assert new
    ax.plot([0, 100], [0, 100])
    ax.bar([1, 2], [3, 4])
    ax.text(0, 0, "x")
    ax.legend(["line"])
    clear_data(ax)
    assert not (ax.lines or ax.patches or ax.texts or ax.containers) and ax.legend_ is None
    line, = ax.plot([0, 1], [0, 1])
    assert ax.get_xlim()[1] < 2 and line.get_color() == plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
    same, axes, again = subplots(fig)
    assert same is fig and axes == [ax] and not again and not ax.lines
    plt.close(fig)


def test_live_figure_is_not_shown_by_pyplot():
    live = LiveFigure(lambda s, fig=None: subplots(fig)[0], None)
    assert not plt.fignum_exists(live.figure.number)
    assert picture(live.png()).shape[2] == 3
    plt.close("all")
