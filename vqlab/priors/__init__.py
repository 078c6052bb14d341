"""Autoregressive priors over VQ-VAE code maps: MADE, PixelCNN and gated PixelCNN (stage 2 of a VQ-VAE).

Source: the neural-gas thesis (Badran 2021, master thesis),
§3.1-3.3 and §5.3. A code map ``z`` of shape ``[H, W]`` with entries in ``{0, ..., K-1}`` is modelled
with the chain rule (eq. 3.1) in a fixed ordering of its ``n = H W`` positions,

    p(z) = prod_i p(z_i | z_<i),        log p(z) = sum_i log p(z_i | z_<i)      (eqs. 3.1, 3.2),

where one network outputs all ``n`` conditionals at once and masks guarantee that output ``i`` only
sees inputs ``< i`` (the *autoregressive property*): MADE masks the weights of an MLP (eq. 3.3),
PixelCNN masks convolution kernels (mask A, eq. 3.4, in the first layer; mask B, eq. 3.5, after it),
and the gated PixelCNN (van den Oord et al. 2016, the thesis's ref. [23]) splits the network into a
vertical and a horizontal stack so that the receptive field has no blind spot.

Every prior here is a :class:`CodePrior`: ``prior(x)`` with ``x`` a ``[N, H, W]`` long code map returns
a :class:`PriorOutput` whose ``losses = {"nll": bits per code}``, so :func:`vqlab.train.train` trains
it as it trains any other model. The same API (``bits_per_code``, ``sample``, ``complete``) serves the
two baselines, :class:`UniformPrior` (``log2 K`` bits per code) and :class:`UnigramPrior` (independent
per-position code frequencies).

===================================  ==============================================================
module                               what it holds
===================================  ==============================================================
:mod:`vqlab.priors.base`             :class:`CodePrior` (likelihood, sampling, completion), the
                                     baselines, :func:`bits_per_code`, :func:`tempered_probs`
:mod:`vqlab.priors.made`             MADE (thesis §3.2)
:mod:`vqlab.priors.pixelcnn`         PixelCNN, gated PixelCNN, :func:`receptive_field` (thesis §3.3)
===================================  ==============================================================
"""
from vqlab.priors.base import (CodePrior, PriorOutput, UniformPrior, UnigramPrior, bits_per_code, raster_order,
                               tempered_probs)
from vqlab.priors.made import MADE, MaskedLinear, made_masks
from vqlab.priors.pixelcnn import (GatedPixelCNN, MaskedConv2d, PixelCNN, conv_mask, masked_conv_stack,
                                   receptive_field)

__all__ = [
    "PriorOutput", "CodePrior", "UniformPrior", "UnigramPrior", "MADE", "made_masks", "MaskedLinear",
    "conv_mask", "MaskedConv2d", "masked_conv_stack", "PixelCNN", "GatedPixelCNN", "bits_per_code",
    "tempered_probs", "receptive_field", "raster_order",
]
