"""Notebook 00 widgets: the prerequisites as pictures before formulas.

* :func:`divergence_widget`: entropy, cross-entropy and the two KL divergences of two distributions over
  K codes;
* :func:`information_widget`: the posterior over codes ``q(k|x)`` of a 1-D toy at a temperature ``tau``,
  and what it does to ``H(Z)``, ``H(Z|X)`` and the mutual information ``I(X;Z)``;
* :func:`elbo_widget`: a 1-D linear-Gaussian VAE whose ``log p(x)``, ELBO and posterior are exact, so the
  gap ``log p(x) - ELBO = KL(q(z|x) || p(z|x))`` can be watched closing;
* :func:`straight_through_widget`: gradient descent on an encoder output through a 1-D quantizer, with the
  true gradient (zero almost everywhere) and with the straight-through estimator.

Symbols follow the course notation (book/notation.md); all information quantities are in nats.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from vqlab import losses
from vqlab._checks import check_float, check_int
from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["DivergenceState", "divergence_state", "draw_divergence", "divergence_widget",
           "InformationState", "information_state", "draw_information", "information_widget",
           "ElboState", "elbo_state", "draw_elbo", "elbo_widget",
           "StraightThroughState", "straight_through_state", "draw_straight_through", "straight_through_widget",
           "gaussian_kl", "linear_gaussian_posterior", "linear_gaussian_elbo"]


# ------------------------------------------------------------------ entropy, cross-entropy, KL
def _bump(num_codes: int, centre: float, width: float) -> torch.Tensor:
    """A distribution over codes 1..K: a Gaussian bump at ``centre`` of ``width`` (99 %) mixed with the
    uniform distribution (1 %), so that every code keeps some mass and every KL stays finite."""
    k = torch.arange(1, num_codes + 1, dtype=torch.float64)
    bump = torch.softmax(-0.5 * ((k - centre) / width) ** 2, 0)
    return 0.99 * bump + 0.01 / num_codes


@dataclass
class DivergenceState:
    """Two distributions over K codes and their information quantities (nats).

    ``codes [K]`` (1..K); ``p [K]`` a bump at code 3 of width 1, ``r [K]`` a bump ``shift`` codes to the
    right of width ``width``; ``entropy_p`` H(p), ``entropy_r`` H(r); ``cross_pr`` H(p, r) and ``cross_rp``
    H(r, p); ``kl_pr`` KL(p || r) and ``kl_rp`` KL(r || p); ``terms_pr [K]`` the summands p_k log(p_k / r_k)
    of KL(p || r); the slider values ``shift``, ``width``.
    """

    codes: np.ndarray
    p: np.ndarray
    r: np.ndarray
    entropy_p: float
    entropy_r: float
    cross_pr: float
    cross_rp: float
    kl_pr: float
    kl_rp: float
    terms_pr: np.ndarray
    shift: float
    width: float


def divergence_state(shift: float = 1.0, width: float = 2.0, num_codes: int = 8) -> DivergenceState:
    """Entropies, cross-entropies and both KL divergences of ``p`` (a bump at code 3, width 1) and ``r``
    (a bump ``shift`` codes further right, width ``width``) over ``num_codes`` codes (no plotting)."""
    shift = check_float("shift", shift)
    width = check_float("width", width, 0.0, strict=True)
    k = check_int("num_codes", num_codes, 2)
    p, r = _bump(k, 3.0, 1.0), _bump(k, 3.0 + shift, width)
    return DivergenceState(
        codes=np.arange(1, k + 1), p=p.numpy(), r=r.numpy(),
        entropy_p=float(losses.entropy(p)), entropy_r=float(losses.entropy(r)),
        cross_pr=float(losses.cross_entropy(p[None], r)), cross_rp=float(losses.cross_entropy(r[None], p)),
        kl_pr=float(losses.kl_divergence(p, r)), kl_rp=float(losses.kl_divergence(r, p)),
        terms_pr=(p * (p / r).log()).numpy(), shift=shift, width=width)


def draw_divergence(state: DivergenceState, fig: Figure | None = None) -> Figure:
    """Left: the two distributions as bars. Right: each cross-entropy as a stacked bar, the entropy of the
    first argument plus the KL divergence, for both orders: ``H(p, r) = H(p) + KL(p || r)``."""
    fig, (a0, a1), new = subplots(fig, 1, 2, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [1.3, 1]})
    w = 0.4
    a0.bar(state.codes - w / 2, state.p, w, color="tab:blue", label="$p$")
    a0.bar(state.codes + w / 2, state.r, w, color="tab:orange", label="$r$")
    a0.set_xticks(state.codes)
    a0.set_ylim(0, 1.05)
    a0.set_xlabel("code $k$")
    a0.set_ylabel("probability")
    a0.set_title(f"$H(p)$ = {state.entropy_p:.2f},  $H(r)$ = {state.entropy_r:.2f} nats", fontsize=9)
    a0.legend(fontsize=8)
    rows = [("$H(p, r)$", state.entropy_p, state.kl_pr, r"KL$(p\,\Vert\,r)$"),
            ("$H(r, p)$", state.entropy_r, state.kl_rp, r"KL$(r\,\Vert\,p)$")]
    for y, (label, h, kl, kl_label) in enumerate(rows):
        a1.barh(y, h, color="0.75", label="entropy of the first" if y == 0 else None)
        a1.barh(y, kl, left=h, color="tab:red", label="KL divergence" if y == 0 else None)
        a1.text(h + kl, y, f" {kl_label} = {kl:.2f}", va="center", fontsize=8)
    a1.set_yticks([0, 1], [r[0] for r in rows])
    a1.set_xlim(0, max(8.0, 1.6 * max(state.cross_pr, state.cross_rp)))
    a1.set_ylim(-0.6, 1.9)
    a1.set_xlabel("nats")
    a1.set_title("cross-entropy = entropy + KL", fontsize=9)
    a1.legend(fontsize=7, loc="upper right")
    if new:
        fig.tight_layout()
    return fig


def divergence_widget():
    """Sliders for the shift and the width of ``r``, redrawing :func:`draw_divergence`."""
    return slider_figure(
        divergence_state, draw_divergence,
        shift=widgets.FloatSlider(value=1.0, min=-2.0, max=5.0, step=0.25, description="shift of r"),
        width=widgets.FloatLogSlider(value=2.0, base=10, min=-1, max=1, step=0.05, description="width of r"),
    )


# -------------------------------------------------------------- the posterior over codes and I(X;Z)
#: The temperatures of the curve in :func:`draw_information` (log10 tau).
INFORMATION_LOG10_TAUS = np.linspace(-4.0, 1.0, 41)


def _information_terms(d: torch.Tensor, tau: float) -> tuple[torch.Tensor, dict[str, float]]:
    probs = gibbs_posterior(d, tau).exp()
    h_z = float(losses.entropy(losses.marginal(probs)))
    h_zx = float(losses.conditional_entropy(probs))
    return probs, {"H(Z)": h_z, "H(Z|X)": h_zx, "I(X;Z)": float(losses.mutual_information_iz(probs))}


@dataclass
class InformationState:
    """A 1-D toy: ``x [N]`` evenly spaced inputs on [0, 1] (p(x) = 1/N), ``codebook [K]`` codewords at the
    centres of K equal cells, ``probs [N, K]`` the posterior ``q(k|x) ∝ exp(-(x - e_k)^2 / tau)``;
    ``terms`` H(Z) of the code usage, H(Z|X) and I(X;Z) at ``tau`` (nats); ``curve`` the same for every tau
    of :data:`INFORMATION_LOG10_TAUS` (lists, plus ``"tau"``); the slider values ``tau``, ``num_codes``."""

    x: np.ndarray
    codebook: np.ndarray
    probs: np.ndarray
    terms: dict[str, float]
    curve: dict[str, list[float]]
    tau: float
    num_codes: int


def information_state(tau: float = 1e-2, num_codes: int = 4, num_points: int = 8) -> InformationState:
    """The posterior over codes of the 1-D toy at temperature ``tau`` and its information terms (no
    plotting). ``num_points`` inputs, ``num_codes`` codes; the posterior is
    :func:`vqlab.posteriors.gibbs_posterior` of the squared distances (notebook 02's EM posterior)."""
    tau = check_float("tau", tau, 0.0, strict=True)
    k = check_int("num_codes", num_codes)
    n = check_int("num_points", num_points)
    x = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    codebook = (torch.arange(k, dtype=torch.float64) + 0.5) / k
    d = squared_distances(x[:, None], codebook[:, None])
    probs, terms = _information_terms(d, tau)
    curve: dict[str, list[float]] = {"tau": list(10.0 ** INFORMATION_LOG10_TAUS)}
    for t in curve["tau"]:
        for name, value in _information_terms(d, t)[1].items():
            curve.setdefault(name, []).append(value)
    return InformationState(x=x.numpy(), codebook=codebook.numpy(), probs=probs.numpy(), terms=terms,
                            curve=curve, tau=tau, num_codes=k)


def draw_information(state: InformationState, fig: Figure | None = None) -> Figure:
    """Left: the posterior ``q(k|x)`` as a heat map (one column per input, one row per code). Right:
    ``H(Z)``, ``H(Z|X)`` and ``I(X;Z) = H(Z) - H(Z|X)`` against the temperature, the current one marked."""
    fig, (a0, a1), new = subplots(fig, 1, 2, figsize=(8.4, 3.2))
    n, k = state.probs.shape
    image = a0.imshow(state.probs.T, origin="lower", aspect="auto", cmap="Blues", vmin=0.0, vmax=1.0,
                      extent=(0.5, n + 0.5, 0.5, k + 0.5))
    if new:
        fig.colorbar(image, ax=a0, label="$q(k\\mid x)$")
    a0.set_xticks(np.arange(1, n + 1))
    a0.set_yticks(np.arange(1, k + 1))
    a0.set_xlabel("input $x_n$ (left to right on [0, 1])")
    a0.set_ylabel("code $k$")
    t = state.terms
    a0.set_title(rf"$\tau$ = {state.tau:.3g}:  $I(X;Z)$ = {t['I(X;Z)']:.2f} nats", fontsize=9)
    taus = state.curve["tau"]
    styles = {"H(Z)": ("0.4", "--"), "H(Z|X)": ("tab:orange", "-"), "I(X;Z)": ("tab:blue", "-")}
    labels = {"H(Z)": "$H(Z)$", "H(Z|X)": "$H(Z\\mid X)$", "I(X;Z)": "$I(X;Z)$"}
    for name, (colour, ls) in styles.items():
        a1.plot(taus, state.curve[name], c=colour, ls=ls, label=labels[name])
        a1.scatter([state.tau], [t[name]], c=colour, s=25, zorder=3)
    a1.axhline(math.log(k), c="k", lw=0.6, ls=":", label="$\\log K$")
    a1.set_xscale("log")
    a1.set_xlim(taus[0], taus[-1])
    a1.set_ylim(-0.05, math.log(k) * 1.15 + 0.05)
    a1.set_xlabel(r"temperature $\tau$")
    a1.set_ylabel("nats")
    a1.legend(fontsize=7, loc="center left")
    if new:
        fig.tight_layout()
    return fig


def information_widget():
    """Sliders for the temperature (log scale) and the number of codes, redrawing :func:`draw_information`."""
    return slider_figure(
        information_state, draw_information,
        tau=widgets.FloatLogSlider(value=1e-2, base=10, min=-4, max=1, step=0.1, description="τ"),
        num_codes=widgets.IntSlider(value=4, min=1, max=8, description="K"),
    )


# ---------------------------------------------------------------- a VAE whose every term is exact
def _gaussian_log_density(x: float | np.ndarray, mean: float | np.ndarray, var: float | np.ndarray):
    """``log N(x; mean, var)`` (elementwise)."""
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


def gaussian_kl(mean_q: float, var_q: float, mean_p: float, var_p: float) -> float:
    """``KL(N(mean_q, var_q) || N(mean_p, var_p))`` of two 1-D Gaussians (nats)."""
    mean_q, mean_p = check_float("mean_q", mean_q), check_float("mean_p", mean_p)
    var_q, var_p = check_float("var_q", var_q, 0.0, strict=True), check_float("var_p", var_p, 0.0, strict=True)
    return 0.5 * (np.log(var_p / var_q) + (var_q + (mean_q - mean_p) ** 2) / var_p - 1.0)


def linear_gaussian_posterior(x: float, a: float, s: float) -> tuple[float, float]:
    """Mean and variance of ``p(z|x)`` for the prior ``p(z) = N(0, 1)`` and the decoder
    ``p(x|z) = N(a z, s^2)`` (Bayes' rule for Gaussians): ``(a x / (a^2 + s^2), s^2 / (a^2 + s^2))``."""
    x, a, s = check_float("x", x), check_float("a", a), check_float("s", s, 0.0, strict=True)
    return a * x / (a * a + s * s), s * s / (a * a + s * s)


def linear_gaussian_elbo(x: float, mean: float, var: float, a: float, s: float) -> tuple[float, float]:
    """``(E_q log p(x|z), KL(q || p(z)))`` for ``q(z|x) = N(mean, var)`` in the model of
    :func:`linear_gaussian_posterior`, in closed form; the ELBO is their difference."""
    x, mean, a = check_float("x", x), check_float("mean", mean), check_float("a", a)
    var, s = check_float("var", var, 0.0, strict=True), check_float("s", s, 0.0, strict=True)
    recon = -0.5 * np.log(2 * np.pi * s * s) - ((x - a * mean) ** 2 + a * a * var) / (2 * s * s)
    return float(recon), float(gaussian_kl(mean, var, 0.0, 1.0))


@dataclass
class ElboState:
    """The 1-D VAE ``p(z) = N(0, 1)``, ``p(x|z) = N(a z, s^2)`` at one observed ``x`` and one encoder
    ``q(z|x) = N(mean, std^2)`` (all exact, nats): ``log_px`` log p(x) = log N(x; 0, a^2 + s^2);
    ``recon`` E_q log p(x|z); ``kl_prior`` KL(q || p(z)); ``elbo`` = recon - kl_prior; ``gap`` = log_px -
    elbo = KL(q || p(z|x)) (``kl_posterior``, computed separately); ``post_mean``, ``post_var`` the true
    posterior; ``z [R]`` a grid with the densities ``prior``, ``posterior``, ``q`` on it; the slider values
    ``mean``, ``std``, ``x``, and ``a``, ``s``."""

    log_px: float
    recon: float
    kl_prior: float
    elbo: float
    gap: float
    kl_posterior: float
    post_mean: float
    post_var: float
    z: np.ndarray
    prior: np.ndarray
    posterior: np.ndarray
    q: np.ndarray
    mean: float
    std: float
    x: float
    a: float
    s: float


def elbo_state(mean: float = 0.0, std: float = 1.0, x: float = 1.5, a: float = 1.0, s: float = 0.5,
               resolution: int = 241) -> ElboState:
    """Every term of the ELBO of the 1-D linear-Gaussian VAE at the encoder ``N(mean, std^2)`` (no
    plotting); see :class:`ElboState`."""
    mean, x, a = check_float("mean", mean), check_float("x", x), check_float("a", a)
    std, s = check_float("std", std, 0.0, strict=True), check_float("s", s, 0.0, strict=True)
    var = std * std
    post_mean, post_var = linear_gaussian_posterior(x, a, s)
    recon, kl_prior = linear_gaussian_elbo(x, mean, var, a, s)
    log_px = float(_gaussian_log_density(x, 0.0, a * a + s * s))
    z = np.linspace(-4.0, 4.0, check_int("resolution", resolution, 2))
    return ElboState(log_px=log_px, recon=recon, kl_prior=kl_prior, elbo=recon - kl_prior,
                     gap=log_px - (recon - kl_prior), kl_posterior=float(gaussian_kl(mean, var, post_mean, post_var)),
                     post_mean=post_mean, post_var=post_var, z=z,
                     prior=np.exp(_gaussian_log_density(z, 0.0, 1.0)),
                     posterior=np.exp(_gaussian_log_density(z, post_mean, post_var)),
                     q=np.exp(_gaussian_log_density(z, mean, var)), mean=mean, std=std, x=x, a=a, s=s)


def draw_elbo(state: ElboState, fig: Figure | None = None) -> Figure:
    """Left: the prior ``p(z)``, the true posterior ``p(z|x)`` and the encoder ``q(z|x)`` over ``z``.
    Right: the ELBO's two terms, the ELBO, and ``log p(x)`` (a line) with the gap between them,
    ``KL(q || p(z|x))``."""
    fig, (a0, a1), new = subplots(fig, 1, 2, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [1.4, 1]})
    a0.plot(state.z, state.prior, c="0.5", ls="--", label="prior $p(z)$")
    a0.plot(state.z, state.posterior, c="k", lw=1.5, label=r"posterior $p(z\mid x)$")
    a0.fill_between(state.z, state.q, color="tab:blue", alpha=0.3, label=r"encoder $q(z\mid x)$")
    a0.set_xlim(state.z[0], state.z[-1])
    a0.set_ylim(0, max(2.0, 1.1 * float(max(state.posterior.max(), min(state.q.max(), 6.0)))))
    a0.set_xlabel("$z$")
    a0.set_title(f"x = {state.x:.2f}: posterior N({state.post_mean:.2f}, {state.post_var:.2f})", fontsize=9)
    a0.legend(fontsize=7, loc="upper left")
    bars = [state.recon, -state.kl_prior, state.elbo]
    a1.bar([0, 1, 2], bars, color=["0.6", "0.8", "tab:blue"], width=0.6)
    a1.bar([2.42], [state.gap], bottom=state.elbo, color="tab:red", width=0.16,
           label=r"gap = KL$(q\,\Vert\,p(z\mid x))$")
    a1.axhline(state.log_px, c="k", lw=1.2, label=r"$\log p(x)$")
    a1.axhline(0.0, c="k", lw=0.5)
    a1.set_xticks([0, 1, 2], [r"$E_q \log p(x\mid z)$", r"$-$KL$(q\,\Vert\,p(z))$", "ELBO"], fontsize=8)
    a1.set_xlim(-0.6, 2.7)
    a1.set_ylim(min(min(bars), state.log_px) * 1.15 - 0.5, 0.5)
    a1.set_ylabel("nats")
    a1.set_title(f"ELBO = {state.elbo:.2f},  log p(x) = {state.log_px:.2f}", fontsize=9)
    a1.legend(fontsize=7, loc="lower right")
    if new:
        fig.tight_layout()
    return fig


def elbo_widget():
    """Sliders for the encoder's mean and standard deviation and the observed ``x``, redrawing
    :func:`draw_elbo`."""
    return slider_figure(
        lambda mean, std, x: elbo_state(mean, std, x), draw_elbo,
        mean=widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.05, description="mean of q"),
        std=widgets.FloatLogSlider(value=1.0, base=10, min=-1.5, max=0.5, step=0.05, description="std of q"),
        x=widgets.FloatSlider(value=1.5, min=-3.0, max=3.0, step=0.1, description="observed x"),
    )


# ----------------------------------------------------------------- straight-through through a quantizer
#: The 1-D codebook of :func:`straight_through_state`.
STRAIGHT_THROUGH_CODEBOOK = (-1.5, -0.5, 0.5, 1.5)


@dataclass
class StraightThroughState:
    """Gradient descent on one encoder output ``z`` through the 1-D quantizer ``z_q(z)`` = the nearest
    codeword, minimising ``(z_q(z) - target)^2``. ``codebook [K]``; ``grid [R]`` with ``staircase [R]``
    = z_q and ``loss [R]``; ``path_true [T+1]`` and ``path_st [T+1]`` the values of z after each step with
    the true gradient (autograd through the codebook lookup: zero) and with the straight-through estimator
    ``z_q = z + sg(e_k - z)``; ``grads_st [T]`` the straight-through gradients; the slider values ``z0``,
    ``target``, ``lr``."""

    codebook: np.ndarray
    grid: np.ndarray
    staircase: np.ndarray
    loss: np.ndarray
    path_true: np.ndarray
    path_st: np.ndarray
    grads_st: np.ndarray
    z0: float
    target: float
    lr: float


def _quantize_1d(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """The nearest codeword of each entry of ``z`` (no gradient reaches ``z`` through the lookup)."""
    return codebook[(z[..., None] - codebook).abs().argmin(-1)]


def straight_through_state(z0: float = -1.2, target: float = 1.2, lr: float = 0.2, steps: int = 20,
                           codebook=None) -> StraightThroughState:
    """Run ``steps`` gradient steps of size ``lr`` from ``z0`` with both gradients (no plotting)."""
    z0, target = check_float("z0", z0), check_float("target", target)
    lr, steps = check_float("lr", lr, 0.0, strict=True), check_int("steps", steps)
    w = torch.tensor(STRAIGHT_THROUGH_CODEBOOK if codebook is None else codebook, dtype=torch.float64)
    if w.ndim != 1 or len(w) < 1:
        raise ValueError(f"codebook must be a 1-D list of codewords, got shape {tuple(w.shape)}")
    paths, grads_st = {}, []
    for name in ("true", "st"):
        z = torch.tensor(z0, dtype=torch.float64, requires_grad=True)
        path = [z0]
        for _ in range(steps):
            z_q = _quantize_1d(z, w)
            if name == "st":
                z_q = z + (z_q - z).detach()
            loss = (z_q - target) ** 2
            # the lookup alone leaves autograd no path from z to the loss: the true gradient is 0
            grad = torch.autograd.grad(loss, z)[0] if loss.requires_grad else torch.zeros_like(z)
            if name == "st":
                grads_st.append(float(grad))
            with torch.no_grad():
                z -= lr * grad
            path.append(float(z.detach()))
        paths[name] = np.array(path)
    grid = torch.linspace(min(-2.5, z0 - 0.5), max(2.5, z0 + 0.5), 501, dtype=torch.float64)
    staircase = _quantize_1d(grid, w)
    return StraightThroughState(codebook=w.numpy(), grid=grid.numpy(), staircase=staircase.numpy(),
                                loss=((staircase - target) ** 2).numpy(), path_true=paths["true"],
                                path_st=paths["st"], grads_st=np.array(grads_st), z0=z0, target=target, lr=lr)


def draw_straight_through(state: StraightThroughState, fig: Figure | None = None) -> Figure:
    """Left: the quantizer's staircase ``z_q(z)``, the loss ``(z_q - target)^2`` (flat on every cell) and
    where the straight-through steps went. Right: ``z`` after each step, true gradient against
    straight-through."""
    fig, (a0, a1), new = subplots(fig, 1, 2, figsize=(8.4, 3.2))
    a0.plot(state.grid, state.staircase, c="k", lw=1.2, label="$z_q(z)$")
    a0.plot(state.grid, state.loss, c="tab:red", lw=1.0, label="loss $(z_q - t)^2$")
    a0.axhline(state.target, c="tab:green", lw=0.8, ls=":", label="target $t$")
    st_q = state.staircase[np.abs(state.grid[:, None] - state.path_st).argmin(0)]
    a0.scatter(state.path_st, st_q, c=np.arange(len(state.path_st)), cmap="viridis", s=18, zorder=3,
               label="straight-through steps")
    a0.set_xlim(state.grid[0], state.grid[-1])
    a0.set_ylim(-2.0, 4.0)
    a0.set_xlabel("encoder output $z$")
    a0.set_title("the loss is flat on each cell: its true gradient is 0", fontsize=9)
    a0.legend(fontsize=7, loc="upper left")
    steps = np.arange(len(state.path_st))
    a1.plot(steps, state.path_true, c="0.4", ls="--", marker="o", ms=3, label="true gradient")
    a1.plot(steps, state.path_st, c="tab:blue", marker="o", ms=3, label="straight-through")
    for e in state.codebook:
        a1.axhline(e, c="k", lw=0.4, ls=":")
    a1.set_xlim(0, steps[-1])
    a1.set_ylim(state.grid[0], state.grid[-1])
    a1.set_xlabel("step")
    a1.set_ylabel("$z$")
    a1.set_title(f"start z = {state.z0:.2f}, target t = {state.target:.2f}, lr = {state.lr:.2f}", fontsize=9)
    a1.legend(fontsize=7, loc="lower right")
    if new:
        fig.tight_layout()
    return fig


def straight_through_widget():
    """Sliders for the start, the target and the step size, redrawing :func:`draw_straight_through`."""
    return slider_figure(
        lambda z0, target, lr: straight_through_state(z0, target, lr), draw_straight_through,
        z0=widgets.FloatSlider(value=-1.2, min=-2.0, max=2.0, step=0.05, description="start z"),
        target=widgets.FloatSlider(value=1.2, min=-2.0, max=2.0, step=0.05, description="target t"),
        lr=widgets.FloatLogSlider(value=0.2, base=10, min=-2, max=0, step=0.1, description="step size"),
    )
