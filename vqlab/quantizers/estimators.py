"""Gradient estimators through a hard assignment (notebook 09): what reaches ``z_e`` and the codebook from the
decoder when the forward pass picks one codeword.

Each function builds a decoder input from the encoder outputs and the codebook; they differ in the backward
pass (and :func:`posterior_mean` also in the forward value). The rotation trick is
:func:`vqlab.quantizers.rotation_trick`. :class:`EstimatorQuantizer` puts any of them into a VQ-VAE.

================================  ============================================================================
function                          paper
================================  ============================================================================
:func:`straight_through`          Bengio et al. 2013, arXiv:1308.3432; the VQ-VAE, arXiv:1711.00937
:func:`posterior_mean`            soft VQ-VAE, Wu & Flierl 2020, arXiv:1905.11062 (eq. 6)
:func:`gumbel_softmax`            Jang et al. 2017, arXiv:1611.01144; Maddison et al. 2017, arXiv:1611.00712
:func:`softmax_straight_through`  IBQ, Shi et al. 2024, arXiv:2412.02692
:func:`diveq`                     DiVeQ, Vali et al. 2025, arXiv:2509.26469 (as the authors' code computes it)
================================  ============================================================================
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_tensor
from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.quantizers.base import Quantizer, one_hot_posterior
from vqlab.quantizers.rotation import rotation_trick

__all__ = ["straight_through", "posterior_mean", "gumbel_softmax", "softmax_straight_through", "diveq",
           "ESTIMATORS", "EstimatorQuantizer"]


def straight_through(z_e: Tensor, z_q: Tensor) -> Tensor:
    """The straight-through estimator: ``z_e + sg(z_q - z_e)`` (value ``z_q``; ``d/dz_e`` is the identity, and
    nothing reaches ``z_q``). Shapes ``[..., D]``."""
    return z_e + (z_q - z_e).detach()


def posterior_mean(probs: Tensor, codebook: Tensor) -> Tensor:
    """The posterior mean ``sum_k q(k | x) e_k`` ``[N, D]`` of ``probs`` ``[N, K]`` and ``codebook`` ``[K, D]``
    (soft VQ-VAE's decoder input, eq. 6): differentiable, but its value is not a codeword."""
    return probs @ codebook


def softmax_straight_through(probs: Tensor, codebook: Tensor) -> Tensor:
    """IBQ's estimator: ``(onehot(argmax_k q) - sg(q) + q) @ codebook`` ``[N, D]``: the value is the codeword
    of the largest ``q(k | x)``, the gradient that of the posterior mean (it reaches every code and, through
    ``q``, the encoder). ``probs`` ``[N, K]``, ``codebook`` ``[K, D]``."""
    hard = one_hot_posterior(probs.detach().argmax(1), probs.shape[1], probs.dtype)
    return (hard - probs.detach() + probs) @ codebook


def gumbel_softmax(logits: Tensor, *, hard: bool, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """A Gumbel-softmax sample of ``logits`` ``[N, K]`` (Jang et al. 2017; Maddison et al. 2017).

    With i.i.d. Gumbel noise ``G_k = -log(-log U_k)``, ``U_k ~ U(0, 1)``, the index
    ``k_s = argmax_k (logits_k + G_k)`` is an exact sample of ``softmax(logits)`` and the relaxed sample is
    ``y = softmax(logits + G)`` (relaxation temperature 1: pass logits already divided by a temperature,
    e.g. ``log q_tau(k | x)``). ``hard=True`` is straight-through Gumbel: ``onehot(k_s) - sg(y) + y`` (value
    one-hot, gradient of ``y``).

    Returns:
        ``(y [N, K], k_s [N])``.
    """
    check_tensor("logits", logits, ndim=2)
    if not isinstance(hard, bool):
        raise TypeError(f"hard must be a bool, got {hard!r}")
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype).to(logits.device)
    tiny = torch.finfo(logits.dtype).tiny
    exponential = (-torch.log(u.clamp_min(tiny))).clamp_min(tiny)               # -log U ~ Exp(1)
    noisy = logits - torch.log(exponential)                                      # + G, G = -log(-log U)
    y = torch.softmax(noisy, dim=1)
    index = noisy.detach().argmax(1)
    if hard:
        y = one_hot_posterior(index, logits.shape[1], logits.dtype) - y.detach() + y
    return y, index


def diveq(z_e: Tensor, e_chosen: Tensor, *, direction_noise: float = 1e-3,
          generator: torch.Generator | None = None) -> Tensor:
    """DiVeQ (Vali et al. 2025, arXiv:2509.26469), as the authors' code (``vqvae_compression/diveq.py``)
    computes it: quantization as adding an error vector of the right length along a fixed direction,

        ``z_q = z_e + ||e_{k*} - z_e|| sg(d)``,   ``d = (e_{k*} - z_e + sigma_dir xi) / ||e_{k*} - z_e + sigma_dir xi||``,

    ``xi ~ N(0, I)`` (the code's ``noise_var`` is used as this standard deviation). The value is
    ``e_{k*}`` up to the noise in the direction; the gradient is ``dz_q/dz_e = I - sg(d) r^T`` with
    ``r = (e_{k*} - z_e) / ||e_{k*} - z_e||`` (for ``sigma_dir -> 0`` the projection that removes the component
    along the error), and ``e_{k*}`` receives the component of the upstream gradient along ``d``.

    Args:
        z_e: ``[N, D]`` encoder outputs. e_chosen: ``[N, D]`` their codewords (with the codebook's gradient).
        direction_noise: ``sigma_dir >= 0`` (the authors' default 1e-3).
        generator: the noise's generator.
    """
    sigma = check_float("direction_noise", direction_noise, 0.0)
    error = e_chosen - z_e
    noise = torch.randn(error.shape, generator=generator, dtype=error.dtype).to(error.device)
    direction = F.normalize(error.detach() + sigma * noise, dim=-1)
    return z_e + torch.linalg.vector_norm(error, dim=-1, keepdim=True) * direction


#: The estimators :class:`EstimatorQuantizer` offers.
ESTIMATORS = ("straight_through", "rotation_trick", "posterior_mean", "gumbel", "softmax_straight_through", "diveq")


class EstimatorQuantizer(Quantizer):
    """Hard VQ whose decoder input is built by one gradient estimator (notebook 09).

    Every estimator shares the codebook, the nearest codeword ``k* = argmin_k ||z_e - e_k||^2`` and the
    losses of eq. 5.5 (``codebook = ||sg(z_e) - e_{k*}||^2``, ``commitment = beta ||z_e - sg(e_{k*})||^2``);
    the posterior reported is the Gibbs posterior ``q_tau(k | x) = softmax_k(-||z_e - e_k||^2 / tau)``
    (its argmax is ``k*``). The decoder input ``z_q`` by ``estimator``:

    * ``"straight_through"``: ``z_e + sg(e_{k*} - z_e)``; ``"rotation_trick"``: :func:`rotation_trick`;
    * ``"posterior_mean"``: ``sum_k q_tau(k | x) e_k`` (soft in the forward pass too);
    * ``"gumbel"``: straight-through Gumbel, the codeword of a sample ``k_s ~ q_tau`` with the gradient of
      the relaxed sample (:func:`gumbel_softmax` with logits ``log q_tau``);
    * ``"softmax_straight_through"``: IBQ's estimator on ``q_tau`` (:func:`softmax_straight_through`);
    * ``"diveq"``: :func:`diveq` with ``direction_noise``.

    ``temperature`` matters only to the estimators that use ``q_tau``. Random draws use the quantizer's
    generator.

    Args:
        num_codes, code_dim, beta, init, restart_after, seed: as for :class:`~vqlab.quantizers.Quantizer`
            (``codebook_update`` is ``"gradient"``: several estimators send the codebook a gradient).
        estimator: one of :data:`ESTIMATORS`. temperature: ``tau > 0``. direction_noise: ``sigma_dir >= 0``.
    """

    def __init__(self, num_codes: int, code_dim: int, *, estimator: str = "straight_through",
                 temperature: float = 1.0, direction_noise: float = 1e-3, beta: float = 0.25,
                 init: str = "uniform", restart_after: int | None = None, seed: int = 0) -> None:
        super().__init__(num_codes, code_dim, beta=beta, init=init, restart_after=restart_after, seed=seed)
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        self.temperature = check_float("temperature", temperature, 0.0, strict=True)
        self.direction_noise = check_float("direction_noise", direction_noise, 0.0)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", estimator={self.estimator!r}, temperature={self.temperature}, "
                f"direction_noise={self.direction_noise}")

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Returns ``(z_q [N, D], probs [N, K], losses)`` with ``probs = q_tau(k | x)``."""
        w = self.codebook
        log_q = gibbs_posterior(squared_distances(z, w), self.temperature)
        probs = log_q.exp()
        chosen = w[probs.detach().argmax(1)]
        losses = {"codebook": F.mse_loss(chosen, z.detach()), "commitment": self.beta * F.mse_loss(z, chosen.detach())}
        if self.estimator == "straight_through":
            z_q = straight_through(z, chosen)
        elif self.estimator == "rotation_trick":
            z_q = rotation_trick(z, chosen)
        elif self.estimator == "posterior_mean":
            z_q = posterior_mean(probs, w)
        elif self.estimator == "gumbel":
            z_q = gumbel_softmax(log_q, hard=True, generator=self.generator)[0] @ w
        elif self.estimator == "softmax_straight_through":
            z_q = softmax_straight_through(probs, w)
        else:
            z_q = diveq(z, chosen, direction_noise=self.direction_noise, generator=self.generator)
        return z_q, probs, losses
