"""Notebook 04 widgets: neural-gas range lambda and fuzzifier m, lambda annealing, and the codebook's pull.

Sliders for the neural-gas range lambda and the fuzzifier m (ranks, memberships, where prototypes
settle), a lambda-annealing stepper, and where the codebook term of eq. 5.4 pulls each codeword from a
start of a given width. The posteriors are vqlab.posteriors' (thesis eqs. 4.3-4.7), the batch algorithms
vqlab.clustering's.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from vqlab._checks import check_float, check_int
from vqlab.clustering import batch_update, dead_units, fuzzy_cmeans, init_prototypes, kmeans, neural_gas
from vqlab.data import TOY_SETS, make_toy
from vqlab.plotting import plot_voronoi
from vqlab.posteriors import (distance_ranks, fuzzy_cmeans_posterior, neural_gas_posterior, posterior_weights,
                              squared_distances)
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["NGFCMState", "ng_fcm_state", "draw_ng_fcm", "ng_fcm_widget", "NGAnnealingState",
           "ng_annealing_state", "draw_ng_annealing", "ng_annealing_widget", "PULL_POSTERIORS", "CodebookPullState",
           "codebook_pull_state", "draw_codebook_pull", "codebook_pull_widget"]


@dataclass
class NGFCMState:
    """What the lambda / m explorer shows.

    Attributes:
        points: ``[N, 2]`` toy data. codebook: ``[K, 2]`` the fixed codebook the probe is scored against
            (also the start of both algorithms). probe: ``[2]`` the probe point x.
        ranks: ``[K]`` neural-gas ranks rho_k(x) of the probe (0 = nearest).
        ng_probs, fcm_probs: ``[K]`` neural-gas posterior (eq. 4.3) and fuzzy memberships (eqs. 4.4, 4.6) of the
            probe.
        ng_prototypes, fcm_prototypes: ``[K, 2]`` where batch neural gas at fixed lambda and fuzzy c-means
            with fuzzifier m settle from ``codebook``.
        ng_distortion, fcm_distortion: their eq. 4.2 distortion (mean over points).
        ng_dead, fcm_dead: dead units of the settled codebooks. lam, m: the slider values.
    """

    points: Tensor
    codebook: Tensor
    probe: Tensor
    ranks: Tensor
    ng_probs: Tensor
    fcm_probs: Tensor
    ng_prototypes: Tensor
    fcm_prototypes: Tensor
    ng_distortion: float
    fcm_distortion: float
    ng_dead: int
    fcm_dead: int
    lam: float
    m: float


@functools.lru_cache(maxsize=64)  # a move of another slider (the probe, the other algorithm's) reuses the run
def _settled(algorithm: str, value: float, num_codes: int, dataset: str, iterations: int,
             seed: int) -> tuple[Tensor, float]:
    """Where batch neural gas (``algorithm="ng"``, fixed lambda = ``value``) or fuzzy c-means (``"fcm"``,
    m = ``value``) settles from ``num_codes`` data points of the toy set: prototypes ``[K, 2]`` and their
    eq. 4.2 distortion."""
    x, _ = make_toy(dataset, 300, seed=seed)
    w = init_prototypes(x, num_codes, "data", seed=seed)
    if algorithm == "fcm":
        fcm = fuzzy_cmeans(x, w, iterations, m=value)
        return fcm.prototypes, fcm.distortion[-1]
    if iterations:
        w = neural_gas(x, w, iterations, lam_initial=value, lam_final=value).prototypes
    return w, float(squared_distances(x, w).min(1).values.mean())


def ng_fcm_state(lam: float = 1.0, m: float = 2.0, num_codes: int = 8, dataset: str = "blobs",
               iterations: int = 40, seed: int = 0, probe: tuple[float, float] = (0.0, 0.0)) -> NGFCMState:
    """Ranks and memberships of a probe point, and where neural gas (fixed ``lam``) and fuzzy c-means
    (fuzzifier ``m``) settle on a toy set, both started from the same ``num_codes`` data points.

    Args:
        lam: neural-gas range > 0. m: fuzzifier > 1. num_codes: K >= 1 (at most the 300 points).
        dataset: a :data:`vqlab.data.TOY_SETS` name. iterations: batch iterations >= 0. seed: data and
        initialisation seed. probe: the point x whose posterior is shown.
    """
    lam = check_float("lam", lam, 0.0, strict=True)
    m = check_float("m", m, 1.0, strict=True)
    check_int("num_codes", num_codes)
    check_int("iterations", iterations, 0)
    check_int("seed", seed, 0)
    x, _ = make_toy(dataset, 300, seed=seed)
    w = init_prototypes(x, num_codes, "data", seed=seed)
    p = torch.tensor([probe], dtype=x.dtype)
    d = squared_distances(p, w)
    ng_w, ng_distortion = _settled("ng", lam, num_codes, dataset, iterations, seed)
    fcm_w, fcm_distortion = _settled("fcm", m, num_codes, dataset, iterations, seed)
    return NGFCMState(points=x, codebook=w, probe=p[0], ranks=distance_ranks(d)[0],
                       ng_probs=neural_gas_posterior(d, lam)[0], fcm_probs=fuzzy_cmeans_posterior(d, m)[0],
                       ng_prototypes=ng_w, fcm_prototypes=fcm_w, ng_distortion=ng_distortion,
                       ng_dead=dead_units(x, ng_w), fcm_distortion=fcm_distortion,
                       fcm_dead=dead_units(x, fcm_w), lam=lam, m=m)


def draw_ng_fcm(state: NGFCMState, fig: Figure | None = None) -> Figure:
    """Three panels: the codebook with the probe's ranks rho_k(x); the probe's neural-gas posterior and fuzzy
    memberships ordered by rank; where both algorithms settle from the same start. ``fig``: a figure
    drawn by this function before, to draw ``state`` into (the widget's redraw)."""
    x, w, p = state.points.numpy(), state.codebook.numpy(), state.probe.numpy()
    fig, axes, new = subplots(fig, 1, 3, figsize=(11.0, 3.4))
    ax = axes[0]
    ax.scatter(x[:, 0], x[:, 1], s=4, c="0.75")
    ax.scatter(w[:, 0], w[:, 1], marker="x", c="k", s=40)
    for k, (a, b) in enumerate(w):
        ax.annotate(rf"$\rho$={int(state.ranks[k])}", (a, b), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.scatter([p[0]], [p[1]], marker="*", s=160, c="tab:red", label="probe x")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(r"codebook and ranks $\rho_k(x)$ of the probe $x$", fontsize=9)
    order = state.ranks.argsort().numpy()
    pos = np.arange(len(order))
    axes[1].bar(pos - 0.2, state.ng_probs.numpy()[order], width=0.4, label=rf"neural gas, $\lambda$={state.lam:.3g}")
    axes[1].bar(pos + 0.2, state.fcm_probs.numpy()[order], width=0.4, label=f"fuzzy c-means, m={state.m:.3g}")
    axes[1].set_xlabel(r"rank $\rho_k(x)$")
    axes[1].set_ylabel(r"$q(k\mid x)$")
    axes[1].set_ylim(0, 1)
    axes[1].legend(fontsize=8)
    axes[1].set_title("posterior of the probe (eqs. 4.3, 4.6)", fontsize=9)
    ax = axes[2]
    ax.scatter(x[:, 0], x[:, 1], s=4, c="0.75")
    ng, fc = state.ng_prototypes.numpy(), state.fcm_prototypes.numpy()
    ax.scatter(ng[:, 0], ng[:, 1], marker="o", s=45, facecolors="none", edgecolors="tab:blue",
               label=f"neural gas: E={state.ng_distortion:.3f}, dead {state.ng_dead}")
    ax.scatter(fc[:, 0], fc[:, 1], marker="s", s=30, facecolors="none", edgecolors="tab:orange",
               label=f"fuzzy c-means: E={state.fcm_distortion:.3f}, dead {state.fcm_dead}")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("where the prototypes settle", fontsize=9)
    if new:
        fig.tight_layout()
    return fig


def ng_fcm_widget(lam: float = 1.0, m: float = 2.0, num_codes: int = 8, dataset: str = "blobs"):
    """Sliders for lambda (log scale), m, K, the toy set and the probe -> :func:`draw_ng_fcm`."""
    def state(lam, m, num_codes, dataset, probe_x, probe_y):
        return ng_fcm_state(lam, m, num_codes, dataset, probe=(probe_x, probe_y))

    slider = dict(continuous_update=False)
    return slider_figure(
        state, draw_ng_fcm,
        lam=widgets.FloatLogSlider(value=lam, base=10, min=-2, max=1.5, step=0.05, description="lambda", **slider),
        m=widgets.FloatSlider(value=m, min=1.02, max=6.0, step=0.02, description="m", **slider),
        num_codes=widgets.IntSlider(value=num_codes, min=1, max=30, description="K", **slider),
        dataset=widgets.Dropdown(options=list(TOY_SETS), value=dataset, description="data"),
        probe_x=widgets.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1, description="probe x", **slider),
        probe_y=widgets.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1, description="probe y", **slider))


@dataclass
class NGAnnealingState:
    """One step t of batch neural gas with lambda annealed from ``lam_initial`` to ``lam_final``.

    Attributes:
        points: ``[N, 2]``. labels: ``[N]`` toy labels. step: t. lam: lambda used by iteration t (the last one for t = T).
        prototypes: ``[K, 2]`` after t iterations. trail: ``[t+1, K, 2]`` the path so far.
        distortion: ``T+1`` eq. 4.2 distortions of the whole run. lambdas: ``T`` lambda values.
        dead: dead units after t iterations. kmeans_dead: dead units of k-means from the same start.
        extent: ``(x0, x1, y0, y1)`` the view: points and every prototype of the whole run, with a margin
            (the same for every t, so the pictures of a run line up).
    """

    points: Tensor
    labels: Tensor
    step: int
    lam: float
    prototypes: Tensor
    trail: Tensor
    distortion: list[float]
    lambdas: list[float]
    dead: int
    kmeans_dead: int
    extent: tuple[float, float, float, float]


@functools.lru_cache(maxsize=16)
def _annealing_run(lam_initial: float | None, lam_final: float, iterations: int, num_codes: int,
                   dataset: str, seed: int, spread: float):
    x, y = make_toy(dataset, 500, seed=seed)
    init = init_prototypes(x, num_codes, "box", seed=seed, spread=spread)
    km_dead = dead_units(x, kmeans(x, init, iterations).prototypes)
    return x, y, neural_gas(x, init, iterations, lam_initial, lam_final), km_dead


def ng_annealing_state(step: int, lam_initial: float | None = None, lam_final: float = 0.01,
                       iterations: int = 40, num_codes: int = 10, dataset: str = "blobs", seed: int = 0,
                       spread: float = 2.0) -> NGAnnealingState:
    """Batch neural gas from a bad start (uniform in the data's bounding box scaled by ``spread``),
    lambda annealed as ``lam_i (lam_f / lam_i)^(t / t_max)``; the state after ``step`` iterations.

    Args:
        step: 0 <= t <= iterations. lam_initial: > 0 (default K / 2). lam_final: > 0.
        iterations: T >= 1. num_codes: K >= 1. dataset, seed: the toy set. spread: > 0.
    """
    check_int("iterations", iterations)
    check_int("step", step, 0)
    if step > iterations:
        raise ValueError(f"step must be <= iterations={iterations}, got {step}")
    check_int("num_codes", num_codes)
    x, y, res, km_dead = _annealing_run(None if lam_initial is None else float(lam_initial), float(lam_final),
                                     iterations, num_codes, dataset, seed, float(spread))
    w = res.history[step]
    everything = torch.cat([x, res.history.reshape(-1, 2)])
    lo, hi = everything.amin(0) - 0.7, everything.amax(0) + 0.7
    return NGAnnealingState(points=x, labels=y, step=step, lam=res.lambdas[min(step, iterations - 1)], prototypes=w,
                          trail=res.history[: step + 1], distortion=list(res.distortion),
                          lambdas=list(res.lambdas), dead=dead_units(x, w), kmeans_dead=km_dead,
                          extent=(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])))


def draw_ng_annealing(state: NGAnnealingState, fig: Figure | None = None) -> Figure:
    """Two panels: prototype paths and Voronoi cells after t iterations; distortion and lambda per step.
    ``fig``: a figure drawn by this function before, to draw ``state`` into (the widget's redraw)."""
    fig, (ax, ax2), new = subplots(fig, 1, 2, figsize=(9.0, 3.6))
    plot_voronoi(state.prototypes, state.points, state.labels, ax=ax, resolution=120, extent=state.extent,
                 title=rf"$t$={state.step}, $\lambda$={state.lam:.3g}: {state.dead} dead "
                       f"(k-means from this start: {state.kmeans_dead})")
    ax.title.set_fontsize(9)
    trail = state.trail.numpy()
    for k in range(trail.shape[1]):
        ax.plot(trail[:, k, 0], trail[:, k, 1], "-", c="tab:red", lw=0.8)
    ax2.plot(state.distortion, c="tab:blue", label="distortion E (eq. 4.2)")
    ax2.axvline(state.step, c="k", lw=0.8)
    ax2.set_xlabel(r"iteration $t$")
    ax2.set_yscale("log")
    ax2.set_ylabel(r"$E$", color="tab:blue")
    ax3 = ax2.twinx() if new else fig.axes[2]
    ax3.plot(state.lambdas, c="tab:orange")
    ax3.set_yscale("log")
    ax3.set_ylabel(r"$\lambda(t)$", color="tab:orange")
    ax2.set_title(r"annealing: $\lambda(t) = \lambda_i (\lambda_f / \lambda_i)^{t / t_{\max}}$", fontsize=9)
    if new:
        fig.tight_layout()
    return fig


def ng_annealing_widget(iterations: int = 40, num_codes: int = 10, dataset: str = "blobs"):
    """A step slider over the annealing run (and one for lambda_f) -> :func:`draw_ng_annealing`.

    A plain slider figure like every other widget of the course, so the notebook stores its picture and
    shows it before the notebook is run."""
    def state(step, lam_final):
        return ng_annealing_state(step, None, lam_final, iterations, num_codes, dataset)

    return slider_figure(state, draw_ng_annealing,
                         step=widgets.IntSlider(value=0, min=0, max=iterations, description="step t"),
                         lam_final=widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=1, step=0.1,
                                                          description="lambda_f", continuous_update=False))


#: The posteriors the codebook-pull picture compares: name -> (vqlab.posteriors name, label).
PULL_POSTERIORS = {"hard": "k-means (hard)", "neural_gas": "neural gas", "fcm": "fuzzy c-means (4.6)"}


@dataclass
class CodebookPullState:
    """Where the codebook term of eq. 5.4 pulls each codeword, for one start of the codebook.

    For fixed encoder outputs ``z_n`` and posterior weights ``q(k | z_n)``, the codebook term
    ``sum_n sum_k q(k | z_n) ||sg(z_n) - e_k||^2`` is minimised by moving each codeword to its target, the
    posterior-weighted mean ``sum_n q(k | z_n) z_n / sum_n q(k | z_n)`` (a code with no weight stays put):
    the direction every gradient step of the codebook term takes.

    Attributes:
        points: ``[N, 2]`` stand-ins for the encoder outputs (a toy set, centred, unit root-mean-square norm).
        codebook: ``[K, 2]`` the start, uniform in ``[-scale, scale]^2``. scale: that half-width.
        targets: posterior name (:data:`PULL_POSTERIORS`) -> ``[K, 2]`` the codewords' targets.
        top_mass: posterior name -> mean over the points of ``max_k q(k | z_n)`` (1/K: uniform, 1: hard).
        pulled: posterior name -> how many codes receive at least one point's worth of weight.
        target_spread: posterior name -> root-mean-square distance of the targets from their mean (near 0:
            every code is pulled to the same place, the codebook contracts into a clump).
        lam, m: the neural-gas range and the fuzzifier.
    """

    points: Tensor
    codebook: Tensor
    scale: float
    targets: dict[str, Tensor]
    top_mass: dict[str, float]
    pulled: dict[str, int]
    target_spread: dict[str, float]
    lam: float
    m: float


def codebook_pull_state(scale: float, lam: float = 3.0, m: float = 1.5, num_codes: int = 16,
                        dataset: str = "blobs", seed: int = 0) -> CodebookPullState:
    """The targets of the codebook term (eq. 5.4) under the hard, neural-gas and fuzzy c-means posteriors for
    a codebook started uniformly in ``[-scale, scale]^2`` around centred toy points (300 of them).

    Args:
        scale: > 0, half-width of the start (1/K: the PyTorch ports' start; about 1: a start as wide as
            the data). lam: neural-gas range > 0. m: fuzzifier > 1. num_codes: K >= 1.
        dataset: a :data:`vqlab.data.TOY_SETS` name. seed: data and codebook seed.
    """
    scale = check_float("scale", scale, 0.0, strict=True)
    lam = check_float("lam", lam, 0.0, strict=True)
    m = check_float("m", m, 1.0, strict=True)
    k = check_int("num_codes", num_codes)
    x, _ = make_toy(dataset, 300, seed=check_int("seed", seed, 0))
    x = x - x.mean(0)
    x = x / x.pow(2).sum(1).mean().sqrt()
    g = torch.Generator().manual_seed(seed)
    w = scale * (2 * torch.rand(k, 2, generator=g, dtype=x.dtype) - 1)
    d = squared_distances(x, w)
    targets, top, pulled, spread = {}, {}, {}, {}
    for name in PULL_POSTERIORS:
        q, _ = posterior_weights(d, name, lam=lam, m=m)
        targets[name] = batch_update(x, q, w)
        top[name] = float(q.max(1).values.mean())
        pulled[name] = int((q.sum(0) >= 1.0).sum())
        spread[name] = float((targets[name] - targets[name].mean(0)).pow(2).sum(1).mean().sqrt())
    return CodebookPullState(points=x, codebook=w, scale=scale, targets=targets, top_mass=top, pulled=pulled,
                             target_spread=spread, lam=lam, m=m)


def draw_codebook_pull(state: CodebookPullState, fig: Figure | None = None) -> Figure:
    """One panel per posterior: the points, the codewords (black x, started in U(-s, s)) and an arrow from each
    codeword to its target. ``fig``: a figure drawn by this function before, to draw ``state`` into (the
    widget's redraw)."""
    fig, axes, new = subplots(fig, 1, len(PULL_POSTERIORS), figsize=(11.0, 3.4))
    x, w = state.points.numpy(), state.codebook.numpy()
    lim = 1.1 * max(2.5, float(abs(x).max()), float(abs(w).max()))
    for ax, (name, label) in zip(axes, PULL_POSTERIORS.items()):
        t = state.targets[name].numpy()
        ax.scatter(x[:, 0], x[:, 1], s=4, c="0.8")
        ax.quiver(w[:, 0], w[:, 1], t[:, 0] - w[:, 0], t[:, 1] - w[:, 1], angles="xy", scale_units="xy", scale=1,
                  color="tab:red", width=0.006)
        ax.scatter(t[:, 0], t[:, 1], marker="o", s=18, facecolors="none", edgecolors="tab:red")
        ax.scatter(w[:, 0], w[:, 1], marker="x", c="k", s=25)
        extra = {"neural_gas": rf", $\lambda$={state.lam:.3g}", "fcm": f", m={state.m:.3g}"}.get(name, "")
        ax.set_title(f"{label}{extra}, start s={state.scale:.3g}\npulled {state.pulled[name]}/{len(w)}, targets' "
                     f"spread {state.target_spread[name]:.2f}, mean max q {state.top_mass[name]:.2f}", fontsize=8)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    if new:
        fig.tight_layout()
    return fig


def codebook_pull_widget(scale: float = 1 / 16, lam: float = 3.0, m: float = 1.5):
    """Sliders for the start's half-width (log scale), lambda and m -> :func:`draw_codebook_pull`."""
    return slider_figure(
        codebook_pull_state, draw_codebook_pull,
        scale=widgets.FloatLogSlider(value=scale, base=10, min=-2.5, max=0.5, step=0.05, description="start s"),
        lam=widgets.FloatLogSlider(value=lam, base=10, min=-2, max=1.5, step=0.05, description="lambda"),
        m=widgets.FloatSlider(value=m, min=1.05, max=4.0, step=0.05, description="m"))
