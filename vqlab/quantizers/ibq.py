"""Index backpropagation quantization (IBQ, Shi et al. 2024, arXiv:2412.02692): every code gets a gradient.

Notebook 08's large-codebook rows and notebook 09: the decoder input is the chosen codeword, but its gradient
flows through the softmax over *all* codes (a straight-through estimator on the one-hot assignment,
:func:`vqlab.quantizers.estimators.softmax_straight_through`), so codewords that are never chosen still move
with the encoder instead of being left behind.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vqlab.quantizers.base import Quantizer
from vqlab.quantizers.estimators import softmax_straight_through

__all__ = ["IBQuantizer"]


class IBQuantizer(Quantizer):
    """Index backpropagation quantization (IBQ, Shi et al. 2024, arXiv:2412.02692), as the authors' code
    (TencentARC/SEED-Voken, ``IndexPropagationQuantize``) computes it.

    Logits are inner products ``l_k = z_e . e_k``; the posterior is ``q(k | x) = softmax_k(l_k)`` and the
    code the one with the largest logit, ``k* = argmax_k z_e . e_k`` (not the Euclidean nearest codeword:
    a codeword with a larger norm wins more often). The decoder input is

        ``z_q = sum_k (onehot(k*)_k - sg(q_k) + q_k) e_k``   (value ``e_{k*}``),

    so ``dz_q / dz_e`` goes through the softmax (no straight-through copy to ``z_e``) and every codeword
    ``e_k`` receives a gradient, through ``q_k`` and through ``l_k``. Losses (per element)::

        codebook   = ||sg(z_e) - e_{k*}||^2
        commitment = beta ||z_e - sg(e_{k*})||^2
        double_quantization = ||z_q - z_e||^2        (gradient into z_e, and through z_q into all codes)

    Where this departs from the authors' code: it puts ``beta`` on the codebook term and weight 1 on the
    commitment term (the weighting of taming-transformers' legacy ``VectorQuantizer2``); vqlab keeps
    ``beta`` the commitment weight everywhere. Their optional entropy loss is not included.

    Args:
        num_codes, code_dim, beta, init, restart_after, seed: as for :class:`~vqlab.quantizers.Quantizer`
            (``codebook_update`` is always ``"gradient"``: every code learns from its gradient).

    Example:
        >>> q = IBQuantizer(num_codes=16, code_dim=4)
        >>> out = q(torch.randn(10, 4))
        >>> sorted(out.losses), bool(torch.equal(out.probs.argmax(-1), out.indices))
        (['codebook', 'commitment', 'double_quantization'], True)
    """

    def __init__(self, num_codes: int, code_dim: int, *, beta: float = 0.25, init: str = "uniform",
                 restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, init=init, restart_after=restart_after, seed=seed)

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Returns ``(z_q [N, D], probs [N, K], losses)``; ``probs`` is the softmax of the inner products."""
        w = self.codebook
        probs = torch.softmax(z @ w.t(), dim=1)
        z_q = softmax_straight_through(probs, w)
        chosen = w[probs.detach().argmax(1)]
        losses = {"codebook": F.mse_loss(chosen, z.detach()),
                  "commitment": self.beta * F.mse_loss(z, chosen.detach()),
                  "double_quantization": F.mse_loss(z_q, z)}
        return z_q, probs, losses
