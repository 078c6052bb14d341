"""Notebook 08 widgets: the implicit codebook of finite scalar quantization (FSQ, arXiv:2309.15505).

Sliders for the levels ``L_d`` per dimension (two or three dimensions) and the spread of the latents draw
the grid of all ``K = prod_d L_d`` codes of :class:`vqlab.quantizers.FSQuantizer` and how often each is
used by a fixed random batch of latents, bounded by ``f(z) = floor(L/2) tanh(z)`` (shifted for even L)
and rounded; or by the encoder outputs of a trained model when they are passed in.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from vqlab._checks import check_float, check_int, check_tensor
from vqlab.metrics import perplexity
from vqlab.quantizers import FSQuantizer
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["FSQState", "fsq_state", "draw_fsq", "fsq_widget"]

#: Where :func:`draw_fsq` draws an unused code's usage (relative to N / K) on its log scale.
USAGE_FLOOR = 1e-2


@dataclass
class FSQState:
    """What the FSQ widget shows for one setting of the sliders (N latents, K = prod(levels) codes, D dims).

    Attributes:
        levels: ``(L_1, ..., L_D)``, D in {2, 3}. grid: ``[K, D]`` the implicit codebook (row k = code k,
            in [-1, 1]). counts: ``[K]`` how many of the N latents each code got (sums to N).
        bounded: ``[N, D]`` the bounded latents ``f(z) / floor(L/2)`` before rounding.
        z_q: ``[N, D]`` their grid points. usage_fraction: codes used / K. perplexity: ``exp H`` of the
        usage. scale: the spread of the random latents (``None`` for a trained model's latents).
    """

    levels: tuple[int, ...]
    grid: np.ndarray
    counts: np.ndarray
    bounded: np.ndarray
    z_q: np.ndarray
    usage_fraction: float
    perplexity: float
    scale: float | None


def fsq_state(levels: Sequence[int] = (5, 3), *, scale: float = 1.0, latents: Tensor | None = None,
              num_points: int = 2000, seed: int = 0) -> FSQState:
    """Quantize a batch of latents with ``FSQuantizer(levels)`` and count the codes (no plotting).

    Without ``latents``: ``num_points`` draws ``z ~ N(0, scale^2 I_D)`` from a generator seeded with
    ``seed`` (the same standard-normal draws for every ``scale``). With ``latents`` ``[..., D]`` (e.g. a
    trained FSQ model's ``encode(x)``): those, and ``scale`` is ignored.

    Raises:
        ValueError: ``levels`` not a sequence of 2 or 3 integers >= 2 (the message names ``levels``), or
            latents whose last dimension is not ``len(levels)``.
    """
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or len(levels) not in (2, 3):
        raise ValueError(f"levels must be 2 or 3 integers >= 2 (one per drawn dimension), got {levels!r}")
    fsq = FSQuantizer(tuple(levels))
    if latents is None:
        scale = check_float("scale", scale, 0.0, strict=True)
        gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
        z = scale * torch.randn(check_int("num_points", num_points), fsq.code_dim, generator=gen)
        shown_scale: float | None = scale
    else:
        z = check_tensor("latents", latents.detach().float(), last_dim=fsq.code_dim).reshape(-1, fsq.code_dim)
        shown_scale = None
    with torch.no_grad():
        out = fsq(z)
        bounded = fsq.bound(z) / torch.tensor([level // 2 for level in fsq.levels], dtype=z.dtype)
    counts = out.counts
    return FSQState(levels=fsq.levels, grid=fsq.codebook.numpy(), counts=counts.numpy(),
                    bounded=bounded.numpy(), z_q=out.z_q.numpy(),
                    usage_fraction=float((counts > 0).sum()) / fsq.num_codes,
                    perplexity=float(perplexity(counts)), scale=shown_scale)


def draw_fsq(state: FSQState, fig: Figure | None = None) -> Figure:
    """Left: the implicit codebook (grid points, area and colour = usage relative to the uniform N / K;
    grey crosses = unused codes) and a sample of the bounded latents before rounding, in 2-D or 3-D.
    Right: the usage of every code relative to the uniform N / K, sorted, against the fraction of the K
    codes (log scale, fixed axes so that codebooks of any size compare; unused codes sit on the floor
    at 0.01). ``fig``: a figure drawn by this function before for as many dimensions, to draw ``state``
    into (the widget's redraw)."""
    d, k = len(state.levels), len(state.grid)
    new = fig is None
    if new:
        fig = plt.figure(figsize=(8.6, 3.8))
        a0 = fig.add_subplot(1, 2, 1, projection="3d" if d == 3 else None)
        a1 = fig.add_subplot(1, 2, 2)
    else:
        fig, (a0, a1), _ = subplots(fig, 1, 2)
    n = max(1, int(state.counts.sum()))
    used = state.counts > 0
    show = state.bounded[:: max(1, len(state.bounded) // 400)]
    size = 12 + 400 * state.counts / n * math.sqrt(k)
    a0.scatter(*show.T, s=3, c="0.6", alpha=0.5, label="bounded latents")
    a0.scatter(*state.grid[~used].T, marker="x", c="0.5", s=20, label="unused code")
    points = a0.scatter(*state.grid[used].T, s=size[used], c=state.counts[used] * k / n, cmap="viridis",
                        vmin=0.0, vmax=3.0, edgecolors="k", linewidths=0.4, label="used code")
    if new:
        fig.colorbar(points, ax=a0, shrink=0.7, pad=0.12 if d == 3 else 0.04, extend="max",
                     label="count / (N/K)")
    spread = "trained latents" if state.scale is None else f"z ~ N(0, {state.scale:.3g}²)"
    a0.set_title(f"levels {state.levels}: K = {k}, {spread}", fontsize=9)
    a0.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    if d == 2:
        a0.set_xlim(-1.15, 1.15)
        a0.set_ylim(-1.15, 1.15)
        a0.set_aspect("equal")
    relative = np.maximum(np.sort(state.counts)[::-1] * k / n, USAGE_FLOOR)
    a1.stairs(relative, np.linspace(0.0, 1.0, k + 1), baseline=USAGE_FLOOR, fill=True, color="tab:blue")
    a1.axhline(1.0, c="k", ls="--", lw=0.8, label="uniform N/K")
    a1.set_yscale("log")
    a1.set_xlim(0.0, 1.0)
    a1.set_ylim(USAGE_FLOOR, 1e2)
    a1.set_xlabel("fraction of the codes (sorted by usage)")
    a1.set_ylabel("count / (N/K)")
    a1.set_title(f"used {state.usage_fraction:.0%} of the codes, perplexity {state.perplexity:.1f}", fontsize=9)
    a1.legend(fontsize=7)
    if new:
        fig.tight_layout()
    return fig


def fsq_widget(latents: Tensor | None = None):
    """Sliders for the levels ``L_1, L_2`` (and ``L_3`` when three dimensions are shown) and the spread
    of the random latents (log scale), redrawing :func:`draw_fsq`. With ``latents`` ``[..., D]`` (D = 2
    or 3, e.g. a trained model's encoder outputs) those are quantized and the number of dimensions is
    theirs (a new figure when D changes)."""
    dims = (2, 3) if latents is None else (int(latents.shape[-1]),)

    def state(dims, l1, l2, l3, scale):
        return fsq_state((l1, l2, l3)[:dims], scale=scale, latents=latents)

    return slider_figure(
        state, draw_fsq, rebuild_on=("dims",),
        dims=widgets.ToggleButtons(options=dims, value=dims[0], description="D"),
        l1=widgets.IntSlider(value=5, min=2, max=9, description="L₁"),
        l2=widgets.IntSlider(value=3, min=2, max=9, description="L₂"),
        l3=widgets.IntSlider(value=4, min=2, max=9, description="L₃ (D=3)"),
        scale=widgets.FloatLogSlider(value=1.0, base=10, min=-1.5, max=1.5, step=0.05, description="spread"),
    )
