"""Optimal-transport assignment (OptVQ, Zhang et al. 2024, arXiv:2412.15195): every code gets its share of the batch.

Notebook 08's large-codebook rows: instead of sending each encoder output to its nearest codeword (where a
few codewords can take everything), the batch is assigned by an entropy-regularised optimal transport plan
(Sinkhorn iterations) whose code marginal is uniform: each of the K codes receives about N/K of the N
latents of a training batch, drawn from the plan, so every codeword is used and learns.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vqlab import distributed
from vqlab._checks import check_float, check_int
from vqlab.posteriors import squared_distances
from vqlab.quantizers.base import Quantizer, nearest_codes

__all__ = ["SinkhornQuantizer", "sinkhorn_plan", "sample_rows"]


@torch.no_grad()
def sinkhorn_plan(cost: Tensor, *, temperature: float, num_iters: int) -> Tensor:
    """The transport plan ``[N, K]`` between N samples (mass 1/N each) and K codes (mass 1/K each) for
    ``cost`` ``[N, K]``: OptVQ's ``sinkhorn``, ``num_iters`` iterations on the kernel ``exp(-C / tau)``
    normalised to total mass 1, each scaling the columns to the code marginal 1/K and then the rows to the
    sample marginal 1/N; the result is multiplied by N, so that every row sums to 1 (a distribution over the
    codes per sample). ``C`` is ``cost`` standardised over all its entries (OptVQ's ``normalize_mode="all"``;
    its shift by the minimum does not change the plan and is left out). The plan is kept as
    ``diag(a) exp(-C / tau) diag(b)`` (two matrix-vector products per iteration), the same numbers as
    normalising the matrix itself.

    Data-parallel: the sums over samples (the code marginal, the standardisation, N) are those of the global
    batch (:func:`vqlab.distributed.all_reduce_sum`), so W ranks with B/W rows compute the plan of batch B.
    Computed in float64 (the exponent is clamped to +-700 to stay finite).
    """
    rows, codes = cost.shape
    c = cost.double()
    stats = distributed.all_reduce_sum(torch.stack([c.sum(), c.pow(2).sum(), c.new_tensor(float(c.numel())),
                                                    c.new_tensor(float(rows))]))
    total, squares, count, n = stats.unbind()
    mean = total / count
    std = ((squares - count * mean ** 2) / (count - 1).clamp_min(1.0)).clamp_min(0.0).sqrt()
    kernel = torch.exp((-(c - mean) / (std.clamp_min(1e-12) * temperature)).clamp(-700.0, 700.0))
    a, b = c.new_ones(rows), c.new_ones(codes) / distributed.all_reduce_sum(kernel.sum())
    for _ in range(num_iters):
        b = b / (distributed.all_reduce_sum(a @ kernel) * b * codes).clamp_min(1e-300)   # code marginal 1/K
        a = a / (a * (kernel @ b) * n).clamp_min(1e-300)                                 # sample marginal 1/N
    return (a[:, None] * kernel * b[None, :] * n).to(cost.dtype)


def sample_rows(plan: Tensor, generator: torch.Generator) -> Tensor:
    """One code per row of ``plan`` ``[N, K]`` (rows sum to 1), drawn by inverse transform sampling:
    ``k_n = #{k : cumsum_k plan[n] < u_n}``, ``u_n ~ U(0, 1)`` from ``generator``.

    Data-parallel: every rank draws the global batch's ``u`` (the same numbers as one process with the whole
    batch) and uses its own rows' share (the ranks' rows are the global batch in order,
    :func:`vqlab.distributed.shard`), so the draws are the serial run's.
    """
    rows = plan.shape[0]
    start, total = 0, rows
    if distributed.is_active():
        sizes = distributed.gather_rows(plan.new_tensor([[float(rows)]])).flatten().long()
        start, total = int(sizes[:distributed.rank()].sum()), int(sizes.sum())
    u = torch.rand(total, generator=generator, dtype=torch.float64)[start:start + rows].to(plan.device)
    cdf = plan.detach().double().cumsum(1)
    return (cdf < u[:, None] * cdf[:, -1:]).sum(1).clamp_max(plan.shape[1] - 1)


class SinkhornQuantizer(Quantizer):
    """Hard VQ with optimal-transport assignment (OptVQ, Zhang et al. 2024, arXiv:2412.15195), after the
    authors' code (zbr17/OptVQ, ``VectorQuantizerSinkhorn``).

    In training mode the latents of a batch are assigned by :func:`sinkhorn_plan` of the Euclidean distances
    ``||z_e - e_k||`` (OptVQ's ``cdist``) at ``temperature`` (OptVQ's ``epsilon`` is ``1 / tau``; its default
    10 is ``tau = 0.1``), and each latent's code is *drawn* from its row of the plan (:func:`sample_rows`, the
    quantizer's generator; the authors' default ``use_prob=True``). The plan gives every code the same mass;
    its argmax would not: a codeword far from all latents gets a thin share of every row and wins none. In
    evaluation mode a code must not depend on the rest of the batch, so it is the nearest codeword. The
    posterior is one-hot at the code (a :attr:`hard_posterior` quantizer). Then, as for
    :class:`~vqlab.quantizers.VectorQuantizer`: ``z_q = z_e + sg(e_k - z_e)``,
    ``codebook = ||sg(z_e) - e_k||^2`` and ``commitment = beta ||z_e - sg(e_k)||^2``.

    Where this departs from the authors' code: they assign with the plan in evaluation too, put weight 1 on
    the commitment term and ``beta`` (default 1) on the codebook term, and pass the codebook through a
    learned linear map (``use_proj``; that idea is :class:`~vqlab.quantizers.SimVQuantizer`).

    Args:
        num_codes, code_dim, beta, init, restart_after, seed: as for :class:`~vqlab.quantizers.Quantizer`
            (``codebook_update`` is ``"gradient"``).
        temperature: ``tau > 0`` of the transport plan (small: close to the unregularised optimal transport).
        num_iters: Sinkhorn iterations, >= 1 (OptVQ's default 5).

    Example:
        >>> q = SinkhornQuantizer(num_codes=8, code_dim=2).train()
        >>> out = q(torch.randn(64, 2))
        >>> int((out.counts > 0).sum())     # a balanced plan: every code is drawn in the batch
        8
    """

    hard_posterior = True

    def __init__(self, num_codes: int, code_dim: int, *, temperature: float = 0.1, num_iters: int = 5,
                 beta: float = 0.25, init: str = "uniform", restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, init=init, restart_after=restart_after, seed=seed)
        self.temperature = check_float("temperature", temperature, 0.0, strict=True)
        self.num_iters = check_int("num_iters", num_iters)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", temperature={self.temperature}, num_iters={self.num_iters}"

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Returns ``(z_q [N, D], indices [N], losses)``: codes drawn from the plan (training) or the nearest
        codewords (evaluation)."""
        w = self.codebook
        if self.training:
            distance = squared_distances(z.detach(), w.detach()).sqrt()
            plan = sinkhorn_plan(distance, temperature=self.temperature, num_iters=self.num_iters)
            idx = sample_rows(plan, self.generator)
        else:
            idx = nearest_codes(z, w)
        chosen = w[idx]
        losses = {"codebook": F.mse_loss(chosen, z.detach()), "commitment": self.beta * F.mse_loss(z, chosen.detach())}
        return z + (chosen - z).detach(), idx, losses
