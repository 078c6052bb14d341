"""Notebook 03 widgets: soft assignment regions and the posterior-mean estimator on a 2-D codebook.
"""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from vqlab._checks import check_float, check_int
from vqlab.posteriors import soft_vq_posterior, squared_distances
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["SOFT_VQ_CODEBOOK", "SoftVQState", "soft_vq_state", "draw_soft_vq", "soft_vq_widget"]


#: The default 2-D codebook of the notebook 03 widget (six codewords, K = 6).
SOFT_VQ_CODEBOOK = ((-1.0, -1.0), (1.0, -1.0), (0.0, 1.0), (-1.2, 0.6), (1.2, 0.5), (0.0, -0.2))


@dataclass
class SoftVQState:
    """What the soft-VQ widget shows for one setting of the sliders (R = grid resolution, S = samples).

    ``codebook [K, 2]``; ``gx, gy [R, R]`` the grid; ``region [R, R]`` the most probable code and
    ``confidence [R, R]`` its posterior probability (1 = hard VQ cell, 1/K = uniform); ``probe [2]`` and
    ``probs_probe [K]`` the posterior at the noiseless probe; ``hard [2]`` its nearest codeword (eq. 1) and
    ``soft [2]`` its posterior mean (eq. 6); ``noisy [S, 2]`` noisy observations and ``noisy_est [S, 2]``
    their posterior means; ``slice_x [R]`` and ``slice_soft``/``slice_hard [R, 2]`` both estimators along
    the horizontal line through the probe; ``log_var`` the common ``log sigma^2``; the slider values
    ``sigma`` and ``noise_std``.
    """

    codebook: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    region: np.ndarray
    confidence: np.ndarray
    probe: np.ndarray
    probs_probe: np.ndarray
    hard: np.ndarray
    soft: np.ndarray
    noisy: np.ndarray
    noisy_est: np.ndarray
    slice_x: np.ndarray
    slice_soft: np.ndarray
    slice_hard: np.ndarray
    log_var: float
    sigma: float
    noise_std: float


def soft_vq_state(sigma: float = 0.4, noise_std: float = 0.2, probe: tuple[float, float] = (0.3, 0.2),
                  codebook=None, num_samples: int = 200, resolution: int = 120, extent: float = 2.0,
                  seed: int = 0) -> SoftVQState:
    """Everything the soft-VQ widget shows, for one setting of the sliders (no plotting, unit-tested).

    All K components share the std ``sigma`` (so eq. 5's normalisation cancels in eq. 7); the probe
    ``z_e`` is observed through ``num_samples`` noisy copies ``z'_e = z_e + eps``,
    ``eps ~ N(0, noise_std^2 I)`` (seeded), each mapped to its posterior mean (eq. 6).

    Returns a :class:`SoftVQState`.
    """
    sigma = check_float("sigma", sigma, 0.0, strict=True)
    noise_std = check_float("noise_std", noise_std, 0.0)
    extent = check_float("extent", extent, 0.0, strict=True)
    num_samples = check_int("num_samples", num_samples)
    resolution = check_int("resolution", resolution, 2)
    w = torch.tensor(SOFT_VQ_CODEBOOK if codebook is None else codebook, dtype=torch.float64)
    if w.ndim != 2 or w.shape[1] != 2 or len(w) < 1:
        raise ValueError(f"codebook must be [K, 2] with K >= 1, got shape {tuple(w.shape)}")
    p = torch.tensor(probe, dtype=torch.float64)
    if p.shape != (2,) or not torch.isfinite(p).all():
        raise ValueError(f"probe must be a finite point (x, y), got {probe!r}")
    log_var = 2.0 * np.log(sigma)

    def post(z):
        return soft_vq_posterior(z, w, float(log_var))

    ax = torch.linspace(-extent, extent, resolution, dtype=torch.float64)
    gy, gx = torch.meshgrid(ax, ax, indexing="ij")
    grid_probs = post(torch.stack([gx.ravel(), gy.ravel()], 1))
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    noisy = p + noise_std * torch.randn(num_samples, 2, generator=gen, dtype=torch.float64)
    line = torch.stack([ax, torch.full_like(ax, float(p[1]))], 1)
    probs_probe = post(p[None])[0]
    return SoftVQState(
        codebook=w.numpy(), gx=gx.numpy(), gy=gy.numpy(),
        region=grid_probs.argmax(1).reshape(gx.shape).numpy(),
        confidence=grid_probs.max(1).values.reshape(gx.shape).numpy(),
        probe=p.numpy(), probs_probe=probs_probe.numpy(),
        hard=w[squared_distances(p[None], w).argmin()].numpy(), soft=(probs_probe @ w).numpy(),
        noisy=noisy.numpy(), noisy_est=(post(noisy) @ w).numpy(),
        slice_x=ax.numpy(), slice_soft=(post(line) @ w).numpy(),
        slice_hard=w[squared_distances(line, w).argmin(1)].numpy(),
        log_var=float(log_var), sigma=sigma, noise_std=noise_std,
    )


def draw_soft_vq(state: SoftVQState, fig: Figure | None = None) -> Figure:
    """Left: soft assignment regions (colour = most probable code, strength = its posterior probability),
    the probe, its noisy copies (grey) and their posterior means (blue), the hard-VQ output (black square)
    and the posterior mean at the probe (blue diamond). Right: the first coordinate of both estimators
    along the horizontal line through the probe: a staircase for hard VQ, a smooth curve for soft VQ.
    ``fig``: a figure drawn by this function before, to draw ``state`` into (the widget's redraw)."""
    w, e = state.codebook, float(state.slice_x[-1])
    fig, (a0, a1), new = subplots(fig, 1, 2, figsize=(8.4, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    colours = plt.get_cmap("tab10")(np.arange(len(w)) % 10)[:, :3]
    rgb = colours[state.region]
    k = len(w)
    strength = (state.confidence - 1.0 / k) / max(1e-12, 1.0 - 1.0 / k) if k > 1 else state.confidence
    a0.imshow(1.0 - strength[..., None] * (1.0 - rgb) * 0.6, origin="lower", extent=(-e, e, -e, e),
              interpolation="nearest")
    a0.scatter(*state.noisy.T, s=7, c="0.45", alpha=0.6, label="noisy $z'_e$")
    a0.scatter(*state.noisy_est.T, s=3, c="tab:blue", label=r"$\hat z_q(z'_e)$")
    a0.scatter(*w.T, marker="x", c="k", s=40, label=r"codeword $\mu_k$")
    a0.scatter(*state.probe, marker="*", c="red", s=120, label="$z_e$", zorder=5)
    a0.scatter(*state.hard, marker="s", facecolors="none", edgecolors="k", s=90, label="hard VQ", zorder=5)
    a0.scatter(*state.soft, marker="D", c="tab:blue", edgecolors="k", s=50, label="posterior mean", zorder=6)
    a0.axhline(state.probe[1], c="red", lw=0.6, ls=":")
    a0.set_xlim(-e, e)
    a0.set_ylim(-e, e)
    a0.set_aspect("equal")
    a0.set_title(rf"$\sigma_k$={state.sigma:.3g}, $\sigma_\epsilon$={state.noise_std:.3g}", fontsize=9)
    a0.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=3, frameon=False)
    a1.plot(state.slice_x, state.slice_hard[:, 0], c="k", lw=1.2, label="hard VQ (eq. 1)")
    a1.plot(state.slice_x, state.slice_soft[:, 0], c="tab:blue", lw=1.5, label="posterior mean (eq. 6)")
    a1.plot(state.slice_x, state.slice_x, c="0.7", lw=0.8, ls="--", label="identity")
    a1.set_xlabel("first coordinate of the input")
    a1.set_ylabel("first coordinate of the output")
    a1.set_title("along the dotted line", fontsize=9)
    a1.legend(fontsize=7)
    if new:
        fig.tight_layout()
    return fig


def soft_vq_widget(codebook=None):
    """Sliders for the component std sigma_k (log scale), the noise std sigma_eps and the probe point,
    redrawing :func:`draw_soft_vq`."""
    def state(sigma, noise_std, probe_x, probe_y):
        return soft_vq_state(sigma, noise_std, (probe_x, probe_y), codebook)

    return slider_figure(
        state, draw_soft_vq,
        sigma=widgets.FloatLogSlider(value=0.4, base=10, min=-3, max=1, step=0.05, description="σ_k"),
        noise_std=widgets.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.02, description="σ_ε"),
        probe_x=widgets.FloatSlider(value=0.3, min=-1.8, max=1.8, step=0.05, description="z_e x"),
        probe_y=widgets.FloatSlider(value=0.2, min=-1.8, max=1.8, step=0.05, description="z_e y"),
    )
