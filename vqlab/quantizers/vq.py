"""Hard vector quantization, the vanilla VQ-VAE quantizer (van den Oord et al. 2017, arXiv:1711.00937).

Notebook 01: the one-hot (k-means) posterior at the nearest codeword, the straight-through estimator (or
the rotation trick of :mod:`vqlab.quantizers.rotation`), and the codebook-collapse fixes the base class
:class:`~vqlab.quantizers.Quantizer` provides: EMA codebook updates (``codebook_update="ema"``),
k-means++ initialisation (``init="kmeans++"``) and dead-code restarts (``restart_after``).
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from vqlab.quantizers.base import Quantizer, nearest_codes
from vqlab.quantizers.rotation import rotation_trick

__all__ = ["VectorQuantizer"]


class VectorQuantizer(Quantizer):
    """Hard VQ, the vanilla VQ-VAE quantizer (van den Oord et al. 2017; thesis eq. 5.5).

    Posterior: one-hot at the nearest codeword ``k* = argmin_k ||z_e - e_k||^2`` (the k-means posterior,
    thesis §4.1.2; VQ-VAE eqs. 1-2; :func:`nearest_codes`). Decoder input: ``z_q = z_e + sg(e_{k*} - z_e)``
    (straight-through estimator: the forward pass sees the codeword, the backward pass copies the gradient to
    ``z_e``), or
    with ``rotation_trick=True`` :func:`rotation_trick` (same forward value; the gradient is rotated and
    rescaled from ``e_{k*}`` back onto ``z_e``, Fifty et al. 2024). Losses
    ``codebook = ||sg(z_e) - e_{k*}||^2`` and ``commitment = beta ||z_e - sg(e_{k*})||^2`` (VQ-VAE eq. 3, thesis
    eq. 5.5 with eta = 1), each averaged over the batch *and* the D dimensions (the papers' squared norms divided
    by D, as DeepMind's Sonnet code computes them); with ``codebook_update="ema"`` the codebook term is replaced
    by EMA updates (App. A.1).

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
