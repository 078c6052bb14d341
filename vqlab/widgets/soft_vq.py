"""Notebook 03 widgets: the Gaussian-mixture picture of a codebook, soft assignment regions and the
posterior-mean estimator on a 2-D codebook (Wu & Flierl 2020, arXiv:1905.11062, eqs. 4-7).
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

__all__ = ["SOFT_VQ_CODEBOOK", "MIXTURE_WIDTHS", "MixtureState", "mixture_state", "draw_mixture", "SoftVQState",
           "soft_vq_state", "draw_soft_vq", "soft_vq_widget"]


#: The default 2-D codebook of the notebook 03 widget (six codewords, K = 6).
SOFT_VQ_CODEBOOK = ((-1.0, -1.0), (1.0, -1.0), (0.0, 1.0), (-1.2, 0.6), (1.2, 0.5), (0.0, -0.2))
#: Unequal component widths sigma_k of the mixture picture, one per codeword of :data:`SOFT_VQ_CODEBOOK`.
MIXTURE_WIDTHS = (0.35, 0.5, 0.3, 0.45, 0.6, 0.25)


@dataclass
class MixtureState:
    """The Gaussian-mixture picture of a 2-D codebook (R = grid resolution, A = arrows).

    ``codebook [K, 2]`` the codewords e_k, ``widths [K]`` the component widths sigma_k; ``gx, gy [R, R]`` the
    grid of noisy codes z'_e; ``density [R, R]`` the mixture p(z'_e) = sum_k r(k) N(z'_e; e_k, sigma_k^2 I)
    with r(k) = 1/K (eqs. 4-5); ``posterior [R, R, K]`` q(k | z'_e) (eq. 7); ``starts [A, 2]`` a coarse grid
    and ``means [A, 2]`` the posterior means z_hat_q of its points (eq. 6).
    """

    codebook: np.ndarray
    widths: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    density: np.ndarray
    posterior: np.ndarray
    starts: np.ndarray
    means: np.ndarray


def mixture_state(widths=MIXTURE_WIDTHS, codebook=None, resolution: int = 100, arrows: int = 13,
                  extent: float = 2.0) -> MixtureState:
    """The mixture density, the posterior and the posterior means on a grid (no plotting, unit-tested).

    ``widths``: one sigma_k > 0 per codeword; ``codebook``: ``[K, 2]`` (default :data:`SOFT_VQ_CODEBOOK`);
    the grid covers ``[-extent, extent]^2`` with ``resolution`` points a side, the arrows ``arrows`` a side.
    Returns a :class:`MixtureState`.
    """
    extent = check_float("extent", extent, 0.0, strict=True)
    resolution = check_int("resolution", resolution, 2)
    arrows = check_int("arrows", arrows, 2)
    w = torch.tensor(SOFT_VQ_CODEBOOK if codebook is None else codebook, dtype=torch.float64)
    if w.ndim != 2 or w.shape[1] != 2 or len(w) < 1:
        raise ValueError(f"codebook must be [K, 2] with K >= 1, got shape {tuple(w.shape)}")
    sigma = torch.tensor(widths, dtype=torch.float64)
    if sigma.shape != (len(w),) or not (torch.isfinite(sigma).all() and (sigma > 0).all()):
        raise ValueError(f"widths must be {len(w)} positive numbers, one per codeword, got {widths!r}")
    log_var = 2.0 * sigma.log()

    ax = torch.linspace(-extent, extent, resolution, dtype=torch.float64)
    gy, gx = torch.meshgrid(ax, ax, indexing="ij")
    z = torch.stack([gx.ravel(), gy.ravel()], 1)
    log_component = (-0.5 * squared_distances(z, w) / sigma**2 - log_var - np.log(2 * np.pi))  # eq. 5, D = 2
    density = torch.logsumexp(log_component, 1).exp() / len(w)                                   # eq. 4
    coarse = torch.linspace(-extent, extent, arrows, dtype=torch.float64)
    cy, cx = torch.meshgrid(coarse, coarse, indexing="ij")
    starts = torch.stack([cx.ravel(), cy.ravel()], 1)
    return MixtureState(
        codebook=w.numpy(), widths=sigma.numpy(), gx=gx.numpy(), gy=gy.numpy(),
        density=density.reshape(gx.shape).numpy(),
        posterior=soft_vq_posterior(z, w, log_var).reshape(*gx.shape, len(w)).numpy(),
        starts=starts.numpy(), means=(soft_vq_posterior(starts, w, log_var) @ w).numpy(),
    )


def draw_mixture(state: MixtureState) -> Figure:
    """Three panels: the mixture density p(z'_e) with a circle of radius sigma_k around each codeword; the
    posterior q(k | z'_e) as a blend of the codewords' colours (a pure colour: one code is certain); and an
    arrow from each grid point z'_e to its posterior mean z_hat_q."""
    w, e = state.codebook, float(state.gx.max())
    colours = plt.get_cmap("tab10")(np.arange(len(w)) % 10)[:, :3]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.9))
    a0, a1, a2 = axes
    a0.contourf(state.gx, state.gy, state.density, levels=14, cmap="Greys")
    for (x, y), s, c in zip(w, state.widths, colours):
        a0.add_patch(plt.Circle((x, y), s, fill=False, color=c, lw=1.5))
    a0.set_title(r"mixture $p(z'_e)$ (eqs. 4-5), circles: $\sigma_k$", fontsize=9)
    a1.imshow(state.posterior @ colours, origin="lower", extent=(-e, e, -e, e), interpolation="bilinear")
    a1.set_title(r"posterior $q(k\mid z'_e)$ (eq. 7): colours blend", fontsize=9)
    a2.quiver(*state.starts.T, *(state.means - state.starts).T, angles="xy", scale_units="xy", scale=1,
              width=0.004, color="tab:blue")
    a2.set_title(r"$z'_e \to$ posterior mean $\hat z_q$ (eq. 6)", fontsize=9)
    for ax in axes:
        ax.scatter(*w.T, marker="x", c="k", s=40, zorder=5)
        ax.set_xlim(-e, e)
        ax.set_ylim(-e, e)
        ax.set_aspect("equal")
    a0.legend(handles=[plt.Line2D([], [], marker="x", color="k", ls="", label=r"codeword $e_k$")], fontsize=7,
              loc="lower right")
    fig.tight_layout()
    return fig


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
    ``z_e`` is observed through ``num_samples`` noisy copies ``z'_e = z_e + sigma_xi xi``, ``xi ~ N(0, I)``,
    ``sigma_xi = noise_std`` (seeded), each mapped to its posterior mean (eq. 6).

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
    a0.scatter(*w.T, marker="x", c="k", s=40, label=r"codeword $e_k$")
    a0.scatter(*state.probe, marker="*", c="red", s=120, label="$z_e$", zorder=5)
    a0.scatter(*state.hard, marker="s", facecolors="none", edgecolors="k", s=90, label="hard VQ", zorder=5)
    a0.scatter(*state.soft, marker="D", c="tab:blue", edgecolors="k", s=50, label="posterior mean", zorder=6)
    a0.axhline(state.probe[1], c="red", lw=0.6, ls=":")
    a0.set_xlim(-e, e)
    a0.set_ylim(-e, e)
    a0.set_aspect("equal")
    a0.set_title(rf"$\sigma_k$={state.sigma:.3g}, $\sigma_\xi$={state.noise_std:.3g}", fontsize=9)
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
    """Sliders for the component std sigma_k (log scale), the noise scale sigma_xi and the probe point,
    redrawing :func:`draw_soft_vq`."""
    def state(sigma, noise_std, probe_x, probe_y):
        return soft_vq_state(sigma, noise_std, (probe_x, probe_y), codebook)

    return slider_figure(
        state, draw_soft_vq,
        sigma=widgets.FloatLogSlider(value=0.4, base=10, min=-3, max=1, step=0.05, description="σ_k"),
        noise_std=widgets.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.02, description="σ_ξ"),
        probe_x=widgets.FloatSlider(value=0.3, min=-1.8, max=1.8, step=0.05, description="z_e x"),
        probe_y=widgets.FloatSlider(value=0.2, min=-1.8, max=1.8, step=0.05, description="z_e y"),
    )
