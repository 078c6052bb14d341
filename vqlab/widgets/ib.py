"""Notebook 02 widget: the IB trade-off w_IB (= the temperature tau of the EM posterior) on a 2-D toy codebook:
the posterior's entropy on the plane, and the rate-distortion curve with the current w_IB marked.

Equations refer to arXiv:1808.01048 ("the VIB paper"); the symbols are the course's (book/notation.md):
J the data-point index, Z the code index, q(k|j) the posterior, r(k) the prior over codes.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from vqlab import losses
from vqlab._checks import check_choice, check_float, check_int
from vqlab.clustering import init_prototypes, kmeans
from vqlab.data import TOY_SETS, make_toy
from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.quantizers import EMQuantizer
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["IB_TOY_LOG10_TAUS", "IBToyState", "ib_toy_state", "draw_ib_toy", "ib_toy_widget",
           "EMStepsState", "em_steps_state", "draw_em_steps"]


#: The temperatures (tau = the IB trade-off w_IB, see :func:`vqlab.posteriors.gibbs_posterior`) of the toy curve.
IB_TOY_LOG10_TAUS = np.linspace(-3.0, 1.5, 46)


@functools.lru_cache(maxsize=32)
def _ib_toy_problem(dataset: str, n: int, num_codes: int, seed: int) -> tuple[Tensor, Tensor]:
    """Toy points ``[n, 2]`` and a k-means codebook ``[K, 2]`` (float64), cached so sliders are fast."""
    x, _ = make_toy(dataset, n=n, seed=seed)
    x = x.double()
    return x, kmeans(x, init_prototypes(x, num_codes, "kmeans++", seed=seed), 25).prototypes


def _ib_terms(d: Tensor, tau: float) -> dict[str, float]:
    """VIB terms of the Gibbs posterior ``q(k|j) ∝ exp(-d/tau)`` for squared distances ``d`` ``[N, K]``."""
    probs = gibbs_posterior(d, tau).exp()
    prior = torch.full((d.shape[1],), 1.0 / d.shape[1], dtype=d.dtype)
    return {"distortion": float((probs * d).sum(1).mean()),
            "conditional_entropy": float(losses.conditional_entropy(probs)),    # H(q(Z|J))
            "cross_entropy": float(losses.cross_entropy(probs)),                # eq. 25 = log K
            "rate_bound": float(losses.kl_to_prior(probs)),                     # eq. 15
            "mutual_information": float(losses.mutual_information_iz(probs)),   # eq. 13
            "gap": float(losses.kl_divergence(losses.marginal(probs), prior))}  # eq. 16


@dataclass
class IBToyState:
    """What the temperature explorer shows (float64 numbers, nats).

    Attributes:
        points: ``[N, 2]`` toy data (here the data *are* the latents z_e). codebook: ``[K, 2]`` (k-means).
        tau: the temperature (= the IB trade-off w_IB). grid_x, grid_y: ``[R]`` axes of the heat map.
        heat: ``[R, R]`` entropy ``H(q(Z | x))`` of the EM posterior (eq. 28 at temperature tau) on the grid.
        terms: at tau, on the points: ``distortion`` ``E_q ||x - e_k||^2``, ``conditional_entropy``
            ``H(q(Z|J))``, ``cross_entropy`` (eq. 25, ``log K``), ``rate_bound`` ``KL(q(Z|J) || uniform)``
            (eq. 15), ``mutual_information`` ``I(J; Z)`` (eq. 13), ``gap`` = rate_bound - I(J; Z) =
            ``KL(q̄ || uniform)`` (eq. 16, q̄ the code usage).
        curve: the same terms for every tau of :data:`IB_TOY_LOG10_TAUS` (lists), plus ``tau``.
        hard: the terms of hard VQ (tau -> 0, eq. 27).
    """

    points: Tensor
    codebook: Tensor
    tau: float
    grid_x: np.ndarray
    grid_y: np.ndarray
    heat: np.ndarray
    terms: dict[str, float]
    curve: dict[str, list[float]]
    hard: dict[str, float]


def ib_toy_state(log10_tau: float = -0.5, num_codes: int = 6, dataset: str = "blobs", n: int = 300,
                 resolution: int = 60, seed: int = 0) -> IBToyState:
    """State of the temperature explorer: a fixed k-means codebook on a 2-D toy set, the EM posterior
    ``q(k | j) ∝ exp(-||x_j - e_k||^2 / tau)`` (VIB paper eq. 28), its conditional entropy, the VIB rate
    bound (eq. 15), the true rate ``I(J; Z)`` (eq. 13) and the bound's gap (eq. 16). This posterior is the
    minimiser of ``E_q ||x - e_k||^2 + w_IB KL(q(Z|J) || uniform)`` at ``w_IB = tau`` (notebook 02 §4).

    Args:
        log10_tau: ``log10`` of the temperature (finite).
        num_codes: K in [1, n].
        dataset: a :data:`vqlab.data.TOY_SETS` name.
        n: points >= 2.
        resolution: heat-map grid size >= 2.
    """
    log10_tau = check_float("log10_tau", log10_tau, -300.0, maximum=300.0)
    check_choice("dataset", dataset, TOY_SETS)
    n = check_int("n", n, 2)
    k = check_int("num_codes", num_codes)
    if k > n:
        raise ValueError(f"num_codes must be <= n ({n}), got {num_codes}")
    resolution = check_int("resolution", resolution, 2)
    x, w = (t.clone() for t in _ib_toy_problem(dataset, n, k, check_int("seed", seed, 0)))
    tau = 10.0 ** log10_tau
    d = squared_distances(x, w)
    lo, hi = x.min(0).values - 0.5, x.max(0).values + 0.5
    gx = np.linspace(float(lo[0]), float(hi[0]), resolution)
    gy = np.linspace(float(lo[1]), float(hi[1]), resolution)
    mesh = torch.tensor(np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2))
    heat = losses.entropy(gibbs_posterior(squared_distances(mesh, w), tau).exp()).reshape(resolution, resolution)
    curve: dict[str, list[float]] = {"tau": list(10.0 ** IB_TOY_LOG10_TAUS)}
    for t in curve["tau"]:
        for key, value in _ib_terms(d, t).items():
            curve.setdefault(key, []).append(value)
    return IBToyState(x, w, tau, gx, gy, heat.numpy(), _ib_terms(d, tau), curve, _ib_terms(d, 1e-300))


def draw_ib_toy(state: IBToyState, fig: Figure | None = None) -> Figure:
    """Left: the heat map of ``H(q(Z | x))`` with the data and codewords. Right: the VIB rate bound
    ``KL(q(Z|J) || r)`` and the true rate ``I(J; Z)`` against the distortion over all temperatures, the
    current temperature marked (the vertical distance between the two curves is the gap, eq. 16).
    ``fig``: a figure drawn by this function before for the same K and data, to draw ``state`` into."""
    fig, (ax, ax2), new = subplots(fig, 1, 2, figsize=(8.4, 3.6), gridspec_kw={"width_ratios": [1, 1.1]})
    k = len(state.codebook)
    im = ax.imshow(state.heat, origin="lower", cmap="magma", vmin=0.0, vmax=max(math.log(k), 1e-9),
                   extent=(state.grid_x[0], state.grid_x[-1], state.grid_y[0], state.grid_y[-1]), aspect="auto")
    pts, w = state.points.numpy(), state.codebook.numpy()
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c="w", alpha=0.6)
    ax.scatter(w[:, 0], w[:, 1], marker="x", c="tab:cyan", s=50)
    if new:
        fig.colorbar(im, ax=ax, fraction=0.046, label="H(q(Z|x)) [nats]")
    t = state.terms
    ax.set_title(f"w_IB = tau = {state.tau:.3g}:  H(q(Z|J)) = {t['conditional_entropy']:.3f} nats", fontsize=9)
    c = state.curve
    ax2.plot(c["distortion"], c["rate_bound"], color="tab:red", label="VIB bound KL(q(Z|J)||r), eq. 15")
    ax2.plot(c["distortion"], c["mutual_information"], "--", color="tab:blue", label="rate I(J;Z), eq. 13")
    ax2.plot([t["distortion"]] * 2, [t["mutual_information"], t["rate_bound"]], color="k", lw=2,
             label=f"gap = KL(q̄||r) = {t['gap']:.3f}")
    ax2.scatter([state.hard["distortion"]], [state.hard["rate_bound"]], marker="s", c="k", s=25,
                label="hard VQ (w_IB -> 0)", zorder=3)
    ax2.axhline(math.log(k), color="0.6", lw=0.8)
    ax2.set_xlabel("distortion E ||x - e_k||^2")
    ax2.set_ylabel("nats")
    ax2.set_title(f"rate bound {t['rate_bound']:.3f}, I(J;Z) {t['mutual_information']:.3f}", fontsize=9)
    ax2.legend(fontsize=7, loc="upper right")
    if new:
        fig.tight_layout()
    return fig


def ib_toy_widget(log10_tau: float = -0.5, num_codes: int = 6, dataset: str = "blobs"):
    """Sliders for ``log10 w_IB`` (= ``log10 tau``, the temperature of the posterior) and K, and the toy set ->
    :func:`draw_ib_toy` (a new figure when K or the data change: the colour scale goes up to log K)."""
    return slider_figure(
        ib_toy_state, draw_ib_toy, rebuild_on=("num_codes", "dataset"),
        log10_tau=widgets.FloatSlider(value=log10_tau, min=-3.0, max=1.5, step=0.1, description="log10 w_IB"),
        num_codes=widgets.IntSlider(value=num_codes, min=1, max=32, description="K", continuous_update=False),
        dataset=widgets.Dropdown(options=list(TOY_SETS), value=dataset, description="data"))


@dataclass
class EMStepsState:
    """EM on a 2-D toy set at one temperature (the picture of notebook 02's M step).

    Attributes:
        points: ``[N, 2]`` the toy data (the data *are* the latents z_e). tau: the temperature.
        codebooks: ``[T + 1, K, 2]`` the codebook before the first step and after each of the T steps.
        log_likelihood: ``[T + 1]`` the mean log-likelihood of the points under the mixture of the E step
            (:meth:`vqlab.quantizers.EMQuantizer.log_likelihood`) at each codebook.
    """

    points: Tensor
    tau: float
    codebooks: Tensor
    log_likelihood: list[float]


def em_steps_state(tau: float = 0.5, num_codes: int = 5, steps: int = 15, dataset: str = "blobs", n: int = 300,
                   seed: int = 0) -> EMStepsState:
    """Run ``steps`` EM iterations of :class:`~vqlab.quantizers.EMQuantizer` on a toy set: each training call
    with ``decay = 0`` is one E step (eq. 28 at temperature ``tau``) and one soft M step (each codeword the
    posterior-weighted average of the points). The codebook starts at ``num_codes`` random data points.

    Args:
        tau: temperature > 0. num_codes: K in [1, n]. steps: T >= 1. dataset: a :data:`vqlab.data.TOY_SETS`
            name. n: points >= 2. seed: the data and the start.
    """
    tau = check_float("tau", tau, 0.0, strict=True)
    check_choice("dataset", dataset, TOY_SETS)
    n = check_int("n", n, 2)
    k = check_int("num_codes", num_codes)
    if k > n:
        raise ValueError(f"num_codes must be <= n ({n}), got {num_codes}")
    steps = check_int("steps", steps)
    x, _ = make_toy(dataset, n=n, seed=check_int("seed", seed, 0))
    em = EMQuantizer(k, 2, temperature=tau, decay=0.0, epsilon=1e-12, seed=seed)
    start = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k]
    with torch.no_grad():
        em.weight.copy_(x[start])
        codebooks, lls = [em.codebook.clone()], [float(em.log_likelihood(x))]
        for _ in range(steps):
            em(x)
            codebooks.append(em.codebook.clone())
            lls.append(float(em.log_likelihood(x)))
    return EMStepsState(x, tau, torch.stack(codebooks), lls)


def draw_em_steps(states: list[EMStepsState]) -> Figure:
    """One panel per state: the points and each codeword's path over the EM steps (start ``o``, end ``x``);
    a last panel: the log-likelihood against the step, one curve per state."""
    fig, axes, _ = subplots(None, 1, len(states) + 1, figsize=(3.3 * (len(states) + 1), 3.2))
    for ax, st in zip(axes, states):
        pts, path = st.points.numpy(), st.codebooks.numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=4, c="0.6")
        for j in range(path.shape[1]):
            ax.plot(path[:, j, 0], path[:, j, 1], "-", color="tab:red", lw=1.2)
        ax.scatter(path[0, :, 0], path[0, :, 1], marker="o", facecolors="none", edgecolors="tab:red", s=30)
        ax.scatter(path[-1, :, 0], path[-1, :, 1], marker="x", c="k", s=40, zorder=3)
        ax.set_title(f"tau = {st.tau:g}: {len(path) - 1} EM steps", fontsize=9)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    for st in states:
        axes[-1].plot(range(len(st.log_likelihood)), st.log_likelihood, marker=".", label=f"tau = {st.tau:g}")
    axes[-1].set_xlabel("EM step")
    axes[-1].set_ylabel("mean log-likelihood")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    return fig
