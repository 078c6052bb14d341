"""Notebook 06 widgets: a live HC-VQ run against its dry run.

Sliders for the targets T_n1, T_mu, the weight w and the period P drive a *live* short training run of the digits
VQ-VAE with the HC-VQ term (a subset of the digits, a few epochs: seconds), compared with the dry run of
the same seed (cached, it does not depend on the sliders).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from vqlab._checks import check_choice, check_float, check_int
from vqlab.data import load_digits
from vqlab.experiments import hcvq_comparison
from vqlab.hcvq import MODES
from vqlab.plotting import plot_diagram
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["HCVQState", "hcvq_state", "draw_hcvq", "hcvq_widget"]


@dataclass
class HCVQState:
    """One HC-VQ run vs its dry run (same seed, data and steps).

    Attributes:
        steps: ``[T]`` training step. usage_hcvq, usage_dry: ``[T]`` per-batch code-usage entropy
            (nats, ``log`` of the batch perplexity). mu0_hcvq, mu0_dry: ``[T]`` mu^0 of the codebook
            (NaN where not computed). gate: ``[T]`` the entropy factor g of the HC-VQ run.
        diagram, diagram_dry: final codebook diagrams ``[H0 [m, 2], H1 [m, 2]]`` (finite bars).
        test, test_dry: test metrics (``recon``, ``usage_entropy``, ``perplexity``, ``codes_used``, ``mu0``, ...).
        params: the slider values.
    """

    steps: np.ndarray
    usage_hcvq: np.ndarray
    usage_dry: np.ndarray
    mu0_hcvq: np.ndarray
    mu0_dry: np.ndarray
    gate: np.ndarray
    diagram: list
    diagram_dry: list
    test: dict
    test_dry: dict
    params: dict = field(default_factory=dict)


def _hcvq_widget_data(n_train: int):
    data = load_digits()
    return data.images(data.x_train[:n_train]), data.images(data.x_test)


@functools.lru_cache(maxsize=16)  # the builder redraws the default state; a slider move reuses the dry run
def _hcvq_widget_run(active: bool, n_train: int, epochs: int, seed: int, mode: str, target_n1: float = 100.0,
                     target_mu: float = 0.5, weight: float = 1.0, period: int = 200):
    """One run of notebook 06's comparison (:func:`vqlab.experiments.hcvq_comparison`), its only trial."""
    x, x_test = _hcvq_widget_data(n_train)
    result = hcvq_comparison(x, x_test, arms={"run": active}, seeds=(seed,), epochs=epochs, mode=mode,
                             target_n1=target_n1, target_mu=target_mu, weight=weight, period=period)
    return result.trials["run"][0]


def hcvq_state(target_n1: float = 100.0, target_mu: float = 0.5, weight: float = 1.0, period: int = 10,
               *, mode: str = "paper", epochs: int = 4, n_train: int = 384, seed: int = 0) -> HCVQState:
    """Train the notebook's digits VQ-VAE (codebook 128 x 64) on the first ``n_train`` training digits for
    ``epochs`` epochs with HC-VQ (``T_n1``, ``T_mu``, ``weight`` w, ``period`` P, ``mode``) and without it (the
    dry run, cached), same seed; return the curves and final diagrams (:class:`HCVQState`)."""
    target_n1 = check_float("target_n1", target_n1, 0.0)
    target_mu = check_float("target_mu", target_mu, 0.0)
    weight = check_float("weight", weight, 0.0)
    period = check_int("period", period)
    mode = check_choice("mode", mode, MODES)
    epochs, n_train = check_int("epochs", epochs), check_int("n_train", n_train, 2)
    seed = check_int("seed", seed, 0)
    dry = _hcvq_widget_run(False, n_train, epochs, seed, "paper")  # the dry run ignores the HC-VQ settings
    run = _hcvq_widget_run(True, n_train, epochs, seed, mode, target_n1=target_n1, target_mu=target_mu,
                           weight=weight, period=period)

    def usage(r):
        return np.log(np.asarray(r.history.steps["perplexity"]))

    return HCVQState(
        steps=np.arange(len(run.history.steps["loss"])), usage_hcvq=usage(run), usage_dry=usage(dry),
        mu0_hcvq=np.asarray(run.extra_losses[0].history["mu0"]),
        mu0_dry=np.asarray(dry.extra_losses[0].history["mu0"]),
        gate=np.asarray(run.extra_losses[0].history["gate"]), diagram=run.artifacts["diagrams"],
        diagram_dry=dry.artifacts["diagrams"], test=run.metrics, test_dry=dry.metrics,
        params=dict(target_n1=target_n1, target_mu=target_mu, weight=weight, period=period, mode=mode))


def draw_hcvq(state: HCVQState, fig: Figure | None = None) -> Figure:
    """Three panels: per-batch code-usage entropy (dry vs HC-VQ, with the factor g), mu^0 of the codebook
    over training, and the final HC-VQ codebook diagram (persim). ``fig``: a figure drawn by this function
    before, to draw ``state`` into (the widget's redraw)."""
    fig, axes, new = subplots(fig, 1, 3, figsize=(11, 3.2))
    ax = axes[0]
    ax.plot(state.steps, state.usage_dry, color="0.5",
            label=f"dry run (test usage entropy {state.test_dry['usage_entropy']:.2f})")
    ax.plot(state.steps, state.usage_hcvq, color="C3", label=f"HC-VQ (test usage entropy {state.test['usage_entropy']:.2f})")
    ax.plot(state.steps, state.gate, color="C0", ls=":", label="factor g")
    ax.set_xlabel("step")
    ax.set_ylabel("usage entropy per batch [nats]")
    ax.legend(fontsize=7)
    ax = axes[1]
    for y, c, lab in ((state.mu0_dry, "0.5", "dry run"), (state.mu0_hcvq, "C3", "HC-VQ")):
        ok = np.isfinite(y)
        ax.plot(state.steps[ok], y[ok], color=c, label=lab)
    target = state.params["target_mu"]
    top = np.nanmax(np.concatenate([state.mu0_hcvq, state.mu0_dry]))
    if target <= 1.5 * top:
        ax.axhline(target, color="C3", ls="--", lw=0.8, label="T_mu")
    else:  # a far-away target would flatten the curves
        ax.plot([], [], color="C3", ls="--", lw=0.8, label=f"T_mu = {target:g} (above)")
    ax.set_xlabel("step")
    ax.set_ylabel("mu0 of the codebook")
    ax.legend(fontsize=7)
    p = state.params
    plot_diagram(state.diagram, ax=axes[2], size=8,
                 title=f"HC-VQ codebook: T_n1={p['target_n1']:g}, T_mu={p['target_mu']:g}, w={p['weight']:g}, "
                       f"P={p['period']}, {p['mode']} mode")
    axes[2].title.set_fontsize(8)
    if new:
        fig.tight_layout()
    return fig


def hcvq_widget(target_n1: float = 100.0, target_mu: float = 0.5, weight: float = 1.0, period: int = 10,
                *, mode: str = "paper", epochs: int = 4, n_train: int = 384, seed: int = 0):
    """Sliders for T_n1, T_mu, the weight w (log scale), the period P and the mode -> a live short run,
    :func:`draw_hcvq`; ``epochs``, ``n_train``, ``seed`` go to :func:`hcvq_state`."""
    def state(target_n1, target_mu, weight, period, mode):
        return hcvq_state(target_n1, target_mu, weight, period, mode=mode, epochs=epochs, n_train=n_train, seed=seed)

    slider = dict(continuous_update=False)
    return slider_figure(
        state, draw_hcvq, trains=True,
        target_n1=widgets.FloatSlider(value=target_n1, min=0.0, max=200.0, step=10.0, description="T_n1", **slider),
        target_mu=widgets.FloatSlider(value=target_mu, min=0.0, max=4.0, step=0.1, description="T_mu", **slider),
        weight=widgets.FloatLogSlider(value=weight, base=10, min=-6, max=1, step=0.5, description="w", **slider),
        period=widgets.IntSlider(value=period, min=1, max=50, description="P", **slider),
        mode=widgets.Dropdown(options=list(MODES), value=check_choice("mode", mode, MODES), description="mode"))
