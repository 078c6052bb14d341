"""Widget logic and builders for the notebooks.

Pattern: every widget has a plain, unit-tested *state* function that takes the slider values and
returns the numbers and arrays to show (no ipywidgets involved), a *draw* function that turns that
state into a matplotlib figure, and a small *builder* that wires sliders to the draw function with
``ipywidgets.interactive``. Notebooks call the builder (and the draw function once with default values,
so a static figure is stored in the notebook for readers on GitHub).

The notebooks' experiment drivers (build models, train them over seeds, tabulate) live in
:mod:`vqlab.experiments`; the draw functions for their results are here. Sections below are grouped by
notebook.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.collections import LineCollection, PolyCollection
from torch import Tensor, nn

from vqlab import losses, topology
from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.clustering import dead_units, fuzzy_cmeans, init_prototypes, kmeans, neural_gas
from vqlab.data import TOY_SETS, load_digits, make_toy
from vqlab.experiments import IBComparison, LatentComparison
from vqlab.hcvq import train_hcvq
from vqlab.metrics import perplexity
from vqlab.models import VQVAE
from vqlab.plotting import image_grid, plot_voronoi
from vqlab.priors import GatedPixelCNN, masked_conv_stack, receptive_field
from vqlab.posteriors import (distance_ranks, fuzzy_cmeans_posterior, gibbs_posterior, neural_gas_posterior,
                              soft_vq_posterior, squared_distances)
from vqlab.quantizers import VectorQuantizer
from vqlab.train import seed_everything, train

__all__ = [
    # notebook 01
    "vq_distortion", "ToyVQState", "toy_vq_model", "toy_vq_state", "draw_toy_vq", "toy_vq_explorer",
    "CodeBrowserState", "code_browser_state", "draw_code_browser", "code_browser",
    # notebook 02
    "IB_TOY_LOG10_TAUS", "IBToyState", "ib_toy_state", "draw_ib_toy", "ib_toy_explorer",
    "draw_rate_distortion",
    # notebook 03
    "SOFT_VQ_CODEBOOK", "soft_vq_state", "draw_soft_vq", "soft_vq_widget",
    # notebook 04
    "NGFCMState", "ng_fcm_state", "draw_ng_fcm", "ng_fcm_explorer", "AnnealingState", "ng_annealing_state",
    "draw_ng_annealing", "ng_annealing_stepper",
    # notebook 05
    "RIPS_CLOUDS", "RipsState", "rips_cloud", "rips_state", "draw_rips", "rips_explorer", "DeathAscentState",
    "death_ascent", "draw_death_ascent", "death_ascent_stepper", "draw_latents", "draw_generated",
    # notebook 06
    "HCVQWidgetState", "hcvq_state", "draw_hcvq", "hcvq_explorer",
    # notebook 07
    "RF_MASKS", "receptive_field_state", "draw_receptive_field", "receptive_field_explorer",
    "prior_samples_state", "draw_prior_samples", "temperature_explorer", "completion_state", "draw_completion",
    "completion_explorer",
]


# ---- Notebook 01: vector quantization and the VQ-VAE ----------------------------------------------
# The eq. 4.2 distortion, the 2-D toy VQ-VAE explorer and the digits code browser (Lloyd's k-means is
# vqlab.clustering.kmeans; the digits experiments are in vqlab.experiments).
# Equations refer to ../shared/papers/vq-vae-with-neural-gas-and-fuzzy-c-means.md ("the thesis").


def vq_distortion(z: Tensor, codebook: Tensor) -> tuple[Tensor, float]:
    """Hard assignments and the mean distortion of a codebook (thesis eq. 4.2, divided by N).

    ``gamma(z_n) = argmin_k ||z_n - w_k||^2`` and ``E = (1/N) sum_n ||z_n - w_gamma(z_n)||^2``; this is
    eq. 4.1 with the one-hot (k-means) posterior ``q(k | z_n) = 1[k = gamma(z_n)]``.

    Args:
        z: ``[N, D]`` points. codebook: ``[K, D]``.
    Returns:
        ``(assignments [N] long, distortion)``.
    """
    z = check_tensor("z", z, ndim=2)
    codebook = check_tensor("codebook", codebook, ndim=2, last_dim=z.shape[1])
    d = squared_distances(z.detach(), codebook.detach())
    best, assign = d.min(1)
    return assign, float(best.mean())


def _linear_identity(dim: int) -> nn.Linear:
    layer = nn.Linear(dim, dim)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(dim))
        layer.bias.zero_()
    return layer


@dataclass
class ToyVQState:
    """What the 2-D toy explorer shows (all tensors detached).

    Attributes:
        points: ``[N, 2]`` data x. labels: ``[N]`` toy-set labels (colours only).
        z_e: ``[N, 2]`` encoder outputs, the space the codebook lives in.
        codebook: ``[K, 2]``. assignments: ``[N]`` ``gamma(z_e)``.
        distortion: eq. 4.2 / N in latent space, ``mean ||z_e - w_gamma||^2``.
        relative_distortion: ``distortion / mean ||z_e - mean(z_e)||^2``: the fraction of the latent
            spread the codebook does not explain (scale-free, 1 for a single code at the mean).
        codes_used: distinct codes among the assignments. perplexity: of the code usage.
        recon: mean squared reconstruction error of the VQ-VAE on the points.
        curve: ``relative_distortion`` before training and after every step (length ``steps + 1``).
        latent_scale: root mean square of ``z_e`` (the commitment loss keeps it from growing).
    """

    points: Tensor
    labels: Tensor
    z_e: Tensor
    codebook: Tensor
    assignments: Tensor
    distortion: float
    relative_distortion: float
    codes_used: int
    perplexity: float
    recon: float
    curve: list[float] = field(default_factory=list)
    latent_scale: float = 0.0
    settings: dict = field(default_factory=dict)


def toy_vq_model(num_codes: int, beta: float = 0.25, init: str = "uniform", seed: int = 0):
    """The smallest VQ-VAE: linear 2->2 encoder and decoder (both initialised to the identity) around a
    :class:`~vqlab.quantizers.VectorQuantizer` with ``num_codes`` 2-D codewords (thesis eq. 5.5).

    Because the encoder is trainable, beta matters: the commitment loss (eq. 5.2) pulls the encoder
    outputs towards their codewords; with beta = 0 nothing stops the latent cloud from drifting/growing.
    """
    quantizer = VectorQuantizer(num_codes, 2, beta=beta, init=init, seed=seed)
    return VQVAE(_linear_identity(2), quantizer, _linear_identity(2))


def _relative_distortion(z: Tensor, codebook: Tensor) -> tuple[Tensor, float, float]:
    assign, dist = vq_distortion(z, codebook)
    spread = float((z - z.mean(0)).pow(2).sum(1).mean())
    return assign, dist, dist / spread if spread > 0 else 0.0


def toy_vq_state(num_codes: int = 8, beta: float = 0.25, steps: int = 100, dataset: str = "blobs",
                 seed: int = 0, n: int = 300, lr: float = 0.05, init: str = "uniform") -> ToyVQState:
    """Train :func:`toy_vq_model` on a 2-D toy set and return what the explorer draws.

    Training uses :func:`vqlab.train.train` with full batches, so ``steps`` is the number of Adam
    steps (``steps=0`` shows the initial codebook; with ``init="kmeans++"`` the codebook is seeded from
    the encoded points first). Any K >= 1 works, also K > n (then some codes must stay unused).

    Args:
        num_codes: K >= 1. beta: commitment weight >= 0. steps: >= 0. dataset: one of
        :data:`vqlab.data.TOY_SETS`. seed: data and model seed. n: points >= 2. lr: Adam step size > 0.
        init: ``"uniform"`` (VQ-VAE default, all codewords near the origin) or ``"kmeans++"``.
    """
    check_int("num_codes", num_codes)
    check_float("beta", beta, 0.0)
    check_int("steps", steps, 0)
    check_choice("dataset", dataset, TOY_SETS)
    check_int("seed", seed, 0)
    check_int("n", n, 2)
    check_float("lr", lr, 0.0, strict=True)
    check_choice("init", init, ("uniform", "kmeans++"))
    x, y = make_toy(dataset, n, seed=seed)
    seed_everything(seed)
    model = toy_vq_model(num_codes, beta, init, seed)
    with torch.no_grad():  # a training-mode pass seeds a k-means++ codebook (no-op for "uniform")
        model.quantizer.train()(model.encode(x))
    curve = [_relative_distortion(model.encode(x).detach(), model.quantizer.codebook)[2]]

    def log_distortion(m, step):
        curve.append(_relative_distortion(m.encode(x).detach(), m.quantizer.codebook)[2])
        return {}

    train(model, x, epochs=steps, batch_size=n, lr=lr, seed=seed, callbacks=[log_distortion],
          progress=False)
    model.eval()
    with torch.no_grad():
        out = model(x)
        z_e, w = out.z_e.detach(), model.quantizer.codebook.detach().clone()
    assign, dist, rel = _relative_distortion(z_e, w)
    counts = torch.bincount(assign, minlength=num_codes).float()
    return ToyVQState(points=x, labels=y, z_e=z_e, codebook=w, assignments=assign, distortion=dist,
                      relative_distortion=rel, codes_used=int((counts > 0).sum()),
                      perplexity=float(perplexity(counts)), recon=float(out.losses["recon"]), curve=curve,
                      latent_scale=float(z_e.pow(2).mean().sqrt()),
                      settings=dict(num_codes=num_codes, beta=beta, steps=steps, dataset=dataset, init=init))


def draw_toy_vq(state: ToyVQState):
    """Two panels: the Voronoi cells of the codebook over the encoded points (dead codes circled red),
    and the relative distortion per training step."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8.0, 3.6), gridspec_kw={"width_ratios": [1.15, 1]})
    s = state.settings
    plot_voronoi(state.codebook, state.z_e, state.labels, ax=ax, resolution=150,
                 title=f"latent space: K={s.get('num_codes')}, beta={s.get('beta')}, steps={s.get('steps')}")
    ax.title.set_fontsize(9)
    ax2.plot(state.curve, color="tab:blue")
    ax2.set_xlabel("step")
    ax2.set_ylabel("distortion / latent spread")
    ax2.set_ylim(bottom=0)
    ax2.set_title(f"E={state.distortion:.3f} (rel. {state.relative_distortion:.3f}), "
                  f"{state.codes_used} codes used, recon {state.recon:.3f}", fontsize=9)
    fig.tight_layout()
    return fig


def toy_vq_explorer(num_codes: int = 8, beta: float = 0.25, steps: int = 100, dataset: str = "blobs"):
    """Sliders for K, beta, steps and the toy set (plus the initialisation) -> :func:`draw_toy_vq`."""
    def show(num_codes, beta, steps, dataset, init):
        draw_toy_vq(toy_vq_state(num_codes, beta, steps, dataset, init=init))
        plt.show()

    slider = dict(continuous_update=False)
    return widgets.interactive(
        show,
        num_codes=widgets.IntSlider(value=num_codes, min=1, max=64, description="K", **slider),
        beta=widgets.FloatSlider(value=beta, min=0.0, max=2.0, step=0.05, description="beta", **slider),
        steps=widgets.IntSlider(value=steps, min=0, max=400, step=10, description="steps", **slider),
        dataset=widgets.Dropdown(options=list(TOY_SETS), value=dataset, description="data"),
        init=widgets.Dropdown(options=["uniform", "kmeans++"], value="uniform", description="init"))


@dataclass
class CodeBrowserState:
    """What the code browser shows for one code k.

    Attributes:
        code: k. num_codes: K.
        decoded: the decoder's output for code k alone, ``[1, *output]`` (for a grid of latents, every
            position set to k).
        input_indices: ``[M]`` positions in ``x`` of the inputs that use code k (for one latent vector
            per input: whose hard index equals k; for a grid: that use k at least once).
        inputs: ``[M, ...]`` those inputs. count: M (0 for an unused code).
        usage: ``[K]`` how many inputs use each code.
    """

    code: int
    num_codes: int
    decoded: Tensor
    input_indices: Tensor
    inputs: Tensor
    count: int
    usage: Tensor


@torch.no_grad()
def code_browser_state(model, x: Tensor, code: int) -> CodeBrowserState:
    """Which inputs a VQ-VAE maps to ``code``, and what the decoder makes of that code.

    Works for an MLP VQ-VAE with one latent vector per input (indices ``[N]``; the natural case: each
    code is a prototype image) and for grids of latents (indices ``[N, ...]``; an input counts if any
    position uses the code, and the decoded image is the decoder's output for a grid filled with it).
    The model is evaluated in eval mode (no EMA updates or restarts) and its mode is restored.

    Args:
        model: a :class:`vqlab.models.VQVAE` (needs ``encode``, ``quantize``, ``decode_indices``).
        x: ``[N, ...]`` inputs in the shape the model expects. code: ``0 <= code < K``.
    """
    for name in ("encode", "quantize", "decode_indices", "quantizer"):
        if not hasattr(model, name):
            raise TypeError(f"model must be a VQ-VAE with encode/quantize/decode_indices, got "
                            f"{type(model).__name__} (missing {name!r})")
    x = check_tensor("x", x)
    num_codes = model.quantizer.num_codes
    if isinstance(code, bool) or not isinstance(code, (int, np.integer)) or not 0 <= code < num_codes:
        raise ValueError(f"code must be an integer in [0, {num_codes}), got {code!r}")
    code = int(code)
    was_training = model.training
    model.eval()
    try:
        indices = model.quantize(model.encode(x)).indices
        flat = indices.reshape(len(x), -1)
        hit = (flat == code).any(1)
        usage = torch.stack([(flat == k).any(1).sum() for k in range(num_codes)])
        decoded = model.decode_indices(torch.full((1, *indices.shape[1:]), code, dtype=torch.long))
    finally:
        model.train(was_training)
    idx = hit.nonzero().flatten()
    return CodeBrowserState(code=code, num_codes=num_codes, decoded=decoded, input_indices=idx,
                            inputs=x[idx], count=int(idx.numel()), usage=usage)


def draw_code_browser(state: CodeBrowserState, image_shape: tuple[int, int] = (8, 8), max_inputs: int = 40):
    """Left: the decoded image of the code. Right: up to ``max_inputs`` inputs mapped to it, or a clear
    "no input maps to this code" for a dead code."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(7.0, 2.6), gridspec_kw={"width_ratios": [1, 3]})
    image_grid(state.decoded.reshape(1, *image_shape), ax=ax, title=f"decoded code {state.code}")
    if state.count == 0:
        ax2.text(0.5, 0.5, f"no input maps to code {state.code}\n(a dead code)", ha="center", va="center",
                 fontsize=11, color="tab:red", transform=ax2.transAxes)
        ax2.set_axis_off()
    else:
        shown = state.inputs[:max_inputs].reshape(-1, *image_shape)
        image_grid(shown, ncols=10, ax=ax2,
                   title=f"{state.count} inputs map to code {state.code}"
                         + (f" (first {max_inputs} shown)" if state.count > max_inputs else ""))
    fig.tight_layout()
    return fig


def code_browser(model, x: Tensor, image_shape: tuple[int, int] = (8, 8)):
    """A dropdown over all K codes (labelled with how many inputs use each) -> :func:`draw_code_browser`."""
    usage = code_browser_state(model, x, 0).usage.tolist()
    options = [(f"code {k} ({n} inputs)", k) for k, n in enumerate(usage)]
    first_used = next((k for k, n in enumerate(usage) if n > 0), 0)

    def show(code):
        draw_code_browser(code_browser_state(model, x, code), image_shape)
        plt.show()

    return widgets.interactive(show, code=widgets.Dropdown(options=options, value=first_used, description="code"))


# ---- Notebook 02: the information bottleneck behind VQ-VAE (VIB / VDIB) ---------------------------
# Equations refer to ../shared/papers/vib-on-vector-quantized-autoencoders.md ("the VIB paper").
# A temperature (= VIB beta) explorer on a 2-D toy codebook, and the rate-distortion picture of the
# digits sweep (vqlab.experiments.ib_comparison).

#: The temperatures (tau = the VIB beta, see :func:`vqlab.posteriors.gibbs_posterior`) of the toy curve.
IB_TOY_LOG10_TAUS = np.linspace(-3.0, 1.5, 46)


@functools.lru_cache(maxsize=32)
def _ib_toy_problem(dataset: str, n: int, num_codes: int, seed: int) -> tuple[Tensor, Tensor]:
    """Toy points ``[n, 2]`` and a k-means codebook ``[K, 2]`` (float64), cached so sliders are fast."""
    x, _ = make_toy(dataset, n=n, seed=seed)
    x = x.double()
    return x, kmeans(x, init_prototypes(x, num_codes, "kmeans++", seed=seed), 25).prototypes


def _ib_terms(d: Tensor, tau: float) -> dict[str, float]:
    """VIB terms of the Gibbs posterior ``p(z|i) ∝ exp(-d/tau)`` for squared distances ``d`` ``[N, K]``."""
    probs = gibbs_posterior(d, tau).exp()
    prior = torch.full((d.shape[1],), 1.0 / d.shape[1], dtype=d.dtype)
    return {"distortion": float((probs * d).sum(1).mean()),
            "conditional_entropy": float(losses.conditional_entropy(probs)),    # H(p(Z|I))
            "cross_entropy": float(losses.cross_entropy(probs)),                # eq. 25 = log K
            "rate_bound": float(losses.kl_to_prior(probs)),                     # eq. 15
            "mutual_information": float(losses.mutual_information_iz(probs)),   # eq. 13
            "gap": float(losses.kl_divergence(losses.marginal(probs), prior))}  # eq. 16


@dataclass
class IBToyState:
    """What the temperature explorer shows (float64 numbers, nats).

    Attributes:
        points: ``[N, 2]`` toy data (here the data *are* the latents z_e). codebook: ``[K, 2]`` (k-means).
        tau: the temperature (= VIB beta). grid_x, grid_y: ``[R]`` axes of the heat map.
        heat: ``[R, R]`` entropy ``H(p(Z | x))`` of the EM posterior (eq. 28 at temperature tau) on the grid.
        terms: at tau, on the points: ``distortion`` ``E_p ||x - e_z||^2``, ``conditional_entropy``
            ``H(p(Z|I))``, ``cross_entropy`` (eq. 25, ``log K``), ``rate_bound`` ``KL(p(Z|I) || uniform)``
            (eq. 15), ``mutual_information`` ``I(I; Z)`` (eq. 13), ``gap`` = rate_bound - I(I; Z) =
            ``KL(p(Z) || uniform)`` (eq. 16).
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
    ``p(z | i) ∝ exp(-||x_i - e_z||^2 / tau)`` (VIB paper eq. 28), its conditional entropy, the VIB rate
    bound (eq. 15), the true rate ``I(I; Z)`` (eq. 13) and the bound's gap (eq. 16).

    Args:
        log10_tau: ``log10`` of the temperature (finite). num_codes: K in [1, n]. dataset: a
        :data:`vqlab.data.TOY_SETS` name. n: points >= 2. resolution: heat-map grid size >= 2.
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


def draw_ib_toy(state: IBToyState):
    """Left: the heat map of ``H(p(Z | x))`` with the data and codewords. Right: the VIB rate bound
    ``KL(p(Z|I) || r)`` and the true rate ``I(I; Z)`` against the distortion over all temperatures, the
    current temperature marked (the vertical distance between the two curves is the gap, eq. 16)."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6), gridspec_kw={"width_ratios": [1, 1.1]})
    k = len(state.codebook)
    im = ax.imshow(state.heat, origin="lower", cmap="magma", vmin=0.0, vmax=max(math.log(k), 1e-9),
                   extent=(state.grid_x[0], state.grid_x[-1], state.grid_y[0], state.grid_y[-1]), aspect="auto")
    pts, w = state.points.numpy(), state.codebook.numpy()
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c="w", alpha=0.6)
    ax.scatter(w[:, 0], w[:, 1], marker="x", c="tab:cyan", s=50)
    fig.colorbar(im, ax=ax, fraction=0.046, label="H(p(Z|x)) [nats]")
    t = state.terms
    ax.set_title(f"tau = {state.tau:.3g}:  H(p(Z|I)) = {t['conditional_entropy']:.3f} nats", fontsize=9)
    c = state.curve
    ax2.plot(c["distortion"], c["rate_bound"], color="tab:red", label="VIB bound KL(p(Z|I)||r), eq. 15")
    ax2.plot(c["distortion"], c["mutual_information"], "--", color="tab:blue", label="rate I(I;Z), eq. 13")
    ax2.plot([t["distortion"]] * 2, [t["mutual_information"], t["rate_bound"]], color="k", lw=2,
             label=f"gap = KL(p(Z)||r) = {t['gap']:.3f}")
    ax2.scatter([state.hard["distortion"]], [state.hard["rate_bound"]], marker="s", c="k", s=25,
                label="hard VQ (tau -> 0)", zorder=3)
    ax2.axhline(math.log(k), color="0.6", lw=0.8)
    ax2.set_xlabel("distortion E ||x - e_z||^2")
    ax2.set_ylabel("nats")
    ax2.set_title(f"rate bound {t['rate_bound']:.3f}, I(I;Z) {t['mutual_information']:.3f}", fontsize=9)
    ax2.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def ib_toy_explorer(log10_tau: float = -0.5, num_codes: int = 6, dataset: str = "blobs"):
    """Sliders for ``log10 tau`` (the temperature = VIB beta) and K, and the toy set -> :func:`draw_ib_toy`."""
    def show(log10_tau, num_codes, dataset):
        draw_ib_toy(ib_toy_state(log10_tau, num_codes, dataset))
        plt.show()

    return widgets.interactive(
        show,
        log10_tau=widgets.FloatSlider(value=log10_tau, min=-3.0, max=1.5, step=0.1, description="log10 tau"),
        num_codes=widgets.IntSlider(value=num_codes, min=1, max=32, description="K", continuous_update=False),
        dataset=widgets.Dropdown(options=list(TOY_SETS), value=dataset, description="data"))


def draw_rate_distortion(sweep: IBComparison, reference: IBComparison | None = None):
    """The digits rate-distortion picture: for every variant (seed mean) the VIB rate bound
    ``KL(p(Z|I) || uniform)`` (eq. 15, filled) and the rate ``I(I; Z)`` (eq. 13, open) against the test
    reconstruction error (the distortion term of eq. 18); ``reference`` variants are drawn as squares."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for result, marker in ((sweep, "o"), (reference, "s")):
        if result is None:
            continue
        for j, name in enumerate(result.values):
            d = result.summary(name, "recon")[0]
            rb, mi = result.summary(name, "rate_bound")[0], result.summary(name, "mutual_information")[0]
            ax.plot([d, d], [mi, rb], color="0.7", lw=1, zorder=1)
            ax.scatter([d], [rb], marker=marker, color="tab:red", zorder=2)
            ax.scatter([d], [mi], marker=marker, facecolors="none", edgecolors="tab:blue", zorder=2)
            above = marker == "o" and j % 2 == 0  # alternate label sides so neighbours do not overlap
            ax.annotate(name, (d, rb if above else mi), textcoords="offset points",
                        xytext=(4, 4) if above else (4, -10), fontsize=7)
    ax.scatter([], [], color="tab:red", label="rate bound KL(p(Z|I)||r), eq. 15")
    ax.scatter([], [], facecolors="none", edgecolors="tab:blue", label="rate I(I;Z), eq. 13")
    ax.set_xlabel("distortion: test reconstruction MSE")
    ax.set_ylabel("nats per image")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ---- Notebook 03: soft VQ-VAE, the Bayesian (posterior-mean) estimator on a 2-D codebook ------------

#: The default 2-D codebook of the notebook 03 widget (six codewords, K = 6).
SOFT_VQ_CODEBOOK = ((-1.0, -1.0), (1.0, -1.0), (0.0, 1.0), (-1.2, 0.6), (1.2, 0.5), (0.0, -0.2))


def soft_vq_state(sigma: float = 0.4, noise_std: float = 0.2, probe: tuple[float, float] = (0.3, 0.2),
                  codebook=None, num_samples: int = 200, resolution: int = 120, extent: float = 2.0,
                  seed: int = 0) -> dict[str, object]:
    """Everything the soft-VQ widget shows, for one setting of the sliders (no plotting, unit-tested).

    All K components share the std ``sigma`` (so eq. 5's normalisation cancels in eq. 7); the probe
    ``z_e`` is observed through ``num_samples`` noisy copies ``z'_e = z_e + eps``,
    ``eps ~ N(0, noise_std^2 I)`` (seeded), each mapped to its posterior mean (eq. 6).

    Returns a dict with
        ``codebook`` ``[K, 2]``; ``gx, gy`` ``[R, R]`` grid; ``region`` ``[R, R]`` most probable code;
        ``confidence`` ``[R, R]`` its posterior probability (1 = hard VQ cell, 1/K = uniform);
        ``probe`` ``[2]``; ``probs_probe`` ``[K]`` the posterior at the noiseless probe;
        ``hard`` ``[2]`` its nearest codeword (eq. 1); ``soft`` ``[2]`` its posterior mean (eq. 6);
        ``noisy`` ``[S, 2]`` noisy observations and ``noisy_est`` ``[S, 2]`` their posterior means;
        ``slice_x`` ``[R]`` and ``slice_soft``/``slice_hard`` ``[R, 2]``: both estimators along the
        horizontal line through the probe; ``log_var`` the common ``log sigma^2``.
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
    return {
        "codebook": w.numpy(), "gx": gx.numpy(), "gy": gy.numpy(),
        "region": grid_probs.argmax(1).reshape(gx.shape).numpy(),
        "confidence": grid_probs.max(1).values.reshape(gx.shape).numpy(),
        "probe": p.numpy(), "probs_probe": probs_probe.numpy(),
        "hard": w[squared_distances(p[None], w).argmin()].numpy(), "soft": (probs_probe @ w).numpy(),
        "noisy": noisy.numpy(), "noisy_est": (post(noisy) @ w).numpy(),
        "slice_x": ax.numpy(), "slice_soft": (post(line) @ w).numpy(),
        "slice_hard": w[squared_distances(line, w).argmin(1)].numpy(),
        "log_var": float(log_var), "sigma": sigma, "noise_std": noise_std,
    }


def draw_soft_vq(state: dict[str, object]):
    """Left: soft assignment regions (colour = most probable code, strength = its posterior probability),
    the probe, its noisy copies (grey) and their posterior means (blue), the hard-VQ output (black square)
    and the posterior mean at the probe (blue diamond). Right: the first coordinate of both estimators
    along the horizontal line through the probe: a staircase for hard VQ, a smooth curve for soft VQ."""
    w, e = state["codebook"], float(state["slice_x"][-1])
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(8.4, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    colours = plt.get_cmap("tab10")(np.arange(len(w)) % 10)[:, :3]
    rgb = colours[state["region"]]
    k = len(w)
    strength = (state["confidence"] - 1.0 / k) / max(1e-12, 1.0 - 1.0 / k) if k > 1 else state["confidence"]
    a0.imshow(1.0 - strength[..., None] * (1.0 - rgb) * 0.6, origin="lower", extent=(-e, e, -e, e),
              interpolation="nearest")
    a0.scatter(*state["noisy"].T, s=7, c="0.45", alpha=0.6, label="noisy $z'_e$")
    a0.scatter(*state["noisy_est"].T, s=3, c="tab:blue", label=r"$\hat z_q(z'_e)$")
    a0.scatter(*w.T, marker="x", c="k", s=40, label=r"codeword $\mu_k$")
    a0.scatter(*state["probe"], marker="*", c="red", s=120, label="$z_e$", zorder=5)
    a0.scatter(*state["hard"], marker="s", facecolors="none", edgecolors="k", s=90, label="hard VQ", zorder=5)
    a0.scatter(*state["soft"], marker="D", c="tab:blue", edgecolors="k", s=50, label="posterior mean", zorder=6)
    a0.axhline(state["probe"][1], c="red", lw=0.6, ls=":")
    a0.set_xlim(-e, e)
    a0.set_ylim(-e, e)
    a0.set_aspect("equal")
    a0.set_title(rf"$\sigma_k$={state['sigma']:.3g}, $\sigma_\epsilon$={state['noise_std']:.3g}", fontsize=9)
    a0.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=3, frameon=False)
    a1.plot(state["slice_x"], state["slice_hard"][:, 0], c="k", lw=1.2, label="hard VQ (eq. 1)")
    a1.plot(state["slice_x"], state["slice_soft"][:, 0], c="tab:blue", lw=1.5, label="posterior mean (eq. 6)")
    a1.plot(state["slice_x"], state["slice_x"], c="0.7", lw=0.8, ls="--", label="identity")
    a1.set_xlabel("first coordinate of the input")
    a1.set_ylabel("first coordinate of the output")
    a1.set_title("along the dotted line", fontsize=9)
    a1.legend(fontsize=7)
    fig.tight_layout()
    return fig


def soft_vq_widget(codebook=None):
    """Sliders for the component std sigma_k (log scale), the noise std sigma_eps and the probe point,
    redrawing :func:`draw_soft_vq`; returns the ``ipywidgets.interactive`` object."""
    def show(sigma, noise_std, probe_x, probe_y):
        draw_soft_vq(soft_vq_state(sigma, noise_std, (probe_x, probe_y), codebook))
        plt.show()

    return widgets.interactive(
        show,
        sigma=widgets.FloatLogSlider(value=0.4, base=10, min=-3, max=1, step=0.05, description="σ_k"),
        noise_std=widgets.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.02, description="σ_ε"),
        probe_x=widgets.FloatSlider(value=0.3, min=-1.8, max=1.8, step=0.05, description="z_e x"),
        probe_y=widgets.FloatSlider(value=0.2, min=-1.8, max=1.8, step=0.05, description="z_e y"),
    )


# ---- Notebook 04: neural gas and fuzzy c-means ----------------------------------------------------
# Sliders for the neural-gas range lambda and the fuzzifier m (ranks, memberships, where prototypes
# settle) and a lambda-annealing stepper. The posteriors are vqlab.quantizers' (thesis eqs. 4.3-4.7),
# the batch algorithms vqlab.clustering's.


@dataclass
class NGFCMState:
    """What the lambda / m explorer shows.

    Attributes:
        points: ``[N, 2]`` toy data. codebook: ``[K, 2]`` the fixed codebook the probe is scored against
            (also the start of both algorithms). probe: ``[2]`` the probe point x.
        ranks: ``[K]`` neural-gas ranks r(x, z) of the probe (0 = nearest).
        ng_probs, fcm_probs: ``[K]`` neural-gas posterior (eq. 4.3) and fuzzy memberships (eq. 4.4) of the
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
    x, _ = make_toy(dataset, 300, seed=seed)
    w = init_prototypes(x, num_codes, "data", seed=seed)
    p = torch.tensor([probe], dtype=x.dtype)
    d = squared_distances(p, w)
    ng = neural_gas(x, w, max(1, iterations), lam_initial=lam, lam_final=lam) if iterations else None
    fcm = fuzzy_cmeans(x, w, iterations, m=m)
    ng_w = w if ng is None else ng.prototypes
    return NGFCMState(points=x, codebook=w, probe=p[0], ranks=distance_ranks(d)[0],
                       ng_probs=neural_gas_posterior(d, lam)[0], fcm_probs=fuzzy_cmeans_posterior(d, m)[0],
                       ng_prototypes=ng_w, fcm_prototypes=fcm.prototypes,
                       ng_distortion=float(squared_distances(x, ng_w).min(1).values.mean()),
                       ng_dead=dead_units(x, ng_w), fcm_distortion=fcm.distortion[-1],
                       fcm_dead=dead_units(x, fcm.prototypes), lam=lam, m=m)


def draw_ng_fcm(state: NGFCMState):
    """Three panels: the codebook with the probe's ranks; the probe's neural-gas posterior and fuzzy
    memberships ordered by rank; where both algorithms settle from the same start."""
    x, w, p = state.points.numpy(), state.codebook.numpy(), state.probe.numpy()
    fig, axes = plt.subplots(1, 3, figsize=(11.0, 3.4))
    ax = axes[0]
    ax.scatter(x[:, 0], x[:, 1], s=4, c="0.75")
    ax.scatter(w[:, 0], w[:, 1], marker="x", c="k", s=40)
    for k, (a, b) in enumerate(w):
        ax.annotate(f"r={int(state.ranks[k])}", (a, b), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.scatter([p[0]], [p[1]], marker="*", s=160, c="tab:red", label="probe x")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("codebook and ranks r(x, z) of the probe", fontsize=9)
    order = state.ranks.argsort().numpy()
    pos = np.arange(len(order))
    axes[1].bar(pos - 0.2, state.ng_probs.numpy()[order], width=0.4, label=f"neural gas, lambda={state.lam:.3g}")
    axes[1].bar(pos + 0.2, state.fcm_probs.numpy()[order], width=0.4, label=f"fuzzy c-means, m={state.m:.3g}")
    axes[1].set_xlabel("rank r(x, z)")
    axes[1].set_ylabel("q(z | x)")
    axes[1].set_ylim(0, 1)
    axes[1].legend(fontsize=8)
    axes[1].set_title("posterior of the probe (eqs. 4.3, 4.4)", fontsize=9)
    ax = axes[2]
    ax.scatter(x[:, 0], x[:, 1], s=4, c="0.75")
    ng, fc = state.ng_prototypes.numpy(), state.fcm_prototypes.numpy()
    ax.scatter(ng[:, 0], ng[:, 1], marker="o", s=45, facecolors="none", edgecolors="tab:blue",
               label=f"neural gas: E={state.ng_distortion:.3f}, dead {state.ng_dead}")
    ax.scatter(fc[:, 0], fc[:, 1], marker="s", s=30, facecolors="none", edgecolors="tab:orange",
               label=f"fuzzy c-means: E={state.fcm_distortion:.3f}, dead {state.fcm_dead}")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("where the prototypes settle", fontsize=9)
    fig.tight_layout()
    return fig


def ng_fcm_explorer(lam: float = 1.0, m: float = 2.0, num_codes: int = 8, dataset: str = "blobs"):
    """Sliders for lambda (log scale), m, K, the toy set and the probe -> :func:`draw_ng_fcm`."""
    def show(lam, m, num_codes, dataset, probe_x, probe_y):
        draw_ng_fcm(ng_fcm_state(lam, m, num_codes, dataset, probe=(probe_x, probe_y)))
        plt.show()

    slider = dict(continuous_update=False)
    return widgets.interactive(
        show,
        lam=widgets.FloatLogSlider(value=lam, base=10, min=-2, max=1.5, step=0.05, description="lambda", **slider),
        m=widgets.FloatSlider(value=m, min=1.02, max=6.0, step=0.02, description="m", **slider),
        num_codes=widgets.IntSlider(value=num_codes, min=1, max=30, description="K", **slider),
        dataset=widgets.Dropdown(options=list(TOY_SETS), value=dataset, description="data"),
        probe_x=widgets.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1, description="probe x", **slider),
        probe_y=widgets.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1, description="probe y", **slider))


@dataclass
class AnnealingState:
    """One step t of batch neural gas with lambda annealed from ``lam_initial`` to ``lam_final``.

    Attributes:
        points: ``[N, 2]``. labels: ``[N]`` toy labels. step: t. lam: lambda used by iteration t (the last one for t = T).
        prototypes: ``[K, 2]`` after t iterations. trail: ``[t+1, K, 2]`` the path so far.
        distortion: ``T+1`` eq. 4.2 distortions of the whole run. lambdas: ``T`` lambda values.
        dead: dead units after t iterations. kmeans_dead: dead units of k-means from the same start.
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


@functools.lru_cache(maxsize=16)
def _annealing_run(lam_initial: float | None, lam_final: float, iterations: int, num_codes: int,
                   dataset: str, seed: int, spread: float):
    x, y = make_toy(dataset, 500, seed=seed)
    init = init_prototypes(x, num_codes, "box", seed=seed, spread=spread)
    km_dead = dead_units(x, kmeans(x, init, iterations).prototypes)
    return x, y, neural_gas(x, init, iterations, lam_initial, lam_final), km_dead


def ng_annealing_state(step: int, lam_initial: float | None = None, lam_final: float = 0.01,
                       iterations: int = 40, num_codes: int = 10, dataset: str = "blobs", seed: int = 0,
                       spread: float = 2.0) -> AnnealingState:
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
    return AnnealingState(points=x, labels=y, step=step, lam=res.lambdas[min(step, iterations - 1)], prototypes=w,
                          trail=res.history[: step + 1], distortion=list(res.distortion),
                          lambdas=list(res.lambdas), dead=dead_units(x, w), kmeans_dead=km_dead)


def draw_ng_annealing(state: AnnealingState):
    """Two panels: prototype paths and Voronoi cells after t iterations; distortion and lambda per step."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    ref = torch.cat([state.points, state.prototypes])
    margin = max(0.5, float((state.trail.amax((0, 1)) - ref.amax(0)).max()),
                 float((ref.amin(0) - state.trail.amin((0, 1))).max()))
    plot_voronoi(state.prototypes, state.points, state.labels, ax=ax, resolution=120, margin=margin + 0.2,
                 title=f"t={state.step}, lambda={state.lam:.3g}: {state.dead} dead "
                       f"(k-means from this start: {state.kmeans_dead})")
    ax.title.set_fontsize(9)
    trail = state.trail.numpy()
    for k in range(trail.shape[1]):
        ax.plot(trail[:, k, 0], trail[:, k, 1], "-", c="tab:red", lw=0.8)
    ax2.plot(state.distortion, c="tab:blue", label="distortion E (eq. 4.2)")
    ax2.axvline(state.step, c="k", lw=0.8)
    ax2.set_xlabel("iteration t")
    ax2.set_yscale("log")
    ax2.set_ylabel("E", color="tab:blue")
    ax3 = ax2.twinx()
    ax3.plot(state.lambdas, c="tab:orange")
    ax3.set_yscale("log")
    ax3.set_ylabel("lambda(t)", color="tab:orange")
    ax2.set_title("annealing: lambda_i (lambda_f / lambda_i)^(t / t_max)", fontsize=9)
    fig.tight_layout()
    return fig


def ng_annealing_stepper(iterations: int = 40, num_codes: int = 10, dataset: str = "blobs"):
    """A step slider (with a play button) over the annealing run -> :func:`draw_ng_annealing`."""
    def show(step, lam_final):
        draw_ng_annealing(ng_annealing_state(step, None, lam_final, iterations, num_codes, dataset))
        plt.show()

    step = widgets.IntSlider(value=0, min=0, max=iterations, description="step t")
    play = widgets.Play(value=0, min=0, max=iterations, step=1, interval=400, description="play")
    widgets.jslink((play, "value"), (step, "value"))
    ui = widgets.interactive(show, step=step,
                       lam_final=widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=1, step=0.1,
                                                  description="lambda_f", continuous_update=False))
    return widgets.VBox([play, ui])


# ---- Notebook 05: persistent homology and the homological regularizer (Hoagland et al.) -----------
# The Vietoris–Rips explorer (an ε slider on a 2-D cloud with its Betti numbers), the "push the deaths
# up" stepper, and the pictures of the digits latent-space comparison (vqlab.experiments.latent_comparison).
# Paper: ../shared/papers/homological-regularization-for-autoencoders.md

RIPS_CLOUDS = ("circle", "rings", "blobs")


@dataclass
class RipsState:
    """A 2-D cloud and its Vietoris–Rips complex ``R_ε`` (paper §I-B): ``points [n, 2]``, ``edges [m, 2]``
    (pairs within ε), ``triangles [t, 3]`` (triples pairwise within ε), the ripser ``diagrams`` (H0, H1)
    and the Betti numbers ``betti = [β0, β1]`` of ``R_ε`` read off the diagrams (bars alive at ε)."""

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

    ``β0`` = connected components, ``β1`` = independent loops of ``R_ε``; both are counted as the bars of
    the persistence diagrams with ``birth ≤ ε < death`` (:func:`vqlab.topology.betti_numbers_at`).
    """
    eps = check_float("eps", eps, 0.0)
    if n > 120:
        raise ValueError(f"n must be <= 120 for the drawing (triangles grow like n^3), got {n}")
    x = rips_cloud(cloud, n, noise, seed)
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    adj = np.triu(d <= eps, 1)
    edges = np.argwhere(adj)
    a = adj | adj.T
    i, j, k = np.nonzero(np.triu(a, 1)[:, :, None] & np.triu(a, 1)[None, :, :] & a[:, None, :])
    triangles = np.stack([i, j, k], 1) if len(i) else np.zeros((0, 3), dtype=int)
    dgms = topology.persistence_diagrams(x, maxdim=1)
    return RipsState(x, eps, edges, triangles, dgms, topology.betti_numbers_at(dgms, eps), cloud, noise)


def draw_rips(state: RipsState):
    """Left: the cloud, its ε/2-balls, and the complex ``R_ε`` (edges, filled triangles). Right: the
    persistence diagram; the bars alive at ε (counted by the Betti numbers) lie in the shaded corner."""
    x, eps = state.points, state.eps
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.6, 3.6))
    for p in x:
        ax.add_patch(plt.Circle(p, eps / 2, color="tab:blue", alpha=0.06, lw=0))
    if len(state.triangles):
        ax.add_collection(PolyCollection(x[state.triangles[:4000]], facecolor="tab:orange", alpha=0.15, lw=0))
    if len(state.edges):
        ax.add_collection(LineCollection(x[state.edges[:8000]], colors="0.35", linewidths=0.6))
    ax.scatter(x[:, 0], x[:, 1], s=10, c="k", zorder=3)
    ax.set_aspect("equal")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    b0, b1 = state.betti
    ax.set_title(f"R_eps at eps = {eps:.2f}:  beta0 = {b0}, beta1 = {b1}", fontsize=9)
    topology.plot_diagram(state.diagrams, ax=bx, size=10)
    top = 2.0
    bx.fill_between([0, eps], [eps, eps], [top * 1.2, top * 1.2], color="tab:green", alpha=0.12, lw=0)
    bx.axvline(eps, color="tab:green", lw=0.8, ls="--")
    bx.axhline(eps, color="tab:green", lw=0.8, ls="--")
    bx.set_title("diagram: bars alive at eps are shaded", fontsize=9)
    fig.tight_layout()
    return fig


def rips_explorer(eps: float = 0.3, cloud: str = "circle", noise: float = 0.05, n: int = 40):
    """ε slider, a cloud menu and a noise slider -> :func:`draw_rips` of :func:`rips_state`."""
    def show(eps, cloud, noise):
        draw_rips(rips_state(eps, cloud, noise, n))
        plt.show()

    return widgets.interactive(
        show,
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


def death_ascent(n: int = 60, steps: tuple[int, ...] = (0, 5, 25, 100), lr: float = 0.02,
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


def draw_death_ascent(state: DeathAscentState, index: int | None = None):
    """The snapshots side by side (or only snapshot ``index``), MST edges coloured by length, the unit
    circle dashed."""
    idx = range(len(state.steps)) if index is None else [index]
    fig, axes = plt.subplots(1, len(idx), figsize=(2.3 * len(idx), 2.5), squeeze=False)
    for ax, s in zip(axes[0], idx):
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
    fig.tight_layout()
    return fig


def death_ascent_stepper(state: DeathAscentState):
    """A slider over the snapshots of a :class:`DeathAscentState` -> :func:`draw_death_ascent`."""
    def show(snapshot):
        draw_death_ascent(state, snapshot)
        plt.show()

    return widgets.interactive(show, snapshot=widgets.IntSlider(value=0, min=0, max=len(state.steps) - 1,
                                                    description="snapshot"))


def draw_latents(comp: LatentComparison):
    """Test latents of each variant (first seed), coloured by digit, with the unit circle dashed."""
    names = list(comp.latents)
    fig, axes = plt.subplots(1, len(names), figsize=(2.5 * len(names), 2.7), squeeze=False)
    for ax, v in zip(axes[0], names):
        z = comp.latents[v]
        ax.scatter(z[:, 0], z[:, 1], c=comp.labels, cmap="tab10", s=4, vmin=0, vmax=9)
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls="--", color="k", lw=0.8))
        ax.set_aspect("equal")
        ax.set_title(v, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def draw_generated(comp: LatentComparison, n: int = 40, image_shape: tuple[int, int] = (8, 8)):
    """The first ``n`` images decoded from prior samples, one panel per variant (first seed)."""
    names = list(comp.samples)
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.4), squeeze=False)
    for ax, v in zip(axes[0], names):
        image_grid(comp.samples[v][:n], image_shape, ncols=8, ax=ax, title=v)
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


# ---- Notebook 06: the HC-VQ entropy regularizer ---------------------------------------------------
# Sliders for T_beta, T_mu, lambda and the period k drive a *live* short training run of the digits
# VQ-VAE with the HC-VQ term (a subset of the digits, a few epochs: seconds), compared with the dry run of
# the same seed (cached, it does not depend on the sliders).


@dataclass
class HCVQWidgetState:
    """One HC-VQ run vs its dry run (same seed, data and steps).

    Attributes:
        steps: ``[T]`` training step. usage_hcvq, usage_dry: ``[T]`` per-batch code-usage entropy
            (nats, ``log`` of the batch perplexity). mu0_hcvq, mu0_dry: ``[T]`` mu^0 of the codebook
            (NaN where not computed). gate: ``[T]`` the entropy factor g of the HC-VQ run.
        diagram, diagram_dry: final codebook diagrams ``[H0 [m, 2], H1 [m, 2]]`` (finite bars).
        test, test_dry: test metrics (``recon``, ``E_z``, ``perplexity``, ``codes_used``, ``mu0``, ...).
        params: the slider values.
    """

    steps: np.ndarray
    usage_hcvq: np.ndarray
    usage_dry: np.ndarray
    mu0_hcvq: np.ndarray
    mu0_dry: np.ndarray
    gate: np.ndarray
    diagram: list
    diagram_dry: list
    test: dict
    test_dry: dict
    params: dict = field(default_factory=dict)


_HCVQ_DRY_CACHE: dict = {}
_HCVQ_RUN_CACHE: dict = {}


def _hcvq_widget_data(n_train: int):
    data = load_digits()
    return data.images(data.x_train[:n_train]), data.images(data.x_test)


def _hcvq_widget_run(active: bool, n_train: int, epochs: int, seed: int, mode: str, **reg):
    x, x_test = _hcvq_widget_data(n_train)
    return train_hcvq(x, x_test, active=active, seed=seed, epochs=epochs, mode=mode, **reg)


def hcvq_state(target_betti: float = 100.0, target_mu: float = 0.5, lam: float = 1.0, period: int = 10,
               *, mode: str = "paper", epochs: int = 4, n_train: int = 384, seed: int = 0) -> HCVQWidgetState:
    """Train the notebook's digits VQ-VAE (codebook 128 x 64) on the first ``n_train`` training digits for
    ``epochs`` epochs with HC-VQ (``T_beta``, ``T_mu``, ``lam``, ``period`` k, ``mode``) and without it (the
    dry run, cached), same seed; return the curves and final diagrams (:class:`HCVQWidgetState`)."""
    target_betti = check_float("target_betti", target_betti, 0.0)
    target_mu = check_float("target_mu", target_mu, 0.0)
    lam = check_float("lam", lam, 0.0)
    period = check_int("period", period)
    mode = check_choice("mode", mode, ("paper", "code"))
    epochs, n_train = check_int("epochs", epochs), check_int("n_train", n_train, 2)
    seed = check_int("seed", seed, 0)
    key = (n_train, epochs, seed)
    if key not in _HCVQ_DRY_CACHE:
        _HCVQ_DRY_CACHE[key] = _hcvq_widget_run(False, n_train, epochs, seed, "paper", period=period)
    dry = _HCVQ_DRY_CACHE[key]
    run_key = (target_betti, target_mu, lam, period, mode, n_train, epochs, seed)
    if run_key not in _HCVQ_RUN_CACHE:  # the builder redraws the default state: do not train it twice
        if len(_HCVQ_RUN_CACHE) >= 8:
            _HCVQ_RUN_CACHE.pop(next(iter(_HCVQ_RUN_CACHE)))
        _HCVQ_RUN_CACHE[run_key] = _hcvq_widget_run(True, n_train, epochs, seed, mode, target_betti=target_betti,
                                                    target_mu=target_mu, lam=lam, period=period)
    run = _HCVQ_RUN_CACHE[run_key]

    def usage(r):
        return np.log(np.asarray(r.history.steps["perplexity"]))

    return HCVQWidgetState(
        steps=np.arange(len(run.history.steps["loss"])), usage_hcvq=usage(run), usage_dry=usage(dry),
        mu0_hcvq=np.asarray(run.regularizer.history["mu0"]), mu0_dry=np.asarray(dry.regularizer.history["mu0"]),
        gate=np.asarray(run.regularizer.history["gate"]), diagram=run.diagrams, diagram_dry=dry.diagrams,
        test=run.test, test_dry=dry.test,
        params=dict(target_betti=target_betti, target_mu=target_mu, lam=lam, period=period, mode=mode))


def draw_hcvq(state: HCVQWidgetState):
    """Three panels: per-batch code-usage entropy (dry vs HC-VQ, with the factor g), mu^0 of the codebook
    over training, and the final HC-VQ codebook diagram (persim)."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    ax = axes[0]
    ax.plot(state.steps, state.usage_dry, color="0.5", label=f"dry run (test E_z {state.test_dry['E_z']:.2f})")
    ax.plot(state.steps, state.usage_hcvq, color="C3", label=f"HC-VQ (test E_z {state.test['E_z']:.2f})")
    ax.plot(state.steps, state.gate, color="C0", ls=":", label="factor g")
    ax.set_xlabel("step")
    ax.set_ylabel("usage entropy per batch [nats]")
    ax.legend(fontsize=7)
    ax = axes[1]
    for y, c, lab in ((state.mu0_dry, "0.5", "dry run"), (state.mu0_hcvq, "C3", "HC-VQ")):
        ok = np.isfinite(y)
        ax.plot(state.steps[ok], y[ok], color=c, label=lab)
    target = state.params["target_mu"]
    top = np.nanmax(np.concatenate([state.mu0_hcvq, state.mu0_dry]))
    if target <= 1.5 * top:
        ax.axhline(target, color="C3", ls="--", lw=0.8, label="T_mu")
    else:  # a far-away target would flatten the curves
        ax.plot([], [], color="C3", ls="--", lw=0.8, label=f"T_mu = {target:g} (above)")
    ax.set_xlabel("step")
    ax.set_ylabel("mu0 of the codebook")
    ax.legend(fontsize=7)
    p = state.params
    topology.plot_diagram(state.diagram, ax=axes[2], size=8,
                 title=f"HC-VQ codebook: T_b={p['target_betti']:g}, T_mu={p['target_mu']:g}, lam={p['lam']:g}, "
                       f"k={p['period']}")
    axes[2].title.set_fontsize(8)
    fig.tight_layout()
    return fig


def hcvq_explorer(target_betti: float = 100.0, target_mu: float = 0.5, lam: float = 1.0, period: int = 10,
                  **kwargs):
    """Sliders for T_beta, T_mu, lambda (log scale), k and the mode -> a live short run, :func:`draw_hcvq`.
    ``kwargs`` (``epochs``, ``n_train``, ``seed``) go to :func:`hcvq_state`."""
    def show(target_betti, target_mu, lam, period, mode):
        draw_hcvq(hcvq_state(target_betti, target_mu, lam, period, mode=mode, **kwargs))
        plt.show()

    slider = dict(continuous_update=False)
    return widgets.interactive(
        show,
        target_betti=widgets.FloatSlider(value=target_betti, min=0.0, max=200.0, step=10.0, description="T_beta",
                                   **slider),
        target_mu=widgets.FloatSlider(value=target_mu, min=0.0, max=4.0, step=0.1, description="T_mu", **slider),
        lam=widgets.FloatLogSlider(value=lam, base=10, min=-6, max=1, step=0.5, description="lambda", **slider),
        period=widgets.IntSlider(value=period, min=1, max=50, description="k", **slider),
        mode=widgets.Dropdown(options=["paper", "code"], value="paper", description="mode"))


# ---- Notebook 07: autoregressive priors ------------------------------------------------------------
RF_MASKS = ("A then B", "A only", "B only (leaks!)", "gated")


def receptive_field_state(kernel_size: int = 3, mask_type: str = "A then B", n_layers: int = 3,
                          grid: int = 9, seed: int = 0) -> dict:
    """Receptive field, by gradients, of the centre output of a stack of masked convolutions.

    ``mask_type``: ``"A then B"`` (PixelCNN, eqs. 3.4/3.5), ``"A only"``, ``"B only (leaks!)"`` (the first
    layer sees the pixel it predicts) or ``"gated"`` (vertical + horizontal stacks). Returns a dict with
    ``field`` ``[grid, grid]`` (``|gradient|``), boolean maps ``past`` (earlier in raster order), ``blind``
    (past but unreached), ``leak`` (current or future but reached) and the counts ``n_past``,
    ``n_reached``, ``n_blind``, ``n_leak``.
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
    return {"field": field, "past": past, "blind": blind, "leak": leak, "centre": (c, c),
            "n_past": int(past.sum()), "n_reached": int((past & reached).sum()), "n_blind": int(blind.sum()),
            "n_leak": int(leak.sum()), "title": f"{mask_type}, k={kernel_size}, {n_layers} layer(s)"}


def draw_receptive_field(state: dict, ax=None):
    """Grey: future; blue: past pixels that reach the centre output; red: blind spot; orange: leak."""
    colours = np.ones((*state["past"].shape, 3))
    colours[state["past"].numpy()] = (0.85, 0.85, 0.85)
    colours[(state["field"] > 0).numpy()] = (0.2, 0.45, 0.8)
    colours[state["blind"].numpy()] = (0.85, 0.2, 0.2)
    colours[state["leak"].numpy()] = (1.0, 0.6, 0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, 3.4))
    ax.imshow(colours, interpolation="nearest")
    ax.scatter(*state["centre"][::-1], marker="*", s=150, c="k")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{state['title']}\nreached {state['n_reached']}/{state['n_past']}, unreached {state['n_blind']}, "
                 f"leak {state['n_leak']}", fontsize=8)
    return ax


def receptive_field_explorer(kernel_size: int = 3, mask_type: str = "A then B", n_layers: int = 3):
    """Sliders: kernel size, mask type and number of layers -> receptive-field picture."""
    def show(kernel_size, mask_type, n_layers):
        draw_receptive_field(receptive_field_state(kernel_size, mask_type, n_layers))
        plt.show()

    return widgets.interactive(
        show, kernel_size=widgets.IntSlider(value=kernel_size, min=3, max=7, step=2, description="kernel"),
        mask_type=widgets.Dropdown(options=list(RF_MASKS), value=mask_type, description="mask"),
        n_layers=widgets.IntSlider(value=n_layers, min=1, max=6, description="layers"))


def prior_samples_state(prior, decode, temperature: float = 1.0, n: int = 20, seed: int = 0) -> dict:
    """Sample ``n`` code maps from ``prior`` at ``temperature`` and decode them with ``decode``
    (``[n, H, W]`` long -> images). Returns ``codes``, ``images`` and ``distinct`` (number of
    different code maps among the samples)."""
    check_int("n", n)
    codes = prior.sample(n, torch.Generator().manual_seed(check_int("seed", seed, 0)), temperature)
    with torch.no_grad():
        images = decode(codes)
    return {"codes": codes, "images": images, "temperature": float(temperature),
            "distinct": int(torch.unique(codes.flatten(1), dim=0).shape[0])}


def draw_prior_samples(state: dict, ncols: int = 10):
    ax = image_grid(state["images"], ncols=ncols)
    ax.set_title(f"T = {state['temperature']:.2f}: {state['distinct']} distinct code maps", fontsize=9)
    return ax


def temperature_explorer(prior, decode, n: int = 20):
    """A sampling-temperature slider (log scale, 0.01 .. 100) over decoded prior samples."""
    def show(temperature, seed):
        draw_prior_samples(prior_samples_state(prior, decode, temperature, n, seed))
        plt.show()

    return widgets.interactive(
        show, temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.1, description="T"),
        seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"))


def completion_state(prior, decode, code_maps: Tensor, index: int = 0, rows_fixed: int = 2, n: int = 8,
                     temperature: float = 1.0, seed: int = 0) -> dict:
    """Keep the top ``rows_fixed`` rows of code map ``code_maps[index]`` and sample the rest ``n`` times
    (exact ``p(rest | top rows)`` in raster order). Returns ``original`` and ``completed`` code maps and
    their decoded ``images`` (original first)."""
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
    return {"original": original, "completed": completed, "images": images, "rows_fixed": rows_fixed}


def draw_completion(state: dict):
    ax = image_grid(state["images"], ncols=len(state["images"]))
    ax.set_title(f"left: original; right: top {state['rows_fixed']} code row(s) kept, rest sampled", fontsize=9)
    return ax


def completion_explorer(prior, decode, code_maps: Tensor, n: int = 8):
    """Sliders: which test digit, how many code rows to keep, temperature -> completions."""
    def show(index, rows_fixed, temperature):
        draw_completion(completion_state(prior, decode, code_maps, index, rows_fixed, n, temperature))
        plt.show()

    return widgets.interactive(
        show, index=widgets.IntSlider(value=0, min=0, max=len(code_maps) - 1, description="digit"),
        rows_fixed=widgets.IntSlider(value=2, min=0, max=prior.shape[0], description="rows kept"),
        temperature=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.1, description="T"))
