"""The EM soft quantizer (Roy et al. 2018, arXiv:1805.11063), the VQ-VAE read as a VIB (arXiv:1808.01048).

Notebook 02: a Gibbs posterior over the codes at temperature ``tau`` (the VIB trade-off), sampled or
averaged for the decoder input.
"""
from __future__ import annotations

import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int
from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.quantizers.base import Quantizer

__all__ = ["EMQuantizer"]


class EMQuantizer(Quantizer):
    """Soft-assignment ("EM") quantizer of Roy et al. (2018), the VQ-VAE read as a VIB
    (arXiv:1808.01048, eq. 28).

    Posterior (E step), with temperature ``tau`` (eq. 28 is ``tau = 1``)::

        p(z | x) = exp(-||e_z - z_e(x)||^2 / tau) / sum_j exp(-||e_j - z_e(x)||^2 / tau)

    computed by :func:`vqlab.posteriors.gibbs_posterior` (log-softmax after subtracting the row minimum, so
    it is finite for any ``tau > 0``). ``tau`` is the IB trade-off ``w_IB`` (the paper's ``beta``) of eq. 18 when the
    distortion is the latent squared distance: this posterior minimises
    ``E_p ||z_e - e_z||^2 + tau KL(p(Z|I) || uniform)`` for a fixed codebook. ``||.||^2`` is summed over
    the D latent dimensions, so ``tau`` is in the units of squared distances.

    Decoder input (a constructor choice, both straight-through as in the neural-gas thesis §5.1.3,
    ``z_q = z_e + sg(w̄ - z_e)``; the thesis prints a minus sign before ``sg``, a typo, since with it
    the forward pass would not see ``w̄``):

    * ``decoder_input="sample"``: ``w̄ = (1/m) sum_{s=1}^m e_{z_s}``, ``z_s ~ p(z | x)`` i.i.d., drawn
      with the quantizer's own ``generator`` (in training and in eval mode: the code is stochastic);
    * ``decoder_input="mean"``: ``w̄ = sum_z p(z | x) e_z``, the posterior mean (the ``m -> inf`` limit).

    Losses (eq. 5.4 of the thesis for this posterior, :func:`vqlab.posteriors.posterior_losses`):
    ``commitment = beta E_p ||z_e - sg(e_z)||^2 / D`` and, with ``codebook_update="gradient"``,
    ``codebook = E_p ||sg(z_e) - e_z||^2 / D``; with ``"ema"`` the codebook is the EMA of soft counts
    ``sum_n p(k | x_n)`` (M step, :meth:`Quantizer._ema_update`).

    As ``tau -> 0`` the posterior is one-hot at the nearest codeword and the quantizer is exactly
    :class:`VectorQuantizer` (same ``z_q``, ``probs``, losses and gradients).

    Args:
        num_codes, code_dim, beta, codebook_update, decay, epsilon, init, restart_after, seed: as for
            :class:`Quantizer`.
        temperature: ``tau > 0``. num_samples: ``m >= 1`` (``"sample"`` mode).
        decoder_input: ``"sample"`` or ``"mean"``.

    Example:
        >>> em = EMQuantizer(16, 4, temperature=0.5, num_samples=2)
        >>> out = em(torch.randn(8, 3, 4))
        >>> out.probs.shape, bool(torch.allclose(out.probs.sum(-1), torch.ones(8, 3)))
        (torch.Size([8, 3, 16]), True)
    """

    def __init__(self, num_codes: int, code_dim: int, *, temperature: float = 1.0, num_samples: int = 1,
                 decoder_input: str = "sample", beta: float = 0.25, codebook_update: str = "gradient",
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
        """``log p(z | x)`` ``[N, K]`` for flat latents ``z`` ``[N, D]`` (eq. 28 with temperature)."""
        w = self.codebook if codebook is None else codebook
        return gibbs_posterior(squared_distances(z, w), self.temperature)

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        # The EMA update (Quantizer._ema_update) replaces the codebook by a new tensor instead of writing
        # into it, so the codebook these losses saved for backward stays intact in both modes.
        w = self.codebook
        probs = self.log_posterior(z, w).exp()
        if self.decoder_input == "sample":
            draws = torch.multinomial(probs.detach(), self.num_samples, replacement=True,
                                      generator=self.generator)          # [N, m], z_s ~ p(z | x)
            w_bar = w[draws].mean(1)
        else:
            w_bar = probs.detach() @ w
        z_q = z + (w_bar - z).detach()                                   # thesis §5.1.3, straight-through
        losses = self.codebook_losses(z, probs)                          # thesis eq. 5.4 for eq. 28
        return z_q, probs, losses
