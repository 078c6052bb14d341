"""Quantizers: every one speaks the same interface, so a notebook can swap them in one line.

A quantizer maps encoder outputs ``z_e`` of shape ``[..., D]`` onto a codebook ``W`` of shape ``[K, D]``
and returns a :class:`QuantizerOutput`. The posterior view follows the neural-gas thesis
(Badran 2021, master thesis): a quantizer is a posterior
``q_w(z | x)`` over the K codes (eq. 4.1), and its training loss is eq. 5.4,

    alpha * E_q ||z_e - sg(w_z)||^2   (commitment)   +   eta * E_q ||sg(z_e) - w_z||^2   (codebook / VQ loss).

Hard VQ (the vanilla VQ-VAE, eq. 5.5) is the one-hot ("k-means") posterior. Squared norms are averaged
over the batch *and* the D latent dimensions, so the terms are on the same per-element scale as a
mean-squared reconstruction error. The posteriors themselves live in :mod:`vqlab.posteriors`.

The classes, in teaching order: :class:`VectorQuantizer` (notebook 01; optionally with the rotation
trick of Fifty et al. 2024, :func:`rotation_trick`), :class:`EMQuantizer` (02),
:class:`SoftVectorQuantizer` (03), :class:`PosteriorQuantizer` (04). Subclasses implement
:meth:`Quantizer.quantize`; the base class owns the codebook, argument checks, k-means++ initialisation,
EMA codebook updates and dead-code restarts. :class:`FSQuantizer` (finite scalar quantization, Mentzer et
al. 2023) has no learned codebook, so it is not a :class:`Quantizer` subclass, but it returns the same
:class:`QuantizerOutput` and has ``num_codes``, ``code_dim`` and ``codebook`` (its implicit grid), so it
drops into :class:`vqlab.models.VQVAE` the same way.

Constructor convention: ``Quantizer(num_codes, code_dim, *, <method keywords>, <base keywords>)``; every
subclass lists the base keywords it accepts by name and passes them on by name (no ``**kwargs``).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.clustering import kmeans_plusplus
from vqlab.metrics import perplexity
from vqlab.posteriors import (POSTERIORS, gibbs_posterior, neural_gas_lambda, posterior_losses, posterior_weights,
                              soft_vq_posterior, squared_distances)

__all__ = ["QuantizerOutput", "Quantizer", "nearest_codes", "one_hot_posterior", "rotation_trick",
           "VectorQuantizer", "EMQuantizer", "SoftVectorQuantizer", "PosteriorQuantizer", "FSQuantizer"]


@dataclass
class QuantizerOutput:
    """What every quantizer returns. ``...`` is the leading shape of the input ``z_e``.

    Attributes:
        z_q: ``[..., D]`` decoder input (straight-through where the method uses it).
        indices: ``[...]`` hard code ids (``argmax`` of the posterior), ``torch.long``.
        probs: ``[..., K]`` posterior q(z | x); one-hot for hard VQ. Constructed with ``probs=None``
            it is the one-hot posterior at ``indices`` (K = ``len(counts)``, dtype of ``z_q``), built on
            first read (:class:`FSQuantizer`, whose K can be large, so ``[N, K]`` costs only when used).
        losses: named, already-weighted scalar loss terms (e.g. ``codebook``, ``commitment``).
        perplexity: scalar, ``exp(H(q̄))`` of the batch-averaged posterior q̄ (= usage for hard VQ).
        counts: ``[K]`` how many vectors of the batch were assigned (hard) to each code.
    """

    z_q: Tensor
    indices: Tensor
    probs: Tensor | None
    losses: dict[str, Tensor] = field(default_factory=dict)
    perplexity: Tensor = field(default_factory=lambda: torch.tensor(float("nan")))
    counts: Tensor = field(default_factory=lambda: torch.zeros(0))

    def __post_init__(self) -> None:
        if self.probs is None:  # read through __getattr__ below, on first access
            del self.probs

    def __getattr__(self, name: str) -> Tensor:
        if name != "probs" or "indices" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        num_codes = self.counts.numel()
        flat = one_hot_posterior(self.indices.reshape(-1), num_codes, self.z_q.dtype)
        self.probs = flat.reshape(*self.indices.shape, num_codes)
        return self.probs



class Quantizer(nn.Module):
    """Base class: a codebook ``[K, D]`` plus the machinery shared by all quantizers.

    Args:
        num_codes: K >= 1, the codebook size.
        code_dim: D >= 1, the dimension of each codeword (the last dimension of ``z_e``).
        beta: weight of the commitment loss (VQ-VAE's beta, the thesis's alpha), >= 0.
        codebook_update: ``"gradient"`` (codebook loss, eq. 5.3) or ``"ema"`` (exponential moving
            averages of assigned vectors, van den Oord et al. 2017, App. A.1; no codebook loss).
        decay: EMA decay gamma in [0, 1).
        epsilon: Laplace smoothing of the EMA cluster sizes, > 0.
        init: ``"uniform"`` (U(-1/K, 1/K), as in the VQ-VAE reference code) or ``"kmeans++"``
            (seeded from the first training batch).
        restart_after: if set, a code unused for this many consecutive training steps is moved onto a
            random encoder output of the current batch (dead-code restart). ``None`` disables it.
        seed: seed of the quantizer's own generator (initialisation, restarts, sampling).

    A subclass whose posterior is always one-hot (hard VQ) sets the class attribute
    ``hard_posterior = True`` and returns the code ids ``[N]`` from :meth:`quantize` in place of the
    posterior: nothing ``[N, K]`` is built (``QuantizerOutput.probs`` is the one-hot at ``indices``, made
    on first read), and the batch statistics come from the hard ``counts`` and ``indices``
    (``bincount`` / ``index_add_``, O(N D)) instead of ``[N, K]`` reductions over ``probs``: the same
    numbers, since a one-hot posterior's column sums are the counts.
    """

    #: :meth:`quantize` returns code ids ``[N]`` and the posterior is one-hot at them (hard VQ).
    hard_posterior: ClassVar[bool] = False

    def __init__(self, num_codes: int, code_dim: int, *, beta: float = 0.25,
                 codebook_update: str = "gradient", decay: float = 0.99, epsilon: float = 1e-5,
                 init: str = "uniform", restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__()
        self.num_codes = check_int("num_codes", num_codes)
        self.code_dim = check_int("code_dim", code_dim)
        self.beta = check_float("beta", beta, 0.0)
        self.codebook_update = check_choice("codebook_update", codebook_update, ("gradient", "ema"))
        self.decay = check_float("decay", decay, 0.0)
        if self.decay >= 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay!r}")
        self.epsilon = check_float("epsilon", epsilon, 0.0, strict=True)
        self.init = check_choice("init", init, ("uniform", "kmeans++"))
        self.restart_after = None if restart_after is None else check_int("restart_after", restart_after)
        self.generator = torch.Generator().manual_seed(check_int("seed", seed, 0))

        weight = torch.empty(num_codes, code_dim).uniform_(-1.0 / num_codes, 1.0 / num_codes,
                                                          generator=self.generator)
        if self.codebook_update == "gradient":
            self.weight = nn.Parameter(weight)
        else:
            self.register_buffer("weight", weight)
            self.register_buffer("ema_size", torch.ones(num_codes))
            self.register_buffer("ema_sum", weight.clone())
        self.register_buffer("initialized", torch.tensor(self.init == "uniform"))
        self.register_buffer("unused_steps", torch.zeros(num_codes, dtype=torch.long))

    @property
    def codebook(self) -> Tensor:
        """The codewords ``[K, D]`` (a parameter in gradient mode, a buffer in EMA mode)."""
        return self.weight

    def extra_repr(self) -> str:
        return (f"num_codes={self.num_codes}, code_dim={self.code_dim}, beta={self.beta}, "
                f"codebook_update={self.codebook_update!r}, init={self.init!r}, "
                f"restart_after={self.restart_after}")

    # -- the one method subclasses implement ---------------------------------------------------
    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Quantize flat latents. Args: ``z`` ``[N, D]``. Returns ``(z_q [N, D], probs [N, K], losses)``,
        or ``(z_q, indices [N], losses)`` with :attr:`hard_posterior`."""
        raise NotImplementedError

    # -- shared machinery ----------------------------------------------------------------------
    def forward(self, z_e: Tensor) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., D]``; see :class:`QuantizerOutput` for the returned shapes."""
        check_tensor("z_e", z_e, last_dim=self.code_dim)
        lead = z_e.shape[:-1]
        z = z_e.reshape(-1, self.code_dim)
        if self.training and not bool(self.initialized):
            self._kmeans_init(z)
        z_q, assignment, losses = self.quantize(z)
        indices, probs = (assignment, None) if self.hard_posterior else (assignment.argmax(1), assignment)
        counts = torch.bincount(indices, minlength=self.num_codes).to(z.dtype)
        if self.training:
            if self.codebook_update == "ema":
                self._ema_update(z, probs, indices, counts)
            if self.restart_after is not None:
                self._restart_dead(z, counts)
        return QuantizerOutput(
            z_q=z_q.reshape(*lead, self.code_dim),
            indices=indices.reshape(lead),
            probs=None if probs is None else probs.reshape(*lead, self.num_codes),
            losses=losses,
            perplexity=perplexity(counts if self.hard_posterior else probs.detach()),
            counts=counts,
        )

    def codebook_losses(self, z: Tensor, probs: Tensor, eta: float = 1.0) -> dict[str, Tensor]:
        """Eq. 5.4 for this quantizer's posterior; EMA mode drops the codebook term (EMA learns it)."""
        losses = posterior_losses(z, self.codebook, probs, self.beta, eta)
        if self.codebook_update == "ema":
            del losses["codebook"]
        return losses

    @torch.no_grad()
    def _kmeans_init(self, z: Tensor) -> None:
        self.weight.data.copy_(kmeans_plusplus(z, self.num_codes, self.generator))
        if self.codebook_update == "ema":
            self.ema_size.fill_(1.0)
            self.ema_sum.copy_(self.weight)
        self.initialized.fill_(True)

    @torch.no_grad()
    def _ema_update(self, z: Tensor, probs: Tensor | None, indices: Tensor, counts: Tensor) -> None:
        """EMA codebook update with (soft) counts ``n_k = sum_n q(k|x_n)`` (van den Oord et al., A.1):

            N_k <- gamma N_k + (1-gamma) n_k,   m_k <- gamma m_k + (1-gamma) sum_n q(k|x_n) z_n,
            w_k = m_k / N~_k  with Laplace smoothing  N~_k = (N_k + eps) / (sum N + K eps) * sum N.

        Args: ``z`` ``[N, D]``, ``probs`` ``[N, K]`` (``None`` with :attr:`hard_posterior`), ``indices``
        ``[N]`` and ``counts`` ``[K]`` (the hard assignment). With :attr:`hard_posterior` ``n_k`` is
        ``counts`` and ``sum_n q(k|x_n) z_n`` an ``index_add_`` of ``z`` by ``indices``; otherwise both are
        reductions over ``probs``.
        """
        if self.hard_posterior:
            n, sums = counts, torch.zeros_like(self.ema_sum).index_add_(0, indices, z.detach())
        else:
            q = probs.detach().to(z.dtype)
            n, sums = q.sum(0), q.t() @ z.detach()
        self.ema_size.mul_(self.decay).add_(n, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.ema_size.sum()
        smoothed = (self.ema_size + self.epsilon) / (total + self.num_codes * self.epsilon) * total
        # A new tensor, not an in-place copy: this step's losses saved the old codebook for backward.
        self.weight = self.ema_sum / smoothed.unsqueeze(1)

    @torch.no_grad()
    def _restart_dead(self, z: Tensor, counts: Tensor) -> None:
        """Move codes unused for ``restart_after`` consecutive steps onto random batch vectors."""
        self.unused_steps.add_(1).masked_fill_(counts > 0, 0)
        dead = (self.unused_steps >= self.restart_after).nonzero().flatten()
        if dead.numel() == 0:
            return
        pick = torch.randint(z.shape[0], (dead.numel(),), generator=self.generator)
        if self.codebook_update == "ema":  # out of place, as in _ema_update
            weight = self.weight.clone()
            weight[dead] = z.detach()[pick]
            self.weight = weight
            self.ema_size[dead] = 1.0
            self.ema_sum[dead] = z.detach()[pick]
        else:  # a Parameter must stay the same object for the optimizer
            self.weight.data[dead] = z.detach()[pick]
        self.unused_steps[dead] = 0


def nearest_codes(z: Tensor, codebook: Tensor, *, block_elements: int = 2**18) -> Tensor:
    """Nearest codeword ``k*(n) = argmin_k ||z_n - w_k||^2`` for flat latents (no gradient).

    ``||z_n||^2`` is the same for every k, so the argmin is taken over ``||w_k||^2 - 2 z_n . w_k``: one
    fused ``addmm`` per block of rows, written into a single reused ``[rows, K]`` buffer of about
    ``block_elements`` entries (1 MiB in float32), so the distances stay in cache and no ``[N, K]``
    tensor is allocated (no norms broadcast, no clamp as in :func:`vqlab.posteriors.squared_distances`).

    Args:
        z: ``[N, D]``. codebook: ``[K, D]``. block_elements: size of the distance buffer, >= 1.
    Returns:
        ``[N]`` ``torch.long`` code ids (ties go to the lower index, as ``argmin`` does).
    """
    z, w = z.detach(), codebook.detach()
    w_sq = w.pow(2).sum(1)
    rows = min(z.shape[0], max(1, check_int("block_elements", block_elements) // w.shape[0]))
    dist = torch.empty(rows, w.shape[0], dtype=z.dtype, device=z.device)
    indices = torch.empty(z.shape[0], dtype=torch.long, device=z.device)
    for start in range(0, z.shape[0], rows):
        block = z[start:start + rows]
        d = dist[:block.shape[0]]
        torch.addmm(w_sq, block, w.t(), alpha=-2.0, out=d)
        torch.argmin(d, dim=1, out=indices[start:start + rows])
    return indices


def one_hot_posterior(indices: Tensor, num_codes: int, dtype: torch.dtype) -> Tensor:
    """The hard posterior ``q(k | x_n) = 1[k = indices_n]`` ``[N, K]`` from ``indices`` ``[N]``.

    Written by ``scatter_`` into a zero tensor of ``dtype`` (``F.one_hot`` builds an int64 tensor and
    converts it, three passes over ``[N, K]`` instead of one).
    """
    probs = torch.zeros(indices.shape[0], num_codes, dtype=dtype, device=indices.device)
    return probs.scatter_(1, indices.unsqueeze(1), 1.0)


class _RotationTrick(torch.autograd.Function):
    """Forward: ``z_e + (z_q - z_e)``. Backward: ``dL/dz_e = s R^T dL/dz_q`` (see :func:`rotation_trick`)."""

    @staticmethod
    def forward(ctx, z_e: Tensor, z_q: Tensor) -> Tensor:
        ctx.save_for_backward(z_e, z_q)
        return z_e + (z_q - z_e)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        z_e, z_q = ctx.saved_tensors
        tiny = torch.finfo(z_e.dtype).tiny
        norm_e = z_e.norm(dim=-1, keepdim=True)
        norm_q = z_q.norm(dim=-1, keepdim=True)
        e = z_e / norm_e.clamp_min(tiny)
        q = z_q / norm_q.clamp_min(tiny)
        r = e + q
        r = r / r.norm(dim=-1, keepdim=True).clamp_min(tiny)
        # R^T g = g - 2 r (r . g) + 2 e (q . g), then the rescaling s = |z_q| / |z_e|.
        rotated = grad - 2.0 * r * (r * grad).sum(-1, keepdim=True) + 2.0 * e * (q * grad).sum(-1, keepdim=True)
        rotated = rotated * (norm_q / norm_e.clamp_min(tiny))
        degenerate = (norm_e <= tiny) | (norm_q <= tiny)
        return torch.where(degenerate, grad, rotated), None


def rotation_trick(z_e: Tensor, z_q: Tensor) -> Tensor:
    """The rotation trick (Fifty et al. 2024, arXiv:2410.06424, eq. 4 and §4.2): a decoder input equal to
    ``z_q`` whose gradient reaches ``z_e`` through the rotation and rescaling that carry ``z_e`` onto ``z_q``.

    With ``e = z_e / |z_e|``, ``q = z_q / |z_q|`` and ``r = (e + q) / |e + q|``, the map
    ``R = I - 2 r r^T + 2 q e^T`` is the rotation in the plane of ``e`` and ``q`` with ``R e = q``, and

    ``z~_q = sg(|z_q| / |z_e| * R) z_e`` (``= z_q`` in the forward pass), so that
    ``dL/dz_e = (|z_q| / |z_e|) R^T dL/dz~_q`` (the straight-through estimator would copy ``dL/dz~_q``).

    ``R`` and the scale are constants (stop-gradient), so no gradient reaches ``z_q`` (the codebook learns
    from its own loss or EMA). The forward value is computed as ``z_e + (z_q - z_e)``, bit for bit the
    straight-through estimator's value (``z_q`` up to one rounding), so switching estimators changes only
    the backward pass; a custom autograd function supplies the rotated gradient. Degenerate rows: if
    ``|z_e| = 0`` or ``|z_q| = 0`` the rotation is undefined and the gradient is copied unchanged
    (straight-through); if ``e = -q`` then ``r = 0`` and ``R = I - 2 q q^T``, the reflection that still
    maps ``e`` onto ``q``. Never NaN.

    Args:
        z_e: ``[..., D]`` encoder outputs. z_q: ``[..., D]`` their codewords (gradient not used).
    Returns:
        ``[..., D]``, equal to ``z_e + sg(z_q - z_e)``.
    """
    return _RotationTrick.apply(z_e, z_q.detach())


class VectorQuantizer(Quantizer):
    """Hard VQ, the vanilla VQ-VAE quantizer (van den Oord et al. 2017; thesis eq. 5.5).

    Posterior: one-hot at the nearest codeword ``k* = argmin_k ||z_e - w_k||^2`` (the k-means posterior,
    thesis §4.1.2, :func:`nearest_codes`). Decoder input: ``z_q = z_e + sg(w_{k*} - z_e)`` (straight-through
    estimator: the forward pass sees the codeword, the backward pass copies the gradient to ``z_e``), or
    with ``rotation_trick=True`` :func:`rotation_trick` (same forward value; the gradient is rotated and
    rescaled from ``w_{k*}`` back onto ``z_e``, Fifty et al. 2024). Losses
    ``codebook = ||sg(z_e) - w_{k*}||^2`` and ``commitment = beta ||z_e - sg(w_{k*})||^2`` (per element);
    with ``codebook_update="ema"`` the codebook term is replaced by EMA updates.

    Args:
        num_codes, code_dim, beta, codebook_update, decay, epsilon, init, restart_after, seed: as for
            :class:`Quantizer`.
        rotation_trick: use :func:`rotation_trick` instead of the straight-through estimator.

    Example:
        >>> vq = VectorQuantizer(num_codes=32, code_dim=8, beta=0.25)
        >>> out = vq(torch.randn(4, 5, 8))
        >>> out.z_q.shape, out.indices.shape, out.probs.shape
        (torch.Size([4, 5, 8]), torch.Size([4, 5]), torch.Size([4, 5, 32]))
    """

    hard_posterior = True

    def __init__(self, num_codes: int, code_dim: int, *, rotation_trick: bool = False, beta: float = 0.25,
                 codebook_update: str = "gradient", decay: float = 0.99, epsilon: float = 1e-5,
                 init: str = "uniform", restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, decay=decay,
                         epsilon=epsilon, init=init, restart_after=restart_after, seed=seed)
        if not isinstance(rotation_trick, bool):
            raise TypeError(f"rotation_trick must be a bool, got {rotation_trick!r}")
        self.rotation_trick = rotation_trick

    def extra_repr(self) -> str:
        return super().extra_repr() + f", rotation_trick={self.rotation_trick}"

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Returns ``(z_q [N, D], indices [N], losses)`` (a :attr:`hard_posterior` quantizer)."""
        idx = nearest_codes(z, self.codebook)
        w = self.codebook[idx]
        losses = {"commitment": self.beta * F.mse_loss(z, w.detach())}
        if self.codebook_update == "gradient":
            losses = {"codebook": F.mse_loss(w, z.detach()), **losses}
        z_q = rotation_trick(z, w) if self.rotation_trick else z + (w - z).detach()
        return z_q, idx, losses


# ---- Notebook 02: information bottleneck, the EM soft quantizer (Roy et al. 2018; VIB paper eq. 28) ----

class EMQuantizer(Quantizer):
    """Soft-assignment ("EM") quantizer of Roy et al. (2018), the VQ-VAE read as a VIB
    (arXiv:1808.01048, eq. 28).

    Posterior (E step), with temperature ``tau`` (eq. 28 is ``tau = 1``)::

        p(z | x) = exp(-||e_z - z_e(x)||^2 / tau) / sum_j exp(-||e_j - z_e(x)||^2 / tau)

    computed by :func:`vqlab.posteriors.gibbs_posterior` (log-softmax after subtracting the row minimum, so
    it is finite for any ``tau > 0``). ``tau`` is the IB trade-off ``w_IB`` (the paper's ``beta``) of eq. 18 when the
    distortion is the latent squared distance: this posterior minimises
    ``E_p ||z_e - e_z||^2 + tau KL(p(Z|I) || uniform)`` for a fixed codebook. ``||.||^2`` is summed over
    the D latent dimensions, so ``tau`` is in the units of squared distances.

    Decoder input (a constructor choice, both straight-through as in the neural-gas thesis §5.1.3,
    ``z_q = z_e + sg(w̄ - z_e)``; the thesis prints a minus sign before ``sg``, a typo, since with it
    the forward pass would not see ``w̄``):

    * ``decoder_input="sample"``: ``w̄ = (1/m) sum_{s=1}^m e_{z_s}``, ``z_s ~ p(z | x)`` i.i.d., drawn
      with the quantizer's own ``generator`` (in training and in eval mode: the code is stochastic);
    * ``decoder_input="mean"``: ``w̄ = sum_z p(z | x) e_z``, the posterior mean (the ``m -> inf`` limit).

    Losses (eq. 5.4 of the thesis for this posterior, :func:`vqlab.posteriors.posterior_losses`):
    ``commitment = beta E_p ||z_e - sg(e_z)||^2 / D`` and, with ``codebook_update="gradient"``,
    ``codebook = E_p ||sg(z_e) - e_z||^2 / D``; with ``"ema"`` the codebook is the EMA of soft counts
    ``sum_n p(k | x_n)`` (M step, :meth:`Quantizer._ema_update`).

    As ``tau -> 0`` the posterior is one-hot at the nearest codeword and the quantizer is exactly
    :class:`VectorQuantizer` (same ``z_q``, ``probs``, losses and gradients).

    Args:
        num_codes, code_dim, beta, codebook_update, decay, epsilon, init, restart_after, seed: as for
            :class:`Quantizer`.
        temperature: ``tau > 0``. num_samples: ``m >= 1`` (``"sample"`` mode).
        decoder_input: ``"sample"`` or ``"mean"``.

    Example:
        >>> em = EMQuantizer(16, 4, temperature=0.5, num_samples=2)
        >>> out = em(torch.randn(8, 3, 4))
        >>> out.probs.shape, bool(torch.allclose(out.probs.sum(-1), torch.ones(8, 3)))
        (torch.Size([8, 3, 16]), True)
    """

    def __init__(self, num_codes: int, code_dim: int, *, temperature: float = 1.0, num_samples: int = 1,
                 decoder_input: str = "sample", beta: float = 0.25, codebook_update: str = "gradient",
                 decay: float = 0.99, epsilon: float = 1e-5, init: str = "uniform",
                 restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, decay=decay,
                         epsilon=epsilon, init=init, restart_after=restart_after, seed=seed)
        self.temperature = temperature
        self.num_samples = check_int("num_samples", num_samples)
        self.decoder_input = check_choice("decoder_input", decoder_input, ("sample", "mean"))

    @property
    def temperature(self) -> float:
        """``tau > 0`` of eq. 28; may be changed between calls (e.g. by a sweep or a slider)."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self._temperature = check_float("temperature", value, 0.0, strict=True)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", temperature={self.temperature}, num_samples={self.num_samples}, "
                f"decoder_input={self.decoder_input!r}")

    def log_posterior(self, z: Tensor, codebook: Tensor | None = None) -> Tensor:
        """``log p(z | x)`` ``[N, K]`` for flat latents ``z`` ``[N, D]`` (eq. 28 with temperature)."""
        w = self.codebook if codebook is None else codebook
        return gibbs_posterior(squared_distances(z, w), self.temperature)

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        # The EMA update (Quantizer._ema_update) replaces the codebook by a new tensor instead of writing
        # into it, so the codebook these losses saved for backward stays intact in both modes.
        w = self.codebook
        probs = self.log_posterior(z, w).exp()
        if self.decoder_input == "sample":
            draws = torch.multinomial(probs.detach(), self.num_samples, replacement=True,
                                      generator=self.generator)          # [N, m], z_s ~ p(z | x)
            w_bar = w[draws].mean(1)
        else:
            w_bar = probs.detach() @ w
        z_q = z + (w_bar - z).detach()                                   # thesis §5.1.3, straight-through
        losses = self.codebook_losses(z, probs)                          # thesis eq. 5.4 for eq. 28
        return z_q, probs, losses


# ---- Notebook 03: soft VQ-VAE (Wu & Flierl 2020, arXiv:1905.11062) ----

class SoftVectorQuantizer(Quantizer):
    """Soft VQ: noisy latents and the Bayesian (posterior-mean) estimator of Wu & Flierl (2020).

    In training mode white noise is added, ``z'_e = z_e + eps``, ``eps ~ N(0, noise_std^2 I)``, drawn from
    the quantizer's own ``generator`` (no noise in eval mode). The decoder input is the posterior mean
    (eq. 6)::

        z_hat_q = sum_k mu_k p(mu_k | z'_e)        (posterior from :func:`vqlab.posteriors.soft_vq_posterior`, eqs. 5, 7)

    and the loss is eq. 27 without its reconstruction term (per element, like every vqlab quantizer)::

        codebook   = ||sg(z'_e) - z_hat_q||^2      (reaches the codebook and the variance head)
        commitment = beta ||z'_e - sg(z_hat_q)||^2  (reaches the encoder)

    Read literally (as in the authors' code), ``sg`` stops only the explicit ``z'_e``: ``z_hat_q`` still
    depends on ``z'_e`` through the posterior weights, so the codebook term also sends a (small) gradient
    to the encoder.

    **Where the log-variances come from.** The paper's encoder has a second output head of size K giving
    ``log sigma_k^2`` per input. Pass it as ``forward(z_e, log_var=[..., K])`` (what
    :class:`vqlab.models.SoftVQVAE` does, splitting an encoder output ``[..., d + K]``); the quantizer adds
    its own learned per-code offset, the parameter ``log_var`` ``[K]`` initialised to ``init_log_var``:
    ``log sigma_k^2(x) = head_k(x) + log_var_k``. The offset is only a reparameterisation of the head's
    bias that lets ``init_log_var`` set the starting width relative to the latent scale.
    ``forward(z_e)`` alone still works (for notebooks and :class:`vqlab.models.VQVAE`): then
    ``log sigma_k^2 = log_var_k``, learned per code but the same for every input.

    **Paper vs. the authors' code** (switches): ``straight_through=True`` is the paper's
    ``z_hat_q = z_e + sg(z_hat_q - z_e)`` (text after eq. 27, also in the code): the decoder's gradient
    is copied to the encoder; ``False`` backpropagates through the posterior mean itself (the estimator is
    differentiable). ``noise_std=0`` is the code (its noise line is commented out). ``normalization="code"``
    is the code's component normalisation (see :func:`vqlab.posteriors.soft_vq_posterior`). The component log-variances
    are clamped to :data:`vqlab.posteriors.SOFT_VQ_LOG_VAR_RANGE`.

    As ``sigma_k -> 0`` (equal for all k) and ``noise_std = 0`` the posterior becomes one-hot at the nearest
    codeword and the quantizer reduces to hard VQ (:class:`VectorQuantizer`).

    Args:
        num_codes, code_dim, beta, init, restart_after, seed: as for :class:`Quantizer`.
        noise_std: sigma_eps >= 0 of the training noise (eq. 4 setting; the paper does not state a value).
        straight_through: see above. normalization: ``"paper"`` (eq. 5) or ``"code"``.
        init_log_var: initial value of the per-code parameter ``log_var`` (see above).
        codebook_update: only ``"gradient"``: eq. 27's codebook term also trains the variances (so the
            EMA keywords ``decay`` and ``epsilon`` of :class:`Quantizer` do not apply here).
    """

    def __init__(self, num_codes: int, code_dim: int, *, noise_std: float = 0.1, straight_through: bool = True,
                 normalization: str = "paper", init_log_var: float = 0.0, beta: float = 0.25,
                 codebook_update: str = "gradient", init: str = "uniform", restart_after: int | None = None,
                 seed: int = 0) -> None:
        if codebook_update != "gradient":
            raise ValueError("codebook_update must be 'gradient' for SoftVectorQuantizer (eq. 27's codebook "
                             f"term also trains the component variances), got {codebook_update!r}")
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, init=init,
                         restart_after=restart_after, seed=seed)
        self.noise_std = check_float("noise_std", noise_std, 0.0)
        if not isinstance(straight_through, bool):
            raise TypeError(f"straight_through must be a bool, got {straight_through!r}")
        self.straight_through = straight_through
        self.normalization = check_choice("normalization", normalization, ("paper", "code"))
        self.log_var = nn.Parameter(torch.full((num_codes,), check_float("init_log_var", init_log_var)))
        self._log_var_input: Tensor | None = None

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", noise_std={self.noise_std}, straight_through={self.straight_through}, "
                f"normalization={self.normalization!r}")

    def forward(self, z_e: Tensor, log_var: Tensor | None = None) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., d]``; ``log_var`` ``[..., K]`` are the encoder head's component
        log-variances (default: the module's own parameter ``log_var`` ``[K]``)."""
        if log_var is not None:
            check_tensor("log_var", log_var, last_dim=self.num_codes)
            check_tensor("z_e", z_e, last_dim=self.code_dim)
            if log_var.shape[:-1] != z_e.shape[:-1]:
                raise ValueError(f"log_var must have shape [..., {self.num_codes}] with the leading shape of "
                                 f"z_e {tuple(z_e.shape[:-1])}, got {tuple(log_var.shape)}")
            self._log_var_input = log_var.reshape(-1, self.num_codes)
        try:
            return super().forward(z_e)
        finally:
            self._log_var_input = None

    def add_noise(self, z: Tensor) -> Tensor:
        """``z'_e = z_e + eps`` with ``eps ~ N(0, noise_std^2 I)`` in training mode; ``z`` unchanged in eval."""
        if not self.training or self.noise_std == 0.0:
            return z
        eps = torch.randn(z.shape, generator=self.generator, dtype=z.dtype)
        return z + self.noise_std * eps.to(z.device)

    def component_log_var(self) -> Tensor:
        """``log sigma_k^2`` used for the current batch: ``[N, K]`` with an encoder head, else ``[K]``."""
        return self.log_var if self._log_var_input is None else self._log_var_input + self.log_var

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        log_var = self.component_log_var()
        z_noisy = self.add_noise(z)
        probs = soft_vq_posterior(z_noisy, self.codebook, log_var, self.normalization)   # eqs. 5, 7
        z_hat = probs @ self.codebook                                                     # eq. 6
        losses = {"codebook": F.mse_loss(z_hat, z_noisy.detach()),                        # eq. 27
                  "commitment": self.beta * F.mse_loss(z_noisy, z_hat.detach())}
        z_q = z_noisy + (z_hat - z_noisy).detach() if self.straight_through else z_hat
        return z_q, probs, losses


# ---- Notebook 04: neural gas and fuzzy c-means posteriors (thesis ch. 4-5) ----

class PosteriorQuantizer(Quantizer):
    """A quantizer defined by a posterior ``q_w(z | x)`` and trained with the thesis's eq. 5.4.

    Loss (per element, like every vqlab quantizer):
    ``commitment = alpha * E_q ||z_e - sg(w_z)||^2`` (encoder only) and
    ``codebook = eta * E_q ||sg(z_e) - w_z||^2`` (codebook only; dropped with ``codebook_update="ema"``,
    where the EMA update with soft counts takes its place). The posterior is used as fixed weights
    (no gradient flows through it; the neural-gas ranks have zero gradient anyway).
    ``posterior="hard"`` is exactly the vanilla VQ-VAE (eq. 5.5, :class:`VectorQuantizer`).

    Decoder input: the nearest codeword with the straight-through estimator,
    ``z_q = z_e + sg(w_{gamma(x)} - z_e)``, as in the vanilla VQ-VAE: the reconstruction term of eq. 5.4
    is ``log p(x | beta(x))`` with ``beta(x)`` the nearest prototype, so only the two latent terms see
    the soft posterior. ``QuantizerOutput.probs`` is the posterior (eq. 4.6 memberships for
    ``"fcm_original"``), ``indices`` its argmax (= the nearest code, up to exact float ties), and
    ``perplexity`` that of the batch-averaged *soft* posterior (for code usage use the hard counts, e.g.
    :func:`vqlab.train.evaluate`). With ``codebook_update="ema"`` the soft counts are the posterior (for
    neural gas this is an online batch neural gas; for ``"fcm_original"`` the memberships, not ``w^m``).

    Neural-gas schedule: with ``lam_final`` and ``lam_steps`` set, lambda follows
    :func:`vqlab.posteriors.neural_gas_lambda` over a step counter (buffer ``step``) that every *training-mode* forward
    advances by one, i.e. once per optimizer step in :func:`vqlab.train.train`; evaluation uses the
    current lambda. Without them lambda stays at ``lam``.

    Args:
        num_codes, code_dim, beta (the thesis's alpha), codebook_update, decay, epsilon, init, restart_after,
            seed: as for :class:`Quantizer`.
        posterior: one of :data:`vqlab.posteriors.POSTERIORS`; ``"fcm_original"`` (eq. 5.6, weights ``w^m``) warns.
        lam: neural-gas lambda > 0 (the initial one when annealing). lam_final: final lambda > 0.
        lam_steps: t_max >= 1, the number of training steps of the annealing.
        m: fuzzifier > 1 for the fuzzy c-means posteriors. eta: weight of the VQ (codebook) loss >= 0.

    Example:
        >>> q = PosteriorQuantizer(32, 8, posterior="neural_gas", lam=3.0, beta=0.15)
        >>> out = q(torch.randn(4, 8))
        >>> out.probs.shape, bool(torch.allclose(out.probs.sum(1), torch.ones(4)))
        (torch.Size([4, 32]), True)
    """

    def __init__(self, num_codes: int, code_dim: int, *, posterior: str = "neural_gas", lam: float = 1.0,
                 lam_final: float | None = None, lam_steps: int | None = None, m: float = 2.0,
                 eta: float = 1.0, beta: float = 0.25, codebook_update: str = "gradient", decay: float = 0.99,
                 epsilon: float = 1e-5, init: str = "uniform", restart_after: int | None = None,
                 seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, decay=decay,
                         epsilon=epsilon, init=init, restart_after=restart_after, seed=seed)
        self.posterior = check_choice("posterior", posterior, POSTERIORS)
        self.lam = check_float("lam", lam, 0.0, strict=True)
        self.m = check_float("m", m, 1.0, strict=True)
        self.eta = check_float("eta", eta, 0.0)
        if (lam_final is None) != (lam_steps is None):
            raise ValueError("lam_final and lam_steps must be given together (or neither), got "
                             f"lam_final={lam_final!r}, lam_steps={lam_steps!r}")
        self.lam_final = None if lam_final is None else check_float("lam_final", lam_final, 0.0, strict=True)
        self.lam_steps = None if lam_steps is None else check_int("lam_steps", lam_steps)
        self.register_buffer("step", torch.tensor(0, dtype=torch.long))
        if self.posterior == "fcm_original":
            warnings.warn("posterior='fcm_original' weights distances by w_z(x)^m (thesis eq. 5.6), which is "
                          "not a posterior: the thesis reports that this objective diverges inside a VQ-VAE. "
                          "Use 'fcm' (eq. 4.6) or 'fcm_normalized' (eq. 4.7) for stable training.",
                          UserWarning, stacklevel=2)

    @property
    def current_lambda(self) -> float:
        """lambda at the current step (``lam`` when no schedule is set)."""
        if self.lam_final is None:
            return self.lam
        return neural_gas_lambda(int(self.step), self.lam, self.lam_final, self.lam_steps)

    def extra_repr(self) -> str:
        extra = {"neural_gas": f", lam={self.current_lambda:.4g}", "hard": ""}.get(self.posterior,
                                                                                   f", m={self.m}")
        return f"{super().extra_repr()}, posterior={self.posterior!r}{extra}, eta={self.eta}"

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        dist = squared_distances(z.detach(), self.codebook.detach())
        probs, weights = posterior_weights(dist, self.posterior, lam=self.current_lambda, m=self.m)
        if self.training:
            self.step += 1
        losses = self.codebook_losses(z, weights, self.eta)
        w = self.codebook[dist.argmin(1)]
        z_q = z + (w - z).detach()
        return z_q, probs, losses


# ---- Finite scalar quantization (Mentzer et al. 2023, arXiv:2309.15505): an implicit, fixed codebook ----

def _check_levels(levels: Sequence[int]) -> tuple[int, ...]:
    """``levels`` as a tuple of integers >= 2, else a ValueError naming ``levels``."""
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or len(levels) == 0:
        raise ValueError(f"levels must be a non-empty sequence of integers >= 2, got {levels!r}")
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int) or level < 2:
            raise ValueError(f"levels must be a non-empty sequence of integers >= 2, got {levels!r} "
                             f"(entry {level!r})")
    return tuple(levels)


class FSQuantizer(nn.Module):
    """Finite scalar quantization (FSQ, Mentzer et al. 2023, arXiv:2309.15505, §3 and App. A.1).

    Each of the ``D = len(levels)`` latent dimensions is bounded to ``L_d`` values and rounded; the
    codebook is implicit, the grid of all ``K = prod_d L_d`` combinations, and nothing is learned here
    (no codebook loss, no commitment loss, no EMA: ``losses = {}``). Per dimension, with
    ``h = (L - 1)(1 + eps) / 2``, the half-offset ``o = 1/2`` for even ``L`` (else 0) and
    ``c = atanh(o / h)`` (the paper's ``f(z) = floor(L/2) tanh(z)`` for odd L, shifted so that an even L
    gets L integer values)::

        f(z) = h tanh(z + c) - o,     z_hat = round_ste(f(z)) in {-floor(L/2), ..., ceil(L/2) - 1},

        z_q = z_hat / floor(L/2)      (in [-1, 1]),  round_ste(x) = x + sg(round(x) - x)   (eq. 1 + STE).

    The straight-through rounding makes ``dz_q / dz = f'(z) / floor(L/2)`` (identity on the bounded value
    ``f(z)``). Code ids are the mixed-radix numbers of the per-dimension digits
    ``a_d = z_hat_d + floor(L_d/2)`` in ``[0, L_d)``: ``k = sum_d a_d prod_{j<d} L_j`` (dimension 0 is
    the least significant digit), :meth:`indices_to_digits` / :meth:`digits_to_indices` convert.

    Same interface as every vqlab quantizer (a drop-in for :class:`VectorQuantizer` in
    :class:`vqlab.models.VQVAE` with an encoder of output size D): input ``z_e`` ``[..., D]``, output
    :class:`QuantizerOutput` with ``z_q`` ``[..., D]``, ``indices`` ``[...]``, ``probs`` ``[..., K]``
    one-hot (built on first read: ``N K`` memory only when used), ``counts`` ``[K]``, ``perplexity`` of
    the counts and ``losses = {}``; ``num_codes = K``, ``code_dim = D`` and :attr:`codebook` ``[K, D]``
    (the implicit grid, so ``codebook[indices] == z_q``).

    Args:
        levels: ``L_1, ..., L_D``, integers >= 2 (the paper recommends e.g. ``(8, 5, 5, 5)`` for K = 1000).
        eps: the ``1 + eps`` margin of ``h`` that keeps ``tanh`` away from the outermost rounding
            boundary (App. A.1 uses 1e-3), in [0, 1).

    Example:
        >>> fsq = FSQuantizer(levels=(8, 5, 5, 5))
        >>> out = fsq(torch.randn(4, 7, 4))
        >>> fsq.num_codes, out.z_q.shape, out.indices.shape, out.losses
        (1000, torch.Size([4, 7, 4]), torch.Size([4, 7]), {})
    """

    def __init__(self, levels: Sequence[int], *, eps: float = 1e-3) -> None:
        super().__init__()
        self.levels = _check_levels(levels)
        self.eps = check_float("eps", eps, 0.0, maximum=1.0)
        if self.eps == 1.0:
            raise ValueError(f"eps must be in [0, 1), got {eps!r}")
        self.num_codes = math.prod(self.levels)
        self.code_dim = len(self.levels)
        lv = torch.tensor(self.levels, dtype=torch.long)
        half_width = lv // 2
        half_l = (lv - 1).double() * (1.0 + self.eps) / 2.0
        offset = (lv % 2 == 0).double() * 0.5
        self.register_buffer("_half_width", half_width, persistent=False)
        self.register_buffer("_basis", torch.cumprod(torch.cat([lv.new_ones(1), lv[:-1]]), 0), persistent=False)
        self.register_buffer("_levels", lv, persistent=False)
        self.register_buffer("_half_l", half_l.float(), persistent=False)
        self.register_buffer("_offset", offset.float(), persistent=False)
        self.register_buffer("_shift", torch.atanh(offset / half_l).float(), persistent=False)
        self.register_buffer("_codebook", self.indices_to_codes(torch.arange(self.num_codes)), persistent=False)

    @property
    def codebook(self) -> Tensor:
        """The implicit codebook ``[K, D]``: row k is the grid point ``z_q`` with code id k."""
        return self._codebook

    def extra_repr(self) -> str:
        return f"levels={self.levels}, num_codes={self.num_codes}, eps={self.eps}"

    def bound(self, z: Tensor) -> Tensor:
        """``f(z) = h tanh(z + c) - o`` per dimension, ``[..., D]`` (see the class docstring)."""
        return torch.tanh(z + self._shift) * self._half_l - self._offset

    def indices_to_digits(self, indices: Tensor) -> Tensor:
        """Mixed-radix digits ``a_d = (k // prod_{j<d} L_j) mod L_d`` ``[..., D]`` of code ids ``[...]``."""
        return torch.div(indices.long().unsqueeze(-1), self._basis, rounding_mode="floor") % self._levels

    def digits_to_indices(self, digits: Tensor) -> Tensor:
        """Code ids ``k = sum_d a_d prod_{j<d} L_j`` ``[...]`` of digits ``[..., D]`` (``torch.long``)."""
        return (digits.long() * self._basis).sum(-1)

    def indices_to_codes(self, indices: Tensor) -> Tensor:
        """Grid points ``z_q = (a - floor(L/2)) / floor(L/2)`` ``[..., D]`` of code ids ``[...]``."""
        return (self.indices_to_digits(indices) - self._half_width).float() / self._half_width

    def codes_to_indices(self, z_q: Tensor) -> Tensor:
        """Code ids ``[...]`` of grid points ``z_q`` ``[..., D]`` (the inverse of :meth:`indices_to_codes`)."""
        return self.digits_to_indices(torch.round(z_q * self._half_width) + self._half_width)

    def forward(self, z_e: Tensor) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., D]``; see :class:`QuantizerOutput` for the returned shapes."""
        if isinstance(z_e, Tensor) and z_e.ndim >= 1 and z_e.shape[-1] != self.code_dim:
            raise ValueError(f"z_e must have shape [..., {self.code_dim}] (one entry per level, "
                             f"levels={self.levels}), got {tuple(z_e.shape)}")
        check_tensor("z_e", z_e, last_dim=self.code_dim)
        lead = z_e.shape[:-1]
        bounded = self.bound(z_e.reshape(-1, self.code_dim))
        rounded = torch.round(bounded)
        z_hat = bounded + (rounded - bounded).detach()                   # round_ste
        z_q = (z_hat / self._half_width).to(z_e.dtype)
        indices = self.digits_to_indices(rounded.detach() + self._half_width)
        counts = torch.bincount(indices, minlength=self.num_codes).to(z_e.dtype)
        return QuantizerOutput(
            z_q=z_q.reshape(*lead, self.code_dim),
            indices=indices.reshape(lead),
            probs=None,                                                  # one-hot at indices, on first read
            losses={},
            perplexity=perplexity(counts),
            counts=counts,
        )
