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
:mod:`vqlab.quantizers.simvq`            08        :class:`SimVQuantizer`, a frozen codebook times a learned map
:mod:`vqlab.quantizers.ibq`              08, 09    :class:`IBQuantizer`, index backpropagation
:mod:`vqlab.quantizers.lfq`              08        :class:`LFQuantizer`, lookup-free (sign) quantization
:mod:`vqlab.quantizers.bsq`              08        :class:`BSQuantizer`, binary spherical quantization
:mod:`vqlab.quantizers.sinkhorn`         08        :class:`SinkhornQuantizer`, optimal-transport assignment
:mod:`vqlab.quantizers.anchored`         08        :class:`AnchoredQuantizer`, anchored dead-code re-initialisation
:mod:`vqlab.quantizers.estimators`       09        gradient estimators through the argmin,
                                                   :class:`EstimatorQuantizer`
=======================================  ========  ============================================================

:class:`FSQuantizer`, :class:`LFQuantizer` and :class:`BSQuantizer` have no learned codebook, so they are not
:class:`Quantizer` subclasses, but they return the same :class:`QuantizerOutput` and have ``num_codes``,
``code_dim`` and ``codebook`` (their implicit grid), so they drop into :class:`vqlab.models.VQVAE` the same way.
"""
from vqlab.quantizers.anchored import ANCHORS, AnchoredQuantizer
from vqlab.quantizers.base import INITS, Quantizer, QuantizerOutput, nearest_codes, one_hot_posterior
from vqlab.quantizers.bsq import BSQuantizer
from vqlab.quantizers.em import EMQuantizer
from vqlab.quantizers.estimators import (ESTIMATORS, EstimatorQuantizer, diveq, gumbel_softmax, posterior_mean,
                                         softmax_straight_through, straight_through)
from vqlab.quantizers.fsq import FSQuantizer
from vqlab.quantizers.ibq import IBQuantizer
from vqlab.quantizers.lfq import LFQuantizer
from vqlab.quantizers.posterior import PosteriorQuantizer
from vqlab.quantizers.rotation import rotation_trick
from vqlab.quantizers.simvq import SimVQuantizer
from vqlab.quantizers.sinkhorn import SinkhornQuantizer, sinkhorn_plan
from vqlab.quantizers.soft_vq import SoftVectorQuantizer
from vqlab.quantizers.vq import VectorQuantizer

__all__ = ["QuantizerOutput", "Quantizer", "INITS", "nearest_codes", "one_hot_posterior", "rotation_trick",
           "VectorQuantizer", "EMQuantizer", "SoftVectorQuantizer", "PosteriorQuantizer", "FSQuantizer",
           # issue 27: the frontier quantizers (notebook 08's large codebooks) and the estimators (notebook 09)
           "SimVQuantizer", "IBQuantizer", "LFQuantizer", "BSQuantizer", "SinkhornQuantizer", "sinkhorn_plan",
           "AnchoredQuantizer", "ANCHORS", "EstimatorQuantizer", "ESTIMATORS", "straight_through",
           "posterior_mean", "gumbel_softmax", "softmax_straight_through", "diveq"]
