"""SimVQ (Zhu et al. 2024, arXiv:2411.02038): a frozen random codebook times one learned linear map.

Notebook 08's large-codebook rows: hard VQ whose codewords are ``e = C W^T``, ``C`` a fixed random basis and
``W`` one learned ``D x D`` matrix. The codebook loss moves ``W``, and ``W`` moves *every* codeword at once, so
no codeword is left behind where no encoder output reaches it (the collapse of notebook 01).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab.quantizers.base import Quantizer, nearest_codes
from vqlab.quantizers.rotation import rotation_trick

__all__ = ["SimVQuantizer"]


class SimVQuantizer(Quantizer):
    """SimVQ (Zhu et al. 2024, arXiv:2411.02038): hard VQ with the codebook ``e = C W^T``.

    ``C`` ``[K, D]`` (the buffer ``basis``) is drawn once from ``N(0, 1/D)`` with the quantizer's generator
    (the Gaussian of vector-quantize-pytorch's ``SimVQ``) and never trained; ``W`` ``[D, D]`` (``projection``, no bias, as vector-quantize-pytorch's ``SimVQ``) is a
    parameter, initialised like ``nn.Linear`` (``U(-1/sqrt(D), 1/sqrt(D))``) but from the quantizer's
    generator. Everything else is :class:`~vqlab.quantizers.VectorQuantizer`'s: the nearest codeword
    ``k* = argmin_k ||z_e - e_k||^2``, ``z_q = z_e + sg(e_{k*} - z_e)`` (or the rotation trick), and

        ``codebook = ||sg(z_e) - e_{k*}||^2`` (reaches ``W``),  ``commitment = beta ||z_e - sg(e_{k*})||^2``.

    Because ``e_{k*} = W c_{k*}``, the codebook loss of one code is a gradient on ``W``, which moves all
    K codewords: a codeword far from the encoder outputs still follows the ones in use.

    The codebook is always learned through ``W`` (``codebook_update="gradient"``); there is no ``init`` (the
    basis is always that Gaussian) and no dead-code restart (a restart would have to move a row of
    the frozen basis).

    Args:
        num_codes, code_dim, beta, seed: as for :class:`~vqlab.quantizers.Quantizer`.
        rotation_trick: use :func:`~vqlab.quantizers.rotation_trick` for ``z_q`` (vector-quantize-pytorch's
            ``SimVQ`` default); ``False`` is straight-through.

    Example:
        >>> q = SimVQuantizer(num_codes=512, code_dim=4)
        >>> q.codebook.shape, [name for name, _ in q.named_parameters()]
        (torch.Size([512, 4]), ['projection.weight'])
    """

    hard_posterior = True

    def __init__(self, num_codes: int, code_dim: int, *, rotation_trick: bool = False, beta: float = 0.25,
                 seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, seed=seed)
        if not isinstance(rotation_trick, bool):
            raise TypeError(f"rotation_trick must be a bool, got {rotation_trick!r}")
        self.rotation_trick = rotation_trick
        basis = torch.randn(num_codes, code_dim, generator=self.generator) / math.sqrt(code_dim)
        del self.weight
        self.register_buffer("weight", basis)                        # C, frozen
        bound = 1.0 / math.sqrt(code_dim)
        self.projection = nn.Linear(code_dim, code_dim, bias=False)
        with torch.no_grad():
            self.projection.weight.copy_(torch.empty(code_dim, code_dim).uniform_(-bound, bound,
                                                                                generator=self.generator))

    @property
    def basis(self) -> Tensor:
        """``C`` ``[K, D]``, the frozen random basis."""
        return self.weight

    @property
    def codebook(self) -> Tensor:
        """The codewords ``e = C W^T`` ``[K, D]`` (differentiable in ``W``)."""
        return self.projection(self.weight)

    def extra_repr(self) -> str:
        return (f"num_codes={self.num_codes}, code_dim={self.code_dim}, beta={self.beta}, "
                f"rotation_trick={self.rotation_trick}")

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Returns ``(z_q [N, D], indices [N], losses)`` (a :attr:`hard_posterior` quantizer)."""
        codebook = self.codebook
        idx = nearest_codes(z, codebook)
        w = codebook[idx]
        losses = {"codebook": F.mse_loss(w, z.detach()), "commitment": self.beta * F.mse_loss(z, w.detach())}
        z_q = rotation_trick(z, w) if self.rotation_trick else z + (w - z).detach()
        return z_q, idx, losses
