"""Notebook 04's experiment (Badran 2021, master thesis, ch. 5): neural gas and fuzzy c-means posteriors
inside the digits VQ-VAE.
"""
from __future__ import annotations

from torch import nn

from vqlab.models import build_vqvae
from vqlab.quantizers import PosteriorQuantizer

__all__ = ["posterior_vqvae"]


def posterior_vqvae(seed: int, *, posterior: str = "hard", lam: float = 1.0, lam_final: float | None = None,
                    lam_steps: int | None = None, m: float = 2.0, init: str = "uniform", num_codes: int = 128,
                    code_dim: int = 8, codes_per_image: int = 4, beta: float = 0.25, eta: float = 1.0,
                    hidden: tuple[int, ...] = (128,)) -> nn.Module:
    """Notebook 04's digits VQ-VAE: :func:`vqlab.models.build_vqvae` (MLP, ``codes_per_image`` latent
    vectors of dimension ``code_dim`` per image) around a
    :class:`~vqlab.quantizers.PosteriorQuantizer` (``posterior``, ``lam``/``lam_final``/``lam_steps``,
    ``m``, ``init``, the thesis's alpha = ``beta`` and ``eta``). Same nets for every posterior."""
    quantizer = PosteriorQuantizer(num_codes, code_dim, posterior=posterior, lam=lam, lam_final=lam_final,
                                   lam_steps=lam_steps, m=m, eta=eta, beta=beta, init=init, seed=seed)
    return build_vqvae(quantizer, latent_shape=(codes_per_image, code_dim), hidden=hidden, seed=seed)
