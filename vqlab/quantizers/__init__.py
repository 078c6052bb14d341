"""Quantizers: every one speaks the same interface, so a notebook can swap them in one line.

One module per idea, each readable alone; every public name is importable from here
(``from vqlab.quantizers import VectorQuantizer``).

=======================================  ========  ============================================================
module                                   notebook  what it holds
=======================================  ========  ============================================================
:mod:`vqlab.quantizers.base`             all       :class:`QuantizerOutput`, :class:`Quantizer` (codebook, EMA
                                                   updates, k-means++ init, dead-code restart),
                                                   :func:`nearest_codes`, :func:`one_hot_posterior`
:mod:`vqlab.quantizers.vq`               01        :class:`VectorQuantizer`, hard VQ (VQ-VAE)
:mod:`vqlab.quantizers.rotation`         08        :func:`rotation_trick` (Fifty et al. 2024)
:mod:`vqlab.quantizers.em`               02        :class:`EMQuantizer`, soft assignments (VIB)
:mod:`vqlab.quantizers.soft_vq`          03        :class:`SoftVectorQuantizer`, posterior mean (soft VQ-VAE)
:mod:`vqlab.quantizers.posterior`        04        :class:`PosteriorQuantizer`, neural gas / fuzzy c-means
:mod:`vqlab.quantizers.fsq`              08        :class:`FSQuantizer`, finite scalar quantization
=======================================  ========  ============================================================

:class:`FSQuantizer` has no learned codebook, so it is not a :class:`Quantizer` subclass, but it returns the
same :class:`QuantizerOutput` and has ``num_codes``, ``code_dim`` and ``codebook`` (its implicit grid), so it
drops into :class:`vqlab.models.VQVAE` the same way.
"""
from vqlab.quantizers.base import INITS, Quantizer, QuantizerOutput, nearest_codes, one_hot_posterior
from vqlab.quantizers.em import EMQuantizer
from vqlab.quantizers.fsq import FSQuantizer
from vqlab.quantizers.posterior import PosteriorQuantizer
from vqlab.quantizers.rotation import rotation_trick
from vqlab.quantizers.soft_vq import SoftVectorQuantizer
from vqlab.quantizers.vq import VectorQuantizer

__all__ = ["QuantizerOutput", "Quantizer", "INITS", "nearest_codes", "one_hot_posterior", "rotation_trick",
           "VectorQuantizer", "EMQuantizer", "SoftVectorQuantizer", "PosteriorQuantizer", "FSQuantizer"]
