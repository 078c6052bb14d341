"""Binary spherical quantization (BSQ, Zhao, Xiong & Krähenbühl 2024, arXiv:2406.07548): LFQ on the unit sphere.

Notebook 08's large-codebook rows: the latent is projected onto the unit sphere and quantized to the nearest
of the ``2^D`` corners ``{-1/sqrt(D), +1/sqrt(D)}^D`` (all on the sphere), so every code is at the same
distance from the origin and the quantization error is bounded; the entropy penalty is LFQ's
(:mod:`vqlab.quantizers.lfq`).
"""
from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor

from vqlab.quantizers.lfq import LFQuantizer

__all__ = ["BSQuantizer"]


class BSQuantizer(LFQuantizer):
    """Binary spherical quantization (BSQ, Zhao et al. 2024, arXiv:2406.07548).

    :class:`LFQuantizer` applied to ``u = z_e / ||z_e||`` with codes of magnitude ``s = 1/sqrt(D)``::

        z_hat_d = sign(u_d) / sqrt(D),      z_q = u + sg(z_hat - u),

    so ``||z_hat|| = ||u|| = 1`` and ``||u - z_hat||`` is at most ``sqrt(2 - 2/sqrt(D))``. The gradient
    reaches ``z_e`` through the normalization. Code ids, the soft assignment ``q(k | x)`` at ``temperature``
    (now ``P(b_d = 1) = sigmoid(4 u_d / (sqrt(D) tau))``), the entropy penalty and the commitment term are
    LFQ's, on ``u``. A zero latent is mapped to ``u = 0`` (all bits 0).

    Where this departs from the paper's code: the authors approximate the codebook entropy ``H(q_bar)`` by
    a sum over groups of dimensions (``group_size``) so that D can be large; here it is exact (the
    ``[N, 2^D]`` table, ``D <=`` :data:`~vqlab.quantizers.lfq.MAX_CODE_DIM`), as in vector-quantize-pytorch's
    ``LFQ(spherical=True)``. The authors' commitment term sums over the D dimensions; vqlab's averages
    (per element, like every vqlab loss).

    Args:
        code_dim, beta, weight, temperature: as for :class:`LFQuantizer`.

    Example:
        >>> bsq = BSQuantizer(code_dim=6)
        >>> out = bsq(torch.randn(5, 6))
        >>> bool(torch.allclose(out.z_q.norm(dim=-1), torch.ones(5)))
        True
    """

    @property
    def scale(self) -> float:
        """``s = 1/sqrt(D)``: every code lies on the unit sphere."""
        return 1.0 / math.sqrt(self.code_dim)

    def project(self, z: Tensor) -> Tensor:
        """``u = z / ||z||`` row by row (``[N, D]``; a zero row stays zero)."""
        return F.normalize(z, dim=-1)
