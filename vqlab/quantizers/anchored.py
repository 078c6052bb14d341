"""Anchored dead-code re-initialisation (CVQ-VAE, Zheng & Vedaldi 2023, arXiv:2307.15139): codes that the
batches stop using are pulled onto encoded features, by an amount set by their running usage.

Notebook 08's large-codebook rows: the online clustered codebook. Unlike the dead-code restart of notebook 01
(a code unused for a number of steps jumps onto a random latent), every code moves every training step, each by
``alpha_k`` towards an *anchor*, an encoder output of the batch; ``alpha_k`` is about 1 for a code the running
usage says is unused and about 0 for a code in regular use.
"""
from __future__ import annotations

import torch
from torch import Tensor

from vqlab import distributed
from vqlab._checks import check_choice
from vqlab.posteriors import squared_distances
from vqlab.quantizers.base import QuantizerOutput
from vqlab.quantizers.vq import VectorQuantizer

__all__ = ["AnchoredQuantizer", "ANCHORS"]

#: The anchors :class:`AnchoredQuantizer` accepts.
ANCHORS = ("nearest", "random")


class AnchoredQuantizer(VectorQuantizer):
    """Hard VQ (:class:`~vqlab.quantizers.VectorQuantizer`) with CVQ-VAE's anchored re-initialisation
    (Zheng & Vedaldi 2023, arXiv:2307.15139), after the authors' code (lyndonzheng/CVQ-VAE, ``quantise.py``).

    After each training step's quantization, with ``n_k`` the batch's hard counts and N the batch size:

        ``u_k <- gamma u_k + (1 - gamma) n_k / N``                  (running usage, buffer ``usage``, from 0)
        ``alpha_k = exp(-10 K u_k / (1 - gamma) - 10^-3)``
        ``e_k <- (1 - alpha_k) e_k + alpha_k a_k``

    where ``gamma`` is ``decay`` and ``a_k`` is code k's anchor, an encoder output of the batch:
    ``anchor="nearest"`` the one nearest to ``e_k`` (the authors' ``"closest"``, here by Euclidean distance, as
    this quantizer assigns), ``"random"`` one drawn uniformly (with the quantizer's generator; the authors draw
    from a pool of earlier features). A code used at the uniform rate ``u_k = 1/K`` has
    ``alpha_k = e^{-1000}`` for ``gamma = 0.99``: it is left alone; an unused one is moved (almost) onto its
    anchor. The move is not a gradient step: it writes the codebook after the forward pass (as the base class's
    dead-code restart does), so this step's losses are unchanged.

    Data-parallel: the counts are the global batch's, the anchors are drawn from every rank's rows
    (:func:`vqlab.distributed.gather_rows`) and rank 0's draw is used everywhere
    (:func:`vqlab.distributed.broadcast_from_first`), so every rank moves the same codes to the same anchors.

    Where this departs from the authors' code: their default distance is the cosine similarity and their
    default anchor ``"probrandom"`` (a feature drawn with probabilities softmax of the similarities); their
    optional contrastive loss is not included.

    Args:
        num_codes, code_dim, beta, init, seed, rotation_trick: as for :class:`~vqlab.quantizers.VectorQuantizer`
            (``codebook_update`` is ``"gradient"``; no ``restart_after``: the anchoring replaces it).
        decay: gamma in [0, 1) of the running usage (the authors' 0.99).
        anchor: ``"nearest"`` or ``"random"``.
    """

    def __init__(self, num_codes: int, code_dim: int, *, anchor: str = "nearest", decay: float = 0.99,
                 rotation_trick: bool = False, beta: float = 0.25, init: str = "uniform", seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, rotation_trick=rotation_trick, beta=beta, decay=decay, init=init,
                         seed=seed)
        self.anchor = check_choice("anchor", anchor, ANCHORS)
        self.register_buffer("usage", torch.zeros(num_codes))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", anchor={self.anchor!r}, decay={self.decay}"

    def forward(self, z_e: Tensor) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., D]`` (see :class:`QuantizerOutput`); in training mode, then anchor the codes."""
        out = super().forward(z_e)
        if self.training:
            self._anchor(z_e.detach().reshape(-1, self.code_dim), out.counts)
        return out

    @torch.no_grad()
    def _anchor(self, z: Tensor, counts: Tensor) -> None:
        """The update of the class docstring, for flat latents ``z`` ``[N, D]`` and the global ``counts`` ``[K]``."""
        self.usage.mul_(self.decay).add_(counts / counts.sum(), alpha=1.0 - self.decay)
        alpha = torch.exp(-10.0 * self.num_codes * self.usage / (1.0 - self.decay) - 1e-3).unsqueeze(1)
        if distributed.is_active():
            z = distributed.gather_rows(z)
        if self.anchor == "nearest":
            pick = squared_distances(z, self.weight).argmin(0)
        else:
            pick = torch.randint(z.shape[0], (self.num_codes,), generator=self.generator)
        anchors = distributed.broadcast_from_first(z[pick.to(z.device)].clone())
        self.weight.data.mul_(1.0 - alpha).add_(alpha * anchors)
