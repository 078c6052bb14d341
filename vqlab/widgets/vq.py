"""Notebook 01 widgets: the latent terms of the VQ-VAE loss in 2-D, the toy VQ-VAE (K, beta, steps, init) and the
digits code browser.

The eq. 4.2 distortion, the picture of which latent term moves what (eqs. 5.1-5.5), the 2-D toy VQ-VAE explorer
and the digits code browser (Lloyd's k-means is vqlab.clustering.kmeans; the digits experiments are in
vqlab.experiments). Equations refer to Badran 2021, master thesis ("the thesis"). Codewords are ``e_k`` and the
nearest code ``k*(x)`` in the course notation (book/notation.md).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.clustering import init_prototypes, vq_distortion
from vqlab.data import TOY_SETS, make_toy
from vqlab.metrics import perplexity
from vqlab.models import VQVAE
from vqlab.plotting import image_grid, plot_voronoi
from vqlab.quantizers import VectorQuantizer
from vqlab.train import seed_everything, train
from vqlab.widgets._ui import slider_figure, subplots

__all__ = ["LATENT_TERMS", "LatentTermsState", "latent_terms_state", "draw_latent_terms", "ToyVQState", "toy_vq_model",
           "toy_vq_state", "draw_toy_vq", "toy_vq_widget", "CodeBrowserState", "code_browser_state", "draw_code_browser",
           "code_browser_widget"]


def _linear_identity(dim: int) -> nn.Linear:
    layer = nn.Linear(dim, dim)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(dim))
        layer.bias.zero_()
    return layer


#: The latent terms of eq. 5.5 that :func:`latent_terms_state` differentiates (the names of ``VectorQuantizer.losses``).
LATENT_TERMS = ("commitment", "codebook")


@dataclass
class LatentTermsState:
    """The two latent terms of eq. 5.5 on 2-D encoder outputs, and where their gradients go (tensors detached).

    Attributes:
        z_e: ``[N, 2]`` encoder outputs (a toy set). labels: ``[N]`` toy-set labels (colours only).
        codebook: ``[K, 2]`` the codewords ``e_k``. assignments: ``[N]`` ``k*(z_e)``, the nearest codes.
        grads: ``{term: {"z_e": [N, 2], "codebook": [K, 2]}}``: the gradient of each term of
            :data:`LATENT_TERMS` (as :class:`~vqlab.quantizers.VectorQuantizer` computes it) with respect to the
            encoder outputs and the codewords; zeros where the term does not reach.
        beta: the commitment weight.
    """

    z_e: Tensor
    labels: Tensor
    codebook: Tensor
    assignments: Tensor
    grads: dict[str, dict[str, Tensor]]
    beta: float


def latent_terms_state(num_codes: int = 5, beta: float = 0.25, n: int = 60, dataset: str = "blobs",
                       seed: int = 4) -> LatentTermsState:
    """Encoder outputs ``z_e`` (a 2-D toy set), a codebook drawn uniformly in a box 1.4 times the data's
    bounding box (so that some codewords may be nearest to no point), and the gradients of the commitment term
    ``beta ||z_e - sg(e_k*)||^2`` and the codebook term ``||sg(z_e) - e_k*||^2`` of eq. 5.5, back-propagated
    through :class:`~vqlab.quantizers.VectorQuantizer` (both averaged over the ``N x 2`` entries).

    Args:
        num_codes: K >= 1. beta: >= 0. n: points >= 2. dataset: one of :data:`vqlab.data.TOY_SETS`.
        seed: data and codebook seed.
    """
    check_int("num_codes", num_codes)
    check_float("beta", beta, 0.0)
    check_int("n", n, 2)
    check_choice("dataset", dataset, TOY_SETS)
    check_int("seed", seed, 0)
    x, y = make_toy(dataset, n, seed=seed)
    quantizer = VectorQuantizer(num_codes, 2, beta=beta, seed=seed)
    with torch.no_grad():
        quantizer.weight.copy_(init_prototypes(x, num_codes, method="box", seed=seed, spread=1.4))
    z_e = x.clone().requires_grad_(True)
    out = quantizer(z_e)
    grads = {}
    for term in LATENT_TERMS:
        g_z, g_e = torch.autograd.grad(out.losses[term], [z_e, quantizer.weight], retain_graph=True,
                                       allow_unused=True)
        grads[term] = {"z_e": torch.zeros_like(x) if g_z is None else g_z.detach(),
                       "codebook": torch.zeros_like(quantizer.weight) if g_e is None else g_e.detach()}
    return LatentTermsState(z_e=x, labels=y, codebook=quantizer.weight.detach().clone(), assignments=out.indices,
                            grads=grads, beta=float(beta))


def draw_latent_terms(state: LatentTermsState, terms: tuple[str, ...] = LATENT_TERMS,
                      fig: Figure | None = None) -> Figure:
    """Left: the encoder outputs, the codewords (x), their Voronoi cells and each point's quantization error
    ``z_e -> e_k*`` (the distortion of eq. 5.1; codewords nearest to no point circled red). Then one panel per
    term in ``terms``: the negative gradient of that term as arrows, on the encoder outputs (blue) and on the
    codewords (orange); arrows are scaled per panel, and a part the term does not reach gets none.
    ``terms=()`` draws the left panel alone."""
    for term in terms:
        check_choice("terms", term, LATENT_TERMS)
    fig, axes, new = subplots(fig, 1, 1 + len(terms), figsize=(3.6 * (1 + len(terms)), 3.4))
    z, e = state.z_e.numpy(), state.codebook.numpy()
    lo, hi = np.minimum(z.min(0), e.min(0)) - 0.4, np.maximum(z.max(0), e.max(0)) + 0.4
    extent = (lo[0], hi[0], lo[1], hi[1])
    plot_voronoi(state.codebook, state.z_e, state.labels, ax=axes[0], resolution=150, extent=extent,
                 title="forward: each $z_e$ and its codeword")
    target = e[state.assignments.numpy()]
    axes[0].plot(np.stack([z[:, 0], target[:, 0]]), np.stack([z[:, 1], target[:, 1]]), color="0.4", lw=0.6)
    for ax, term in zip(axes[1:], terms):
        plot_voronoi(state.codebook, state.z_e, state.labels, ax=ax, resolution=150, extent=extent,
                     highlight_unused=False)
        g_z, g_e = -state.grads[term]["z_e"].numpy(), -state.grads[term]["codebook"].numpy()
        longest = max(float(np.linalg.norm(g_z, axis=1).max()), float(np.linalg.norm(g_e, axis=1).max()))
        scale = 0.2 * float(np.linalg.norm(hi - lo)) / longest if longest > 0 else 1.0
        for start, arrow, colour in ((z, g_z, "tab:blue"), (e, g_e, "tab:orange")):
            moving = np.linalg.norm(arrow, axis=1) > 0
            ax.quiver(start[moving, 0], start[moving, 1], scale * arrow[moving, 0], scale * arrow[moving, 1],
                      color=colour, angles="xy", scale_units="xy", scale=1.0, width=0.008)
        weight = f" (beta = {state.beta:g})" if term == "commitment" else ""
        ax.set_title(f"backward: -gradient of the {term} term{weight}")
    for ax in axes:
        ax.title.set_fontsize(9)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
    if new:
        fig.tight_layout()
    return fig


@dataclass
class ToyVQState:
    """What the 2-D toy explorer shows (all tensors detached).

    Attributes:
        points: ``[N, 2]`` data x. labels: ``[N]`` toy-set labels (colours only).
        z_e: ``[N, 2]`` encoder outputs, the space the codebook lives in.
        codebook: ``[K, 2]``. assignments: ``[N]`` ``k*(z_e)``, the nearest codes.
        distortion: eq. 4.2 / N in latent space, ``mean ||z_e - e_k*||^2``.
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
        num_codes: K >= 1.
        beta: commitment weight >= 0.
        steps: training steps >= 0.
        dataset: one of :data:`vqlab.data.TOY_SETS`.
        seed: data and model seed.
        n: points >= 2.
        lr: Adam step size > 0.
        init: ``"uniform"`` (U(-1/K, 1/K), all codewords near the origin: the initialiser of common PyTorch
            ports of the VQ-VAE), ``"variance_scaling"`` (U(-sqrt(3/D), sqrt(3/D)), DeepMind's Sonnet / Haiku
            reference code) or ``"kmeans++"`` (see :class:`~vqlab.quantizers.Quantizer`).
    """
    check_int("num_codes", num_codes)
    check_float("beta", beta, 0.0)
    check_int("steps", steps, 0)
    check_choice("dataset", dataset, TOY_SETS)
    check_int("seed", seed, 0)
    check_int("n", n, 2)
    check_float("lr", lr, 0.0, strict=True)
    check_choice("init", init, ("uniform", "variance_scaling", "kmeans++"))
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


def draw_toy_vq(state: ToyVQState, fig: Figure | None = None) -> Figure:
    """Two panels: the Voronoi cells of the codebook over the encoded points (dead codes circled red),
    and the relative distortion per training step. ``fig``: a figure drawn by this function before, to
    draw ``state`` into (the widget's redraw)."""
    fig, (ax, ax2), new = subplots(fig, 1, 2, figsize=(8.0, 3.6), gridspec_kw={"width_ratios": [1.15, 1]})
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
    if new:
        fig.tight_layout()
    return fig


def toy_vq_widget(num_codes: int = 8, beta: float = 0.25, steps: int = 100, dataset: str = "blobs"):
    """Sliders for K, beta, steps and the toy set (plus the initialisation) -> :func:`draw_toy_vq`."""
    slider = dict(continuous_update=False)
    return slider_figure(
        toy_vq_state, draw_toy_vq, trains=True,
        num_codes=widgets.IntSlider(value=num_codes, min=1, max=64, description="K", **slider),
        beta=widgets.FloatSlider(value=beta, min=0.0, max=2.0, step=0.05, description="beta", **slider),
        steps=widgets.IntSlider(value=steps, min=0, max=400, step=10, description="steps", **slider),
        dataset=widgets.Dropdown(options=list(TOY_SETS), value=dataset, description="data"),
        init=widgets.Dropdown(options=["uniform", "variance_scaling", "kmeans++"], value="uniform",
                              description="init"))


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


def draw_code_browser(state: CodeBrowserState, image_shape: tuple[int, int] = (8, 8), max_inputs: int = 40,
                      fig: Figure | None = None) -> Figure:
    """Left: the decoded image of the code. Right: up to ``max_inputs`` inputs mapped to it, or a clear
    "no input maps to this code" for a dead code. ``fig``: a figure drawn by this function before, to draw
    ``state`` into (the widget's redraw)."""
    fig, (ax, ax2), new = subplots(fig, 1, 2, figsize=(7.0, 2.6), gridspec_kw={"width_ratios": [1, 3]})
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
    if new:
        fig.tight_layout()
    return fig


def code_browser_widget(model, x: Tensor, image_shape: tuple[int, int] = (8, 8)):
    """A dropdown over all K codes (labelled with how many inputs use each) -> :func:`draw_code_browser`."""
    usage = code_browser_state(model, x, 0).usage.tolist()
    options = [(f"code {k} ({n} inputs)", k) for k, n in enumerate(usage)]
    first_used = next((k for k, n in enumerate(usage) if n > 0), 0)

    return slider_figure(functools.partial(code_browser_state, model, x),
                         functools.partial(draw_code_browser, image_shape=image_shape),
                         code=widgets.Dropdown(options=options, value=first_used, description="code"))
