"""Soft VQ: noisy latents and the posterior-mean estimator (Wu & Flierl 2020, arXiv:1905.11062).

Notebook 03: the decoder sees the posterior mean of the codewords under per-code Gaussian components.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_tensor
from vqlab.posteriors import soft_vq_posterior
from vqlab.quantizers.base import Quantizer, QuantizerOutput

__all__ = ["SoftVectorQuantizer"]


class SoftVectorQuantizer(Quantizer):
    """Soft VQ: noisy latents and the Bayesian (posterior-mean) estimator of Wu & Flierl (2020).

    In training mode white noise is added, ``z'_e = z_e + eps``, ``eps ~ N(0, noise_std^2 I)``, drawn from
    the quantizer's own ``generator`` (no noise in eval mode). The decoder input is the posterior mean
    (eq. 6)::

        z_hat_q = sum_k mu_k p(mu_k | z'_e)        (posterior from :func:`vqlab.posteriors.soft_vq_posterior`, eqs. 5, 7)

    and the loss is eq. 27 without its reconstruction term (per element, like every vqlab quantizer)::

        codebook   = ||sg(z'_e) - z_hat_q||^2      (reaches the codebook and the variance head)
        commitment = beta ||z'_e - sg(z_hat_q)||^2  (reaches the encoder)

    Read literally (as in the authors' code), ``sg`` stops only the explicit ``z'_e``: ``z_hat_q`` still
    depends on ``z'_e`` through the posterior weights, so the codebook term also sends a (small) gradient
    to the encoder.

    **Where the log-variances come from.** The paper's encoder has a second output head of size K giving
    ``log sigma_k^2`` per input. Pass it as ``forward(z_e, log_var=[..., K])`` (what
    :class:`vqlab.models.SoftVQVAE` does, splitting an encoder output ``[..., d + K]``); the quantizer adds
    its own learned per-code offset, the parameter ``log_var`` ``[K]`` initialised to ``init_log_var``:
    ``log sigma_k^2(x) = head_k(x) + log_var_k``. The offset is only a reparameterisation of the head's
    bias that lets ``init_log_var`` set the starting width relative to the latent scale.
    ``forward(z_e)`` alone still works (for notebooks and :class:`vqlab.models.VQVAE`): then
    ``log sigma_k^2 = log_var_k``, learned per code but the same for every input.

    **Paper vs. the authors' code** (switches): ``straight_through=True`` is the paper's
    ``z_hat_q = z_e + sg(z_hat_q - z_e)`` (text after eq. 27, also in the code): the decoder's gradient
    is copied to the encoder; ``False`` backpropagates through the posterior mean itself (the estimator is
    differentiable). ``noise_std=0`` is the code (its noise line is commented out). ``normalization="code"``
    is the code's component normalisation (see :func:`vqlab.posteriors.soft_vq_posterior`). The component log-variances
    are clamped to :data:`vqlab.posteriors.SOFT_VQ_LOG_VAR_RANGE`.

    As ``sigma_k -> 0`` (equal for all k) and ``noise_std = 0`` the posterior becomes one-hot at the nearest
    codeword and the quantizer reduces to hard VQ (:class:`VectorQuantizer`).

    Args:
        num_codes, code_dim, beta, init, restart_after, seed: as for :class:`Quantizer`.
        noise_std: sigma_eps >= 0 of the training noise (eq. 4 setting; the paper does not state a value).
        straight_through: see above. normalization: ``"paper"`` (eq. 5) or ``"code"``.
        init_log_var: initial value of the per-code parameter ``log_var`` (see above).
        codebook_update: only ``"gradient"``: eq. 27's codebook term also trains the variances (so the
            EMA keywords ``decay`` and ``epsilon`` of :class:`Quantizer` do not apply here).
    """

    def __init__(self, num_codes: int, code_dim: int, *, noise_std: float = 0.1, straight_through: bool = True,
                 normalization: str = "paper", init_log_var: float = 0.0, beta: float = 0.25,
                 codebook_update: str = "gradient", init: str = "uniform", restart_after: int | None = None,
                 seed: int = 0) -> None:
        if codebook_update != "gradient":
            raise ValueError("codebook_update must be 'gradient' for SoftVectorQuantizer (eq. 27's codebook "
                             f"term also trains the component variances), got {codebook_update!r}")
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, init=init,
                         restart_after=restart_after, seed=seed)
        self.noise_std = check_float("noise_std", noise_std, 0.0)
        if not isinstance(straight_through, bool):
            raise TypeError(f"straight_through must be a bool, got {straight_through!r}")
        self.straight_through = straight_through
        self.normalization = check_choice("normalization", normalization, ("paper", "code"))
        self.log_var = nn.Parameter(torch.full((num_codes,), check_float("init_log_var", init_log_var)))
        self._log_var_input: Tensor | None = None

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", noise_std={self.noise_std}, straight_through={self.straight_through}, "
                f"normalization={self.normalization!r}")

    def forward(self, z_e: Tensor, log_var: Tensor | None = None) -> QuantizerOutput:
        """Quantize ``z_e`` ``[..., d]``; ``log_var`` ``[..., K]`` are the encoder head's component
        log-variances (default: the module's own parameter ``log_var`` ``[K]``)."""
        if log_var is not None:
            check_tensor("log_var", log_var, last_dim=self.num_codes)
            check_tensor("z_e", z_e, last_dim=self.code_dim)
            if log_var.shape[:-1] != z_e.shape[:-1]:
                raise ValueError(f"log_var must have shape [..., {self.num_codes}] with the leading shape of "
                                 f"z_e {tuple(z_e.shape[:-1])}, got {tuple(log_var.shape)}")
            self._log_var_input = log_var.reshape(-1, self.num_codes)
        try:
            return super().forward(z_e)
        finally:
            self._log_var_input = None

    def add_noise(self, z: Tensor) -> Tensor:
        """``z'_e = z_e + eps`` with ``eps ~ N(0, noise_std^2 I)`` in training mode; ``z`` unchanged in eval."""
        if not self.training or self.noise_std == 0.0:
            return z
        eps = torch.randn(z.shape, generator=self.generator, dtype=z.dtype)
        return z + self.noise_std * eps.to(z.device)

    def component_log_var(self) -> Tensor:
        """``log sigma_k^2`` used for the current batch: ``[N, K]`` with an encoder head, else ``[K]``."""
        return self.log_var if self._log_var_input is None else self._log_var_input + self.log_var

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        log_var = self.component_log_var()
        z_noisy = self.add_noise(z)
        probs = soft_vq_posterior(z_noisy, self.codebook, log_var, self.normalization)   # eqs. 5, 7
        z_hat = probs @ self.codebook                                                     # eq. 6
        losses = {"codebook": F.mse_loss(z_hat, z_noisy.detach()),                        # eq. 27
                  "commitment": self.beta * F.mse_loss(z_noisy, z_hat.detach())}
        z_q = z_noisy + (z_hat - z_noisy).detach() if self.straight_through else z_hat
        return z_q, probs, losses
