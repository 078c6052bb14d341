"""Neural-gas and fuzzy c-means posteriors inside the VQ-VAE (Badran 2021, master thesis, ch. 4-5).

Notebook 04: a quantizer defined by a posterior ``q(k | x)`` of :mod:`vqlab.posteriors` and trained with
the thesis's eq. 5.4 (with ``-log p``: the thesis prints ``+log p``, a sign slip).
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int
from vqlab.posteriors import POSTERIORS, neural_gas_lambda, posterior_weights, squared_distances
from vqlab.quantizers.base import Quantizer

__all__ = ["PosteriorQuantizer"]


class PosteriorQuantizer(Quantizer):
    """A quantizer defined by a posterior ``q(k | x)`` and trained with the thesis's eq. 5.4.

    Loss (per element, like every vqlab quantizer):
    ``commitment = beta * E_q ||z_e - sg(e_k)||^2`` (encoder only; the thesis's alpha) and
    ``codebook = eta * E_q ||sg(z_e) - e_k||^2`` (codebook only; dropped with ``codebook_update="ema"``,
    where the EMA update with soft counts takes its place). The posterior is used as fixed weights
    (no gradient flows through it; the neural-gas ranks have zero gradient anyway).
    ``posterior="hard"`` is exactly the vanilla VQ-VAE (eq. 5.5, :class:`VectorQuantizer`).

    Decoder input: the nearest codeword with the straight-through estimator,
    ``z_q = z_e + sg(e_{k*(x)} - z_e)``, as in the vanilla VQ-VAE: the reconstruction term of eq. 5.4
    is ``-log p(x | z_q(x))`` with ``z_q(x)`` the nearest codeword (the thesis's ``beta(x)``), so only the two latent terms see
    the soft posterior. ``QuantizerOutput.probs`` is the posterior (eq. 4.6 memberships for
    ``"fcm_original"``), ``indices`` its argmax (= the nearest code, up to exact float ties), and
    ``perplexity`` that of the batch-averaged *soft* posterior (for code usage use the hard counts, e.g.
    :func:`vqlab.train.evaluate`). With ``codebook_update="ema"`` the soft counts are the posterior (for
    neural gas this is an online batch neural gas; for ``"fcm_original"`` the memberships, not ``w^m``).

    Neural-gas schedule: with ``lam_final`` and ``lam_steps`` set, lambda follows
    :func:`vqlab.posteriors.neural_gas_lambda` over a step counter (buffer ``step``) that every *training-mode* forward
    advances by one, i.e. once per optimizer step in :func:`vqlab.train.train`; evaluation uses the
    current lambda. Without them lambda stays at ``lam``.

    Args:
        num_codes, code_dim, beta (the thesis's alpha), codebook_update, decay, epsilon, init, restart_after,
            seed: as for :class:`Quantizer`.
        posterior: one of :data:`vqlab.posteriors.POSTERIORS`; ``"fcm_original"`` (eq. 5.6, weights ``w^m``) warns.
        lam: neural-gas lambda > 0 (the initial one when annealing). lam_final: final lambda > 0.
        lam_steps: t_max >= 1, the number of training steps of the annealing.
        m: fuzzifier > 1 for the fuzzy c-means posteriors. eta: weight of the VQ (codebook) loss >= 0.

    Example:
        >>> q = PosteriorQuantizer(32, 8, posterior="neural_gas", lam=3.0, beta=0.15)
        >>> out = q(torch.randn(4, 8))
        >>> out.probs.shape, bool(torch.allclose(out.probs.sum(1), torch.ones(4)))
        (torch.Size([4, 32]), True)
    """

    def __init__(self, num_codes: int, code_dim: int, *, posterior: str = "neural_gas", lam: float = 1.0,
                 lam_final: float | None = None, lam_steps: int | None = None, m: float = 2.0,
                 eta: float = 1.0, beta: float = 0.25, codebook_update: str = "gradient", decay: float = 0.99,
                 epsilon: float = 1e-5, init: str = "uniform", restart_after: int | None = None,
                 seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, codebook_update=codebook_update, decay=decay,
                         epsilon=epsilon, init=init, restart_after=restart_after, seed=seed)
        self.posterior = check_choice("posterior", posterior, POSTERIORS)
        self.lam = check_float("lam", lam, 0.0, strict=True)
        self.m = check_float("m", m, 1.0, strict=True)
        self.eta = check_float("eta", eta, 0.0)
        if (lam_final is None) != (lam_steps is None):
            raise ValueError("lam_final and lam_steps must be given together (or neither), got "
                             f"lam_final={lam_final!r}, lam_steps={lam_steps!r}")
        self.lam_final = None if lam_final is None else check_float("lam_final", lam_final, 0.0, strict=True)
        self.lam_steps = None if lam_steps is None else check_int("lam_steps", lam_steps)
        self.register_buffer("step", torch.tensor(0, dtype=torch.long))
        if self.posterior == "fcm_original":
            warnings.warn("posterior='fcm_original' weights distances by q_FCM(k|x)^m (thesis eq. 5.6), which is "
                          "not a posterior: the thesis reports that this objective diverges inside a VQ-VAE. "
                          "Use 'fcm' (eq. 4.6) or 'fcm_normalized' (eq. 4.7) for stable training.",
                          UserWarning, stacklevel=2)

    @property
    def current_lambda(self) -> float:
        """lambda at the current step (``lam`` when no schedule is set)."""
        if self.lam_final is None:
            return self.lam
        return neural_gas_lambda(int(self.step), self.lam, self.lam_final, self.lam_steps)

    def extra_repr(self) -> str:
        extra = {"neural_gas": f", lam={self.current_lambda:.4g}", "hard": ""}.get(self.posterior,
                                                                                   f", m={self.m}")
        return f"{super().extra_repr()}, posterior={self.posterior!r}{extra}, eta={self.eta}"

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        dist = squared_distances(z.detach(), self.codebook.detach())
        probs, weights = posterior_weights(dist, self.posterior, lam=self.current_lambda, m=self.m)
        if self.training:
            self.step += 1
        losses = self.codebook_losses(z, weights, self.eta)
        w = self.codebook[dist.argmin(1)]
        z_q = z + (w - z).detach()
        return z_q, probs, losses
