"""Plotting helpers shared by the notebooks. Each function draws on an ``ax`` (or makes a figure) and
returns the matplotlib object it drew, so notebooks stay one line per picture."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from persim import plot_diagrams
from torch import Tensor

from vqlab._checks import check_float, check_int
from vqlab.experiments import usage_curves
from vqlab.posteriors import squared_distances

__all__ = [
    "to_numpy",
    "image_grid",
    "show_reconstructions",
    "plot_voronoi",
    "plot_training_curves",
    "plot_usage",
    "tsne_embedding",
    "plot_latent_tsne",
    "plot_rate_distortion",
    "plot_latents",
    "plot_generated",
    "plot_diagram",
    "plot_usage_over_training",
    "plot_hcvq_runs",
    "PIPELINE_PARTS",
    "plot_pipeline",
]


def to_numpy(x) -> np.ndarray:
    """Detach a tensor (or pass through an array) as a NumPy array."""
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)


def image_grid(images, image_shape: tuple[int, int] | None = None, ncols: int = 10, ax: Axes | None = None,
               title: str | None = None, pad: int = 1) -> Axes:
    """Tile ``images`` (``[N, H*W]``, ``[N, H, W]`` or ``[N, 1, H, W]``, values in [0, 1]) into one
    grayscale picture with ``ncols`` columns."""
    imgs = to_numpy(images)
    if image_shape is not None:
        imgs = imgs.reshape(len(imgs), *image_shape)
    imgs = imgs.reshape(len(imgs), *imgs.shape[-2:]) if imgs.ndim == 4 else imgs
    if imgs.ndim != 3:
        raise ValueError(f"images must be [N, H, W], [N, 1, H, W] or flat with image_shape, got {imgs.shape}")
    n, h, w = imgs.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    canvas = np.zeros((nrows * (h + pad) + pad, ncols * (w + pad) + pad))  # white under gray_r
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * ncols + 0.5, 0.6 * nrows + 0.5))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def show_reconstructions(x, x_hat, image_shape: tuple[int, int], n: int = 10, title: str = "") -> Figure:
    """Originals (top row) above their reconstructions (bottom row)."""
    fig, axes = plt.subplots(2, 1, figsize=(0.6 * n + 0.5, 1.6))
    image_grid(to_numpy(x)[:n], image_shape, ncols=n, ax=axes[0], title=title or None)
    image_grid(to_numpy(x_hat)[:n], image_shape, ncols=n, ax=axes[1])
    axes[0].set_ylabel("input")
    return fig


def plot_voronoi(codebook, points=None, labels=None, ax: Axes | None = None, resolution: int = 300,
                 margin: float = 0.5, title: str | None = None, highlight_unused: bool = True,
                 extent: tuple[float, float, float, float] | None = None) -> Axes:
    """Voronoi cells of a 2-D codebook ``[K, 2]`` (nearest-codeword regions drawn on a grid), the
    codewords as black crosses and, optionally, data ``points [N, 2]`` coloured by ``labels``.
    Codes that no point maps to are circled in red (dead codes). The view is the codewords' and points'
    bounding box grown by ``margin``, or ``extent = (x0, x1, y0, y1)`` (a fixed view for a sequence of
    pictures)."""
    w = to_numpy(codebook).astype(np.float64)
    if w.ndim != 2 or w.shape[1] != 2:
        raise ValueError(f"codebook must be [K, 2] for a Voronoi picture, got shape {w.shape}")
    pts = None if points is None else to_numpy(points)
    ref = w if pts is None else np.concatenate([w, pts])
    lo, hi = ref.min(0) - margin, ref.max(0) + margin
    if extent is not None:
        lo, hi = np.array(extent[::2], dtype=np.float64), np.array(extent[1::2], dtype=np.float64)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1))
    cell = squared_distances(grid, torch.tensor(w)).argmin(1).numpy().reshape(gx.shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(cell, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="tab20", alpha=0.35,
              interpolation="nearest", aspect="auto")
    ax.contour(gx, gy, cell, levels=np.arange(len(w)) + 0.5, colors="k", linewidths=0.4)
    if pts is not None:
        colour = {"c": "0.3"} if labels is None else {"c": to_numpy(labels), "cmap": "tab10"}
        ax.scatter(pts[:, 0], pts[:, 1], s=5, **colour)
        if highlight_unused:
            used = np.bincount(squared_distances(torch.tensor(pts, dtype=torch.float64), torch.tensor(w))
                               .argmin(1).numpy(), minlength=len(w)) > 0
            ax.scatter(w[~used, 0], w[~used, 1], s=120, facecolors="none", edgecolors="red", linewidths=1.5,
                       label="dead code")
    ax.scatter(w[:, 0], w[:, 1], marker="x", c="k", s=40, label="codeword")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if title:
        ax.set_title(title)
    return ax


def plot_training_curves(histories: dict[str, object] | object, keys: Sequence[str] = ("recon", "perplexity"),
                         per: str = "steps", smooth: int = 10) -> Figure:
    """Training curves side by side, one panel per key (default: reconstruction error and perplexity).

    ``histories`` is a :class:`~vqlab.train.History` or a dict ``{label: History}`` to overlay runs.
    ``smooth`` is a moving-average window over steps.
    """
    if not isinstance(histories, dict):
        histories = {"": histories}
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for label, h in histories.items():
            ys = np.asarray(getattr(h, per).get(key, []), dtype=float)
            if ys.size == 0:
                continue
            if per == "steps" and smooth > 1 and ys.size >= smooth:
                ys = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
            ax.plot(ys, label=label or None)
        ax.set_title(key)
        ax.set_xlabel(per[:-1])
        if key == "recon":
            ax.set_yscale("log")
    if any(histories):
        axes[0, -1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_usage(counts, ax: Axes | None = None, title: str | None = None, sort: bool = True) -> Axes:
    """Bar chart of code usage counts ``[K]`` (sorted, most used first): collapse made visible."""
    c = to_numpy(counts).astype(float)
    c = np.sort(c)[::-1] if sort else c
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 2.5))
    ax.bar(np.arange(len(c)), c, width=1.0, color="tab:blue")
    ax.set_xlabel("code (sorted by use)" if sort else "code")
    ax.set_ylabel("count")
    used = int((c > 0).sum())
    ax.set_title(title or f"{used}/{len(c)} codes used")
    return ax


# ---- Notebook 03: t-SNE of latent representations (Wu & Flierl 2020, Fig. 4) ----

def tsne_embedding(z, seed: int = 0, perplexity: float = 30.0, max_iter: int = 500) -> np.ndarray:
    """Two-dimensional t-SNE (van der Maaten & Hinton 2008; scikit-learn, PCA initialisation) of
    representations ``z`` ``[N, ...]`` -> ``[N, 2]``. ``perplexity`` is capped below N."""
    from sklearn.manifold import TSNE


    a = to_numpy(z).reshape(len(z), -1).astype(np.float64)
    if len(a) < 3:
        raise ValueError(f"z needs at least 3 points for t-SNE, got shape {a.shape}")
    perp = min(check_float("perplexity", perplexity, 0.0, strict=True), (len(a) - 1) / 3)
    return TSNE(2, perplexity=perp, init="pca", random_state=check_int("seed", seed, 0),
                max_iter=check_int("max_iter", max_iter, 250)).fit_transform(a)


def plot_latent_tsne(latents: dict[str, object], labels, ncols: int = 3, seed: int = 0,
                     max_iter: int = 500, panel_size: float = 2.6) -> Figure:
    """One t-SNE panel per representation (``{title: z [N, ...]}``), points coloured by ``labels`` ``[N]``
    (the paper's Fig. 4 on the test set)."""
    if not latents:
        raise ValueError("latents must be a non-empty dict {title: [N, d] representations}")
    y = to_numpy(labels)
    n = len(latents)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows), squeeze=False)
    for ax, (title, z) in zip(axes.flat, latents.items()):
        if len(z) != len(y):
            raise ValueError(f"latents[{title!r}] has {len(z)} rows but labels has {len(y)}")
        e = tsne_embedding(z, seed=seed, max_iter=max_iter)
        ax.scatter(e[:, 0], e[:, 1], c=y, cmap="tab10", s=3, vmin=0, vmax=9)
        ax.set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


# ---- Experiment results (vqlab.experiments.Comparison) ----

def plot_rate_distortion(sweep, reference=None) -> Figure:
    """Notebook 02's digits rate-distortion picture from :func:`vqlab.experiments.ib_comparison` results:
    for every variant (seed mean) the VIB rate bound ``KL(q(Z|J) || uniform)`` (eq. 15, filled) and the
    rate ``I(J; Z)`` (eq. 13, open) against the test reconstruction error (the distortion term of eq. 18);
    ``reference`` variants are drawn as squares."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for result, marker in ((sweep, "o"), (reference, "s")):
        if result is None:
            continue
        for j, name in enumerate(result.values):
            d = result.mean(name, "recon")
            rb, mi = result.mean(name, "rate_bound"), result.mean(name, "mutual_information")
            ax.plot([d, d], [mi, rb], color="0.7", lw=1, zorder=1)
            ax.scatter([d], [rb], marker=marker, color="tab:red", zorder=2)
            ax.scatter([d], [mi], marker=marker, facecolors="none", edgecolors="tab:blue", zorder=2)
            above = marker == "o" and j % 2 == 0  # alternate label sides so neighbours do not overlap
            ax.annotate(name, (d, rb if above else mi), textcoords="offset points",
                        xytext=(4, 4) if above else (4, -10), fontsize=7)
    ax.scatter([], [], color="tab:red", label="rate bound KL(q(Z|J)||r), eq. 15")
    ax.scatter([], [], facecolors="none", edgecolors="tab:blue", label="rate I(J;Z), eq. 13")
    ax.set_xlabel("distortion: test reconstruction MSE")
    ax.set_ylabel("nats per image")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_latents(latents: dict[str, object], labels) -> Figure:
    """Notebook 05: 2-D test latents of each variant (``{name: z [N, 2]}``), coloured by digit, with the
    unit circle dashed."""
    y = to_numpy(labels)
    fig, axes = plt.subplots(1, len(latents), figsize=(2.5 * len(latents), 2.7), squeeze=False)
    for ax, (name, z) in zip(axes[0], latents.items()):
        z = to_numpy(z)
        ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=4, vmin=0, vmax=9)
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls="--", color="k", lw=0.8))
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_generated(samples: dict[str, object], n: int = 40, image_shape: tuple[int, int] = (8, 8)) -> Figure:
    """Notebook 05: the first ``n`` generated images of each variant (``{name: images [N, P]}``)."""
    fig, axes = plt.subplots(1, len(samples), figsize=(2.6 * len(samples), 2.4), squeeze=False)
    for ax, (name, imgs) in zip(axes[0], samples.items()):
        image_grid(imgs[:n], image_shape, ncols=8, ax=ax, title=name)
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


# ---- Persistence diagrams and the HC-VQ runs (notebooks 05, 06) ----

def plot_diagram(diagrams, ax: Axes | None = None, title: str | None = None, size: float = 10) -> Axes:
    """Draw persistence diagram(s) with ``persim.plot_diagrams`` on ``ax`` (a new figure if ``None``).

    ``diagrams`` is one ``[m, 2]`` array or a list of them (one per homology dimension); ``size`` is the
    marker size. Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    dgms = [np.asarray(d) for d in diagrams] if isinstance(diagrams, (list, tuple)) else np.asarray(diagrams)
    plot_diagrams(dgms, ax=ax, show=False, size=size)
    if title:
        ax.set_title(title)
    return ax


def _moving_average(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) < window:
        return y
    return np.convolve(y, np.ones(window) / window, mode="valid")


def plot_hcvq_runs(comparison, window: int = 10, axes=None) -> Figure:
    """Training curves of each arm of :func:`vqlab.experiments.hcvq_comparison` (mean over its seeds, one
    colour per arm): per-batch code-usage entropy (moving average over ``window`` steps), mu^0, beta^1 and
    the H1 persistent entropy of the codebook. Returns the figure."""
    if axes is None:
        _, axes = plt.subplots(1, 4, figsize=(12, 2.8))
    panels = [("usage entropy / batch [nats]", None), ("mu0", "mu0"), ("beta1", "beta1"),
              ("persistent entropy H1", "pe1")]
    for c, (name, trials) in enumerate(comparison.trials.items()):
        regs = [t.extra_losses[0] for t in trials]
        for ax, (label, key) in zip(axes, panels):
            if key is None:
                y = np.mean([np.log(t.history.steps["perplexity"]) for t in trials], 0)
                y = _moving_average(y, window)
                x = np.arange(len(y)) + (window - 1 if len(y) < len(trials[0].history.steps["loss"]) else 0)
            else:
                y = np.mean([r.history[key] for r in regs], 0)
                x = np.asarray(regs[0].history["step"])
                ok = np.isfinite(y)
                x, y = x[ok], y[ok]
            ax.plot(x, y, color=f"C{c}", label=name)
            ax.set_title(label, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
    axes[0].legend(fontsize=7)
    fig = axes[0].figure
    fig.tight_layout()
    return fig


def plot_usage_over_training(comparison, *, metric: str = "codes_used", window: int = 10,
                             ax: Axes | None = None) -> Axes:
    """Code usage during training for every variant of a :class:`vqlab.experiments.Comparison` (e.g.
    :func:`vqlab.experiments.scoreboard`): the mean over seeds of the per-step ``metric`` (``"codes_used"``:
    distinct codes in the batch, or ``"perplexity"``), divided by the variant's K
    (:func:`vqlab.experiments.usage_curves`) and smoothed by a moving average over ``window`` steps.
    One line per variant; returns the axes."""
    window = check_int("window", window)
    curves = usage_curves(comparison, metric=metric)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6))
    styles = ["-", "--", ":", "-."]
    for c, (name, y) in enumerate(curves.items()):
        smooth = _moving_average(y, window)
        steps = np.arange(len(smooth)) + (len(y) - len(smooth))
        ax.plot(steps, smooth, color=f"C{c % 10}", ls=styles[(c // 10) % len(styles)], lw=1.3, label=name)
    label = {"codes_used": "codes used per batch / K", "perplexity": "batch perplexity / K"}[metric]
    ax.set_xlabel("training step")
    ax.set_ylabel(label)
    ax.set_title(f"{label} (mean over seeds, moving average of {window} steps)", fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.figure.tight_layout()
    return ax


#: The parts of the course's recurring diagram, in the order data flows through them.
PIPELINE_PARTS = ("encoder", "posterior", "codebook", "decoder", "prior")


def plot_pipeline(highlight: Sequence[str] = (), *, caption: str | None = None, ax: Axes | None = None) -> Axes:
    """The course's recurring diagram: x -> encoder -> z_e(x) -> posterior q(k|x) over the codebook
    e_1..e_K -> z_q(x) -> decoder -> x̂, with the prior r(k) over codes below; each notebook shows it with
    the parts it is about in colour.

    Args:
        highlight: parts from :data:`PIPELINE_PARTS` to colour (the rest is drawn in grey).
        caption: a line under the diagram (e.g. what this notebook changes in the highlighted part).
        ax: where to draw (default: a new 9 x 2.4 inch figure).
    Returns:
        the axes.
    """
    highlight = tuple(highlight)
    for part in highlight:
        if part not in PIPELINE_PARTS:
            raise ValueError(f"highlight must name parts from {PIPELINE_PARTS}, got {part!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 3)
    ax.axis("off")
    boxes = {  # part: (x centre, y centre, label)
        "encoder": (1.9, 2.0, "encoder\n$z_e(x)$"),
        "posterior": (4.1, 2.0, "posterior\n$q(k\\mid x)$"),
        "codebook": (4.1, 0.7, "codebook\n$e_1,\\dots,e_K$"),
        "decoder": (6.6, 2.0, "decoder\n$p(x\\mid z_q)$"),
        "prior": (8.7, 0.7, "prior over codes\n$r(k)$"),
    }
    for part, (cx, cy, label) in boxes.items():
        on = part in highlight
        ax.text(cx, cy, label, ha="center", va="center", fontsize=10, color="black" if on else "0.55",
                bbox=dict(boxstyle="round,pad=0.45", fc="#ffd966" if on else "white",
                          ec="#b45f06" if on else "0.7", lw=2 if on else 1))
    arrow = dict(arrowstyle="->", color="0.35", lw=1.2)
    for (x0, y0), (x1, y1), label in [((0.4, 2.0), (1.15, 2.0), ""), ((2.65, 2.0), (3.25, 2.0), ""),
                                      ((4.95, 2.0), (5.75, 2.0), "$z_q(x)$"), ((7.45, 2.0), (8.3, 2.0), ""),
                                      ((4.1, 1.1), (4.1, 1.55), ""), ((7.75, 0.7), (5.0, 0.7), "")]:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow)
        if label:
            ax.text((x0 + x1) / 2, y0 + 0.3, label, ha="center", fontsize=10)
    ax.text(0.2, 2.0, "$x$", ha="center", va="center", fontsize=12)
    ax.text(8.6, 2.0, "$\\hat x$", ha="center", va="center", fontsize=12)
    ax.text(6.35, 0.85, "generation: sample $k \\sim r(k)$", ha="center", fontsize=8, color="0.4")
    if caption:
        ax.text(5.0, 2.95, caption, ha="center", va="top", fontsize=9, style="italic")
    return ax
