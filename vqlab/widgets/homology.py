"""Notebook 05 widgets: the Vietoris-Rips complex at eps, and pushing the MST deaths up.

The Vietoris–Rips explorer (an ε slider on a 2-D cloud with its Betti numbers b_0, b_1), the "push the deaths
up" stepper, and the pictures of the digits latent-space comparison (vqlab.experiments.latent_comparison).
Paper: Hoagland, Liu & Montelli; code at github.com/BCHoagland/TDA-Project
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.collections import EllipseCollection, LineCollection, PolyCollection
from matplotlib.figure import Figure

from vqlab import topology
from vqlab._checks import check_choice, check_float, check_int
from vqlab.data import make_toy
from vqlab.plotting import plot_diagram
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["RIPS_CLOUDS", "RipsState", "rips_cloud", "rips_state", "draw_rips", "rips_widget",
    "DeathAscentState", "death_ascent_state", "draw_death_ascent", "death_ascent_widget"]


RIPS_CLOUDS = ("circle", "rings", "blobs")


@dataclass
class RipsState:
    """A 2-D cloud and its Vietoris–Rips complex ``R_ε`` (paper §I-B): ``points [n, 2]``, ``edges [m, 2]``
    (pairs within ε), ``triangles [t, 3]`` (triples pairwise within ε), the ripser ``diagrams`` (H0, H1)
    and the Betti numbers ``betti = [b_0, b_1]`` of ``R_ε`` read off the diagrams (bars alive at ε)."""

    points: np.ndarray
    eps: float
    edges: np.ndarray
    triangles: np.ndarray
    diagrams: list
    betti: list
    cloud: str
    noise: float


def rips_cloud(cloud: str = "circle", n: int = 40, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """A 2-D toy cloud ``[n, 2]`` from :func:`vqlab.data.make_toy` ("circle", "rings" = two circles,
    "blobs" = noisy blobs), centred and scaled so its farthest point is at radius 1."""
    check_choice("cloud", cloud, RIPS_CLOUDS)
    check_int("n", n, 3)
    check_float("noise", noise, 0.0)
    x = make_toy(cloud, n=n, noise=noise, seed=seed)[0].double().numpy()
    x = x - x.mean(0)
    return x / max(float(np.linalg.norm(x, axis=1).max()), 1e-12)


def rips_state(eps: float = 0.3, cloud: str = "circle", noise: float = 0.05, n: int = 40,
               seed: int = 0) -> RipsState:
    """Everything the ε-slider draws: the complex ``R_ε`` of :func:`rips_cloud` and its Betti numbers.

    ``b_0`` = connected components, ``b_1`` = independent loops of ``R_ε``; both are counted as the bars of
    the persistence diagrams with ``ε_b ≤ ε < ε_d`` (:func:`vqlab.topology.betti_numbers_at`).
    """
    eps = check_float("eps", eps, 0.0)
    if n > 120:
        raise ValueError(f"n must be <= 120 for the drawing (triangles grow like n^3), got {n}")
    x = rips_cloud(cloud, n, noise, seed)
    edges = topology.rips_edges_at(x, eps)
    a = np.zeros((len(x), len(x)), dtype=bool)
    a[edges[:, 0], edges[:, 1]] = True
    a |= a.T
    i, j, k = np.nonzero(np.triu(a, 1)[:, :, None] & np.triu(a, 1)[None, :, :] & a[:, None, :])
    triangles = np.stack([i, j, k], 1) if len(i) else np.zeros((0, 3), dtype=int)
    dgms = topology.persistence_diagrams(x, maxdim=1)
    return RipsState(x, eps, edges, triangles, dgms, topology.betti_numbers_at(dgms, eps), cloud, noise)


def draw_rips(state: RipsState, fig: Figure | None = None) -> Figure:
    """Left: the cloud, its ε/2-balls, and the complex ``R_ε`` (edges, filled triangles). Right: the
    persistence diagram; the bars alive at ε (counted by the Betti numbers) lie in the shaded corner.
    ``fig``: a figure drawn by this function before, to draw ``state`` into (the widget's redraw)."""
    x, eps = state.points, state.eps
    fig, (ax, bx), new = subplots(fig, 1, 2, figsize=(7.6, 3.6))
    ax.add_collection(EllipseCollection(widths=eps, heights=eps, angles=0.0, units="xy", offsets=x,
                                        offset_transform=ax.transData, facecolor="tab:blue", alpha=0.06, lw=0),
                      autolim=False)   # the eps/2-balls: one collection (40 patches cost 0.1 s a move)
    if len(state.triangles):
        ax.add_collection(PolyCollection(x[state.triangles[:4000]], facecolor="tab:orange", alpha=0.15, lw=0))
    if len(state.edges):
        ax.add_collection(LineCollection(x[state.edges[:8000]], colors="0.35", linewidths=0.6))
    ax.scatter(x[:, 0], x[:, 1], s=10, c="k", zorder=3)
    ax.set_aspect("equal")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    b0, b1 = state.betti
    ax.set_title(f"R_eps at eps = {eps:.2f}:  b0 = {b0}, b1 = {b1}", fontsize=9)
    plot_diagram(state.diagrams, ax=bx, size=10)
    top = 2.0
    bx.fill_between([0, eps], [eps, eps], [top * 1.2, top * 1.2], color="tab:green", alpha=0.12, lw=0)
    bx.axvline(eps, color="tab:green", lw=0.8, ls="--")
    bx.axhline(eps, color="tab:green", lw=0.8, ls="--")
    bx.set_title("diagram: bars alive at eps are shaded", fontsize=9)
    if new:
        fig.tight_layout()
    return fig


def rips_widget(eps: float = 0.3, cloud: str = "circle", noise: float = 0.05, n: int = 40):
    """ε slider, a cloud menu and a noise slider -> :func:`draw_rips` of :func:`rips_state`."""
    return slider_figure(
        functools.partial(rips_state, n=n), draw_rips,
        eps=widgets.FloatSlider(value=eps, min=0.0, max=2.0, step=0.02, description="eps", continuous_update=False),
        cloud=widgets.Dropdown(options=list(RIPS_CLOUDS), value=cloud, description="cloud"),
        noise=widgets.FloatSlider(value=noise, min=0.0, max=0.3, step=0.01, description="noise",
                            continuous_update=False))


@dataclass
class DeathAscentState:
    """Snapshots of a cloud while gradient steps minimise ``L_top`` = mean hinge − Σ deaths / n:
    ``points[s] [n, 2]`` after ``steps[s]`` steps, the MST ``edges[s]`` drawn, and ``death_sum[s]``."""

    points: list
    edges: list
    steps: list
    death_sum: list


def death_ascent_state(n: int = 60, steps: tuple[int, ...] = (0, 5, 25, 100), lr: float = 0.02,
                 topological: bool = True, seed: int = 0) -> DeathAscentState:
    """Start from a tight blob (std 0.05) and take Adam steps on the per-point loss of
    :class:`vqlab.topology.HomologicalRegularizer` (weight 1, ``reduction="mean"``), recording the
    cloud at the given step counts. ``topological=False`` keeps only the disk hinge (nothing moves:
    the blob is already inside the ball)."""
    check_int("n", n, 2)
    check_float("lr", lr, 0.0, strict=True)
    steps = sorted({check_int("steps", int(s), 0) for s in steps})
    g = torch.Generator().manual_seed(seed)
    z = (0.05 * torch.randn(n, 2, generator=g, dtype=torch.float64) + torch.tensor([0.3, 0.1],
                                                                                        dtype=torch.float64))
    z.requires_grad_(True)
    reg = topology.HomologicalRegularizer(weight=1.0, topological=topological)
    opt = torch.optim.Adam([z], lr=lr)
    state = DeathAscentState([], [], [], [])
    for t in range(steps[-1] + 1):
        if t in steps:
            pts = z.detach().clone()
            i, j = topology.mst_edges(pts)
            state.points.append(pts.numpy())
            state.edges.append(np.stack([i.numpy(), j.numpy()], 1))
            state.steps.append(t)
            state.death_sum.append(float(topology.mst_deaths(pts).sum()))
        if t == steps[-1]:
            break
        opt.zero_grad()
        sum(reg.terms(z).values()).backward()
        opt.step()
    return state


def draw_death_ascent(state: DeathAscentState, index: int | None = None, fig: Figure | None = None) -> Figure:
    """The snapshots side by side (or only snapshot ``index``), MST edges coloured by length, the unit
    circle dashed. ``fig``: a figure drawn by this function before, to draw into."""
    idx = range(len(state.steps)) if index is None else [index]
    fig, axes, new = subplots(fig, 1, len(idx), figsize=(2.3 * len(idx), 2.5))
    for ax, s in zip(axes, idx):
        x, e = state.points[s], state.edges[s]
        seg = x[e]
        lc = LineCollection(seg, array=np.linalg.norm(seg[:, 0] - seg[:, 1], axis=1), cmap="viridis",
                            linewidths=1.2)
        ax.add_collection(lc)
        ax.scatter(x[:, 0], x[:, 1], s=6, c="k", zorder=3)
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls="--", color="0.5"))
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(-1.3, 1.3)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"step {state.steps[s]}: sum d = {state.death_sum[s]:.2f}", fontsize=8)
    if new:
        fig.tight_layout()
    return fig


def death_ascent_widget(state: DeathAscentState):
    """A slider over the snapshots of a :class:`DeathAscentState` -> :func:`draw_death_ascent`."""
    return slider_figure(lambda snapshot: snapshot, functools.partial(draw_death_ascent, state),
                         snapshot=widgets.IntSlider(value=0, min=0, max=len(state.steps) - 1,
                                                    description="snapshot"))
