"""Quantizers: every one speaks the same interface, so a notebook can swap them in one line.

A quantizer maps encoder outputs ``z_e`` of shape ``[..., D]`` onto a codebook ``W`` of shape ``[K, D]``
and returns a :class:`QuantizerOutput`. The posterior view follows the neural-gas thesis
(``../shared/papers/vq-vae-with-neural-gas-and-fuzzy-c-means.md``): a quantizer is a posterior
``q_w(z | x)`` over the K codes (eq. 4.1), and its training loss is eq. 5.4,

    alpha * E_q ||z_e - sg(w_z)||^2   (commitment)   +   eta * E_q ||sg(z_e) - w_z||^2   (codebook / VQ loss).

Hard VQ (the vanilla VQ-VAE, eq. 5.5) is the one-hot ("k-means") posterior. Squared norms are averaged
over the batch *and* the D latent dimensions, so the terms are on the same per-element scale as a
mean-squared reconstruction error.

Subclasses implement :meth:`Quantizer.quantize`; the base class owns the codebook, argument checks,
k-means++ initialisation, EMA codebook updates and dead-code restarts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.metrics import perplexity

__all__ = [
    "QuantizerOutput",
    "Quantizer",
    "VectorQuantizer",
    "squared_distances",
    "posterior_losses",
    "kmeans_plusplus",
]


@dataclass
class QuantizerOutput:
    """What every quantizer returns. ``...`` is the leading shape of the input ``z_e``.

    Attributes:
        z_q: ``[..., D]`` decoder input (straight-through where the method uses it).
        indices: ``[...]`` hard code ids (``argmax`` of the posterior), ``torch.long``.
        probs: ``[..., K]`` posterior q(z | x); one-hot for hard VQ.
        losses: named, already-weighted scalar loss terms (e.g. ``codebook``, ``commitment``).
        perplexity: scalar, ``exp(H(q̄))`` of the batch-averaged posterior q̄ (= usage for hard VQ).
        counts: ``[K]`` how many vectors of the batch were assigned (hard) to each code.
    """

    z_q: Tensor
    indices: Tensor
    probs: Tensor
    losses: dict[str, Tensor] = field(default_factory=dict)
    perplexity: Tensor = field(default_factory=lambda: torch.tensor(float("nan")))
    counts: Tensor = field(default_factory=lambda: torch.zeros(0))


def squared_distances(z: Tensor, codebook: Tensor) -> Tensor:
    """Squared Euclidean distances ``d(z_n, w_k) = ||z_n - w_k||^2``.

    Args:
        z: ``[N, D]``. codebook: ``[K, D]``.
    Returns:
        ``[N, K]``, clamped at zero (the expanded form can round slightly below zero).
    """
    d = z.pow(2).sum(1, keepdim=True) - 2.0 * z @ codebook.t() + codebook.pow(2).sum(1)
    return d.clamp_min(0.0)


def posterior_losses(z: Tensor, codebook: Tensor, probs: Tensor, beta: float,
                     eta: float = 1.0) -> dict[str, Tensor]:
    """The two latent-space terms of eq. 5.4 for an arbitrary posterior.

    ``commitment = beta * E_q ||z - sg(w_z)||^2 / D`` reaches only the encoder;
    ``codebook = eta * E_q ||sg(z) - w_z||^2 / D`` reaches only the codebook. The posterior is treated
    as fixed weights (detached), so neither term moves the other side.

    Args:
        z: ``[N, D]`` encoder outputs. codebook: ``[K, D]``. probs: ``[N, K]`` posterior.
    """
    q = probs.detach()
    dim = z.shape[-1]
    commit = (q * squared_distances(z, codebook.detach())).sum(1).mean() / dim
    vq = (q * squared_distances(z.detach(), codebook)).sum(1).mean() / dim
    return {"codebook": eta * vq, "commitment": beta * commit}


def kmeans_plusplus(x: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre is drawn with probability
    proportional to its squared distance to the nearest centre chosen so far.

    Args:
        x: ``[N, D]`` points; k: number of centres. If ``N < k`` the extra centres are copies of
        random points plus tiny noise, so the codebook never contains exact duplicates.
    Returns:
        ``[k, D]`` centres.
    """
    x = x.detach()
    n = x.shape[0]
    first = torch.randint(n, (1,), generator=generator)
    centres = [x[first[0]]]
    d2 = (x - centres[0]).pow(2).sum(1)
    for _ in range(1, min(k, n)):
        total = d2.sum()
        if total <= 0:  # all remaining points coincide with a centre
            idx = torch.randint(n, (1,), generator=generator)[0]
        else:
            idx = torch.multinomial(d2 / total, 1, generator=generator)[0]
        centres.append(x[idx])
        d2 = torch.minimum(d2, (x - x[idx]).pow(2).sum(1))
    out = torch.stack(centres)
    if k > n:
        extra = x[torch.randint(n, (k - n,), generator=generator)]
        scale = 1e-3 * (x.std() + 1e-6)
        out = torch.cat([out, extra + scale * torch.randn(extra.shape, generator=generator)])
    return out


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
    """

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
        """Quantize flat latents. Args: ``z`` ``[N, D]``. Returns ``(z_q [N, D], probs [N, K], losses)``."""
        raise NotImplementedError

    # -- shared machinery ----------------------------------------------------------------------
    def forward(self, z_e: Tensor) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., D]``; see :class:`QuantizerOutput` for the returned shapes."""
        check_tensor("z_e", z_e, last_dim=self.code_dim)
        lead = z_e.shape[:-1]
        z = z_e.reshape(-1, self.code_dim)
        if self.training and not bool(self.initialized):
            self._kmeans_init(z)
        z_q, probs, losses = self.quantize(z)
        indices = probs.argmax(1)
        counts = torch.bincount(indices, minlength=self.num_codes).to(z.dtype)
        if self.training:
            if self.codebook_update == "ema":
                self._ema_update(z, probs)
            if self.restart_after is not None:
                self._restart_dead(z, counts)
        return QuantizerOutput(
            z_q=z_q.reshape(*lead, self.code_dim),
            indices=indices.reshape(lead),
            probs=probs.reshape(*lead, self.num_codes),
            losses=losses,
            perplexity=perplexity(probs.detach()),
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
    def _ema_update(self, z: Tensor, probs: Tensor) -> None:
        """EMA codebook update with (soft) counts ``n_k = sum_n q(k|x_n)`` (van den Oord et al., A.1):

            N_k <- gamma N_k + (1-gamma) n_k,   m_k <- gamma m_k + (1-gamma) sum_n q(k|x_n) z_n,
            w_k = m_k / N~_k  with Laplace smoothing  N~_k = (N_k + eps) / (sum N + K eps) * sum N.
        """
        q = probs.detach().to(z.dtype)
        self.ema_size.mul_(self.decay).add_(q.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(q.t() @ z.detach(), alpha=1 - self.decay)
        total = self.ema_size.sum()
        smoothed = (self.ema_size + self.epsilon) / (total + self.num_codes * self.epsilon) * total
        self.weight.copy_(self.ema_sum / smoothed.unsqueeze(1))

    @torch.no_grad()
    def _restart_dead(self, z: Tensor, counts: Tensor) -> None:
        """Move codes unused for ``restart_after`` consecutive steps onto random batch vectors."""
        self.unused_steps.add_(1).masked_fill_(counts > 0, 0)
        dead = (self.unused_steps >= self.restart_after).nonzero().flatten()
        if dead.numel() == 0:
            return
        pick = torch.randint(z.shape[0], (dead.numel(),), generator=self.generator)
        self.weight.data[dead] = z.detach()[pick]
        if self.codebook_update == "ema":
            self.ema_size[dead] = 1.0
            self.ema_sum[dead] = z.detach()[pick]
        self.unused_steps[dead] = 0


class VectorQuantizer(Quantizer):
    """Hard VQ, the vanilla VQ-VAE quantizer (van den Oord et al. 2017; thesis eq. 5.5).

    Posterior: one-hot at the nearest codeword ``k* = argmin_k ||z_e - w_k||^2`` (the k-means posterior,
    thesis §4.1.2). Decoder input: ``z_q = z_e + sg(w_{k*} - z_e)`` (straight-through estimator: the
    forward pass sees the codeword, the backward pass copies the gradient to ``z_e``). Losses
    ``codebook = ||sg(z_e) - w_{k*}||^2`` and ``commitment = beta ||z_e - sg(w_{k*})||^2`` (per element);
    with ``codebook_update="ema"`` the codebook term is replaced by EMA updates.

    Example:
        >>> vq = VectorQuantizer(num_codes=32, code_dim=8, beta=0.25)
        >>> out = vq(torch.randn(4, 5, 8))
        >>> out.z_q.shape, out.indices.shape, out.probs.shape
        (torch.Size([4, 5, 8]), torch.Size([4, 5]), torch.Size([4, 5, 32]))
    """

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        idx = squared_distances(z.detach(), self.codebook.detach()).argmin(1)
        w = self.codebook[idx]
        losses = {"commitment": self.beta * F.mse_loss(z, w.detach())}
        if self.codebook_update == "gradient":
            losses = {"codebook": F.mse_loss(w, z.detach()), **losses}
        z_q = z + (w - z).detach()
        probs = F.one_hot(idx, self.num_codes).to(z.dtype)
        return z_q, probs, losses
