"""The quantizer interface (VQ-VAE, van den Oord et al. 2017, arXiv:1711.00937; Badran 2021, master thesis).

A quantizer maps encoder outputs ``z_e`` of shape ``[..., D]`` onto a codebook ``W`` of shape ``[K, D]``
and returns a :class:`~vqlab.quantizers.QuantizerOutput`. The posterior view follows the neural-gas thesis
(Badran 2021, master thesis): a quantizer is a posterior
``q_w(z | x)`` over the K codes (eq. 4.1), and its training loss is eq. 5.4,

    alpha * E_q ||z_e - sg(w_z)||^2   (commitment)   +   eta * E_q ||sg(z_e) - w_z||^2   (codebook / VQ loss).

Hard VQ (the vanilla VQ-VAE, eq. 5.5) is the one-hot ("k-means") posterior. Squared norms are averaged
over the batch *and* the D latent dimensions, so the terms are on the same per-element scale as a
mean-squared reconstruction error. The posteriors themselves live in :mod:`vqlab.posteriors`.

Subclasses implement :meth:`~vqlab.quantizers.Quantizer.quantize`; the base class owns the codebook, argument checks,
k-means++ initialisation, EMA codebook updates and dead-code restarts (every subclass may use them).

Constructor convention: ``Quantizer(num_codes, code_dim, *, <method keywords>, <base keywords>)``; every
subclass lists the base keywords it accepts by name and passes them on by name (no ``**kwargs``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor, nn

from vqlab import distributed
from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.clustering import kmeans_plusplus
from vqlab.metrics import perplexity
from vqlab.posteriors import posterior_losses

__all__ = ["QuantizerOutput", "Quantizer", "INITS", "nearest_codes", "one_hot_posterior"]


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


#: The codebook initialisations every :class:`Quantizer` accepts (``init=``; see :class:`Quantizer`).
INITS = ("uniform", "variance_scaling", "kmeans++")


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
        init: the codebook's start. ``"uniform"``: U(-1/K, 1/K), the initialiser of common PyTorch ports
            of the VQ-VAE (e.g. zalandoresearch/pytorch-vq-vae and its many copies): every codeword within
            1/K of the origin. ``"variance_scaling"``: U(-sqrt(3/D), sqrt(3/D)), the initialiser of DeepMind's
            reference VQ-VAE (Sonnet / Haiku ``VectorQuantizer``: ``VarianceScaling(distribution="uniform")`` on
            the ``[D, K]`` embedding, fan-in D; about +-0.61 for D = 8). ``"kmeans++"``: k-means++ seeding
            from the first training batch.
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
        self.init = check_choice("init", init, INITS)
        self.restart_after = None if restart_after is None else check_int("restart_after", restart_after)
        self.generator = torch.Generator().manual_seed(check_int("seed", seed, 0))

        limit = math.sqrt(3.0 / code_dim) if self.init == "variance_scaling" else 1.0 / num_codes
        weight = torch.empty(num_codes, code_dim).uniform_(-limit, limit, generator=self.generator)
        if self.codebook_update == "gradient":
            self.weight = nn.Parameter(weight)
        else:
            self.register_buffer("weight", weight)
            self.register_buffer("ema_size", torch.ones(num_codes))
            self.register_buffer("ema_sum", weight.clone())
        self.register_buffer("initialized", torch.tensor(self.init != "kmeans++"))
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
        usage = counts if self.hard_posterior else probs.detach()
        if self.training and distributed.is_active():  # data-parallel: the global batch's statistics
            counts, usage = self._global_usage(counts, probs)
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
            perplexity=perplexity(usage),
            counts=counts,
        )

    def codebook_losses(self, z: Tensor, probs: Tensor, eta: float = 1.0) -> dict[str, Tensor]:
        """Eq. 5.4 for this quantizer's posterior; EMA mode drops the codebook term (EMA learns it)."""
        losses = posterior_losses(z, self.codebook, probs, self.beta, eta)
        if self.codebook_update == "ema":
            del losses["codebook"]
        return losses

    # -- data-parallel training (vqlab.distributed): statistics are summed over ranks, draws shared ------
    # Called only in training mode with a process group initialised; see tests/test_distributed.py.
    def _global_usage(self, counts: Tensor, probs: Tensor | None) -> tuple[Tensor, Tensor]:
        """The global batch's hard ``counts`` ``[K]`` and the usage ``[K]`` its perplexity is computed from
        (the counts, or the posterior summed over the global batch): sums over the ranks."""
        counts = distributed.all_reduce_sum(counts)
        return counts, counts if self.hard_posterior else distributed.all_reduce_sum(probs.detach().sum(0))

    @torch.no_grad()
    def _kmeans_init(self, z: Tensor) -> None:
        """k-means++ seeding from the first training batch ``z`` ``[N, D]``; data-parallel: from the global
        batch (every rank's rows, in serial order), the same centres on every rank."""
        if distributed.is_active():
            z = distributed.gather_rows(z)
        centres = distributed.broadcast_from_first(kmeans_plusplus(z, self.num_codes, self.generator))
        self.weight.data.copy_(centres)
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
        if distributed.is_active():  # SUMS over ranks before the update (the hard counts already are)
            sums = distributed.all_reduce_sum(sums)
            n = n if self.hard_posterior else distributed.all_reduce_sum(n)
        self.ema_size.mul_(self.decay).add_(n, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.ema_size.sum()
        smoothed = (self.ema_size + self.epsilon) / (total + self.num_codes * self.epsilon) * total
        # A new tensor, not an in-place copy: this step's losses saved the old codebook for backward.
        self.weight = self.ema_sum / smoothed.unsqueeze(1)

    @torch.no_grad()
    def _restart_dead(self, z: Tensor, counts: Tensor) -> None:
        """Move codes unused for ``restart_after`` consecutive steps onto random batch vectors.

        Data-parallel: ``counts`` are the global batch's, so every rank finds the same dead codes; the new
        vectors are drawn from the global batch (every rank's rows) and are the same on every rank."""
        self.unused_steps.add_(1).masked_fill_(counts > 0, 0)
        dead = (self.unused_steps >= self.restart_after).nonzero().flatten()
        if dead.numel() == 0:
            return
        if distributed.is_active():
            z = distributed.gather_rows(z)
        pick = torch.randint(z.shape[0], (dead.numel(),), generator=self.generator)
        chosen = distributed.broadcast_from_first(z.detach()[pick])
        if self.codebook_update == "ema":  # out of place, as in _ema_update
            weight = self.weight.clone()
            weight[dead] = chosen
            self.weight = weight
            self.ema_size[dead] = 1.0
            self.ema_sum[dead] = chosen
        else:  # a Parameter must stay the same object for the optimizer
            self.weight.data[dead] = chosen
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
