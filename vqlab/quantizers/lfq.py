"""Lookup-free quantization (LFQ; MAGVIT-v2, Yu et al. 2023, arXiv:2310.05737): sign codes and an entropy penalty.

Notebook 08's large-codebook rows: every latent dimension is quantized to its sign, so the codebook is the
implicit set of the ``K = 2^D`` corners of ``{-1, +1}^D``, there is no codeword that could drift away from
the data, and an entropy penalty makes each latent's soft assignment confident while the batch's average
assignment spreads over all codes. :mod:`vqlab.quantizers.bsq` is the same on the unit sphere.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab import distributed
from vqlab._checks import check_float, check_int, check_tensor
from vqlab.metrics import perplexity
from vqlab.quantizers.base import QuantizerOutput

__all__ = ["LFQuantizer", "MAX_CODE_DIM"]

#: The largest D: the implicit codebook ``[2^D, D]`` and the entropy's ``[N, 2^D]`` table grow as 2^D.
MAX_CODE_DIM = 16


class LFQuantizer(nn.Module):
    """Lookup-free quantization (LFQ, MAGVIT-v2, Yu et al. 2023, arXiv:2310.05737).

    Each of the D dimensions of ``u = z_e`` is quantized to ``+s`` or ``-s`` (``s = 1``), by its sign
    (``u_d > 0`` gives ``+s``, zero gives ``-s``)::

        z_hat_d = s sign(u_d),      z_q = u + sg(z_hat - u)      (straight-through).

    Code ids are the bits ``b_d = [u_d > 0]`` read as a binary number, dimension 0 first (most significant):
    ``k = sum_d b_d 2^(D-1-d)``, as vector-quantize-pytorch's ``LFQ`` numbers them.

    **The entropy penalty.** A soft assignment of ``u`` to the ``K = 2^D`` codes ``c_k`` at temperature
    ``tau``, ``q(k | x) = softmax_k(-||u - c_k||^2 / tau)``, factorizes over the dimensions
    (``P(b_d = 1) = sigmoid(4 s u_d / tau)``), so its entropy is a sum of D binary entropies. The loss is

        ``entropy = w (mean_n H(q(. | x_n)) - H(q_bar)),   q_bar = mean_n q(. | x_n)``

    (MAGVIT-v2's entropy penalty; the two terms weighted equally, as vector-quantize-pytorch's default
    ``diversity_gamma=1``): confident assignments, spread over the codebook. ``H(q_bar)`` needs the
    ``[N, K]`` table (from the factorized :meth:`log_posterior`), so memory grows as ``N 2^D``
    (``D <=`` :data:`MAX_CODE_DIM`). With
    data-parallel training it is the entropy of this rank's shard, as :func:`vqlab.train.train` documents
    for batch-level terms; the counts (perplexity, usage) are summed over the ranks. Both entropies are
    computed exactly here; vector-quantize-pytorch clamps probabilities below 1e-5 inside the logarithm.

    ``commitment = beta ||u - sg(z_hat)||^2`` (per element); the losses are computed in training and in
    evaluation mode. ``probs`` is the one-hot posterior at ``indices`` (built on first read, as for
    :class:`~vqlab.quantizers.FSQuantizer`); the soft ``q(k | x)`` is :meth:`log_posterior`.

    Same interface as every vqlab quantizer (``num_codes``, ``code_dim``, :attr:`codebook`, a
    :class:`QuantizerOutput`), so it drops into :class:`vqlab.models.VQVAE` with an encoder of output size D.

    Args:
        code_dim: D, 1 <= D <= :data:`MAX_CODE_DIM`; K = 2^D.
        beta: commitment weight, >= 0.
        weight: w >= 0, the entropy penalty's weight (vector-quantize-pytorch's default 0.1).
        temperature: tau > 0 of the soft assignment (0.01: vector-quantize-pytorch's ``inv_temperature=100``).

    Example:
        >>> lfq = LFQuantizer(code_dim=4)
        >>> out = lfq(torch.randn(8, 3, 4))
        >>> lfq.num_codes, out.z_q.shape, out.indices.shape, sorted(out.losses)
        (16, torch.Size([8, 3, 4]), torch.Size([8, 3]), ['commitment', 'entropy'])
    """

    def __init__(self, code_dim: int, *, beta: float = 0.25, weight: float = 0.1, temperature: float = 0.01) -> None:
        super().__init__()
        self.code_dim = check_int("code_dim", code_dim)
        if code_dim > MAX_CODE_DIM:
            raise ValueError(f"code_dim must be <= {MAX_CODE_DIM} (K = 2^code_dim codes; the codebook and the "
                             f"entropy's [N, 2^D] table grow as 2^D), got {code_dim!r}")
        self.num_codes = 2 ** code_dim
        self.beta = check_float("beta", beta, 0.0)
        self.weight = check_float("weight", weight, 0.0)
        self.temperature = check_float("temperature", temperature, 0.0, strict=True)
        self.register_buffer("_powers", 2 ** torch.arange(code_dim - 1, -1, -1), persistent=False)
        bits = self.indices_to_bits(torch.arange(self.num_codes))
        self.register_buffer("_bits", bits.float(), persistent=False)                       # [K, D] in {0, 1}

    @property
    def scale(self) -> float:
        """``s``, the magnitude of every code entry (1 for LFQ)."""
        return 1.0

    @property
    def codebook(self) -> Tensor:
        """The implicit codebook ``[K, D]``: row k is the code ``z_hat`` with id k (entries +-s)."""
        return (2.0 * self._bits - 1.0) * self.scale

    def extra_repr(self) -> str:
        return (f"code_dim={self.code_dim}, num_codes={self.num_codes}, beta={self.beta}, weight={self.weight}, "
                f"temperature={self.temperature}")

    def project(self, z: Tensor) -> Tensor:
        """``u``, what is quantized: ``z`` itself for LFQ (``[N, D]``)."""
        return z

    def indices_to_bits(self, indices: Tensor) -> Tensor:
        """The bits ``b_d`` ``[..., D]`` (``torch.long``, dimension 0 most significant) of code ids ``[...]``."""
        return torch.div(indices.long().unsqueeze(-1), self._powers, rounding_mode="floor") % 2

    def bits_to_indices(self, bits: Tensor) -> Tensor:
        """Code ids ``k = sum_d b_d 2^(D-1-d)`` ``[...]`` of bits ``[..., D]``."""
        return (bits.long() * self._powers).sum(-1)

    def log_posterior(self, z: Tensor) -> Tensor:
        """``log q(k | x)`` ``[N, K]`` of flat latents ``z`` ``[N, D]``: the soft assignment of ``u`` to the
        codes at ``temperature``, a product over the dimensions of ``P(b_d = 1) = sigmoid(4 s u_d / tau)``."""
        a = 4.0 * self.scale * self.project(z) / self.temperature                        # [N, D]
        return F.logsigmoid(a) @ self._bits.t() + F.logsigmoid(-a) @ (1.0 - self._bits).t()

    def entropy_terms(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """``(mean_n H(q(. | x_n)), H(q_bar))`` for flat latents ``z`` ``[N, D]`` (nats, see the class)."""
        a = 4.0 * self.scale * self.project(z) / self.temperature
        p = torch.sigmoid(a)
        per_sample = (p * F.softplus(-a) + (1.0 - p) * F.softplus(a)).sum(1).mean()      # sum of binary entropies
        q_bar = self.log_posterior(z).exp().mean(0)
        tiny = torch.finfo(q_bar.dtype).tiny
        return per_sample, -(q_bar * q_bar.clamp_min(tiny).log()).sum()

    def forward(self, z_e: Tensor) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., D]``; see :class:`QuantizerOutput` for the returned shapes."""
        check_tensor("z_e", z_e, last_dim=self.code_dim)
        lead = z_e.shape[:-1]
        z = z_e.reshape(-1, self.code_dim)
        u = self.project(z)
        positive = u.detach() > 0
        z_hat = torch.where(positive, self.scale, -self.scale).to(u.dtype)
        z_q = u + (z_hat - u).detach()
        indices = self.bits_to_indices(positive)
        per_sample, batch = self.entropy_terms(z)
        losses = {"commitment": self.beta * F.mse_loss(u, z_hat),
                  "entropy": self.weight * (per_sample - batch)}
        counts = torch.bincount(indices, minlength=self.num_codes).to(z.dtype)
        if self.training and distributed.is_active():   # data-parallel: the global batch's usage
            counts = distributed.all_reduce_sum(counts)
        return QuantizerOutput(z_q=z_q.reshape(*lead, self.code_dim), indices=indices.reshape(lead), probs=None,
                               losses=losses, perplexity=perplexity(counts), counts=counts)
