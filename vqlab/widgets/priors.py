"""Notebook 07 widgets: a code map and the context of one position (a static picture of the chain rule),
receptive fields of masked convolutions, the sampling temperature tau, completion.
"""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from vqlab._checks import check_choice, check_int, check_tensor
from vqlab.plotting import image_grid
from vqlab.priors import GatedPixelCNN, masked_conv_stack, receptive_field
from vqlab.train import seed_everything
from vqlab.widgets._ui import axes_figure, slider_figure, subplots

__all__ = ["draw_code_map", "RF_MASKS", "ReceptiveFieldState", "receptive_field_state", "draw_receptive_field", "receptive_field_widget",
    "PriorSamplesState", "prior_samples_state", "draw_prior_samples", "prior_samples_widget", "CompletionState", "completion_state",
    "draw_completion", "completion_widget"]


RF_MASKS = ("A then B", "A only", "B only (leaks!)", "gated")


def draw_code_map(code_map: Tensor, position: int, order: Tensor | None = None, ax=None, title: str | None = None):
    """One code map ``[H, W]`` (long) as a grid of its code numbers, coloured for the chain rule (eq. 3.1) at
    ``position`` (a flat index): blue, the positions before it in ``order`` (the context ``k_<i`` its conditional
    sees); orange, the position itself; white, the positions after it. The small number in each cell's corner is
    its step in the ordering (raster by default). Returns the axes."""
    check_tensor("code_map", code_map, ndim=2, floating=False)
    if code_map.is_floating_point():
        raise ValueError(f"code_map must be an integer code map [H, W], got dtype {code_map.dtype}")
    h, w = code_map.shape
    check_int("position", position, 0)
    if position >= h * w:
        raise ValueError(f"position must be < {h * w} (the positions of the code map), got {position}")
    order = torch.arange(h * w) if order is None else torch.as_tensor(order).flatten()
    if not torch.equal(order.sort().values, torch.arange(h * w)):
        raise ValueError(f"order must be a permutation of range({h * w}), got {order.tolist()}")
    step = torch.empty(h * w, dtype=torch.long)
    step[order] = torch.arange(h * w)
    colours = np.ones((h * w, 3))
    colours[(step < step[position]).numpy()] = (0.62, 0.78, 0.95)
    colours[position] = (1.0, 0.6, 0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6, 2.6))
    ax.imshow(colours.reshape(h, w, 3), interpolation="nearest")
    for flat in range(h * w):
        r, c = divmod(flat, w)
        ax.text(c, r, str(int(code_map[r, c])), ha="center", va="center", fontsize=11)
        ax.text(c - 0.42, r - 0.42, str(int(step[flat]) + 1), ha="left", va="top", fontsize=6, color="0.35")
    ax.set_xticks(np.arange(w) - 0.5, minor=True)
    ax.set_yticks(np.arange(h) - 0.5, minor=True)
    ax.grid(which="minor", color="0.5", lw=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title if title is not None else f"position i = {int(step[position]) + 1} of {h * w}", fontsize=9)
    return ax


@dataclass
class ReceptiveFieldState:
    """The receptive field of the centre output of a masked stack on a ``grid x grid`` input:
    ``field [grid, grid]`` (gradient magnitude), boolean maps ``past`` (earlier in raster order), ``blind`` (past
    but unreached) and ``leak`` (current or future but reached), the ``centre`` pixel, the counts
    ``n_past``, ``n_reached``, ``n_blind``, ``n_leak`` and a ``title``."""

    field: Tensor
    past: Tensor
    blind: Tensor
    leak: Tensor
    centre: tuple[int, int]
    n_past: int
    n_reached: int
    n_blind: int
    n_leak: int
    title: str


def receptive_field_state(kernel_size: int = 3, mask_type: str = "A then B", n_layers: int = 3,
                          grid: int = 9, seed: int = 0) -> ReceptiveFieldState:
    """Receptive field, by gradients, of the centre output of a stack of masked convolutions.

    ``mask_type``: ``"A then B"`` (PixelCNN, eqs. 3.4/3.5), ``"A only"``, ``"B only (leaks!)"`` (the first
    layer sees the pixel it predicts) or ``"gated"`` (vertical + horizontal stacks).
    """
    check_int("kernel_size", kernel_size)
    check_choice("mask_type", mask_type, RF_MASKS)
    check_int("n_layers", n_layers)
    check_int("grid", grid, 3)
    seed_everything(check_int("seed", seed, 0))
    if mask_type == "gated":
        net = GatedPixelCNN(2, (grid, grid), channels=8, kernel_size=kernel_size, n_layers=n_layers).logits
    else:
        first, rest = {"A then B": "AB", "A only": "AA", "B only (leaks!)": "BB"}[mask_type]
        net = masked_conv_stack(2, 8, kernel_size, first + rest * (n_layers - 1))
    c = grid // 2
    field = receptive_field(net, 2, (grid, grid), (c, c), n_samples=8, seed=seed)
    past = (torch.arange(grid * grid) < c * grid + c).reshape(grid, grid)
    reached = field > 0
    blind, leak = past & ~reached, ~past & reached
    return ReceptiveFieldState(field=field, past=past, blind=blind, leak=leak, centre=(c, c),
                               n_past=int(past.sum()), n_reached=int((past & reached).sum()),
                               n_blind=int(blind.sum()), n_leak=int(leak.sum()),
                               title=f"{mask_type}, k={kernel_size}, {n_layers} layer(s)")


def draw_receptive_field(state: ReceptiveFieldState, ax=None):
    """Grey: future; blue: past pixels that reach the centre output; red: blind spot; orange: leak."""
    colours = np.ones((*state.past.shape, 3))
    colours[state.past.numpy()] = (0.85, 0.85, 0.85)
    colours[(state.field > 0).numpy()] = (0.2, 0.45, 0.8)
    colours[state.blind.numpy()] = (0.85, 0.2, 0.2)
    colours[state.leak.numpy()] = (1.0, 0.6, 0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, 3.4))
    ax.imshow(colours, interpolation="nearest")
    ax.scatter(*state.centre[::-1], marker="*", s=150, c="k")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{state.title}\nreached {state.n_reached}/{state.n_past}, unreached {state.n_blind}, "
                 f"leak {state.n_leak}", fontsize=8)
    return ax


def receptive_field_widget(kernel_size: int = 3, mask_type: str = "A then B", n_layers: int = 3):
    """Sliders: kernel size, mask type and number of layers -> receptive-field picture."""
    return slider_figure(
        receptive_field_state, axes_figure(draw_receptive_field, figsize=(3.4, 3.4)),
        kernel_size=widgets.IntSlider(value=kernel_size, min=3, max=7, step=2, description="kernel"),
        mask_type=widgets.Dropdown(options=list(RF_MASKS), value=mask_type, description="mask"),
        n_layers=widgets.IntSlider(value=n_layers, min=1, max=6, description="layers"))


@dataclass
class PriorSamplesState:
    """``n`` sampled code maps ``codes [n, H, W]``, their decoded ``images``, the ``temperature`` tau and
    ``distinct``, the number of different code maps among them."""

    codes: Tensor
    images: Tensor
    temperature: float
    distinct: int


def prior_samples_state(prior, decode, temperature: float = 1.0, n: int = 20, seed: int = 0) -> PriorSamplesState:
    """Sample ``n`` code maps from ``prior`` at ``temperature`` and decode them with ``decode``
    (``[n, H, W]`` long -> images)."""
    check_int("n", n)
    codes = prior.sample(n, torch.Generator().manual_seed(check_int("seed", seed, 0)), temperature)
    with torch.no_grad():
        images = decode(codes)
    return PriorSamplesState(codes=codes, images=images, temperature=float(temperature),
                             distinct=int(torch.unique(codes.flatten(1), dim=0).shape[0]))


def _grid_figure(fig: Figure | None, n: int, ncols: int) -> tuple[Figure, object]:
    """A figure sized for an ``image_grid`` of ``n`` images in ``ncols`` columns (or ``fig``, emptied)."""
    cols = max(1, min(ncols, n))
    fig, (ax,), _ = subplots(fig, figsize=(0.6 * cols + 0.5, 0.6 * -(-n // cols) + 0.5))
    return fig, ax


def draw_prior_samples(state: PriorSamplesState, fig: Figure | None = None, ncols: int = 10) -> Figure:
    """The decoded samples in a grid of ``ncols`` columns; ``fig``: a figure drawn before, to draw into."""
    fig, ax = _grid_figure(fig, len(state.images), ncols)
    image_grid(state.images, ncols=ncols, ax=ax)
    ax.set_title(f"τ = {state.temperature:.2f}: {state.distinct} distinct code maps", fontsize=9)
    return fig


def prior_samples_widget(prior, decode, n: int = 20):
    """A sampling-temperature slider tau (log scale, 0.01 .. 100) over decoded prior samples."""
    def state(temperature, seed):
        return prior_samples_state(prior, decode, temperature, n, seed)

    return slider_figure(
        state, draw_prior_samples,
        temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.1, description="τ"),
        seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"))


@dataclass
class CompletionState:
    """The ``original [1, H, W]`` code map, ``n`` ``completed [n, H, W]`` ones that keep its top
    ``rows_fixed`` rows, and the decoded ``images`` (original first)."""

    original: Tensor
    completed: Tensor
    images: Tensor
    rows_fixed: int


def completion_state(prior, decode, code_maps: Tensor, index: int = 0, rows_fixed: int = 2, n: int = 8,
                     temperature: float = 1.0, seed: int = 0) -> CompletionState:
    """Keep the top ``rows_fixed`` rows of code map ``code_maps[index]`` and sample the rest ``n`` times
    (exact ``r(rest | top rows)`` in raster order)."""
    check_int("index", index, 0)
    if index >= len(code_maps):
        raise ValueError(f"index must be < {len(code_maps)}, got {index}")
    check_int("rows_fixed", rows_fixed, 0)
    if rows_fixed > prior.shape[0]:
        raise ValueError(f"rows_fixed must be <= {prior.shape[0]}, got {rows_fixed}")
    original = code_maps[index:index + 1]
    known = torch.zeros(prior.shape, dtype=torch.bool)
    known[:rows_fixed] = True
    completed = prior.complete(original.expand(check_int("n", n), -1, -1), known,
                               torch.Generator().manual_seed(check_int("seed", seed, 0)), temperature)
    with torch.no_grad():
        images = decode(torch.cat([original, completed]))
    return CompletionState(original=original, completed=completed, images=images, rows_fixed=rows_fixed)


def draw_completion(state: CompletionState, fig: Figure | None = None) -> Figure:
    """The original and its completions in one row; ``fig``: a figure drawn before, to draw into."""
    fig, ax = _grid_figure(fig, len(state.images), len(state.images))
    image_grid(state.images, ncols=len(state.images), ax=ax)
    ax.set_title(f"left: original; right: top {state.rows_fixed} code row(s) kept, rest sampled", fontsize=9)
    return fig


def completion_widget(prior, decode, code_maps: Tensor, n: int = 8):
    """Sliders: which test digit, how many code rows to keep, temperature tau -> completions."""
    def state(index, rows_fixed, temperature):
        return completion_state(prior, decode, code_maps, index, rows_fixed, n, temperature)

    return slider_figure(
        state, draw_completion,
        index=widgets.IntSlider(value=0, min=0, max=len(code_maps) - 1, description="digit"),
        rows_fixed=widgets.IntSlider(value=2, min=0, max=prior.shape[0], description="rows kept"),
        temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.1, description="τ"))
