"""The EM soft quantizer (Roy et al. 2018, arXiv:1805.11063), the VQ-VAE read as a VIB (arXiv:1808.01048).

Notebook 02: an E step (a Gibbs posterior over the codes at temperature ``tau``, the VIB trade-off ``w_IB``,
sampled or averaged for the decoder input) and an M step (by default the EMA of soft-count-weighted
averages, Roy et al.'s soft-EM M step).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.quantizers.base import Quantizer

__all__ = ["EMQuantizer"]


class EMQuantizer(Quantizer):
    """Soft-assignment ("EM") quantizer of Roy et al. (2018), the VQ-VAE read as a VIB
    (arXiv:1808.01048, eq. 28).

    **E step** (the posterior), with temperature ``tau`` (eq. 28 and Roy et al.'s public code have no
    temperature: ``tau = 1``)::

        q(k | x) = exp(-||e_k - z_e(x)||^2 / tau) / sum_j exp(-||e_j - z_e(x)||^2 / tau)

    computed by :func:`vqlab.posteriors.gibbs_posterior` (log-softmax after subtracting the row minimum, so
    it is finite for any ``tau > 0``). ``tau`` is the IB trade-off ``w_IB`` (the paper's ``beta``) of eq. 18
    when the distortion is the latent squared distance: this posterior minimises
    ``E_q ||z_e - e_k||^2 + tau KL(q(Z|J) || uniform)`` for a fixed codebook. ``||.||^2`` is summed over
    the D latent dimensions, so ``tau`` is in the units of squared distances.

    **M step** (the codebook), ``codebook_update``:

    * ``"ema"`` (the default): Roy et al.'s soft-EM M step in its online form, the codewords as
      soft-count-weighted averages of the latents, ``e_k = sum_n q(k|x_n) z_e(x_n) / sum_n q(k|x_n)``,
      each sum an exponential moving average over batches with decay ``decay`` (and Laplace smoothing
      ``epsilon`` of the counts), :meth:`Quantizer._ema_update`. With ``decay = 0`` (and ``epsilon -> 0``)
      one training call is exactly one E step and one M step on the batch: repeated calls on one batch are
      EM for a mixture of K isotropic Gaussians of variance ``tau / 2`` and equal weights, and never lower
      its likelihood (tested in ``tests/test_em_quantizer.py``).
      Roy et al.'s code counts S codes *sampled* from ``q(k|x_n)`` (Monte-Carlo EM); the exact soft counts
      used here are the expectation of those counts (no sampling noise in the M step). No codebook loss.
    * ``"gradient"``: the codebook loss ``E_q ||sg(z_e) - e_k||^2 / D`` trained by the optimizer, as in
      the VQ-VAE's eq. 24 for this posterior (not an M step; kept for comparison).

    Decoder input (a constructor choice, both straight-through as in the neural-gas thesis §5.1.3,
    ``z_q = z_e + sg(w̄ - z_e)``; the thesis prints a minus sign before ``sg``, a typo, since with it
    the forward pass would not see ``w̄``):

    * ``decoder_input="sample"``: ``w̄ = (1/S) sum_{s=1}^S e_{k_s}``, ``k_s ~ q(k | x)`` i.i.d., drawn
      with the quantizer's own ``generator`` (in training and in eval mode: the code is stochastic); Roy et
      al.'s decoder input, the average of S sampled codewords;
    * ``decoder_input="mean"``: ``w̄ = sum_k q(k | x) e_k``, the posterior mean (the ``S -> inf`` limit).

    Losses (eq. 5.4 of the thesis for this posterior, :func:`vqlab.posteriors.posterior_losses`):
    ``commitment = beta E_q ||z_e - sg(e_k)||^2 / D`` (Roy et al.'s code commits ``z_e`` to the sampled
    average ``w̄`` instead) and, with ``codebook_update="gradient"`` only, ``codebook``.

    As ``tau -> 0`` the posterior is one-hot at the nearest codeword and the quantizer is exactly
    :class:`VectorQuantizer` with the same ``codebook_update`` (same ``z_q``, ``probs``, losses, gradients
    and EMA codebook): hard EM.

    Args:
        num_codes, code_dim, beta, decay, epsilon, init, restart_after, seed: as for :class:`Quantizer`.
        codebook_update: ``"ema"`` (the soft M step, default) or ``"gradient"``.
        temperature: ``tau > 0``. num_samples: ``S >= 1`` (``"sample"`` mode).
        decoder_input: ``"sample"`` or ``"mean"``.

    Example:
        >>> em = EMQuantizer(16, 4, temperature=0.5, num_samples=2)
        >>> out = em(torch.randn(8, 3, 4))
        >>> out.probs.shape, bool(torch.allclose(out.probs.sum(-1), torch.ones(8, 3))), sorted(out.losses)
        (torch.Size([8, 3, 16]), True, ['commitment'])
    """

    def __init__(self, num_codes: int, code_dim: int, *, temperature: float = 1.0, num_samples: int = 1,
                 decoder_input: str = "sample", beta: float = 0.25, codebook_update: str = "ema",
                 decay: float = 0.99, epsilon: float = 1e-5, init: str = "uniform",
                 restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, decay=decay,
                         epsilon=epsilon, init=init, restart_after=restart_after, seed=seed)
        self.temperature = temperature
        self.num_samples = check_int("num_samples", num_samples)
        self.decoder_input = check_choice("decoder_input", decoder_input, ("sample", "mean"))

    @property
    def temperature(self) -> float:
        """``tau > 0`` of eq. 28; may be changed between calls (e.g. by a sweep or a slider)."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self._temperature = check_float("temperature", value, 0.0, strict=True)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", temperature={self.temperature}, num_samples={self.num_samples}, "
                f"decoder_input={self.decoder_input!r}")

    def log_posterior(self, z: Tensor, codebook: Tensor | None = None) -> Tensor:
        """``log q(k | x)`` ``[N, K]`` for flat latents ``z`` ``[N, D]`` (eq. 28 with temperature)."""
        w = self.codebook if codebook is None else codebook
        return gibbs_posterior(squared_distances(z, w), self.temperature)

    def log_likelihood(self, z: Tensor) -> Tensor:
        """Mean log-likelihood of flat latents ``z`` ``[N, D]`` under the mixture whose posterior is the E step:
        K equally weighted Gaussians ``N(e_k, (tau / 2) I)``,

            (1/N) sum_n log( (1/K) sum_k exp(-||z_n - e_k||^2 / tau) / (pi tau)^(D/2) ).

        EM (a training call with ``codebook_update="ema"``, ``decay = 0``, ``epsilon -> 0``) never lowers it on
        a fixed batch. Returns a scalar tensor (no gradient through the codebook in EMA mode)."""
        check_tensor("z", z, last_dim=self.code_dim)
        w = self.codebook
        d = squared_distances(z.to(w.dtype), w)
        k, dim = w.shape
        tau = self.temperature
        return (torch.logsumexp(-d / tau, 1) - math.log(k) - 0.5 * dim * math.log(math.pi * tau)).mean()

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        # The EMA update (Quantizer._ema_update) replaces the codebook by a new tensor instead of writing
        # into it, so the codebook these losses saved for backward stays intact in both modes.
        w = self.codebook
        probs = self.log_posterior(z, w).exp()
        if self.decoder_input == "sample":
            draws = torch.multinomial(probs.detach(), self.num_samples, replacement=True,
                                      generator=self.generator)          # [N, S], k_s ~ q(k | x)
            w_bar = w[draws].mean(1)
        else:
            w_bar = probs.detach() @ w
        z_q = z + (w_bar - z).detach()                                   # thesis §5.1.3, straight-through
        losses = self.codebook_losses(z, probs)                          # thesis eq. 5.4 for eq. 28
        return z_q, probs, losses
