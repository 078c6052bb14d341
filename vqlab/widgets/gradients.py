"""Notebook 09 widget: what each gradient estimator passes to the encoder outputs, against the gradient of the
smoothed loss, as the temperature of the stochastic quantization varies.

The small problem of :func:`vqlab.experiments.gradients.gradient_problem` (2-D encoder outputs, K codewords,
targets ``shift`` to the right): the left panel draws the Voronoi cells, each encoder output's reference
descent direction ``-g*`` (black) and the chosen estimator's ``-g_hat`` (colour); the right panel the cosine
similarity of every estimator to the reference over a grid of temperatures (computed once per problem), with
the current temperature marked.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from vqlab._checks import check_choice, check_float, check_int
from vqlab.experiments.gradients import (ESTIMATOR_LABELS, estimator_gradients, gradient_problem, reference_gradient,
                                         score_estimators)
from vqlab.plotting import plot_voronoi
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["TEMPERATURES", "GradientState", "gradient_state", "draw_gradients", "gradients_widget"]

#: The temperatures of the sweep (and of the widget's slider): 10^-2 .. 10^1 in steps of 10^0.25.
TEMPERATURES = tuple(float(t) for t in np.logspace(-2.0, 1.0, 13))
#: The estimators' colours, in the order of :data:`vqlab.experiments.gradients.ESTIMATOR_LABELS`.
COLOURS = dict(zip(ESTIMATOR_LABELS.values(), ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                                                "tab:brown")))
#: The view of the left panel: wide enough for the codewords and encoder outputs of every seed.
EXTENT = (-3.2, 3.2, -3.2, 3.2)


@dataclass
class GradientState:
    """What the widget shows for one setting (N encoder outputs, K codes, T temperatures of the sweep).

    Attributes:
        z_e, target: ``[N, 2]``. codebook: ``[K, 2]``. temperature: tau. estimator: its label.
        estimate: ``[N, 2]`` the estimator's gradient ``g_hat``. reference: ``[N, 2]`` ``g*`` (Monte Carlo).
        cosine, magnitude: the estimator's cosine to ``g*`` and ``||g_hat|| / ||g*||`` at ``temperature``.
        temperatures: ``[T]`` the sweep. sweep: ``{label: [T] cosine}`` for every estimator.
    """

    z_e: np.ndarray
    target: np.ndarray
    codebook: np.ndarray
    temperature: float
    estimator: str
    estimate: np.ndarray
    reference: np.ndarray
    cosine: float
    magnitude: float
    temperatures: np.ndarray
    sweep: dict[str, np.ndarray]


@functools.lru_cache(maxsize=8)
def _sweep(num_codes: int, shift: float, seed: int) -> dict[str, tuple[float, ...]]:
    """Cosine per estimator over :data:`TEMPERATURES` for one problem (cached: it takes a second)."""
    scores = score_estimators(gradient_problem(num_codes=num_codes, shift=shift, seed=seed), TEMPERATURES,
                              num_draws=100, seed=seed)
    return {label: tuple(s.cosine for s in scores if s.estimator == label) for label in ESTIMATOR_LABELS.values()}


def gradient_state(temperature: float = 0.3, estimator: str = "straight-through", *, num_codes: int = 8,
                   shift: float = 0.5, seed: int = 0) -> GradientState:
    """The problem of :func:`~vqlab.experiments.gradients.gradient_problem` (``num_codes``, ``shift``, ``seed``),
    the reference gradient and the estimator's (one of the labels of
    :data:`~vqlab.experiments.gradients.ESTIMATOR_LABELS`) at ``temperature``, and the cosine sweep over
    :data:`TEMPERATURES` (no plotting)."""
    tau = check_float("temperature", temperature, 0.0, strict=True)
    check_choice("estimator", estimator, tuple(ESTIMATOR_LABELS.values()))
    num_codes, seed = check_int("num_codes", num_codes), check_int("seed", seed, 0)
    shift = check_float("shift", shift)
    problem = gradient_problem(num_codes=num_codes, shift=shift, seed=seed)
    reference = reference_gradient(problem, tau, seed=seed).mean
    estimate = estimator_gradients(problem, tau, num_draws=100, seed=seed)[estimator]
    norm = float(reference.norm())
    cosine = float((estimate * reference).sum()) / max(float(estimate.norm()) * norm, 1e-300)
    return GradientState(z_e=problem.z_e.numpy(), target=problem.target.numpy(), codebook=problem.codebook.numpy(),
                         temperature=tau, estimator=estimator, estimate=estimate.numpy(), reference=reference.numpy(),
                         cosine=cosine, magnitude=float(estimate.norm()) / max(norm, 1e-300),
                         temperatures=np.array(TEMPERATURES),
                         sweep={k: np.array(v) for k, v in _sweep(num_codes, shift, seed).items()})


def draw_gradients(state: GradientState, fig: Figure | None = None) -> Figure:
    """Left: Voronoi cells, encoder outputs, ``-g*`` (black) and ``-g_hat`` (the estimator's colour), each
    scaled by the largest of the two fields (so their lengths compare). Right: the cosine of every estimator
    to ``g*`` over the temperatures (the chosen one thick), the current temperature dashed. ``fig``: a figure
    drawn by this function before (the widget's redraw)."""
    fig, (left, right), new = subplots(fig, 1, 2, figsize=(10, 4.2))
    plot_voronoi(state.codebook, ax=left, resolution=160, extent=EXTENT, highlight_unused=False)
    left.scatter(*state.z_e.T, s=8, c="0.25", zorder=3)
    scale = 0.6 / max(np.abs(state.reference).max(), np.abs(state.estimate).max(), 1e-12)
    for field, colour, label in ((state.reference, "k", "reference $-g^\\star$"),
                                 (state.estimate, COLOURS[state.estimator], f"{state.estimator} $-\\hat g$")):
        left.quiver(*state.z_e.T, *(-scale * field).T, color=colour, angles="xy", scale_units="xy", scale=1,
                    width=0.006, label=label, zorder=4)
    left.set_xlim(EXTENT[0], EXTENT[1])
    left.set_ylim(EXTENT[2], EXTENT[3])
    left.set_title(f"τ = {state.temperature:.3g}: cos = {state.cosine:+.2f}, "
                   f"|ĝ|/|g*| = {state.magnitude:.2f}", fontsize=9)
    left.legend(fontsize=7, loc="lower left")
    for label, cosines in state.sweep.items():
        right.plot(state.temperatures, cosines, marker=".", color=COLOURS[label], label=label,
                   lw=2.5 if label == state.estimator else 1.0)
    right.axvline(state.temperature, c="k", ls="--", lw=0.8)
    right.axhline(0.0, c="0.6", lw=0.6)
    right.set_xscale("log")
    right.set_xlim(TEMPERATURES[0] / 1.2, TEMPERATURES[-1] * 1.2)
    right.set_ylim(-1.05, 1.05)
    right.set_xlabel("temperature τ")
    right.set_ylabel("cos(ĝ, g*)")
    right.set_title("cosine to the reference gradient", fontsize=9)
    right.legend(fontsize=7, loc="lower right")
    if new:
        fig.tight_layout()
    return fig


def gradients_widget(*, num_codes: int = 8, shift: float = 0.5, seed: int = 0):
    """A slider for the temperature (on the sweep's grid) and a menu of estimators, redrawing
    :func:`draw_gradients` for the problem ``num_codes``, ``shift``, ``seed``."""

    def state(temperature, estimator):
        return gradient_state(temperature, estimator, num_codes=num_codes, shift=shift, seed=seed)

    return slider_figure(
        state, draw_gradients,
        temperature=widgets.FloatLogSlider(value=TEMPERATURES[6], base=10, min=-2.0, max=1.0, step=0.25,
                                           description="τ"),
        estimator=widgets.Dropdown(options=list(ESTIMATOR_LABELS.values()), value="straight-through",
                                   description="estimator"),
    )
