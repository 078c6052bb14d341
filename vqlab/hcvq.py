"""HC-VQ: the homology-constrained vector-quantization entropy regularizer (Volkov 2022).

Source: arXiv:2211.14363 (§2-4) and its public code (github.com/st4cks1defl0w/hcvq, ``models/vq_vae.py``).
The regularizer looks at the codebook ``e [K, D]`` as a point cloud, computes its Vietoris-Rips persistence
up to dimension 1 (:mod:`vqlab.topology`) and summarises it by the *homology signature* (§2)

    S := {n1, mu0}   n1: smooth count of the finite 1-dim bars (the paper's beta^1; not a Betti number:
                     it counts bars over the whole filtration, not the holes alive at one radius),
                     mu0: mean finite 0-dim death (the mean edge of a minimum spanning tree).

The loss (§2, "Regularization term") pulls the signature towards targets ``T_n1, T_mu``, scaled by the
weight w (the paper's lambda) and by an entropy factor ``g`` built from a batch entropy ``H_z`` of the
quantized latents (the paper's E_z) averaged over a period of P training steps (the paper's
``Delta E_z := mu_k{E_z}``), relative to the same average of an input entropy ``H_x`` (E_input)::

    L = L_VQ-VAE + L_r,   L_r = w * g * [ (n1 - T_n1)^2 + w_mu (mu0 - T_mu)^2 ],
    g = | 1 - mean_P(H_z) / mean_P(H_x) |.

The paper writes ``L_r(S, lambda * Delta E_z / E_input * T_S)`` without spelling out L_r; we read it as
the public code does (squared errors of the signature against its targets, weighted by the factor g; the
code's ``w_mu = 10^4`` is kept as the default). So ``g = 0`` -- the latents' entropy equals the input's on
average -- switches the term off, and the further the two entropies are apart (either way), the harder the
signature is pulled. Persistent entropy (§2, Atienza et al.) is tracked, never used in the loss.

Which entropy ``H_z`` is, and how it is averaged, is the ``mode``:

``mode="paper"``
    §2's formula as printed: ``E = -sum_p K_p log K_p`` with ``K_p = z_e(x)_p / sum_i z_e(x)_i`` over the
    values of the mini-batch's quantized latents ``z_q [N, D]`` (:func:`value_entropy`; the paper writes
    z_e(x) but calls it "a vector space of quantized latents", and the code uses z_q); ``H_x`` the same
    formula on the batch's input values. The paper's latents come after a LeakyReLU (almost non-negative);
    vqlab's are signed, so the values enter as magnitudes ``|z|`` (identical where they are non-negative).
    It measures how evenly the batch's *magnitude* is spread over its N*D entries, not which codes are
    used: a fully collapsed batch (every latent the same codeword) has ``H_z`` close to its maximum. The
    mean over P is a sliding window over the last P steps, refreshed every step (the term acts from the
    first step).
``mode="code"``
    Reproduces the public code: ``H_z`` and ``H_x`` are entropies of normalised *row sums*
    (:func:`rowsum_entropy`: of the quantized latents ``[N, D]`` and of the input ``[B, C, H, W]``); only
    nonzero ``H_z`` are accumulated; the factor is refreshed every P-th step from the block of the last P
    steps and then the block is cleared; it starts at zero, so the topological terms are off for the first
    P - 1 steps.
``mode="usage"`` (default)
    Not in the paper: ``H_z`` is the entropy of *code usage* in the mini-batch (``log`` of
    :func:`vqlab.metrics.perplexity`, what the paper's abstract and its ref. [1], Jukebox, mean by
    codebook utilisation), ``H_x`` the §2 formula on each input's intensities (mean over the batch); the
    sliding mean of ``mode="paper"``. ``g = 1`` for a collapsed batch and ``g = 0`` when the codes are used
    as evenly as an input's intensity is spread over its pixels (a scale set by the data, not a principle).
    Notebook 08's HC-VQ row uses this default.

In every mode the factor ``g`` carries no gradient (it is an average over past steps) and the
topological gradient reaches only the codebook (the persistence is that of the embedding table, §2
"Constructing persistent homology for embeddings"); the encoder feels it only through the commitment
loss. The codebook must therefore be trained by gradient (``codebook_update="gradient"``).

Usage::

    reg = HCVQRegularizer(period=20, mode="paper")
    history = train(model, x, extra_losses=[reg], callbacks=[reg.callback])
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from vqlab import topology
from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.metrics import perplexity

__all__ = ["MODES", "PAPER_DEFAULTS", "usage_entropy", "value_entropy", "rowsum_entropy", "intensity_entropy",
           "EntropyAccumulator", "HomologySignature", "homology_signature", "HCVQRegularizer"]

#: ``"usage"`` (default), ``"paper"``, ``"code"``: which entropy H_z is and how it is averaged (module docstring).
MODES = ("usage", "paper", "code")

#: §3-4 of the paper (and the public code's config): codebook 128 x 64, P = 200, beta = 0.25,
#: lr = 8e-4, T_n1 = 100, T_mu = 0.5; ``sigma`` (narrow-Gaussian width) and ``mu_weight`` come from
#: the public code (``approx_count_nonzero(ell=1e-3)`` and ``10000.0 * F.mse_loss(vr0_eps, ...)``).
PAPER_DEFAULTS = {"num_codes": 128, "code_dim": 64, "period": 200, "beta": 0.25, "lr": 8e-4,
                  "target_n1": 100.0, "target_mu": 0.5, "sigma": 1e-3, "mu_weight": 1e4}


# ----------------------------------------------------------------------------- entropies
def usage_entropy(counts: Tensor) -> Tensor:
    """H_z in usage mode: Shannon entropy (nats) of the code usage of a mini-batch (Jukebox's codebook
    entropy, the paper's ref. [1]), ``log`` of :func:`vqlab.metrics.perplexity`.

    Args:
        counts: ``[K]`` assignment counts (``QuantizerOutput.counts``), or ``[N, K]`` posteriors.
    Returns:
        scalar in ``[0, log K]``; 0 for a collapsed batch (one code used).
    """
    return torch.log(perplexity(counts))


def value_entropy(x: Tensor) -> Tensor:
    """H_z and H_x in paper mode: §2's ``E = -sum_p K_p log K_p``, ``K_p = x_p / sum_i x_i``, over all the
    values of ``x`` (any shape: the batch's quantized latents ``[N, D]`` or its inputs ``[B, C, H, W]``).

    The values enter as magnitudes ``|x_p|`` so that ``K`` is a distribution for signed latents (for
    non-negative values, such as the paper's post-LeakyReLU latents or pixel intensities, this is the printed
    formula). Returns a scalar in ``[0, log x.numel()]`` (nats): ``log n`` when all n magnitudes are equal;
    0 for an all-zero tensor.
    """
    check_tensor("x", x)
    a = x.detach().double().abs().reshape(-1)
    p = a / a.sum().clamp_min(1e-300)
    return (-torch.special.xlogy(p, p).sum()).to(x.dtype)


def rowsum_entropy(x: Tensor) -> Tensor:
    """H_z and H_x in code mode, the public code's ``VectorQuantizer.entropy``: ``p = |s / sum(s)|`` with
    ``s`` the sums over the last dimension, then ``-sum p log(p + 1e-8)`` (nats).

    Used for the quantized latents ``[N, D]`` (one sum per latent vector) and for the input
    ``[B, C, H, W]`` (one sum per image row). The ``abs`` of the *ratio* does not make ``p`` a distribution:
    signed sums that cancel give ``p > 1`` and a negative "entropy"; N equal rows give ``log N``, the
    maximum, so a fully collapsed batch scores highest. A zero total (where the code divides by zero)
    returns 0 here instead of NaN.
    """
    check_tensor("x", x)
    s = x.detach().double().sum(-1).reshape(-1)
    total = s.sum()
    if total == 0:
        return torch.zeros((), dtype=x.dtype)
    p = (s / total).abs()
    return (-(p * torch.log(p + 1e-8)).sum()).to(x.dtype)


def intensity_entropy(x: Tensor) -> Tensor:
    """H_x in usage mode: the §2 entropy formula ``-sum_i p_i log p_i`` with ``p = x / sum(x)``
    applied to each input (its non-negative pixel intensities), averaged over the batch.

    Args:
        x: ``[B, ...]`` non-negative inputs. An all-zero input has entropy 0.
    Returns:
        scalar (nats), in ``[0, log(prod(...))]``.
    """
    check_tensor("x", x, min_ndim=2)
    flat = x.detach().double().reshape(x.shape[0], -1)
    if (flat < 0).any():
        raise ValueError("x must be non-negative (intensities) for the input entropy; "
                         "use mode='paper' or mode='code' for signed inputs")
    p = flat / flat.sum(1, keepdim=True).clamp_min(1e-300)
    return (-torch.special.xlogy(p, p).sum(1)).mean().to(x.dtype)


class EntropyAccumulator:
    """The paper's ``Delta E_z := mu_k{E_z}`` (§2): per-step entropies ``H_z``, ``H_x`` averaged over a
    period of P steps, and the entropy factor ``g = |1 - mean_P(H_z) / mean_P(H_x)|`` that scales the
    topological terms.

    ``mode="usage"`` and ``mode="paper"``: sliding mean over the last ``period`` steps (fewer at the start),
    refreshed at every step. ``mode="code"``: the public code's block average: nonzero ``H_z`` are
    collected, at every ``period``-th call (calls counted from 1) the factor is recomputed from the block and
    the block is cleared; the factor starts at 0 and is held between refreshes.
    """

    def __init__(self, period: int = 200, mode: str = "usage") -> None:
        self.period = check_int("period", period)
        self.mode = check_choice("mode", mode, MODES)
        self.reset()

    def reset(self) -> None:
        """Forget all accumulated entropies; the factor returns to its initial value."""
        maxlen = None if self.mode == "code" else self.period
        self._e_z: deque[float] = deque(maxlen=maxlen)
        self._e_in: deque[float] = deque(maxlen=maxlen)
        self.calls = 0
        self.ratio = float("nan")
        self.gate = 0.0

    def _refresh(self) -> None:
        if not self._e_z:
            return  # the code would take the mean of an empty block (NaN); keep the old factor
        mean_in = float(np.mean(self._e_in))
        if mean_in <= 0:
            return
        self.ratio = float(np.mean(self._e_z)) / mean_in
        self.gate = abs(1.0 - self.ratio)

    def update(self, e_z: float, e_input: float) -> float:
        """Add one step's entropies and return the factor ``g`` to use at this step."""
        e_z, e_input = check_float("e_z", e_z), check_float("e_input", e_input)
        self.calls += 1
        if self.mode != "code":
            self._e_z.append(e_z)
            self._e_in.append(e_input)
            self._refresh()
            return self.gate
        if e_z != 0.0:  # the code's `if torch.is_nonzero(diff)`
            self._e_z.append(e_z)
            self._e_in.append(e_input)
        if self.calls % self.period == 0:
            self._refresh()
            self._e_z.clear()
            self._e_in.clear()
        return self.gate


# ----------------------------------------------------------------------------- homology signature
@dataclass
class HomologySignature:
    """The homology signature ``S = {n1, mu0}`` (§2: ``S^D = {beta^1, mu^0}``) of a point cloud, plus
    persistent entropies.

    ``n1`` (the smooth count of finite 1-dim bars, the paper's beta^1) and ``mu0`` are differentiable
    scalars (gradients reach the cloud); ``pairs[dim]`` holds the finite ``(births, deaths)`` of dimension
    ``dim``; ``pe0``/``pe1`` are the persistent entropies H_pers (§2, Atienza et al.) of the 0- and 1-dim
    lifetimes (floats; not part of the loss).
    """

    n1: Tensor
    mu0: Tensor
    pairs: dict[int, tuple[Tensor, Tensor]] = field(repr=False)
    pe0: float = 0.0
    pe1: float = 0.0


def homology_signature(cloud: Tensor, sigma: float = 1e-3) -> HomologySignature:
    """Signature ``{n1, mu0}`` of a point cloud ``[K, D]`` (usually a codebook), differentiable.

    ``n1 = m - sum_i exp(-(l_i / sigma)^2 / 2)`` over the ``m`` finite 1-dim lifetimes ``l_i`` (the paper's
    beta^1, its "approximate floating-point counting based on narrow gaussians", §3; every bar of the
    filtration counts, so it is not the Betti number b_1 at one radius); ``mu0`` = mean of the ``K - 1``
    finite 0-dim deaths (:func:`vqlab.topology.mean_death0`, the mean MST edge length; duplicate codes
    count with death 0, so a fully collapsed codebook has mu^0 = 0). Pairs come from
    :func:`vqlab.topology.persistence_pairs` (infinite bars dropped, no distance threshold, as in §3).
    """

    check_tensor("cloud", cloud, ndim=2)
    if cloud.shape[0] < 2:
        raise ValueError(f"cloud must have at least 2 points, got shape {tuple(cloud.shape)}")
    sigma = check_float("sigma", sigma, 0.0, strict=True)
    pairs = topology.persistence_pairs(cloud, maxdim=1)
    b1, d1 = pairs[1]
    # ripser omits the zero-length H0 bars of duplicates; they add 0 to the sum, so this is the mean of
    # all K - 1 MST edges (= topology.mean_death0) without a second MST computation.
    mu0 = pairs[0][1].sum() / (cloud.shape[0] - 1)
    return HomologySignature(n1=topology.smooth_count(d1 - b1, sigma), mu0=mu0,
                             pairs=pairs, pe0=_persistent_entropy(pairs[0]), pe1=_persistent_entropy(pairs[1]))


def _persistent_entropy(pair: tuple[Tensor, Tensor]) -> float:
    """Persistent entropy (§2) of finite ``(births, deaths)`` (0 when there are no bars)."""

    births, deaths = pair
    return float(topology.persistent_entropy((deaths - births).detach()))


# ----------------------------------------------------------------------------- the regularizer
class HCVQRegularizer:
    """HC-VQ loss hook for :func:`vqlab.train.train` (``extra_losses=[reg]``, ``callbacks=[reg.callback]``).

    Each call (one training step) measures ``H_z`` and ``H_x`` (logged as ``E_z``, ``E_input``), updates
    the :class:`EntropyAccumulator` and, if ``active``, returns ``{name: L_r}`` with
    ``L_r = weight * g * [(n1 - T_n1)^2 + mu_weight * (mu0 - T_mu)^2]`` (module docstring, §2). With
    ``active=False`` (the paper's *dry run*) nothing is added to the loss but everything is still logged.

    Args:
        quantizer: the quantizer whose ``codebook [K, D]`` is regularised; default ``model.quantizer``.
        target_n1, target_mu: ``T_n1``, ``T_mu`` (§4: T_beta = 100 and T_mu = 0.5), >= 0.
        weight: w, the paper's scale lambda (>= 0). period: P, steps per entropy period (§3: k = 200).
        mode: ``"usage"``, ``"paper"`` or ``"code"`` (module docstring). sigma: width of the narrow Gaussians.
        mu_weight: weight of the mu^0 term relative to the n1 term (public code: 10^4).
        active: add the term to the loss (False: dry run). track_every: compute the signature for the log
            every this many steps when it is not needed for the loss (dry runs, factor 0).
        name: key of the loss term.
    Attributes:
        history: ``{"step", "E_z", "E_input", "ratio", "gate", "n1", "mu0", "pe0", "pe1", name}`` lists
            (NaN where the signature was not computed at that step).
    """

    LOG_KEYS = ("E_z", "E_input", "ratio", "gate", "n1", "mu0", "pe0", "pe1")

    def __init__(self, quantizer: nn.Module | None = None, *, target_n1: float = 100.0,
                 target_mu: float = 0.5, weight: float = 1.0, period: int = 200, mode: str = "usage",
                 sigma: float = 1e-3, mu_weight: float = 1e4, active: bool = True, track_every: int = 1,
                 name: str = "hcvq") -> None:
        self.quantizer = quantizer
        self.target_n1 = check_float("target_n1", target_n1, 0.0)
        self.target_mu = check_float("target_mu", target_mu, 0.0)
        self.weight = check_float("weight", weight, 0.0)
        self.mode = check_choice("mode", mode, MODES)
        self.sigma = check_float("sigma", sigma, 0.0, strict=True)
        self.mu_weight = check_float("mu_weight", mu_weight, 0.0)
        if not isinstance(active, bool):
            raise TypeError(f"active must be a bool, got {type(active).__name__}")
        self.active = active
        self.track_every = check_int("track_every", track_every)
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.name = name
        self.accumulator = EntropyAccumulator(period, mode)
        self.history: dict[str, list[float]] = {k: [] for k in ("step", *self.LOG_KEYS, name)}

    @property
    def period(self) -> int:
        return self.accumulator.period

    def __repr__(self) -> str:
        return (f"HCVQRegularizer(mode={self.mode!r}, T_n1={self.target_n1}, T_mu={self.target_mu}, "
                f"weight={self.weight}, period={self.period}, active={self.active})")

    # -- pieces --------------------------------------------------------------------------------
    def entropies(self, xb: Tensor, out) -> tuple[float, float]:
        """``(H_z, H_x)`` of one step in this regularizer's mode (module docstring)."""
        quant = getattr(out, "quant", None)
        if quant is None:
            raise ValueError("HC-VQ needs a quantized model: out.quant is None")
        if self.mode == "usage":
            return float(usage_entropy(quant.counts)), float(intensity_entropy(xb))
        z_q = quant.z_q.detach().reshape(-1, quant.z_q.shape[-1])
        if self.mode == "paper":
            return float(value_entropy(z_q)), float(value_entropy(xb))
        return float(rowsum_entropy(z_q)), float(rowsum_entropy(xb.float()))

    def penalty(self, signature: HomologySignature) -> Tensor:
        """``(n1 - T_n1)^2 + mu_weight (mu0 - T_mu)^2`` (before the weight w and the entropy factor g)."""
        return ((signature.n1 - self.target_n1) ** 2
                + self.mu_weight * (signature.mu0 - self.target_mu) ** 2)

    def codebook_of(self, model: nn.Module) -> Tensor:
        quantizer = self.quantizer if self.quantizer is not None else getattr(model, "quantizer", None)
        if quantizer is None or not hasattr(quantizer, "codebook"):
            raise ValueError("HC-VQ needs a quantizer with a .codebook [K, D]: pass quantizer= or use a "
                             "model with a .quantizer")
        return quantizer.codebook

    # -- the hooks -------------------------------------------------------------------------------
    def __call__(self, model: nn.Module, xb: Tensor, out, step: int) -> dict[str, Tensor]:
        """``extra_losses`` hook: returns ``{name: L_r}`` (``{}`` in a dry run)."""
        codebook = self.codebook_of(model)
        if self.active and not codebook.requires_grad:
            raise ValueError("HC-VQ needs a codebook trained by gradient (codebook_update='gradient'); "
                             "this codebook does not require grad (an EMA buffer?)")
        e_z, e_in = self.entropies(xb, out)
        gate = self.accumulator.update(e_z, e_in)
        need_grad = self.active and gate * self.weight > 0
        track = self.accumulator.calls % self.track_every == 1 % self.track_every
        term, sig = None, None
        if need_grad:
            sig = homology_signature(codebook, self.sigma)
            term = self.weight * gate * self.penalty(sig)
        elif track:
            with torch.no_grad():
                sig = homology_signature(codebook.detach(), self.sigma)
        self._log(step, e_z, e_in, sig, term)
        if not self.active:
            return {}
        return {self.name: term if term is not None else codebook.new_zeros(())}

    def _log(self, step: int, e_z: float, e_in: float, sig: HomologySignature | None,
             term: Tensor | None) -> None:
        nan = float("nan")
        acc = self.accumulator
        values = {"step": float(step), "E_z": e_z, "E_input": e_in, "ratio": acc.ratio, "gate": acc.gate,
                  "n1": nan if sig is None else float(sig.n1.detach()),
                  "mu0": nan if sig is None else float(sig.mu0.detach()),
                  "pe0": nan if sig is None else sig.pe0, "pe1": nan if sig is None else sig.pe1,
                  self.name: 0.0 if term is None else float(term.detach())}
        for k, v in values.items():
            self.history[k].append(v)

    def callback(self, model: nn.Module, step: int) -> dict[str, float]:
        """``callbacks`` hook: the values logged at the last step, prefixed ``hcvq_`` (``hcvq_E_z``, ...)."""
        return {f"hcvq_{k}": self.history[k][-1] for k in self.LOG_KEYS if self.history[k]}
