"""Posteriors ``q(z | x)`` over the K codes: the assignment maths every quantizer and clustering shares.

A codebook ``W`` ``[K, D]`` and a point ``x`` give squared distances ``d(x, w_k) = ||x - w_k||^2``; every
method of the course turns them into a posterior over the codes (the neural-gas thesis's view, eq. 4.1,
Badran 2021, master thesis) and weights the distortion by it
(eq. 5.4, :func:`posterior_losses`). In teaching order:

* notebook 01, hard VQ / k-means: :func:`hard_posterior` (one-hot at the nearest code, thesis §4.1.2);
* notebook 02, the VIB-optimal EM encoder: :func:`gibbs_posterior` (Roy et al. 2018; VIB paper eq. 28);
* notebook 03, soft VQ: :func:`soft_vq_posterior` (Wu & Flierl 2020, eqs. 5, 7);
* notebook 04, neural gas and fuzzy c-means: :func:`distance_ranks`, :func:`neural_gas_posterior`
  (eq. 4.3), :func:`fuzzy_cmeans_posterior` (eqs. 4.4, 4.6, 4.7), :func:`fuzzy_cmeans_weights` (eq. 4.5),
  :func:`posterior_weights` (the dispatch by name, :data:`POSTERIORS`) and the annealing
  :func:`neural_gas_lambda`.

Used by :mod:`vqlab.quantizers` (the VQ-VAE quantizers) and :mod:`vqlab.clustering` (batch k-means,
neural gas, fuzzy c-means on point sets). This module imports neither.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.losses import check_probs

__all__ = [
    "squared_distances", "posterior_losses",
    "POSTERIORS", "distance_ranks", "hard_posterior",
    "gibbs_posterior",
    "SOFT_VQ_LOG_VAR_RANGE", "soft_vq_posterior",
    "neural_gas_posterior", "fuzzy_cmeans_posterior", "fuzzy_cmeans_weights", "posterior_weights",
    "neural_gas_lambda",
]


def squared_distances(z: Tensor, codebook: Tensor) -> Tensor:
    """Squared Euclidean distances ``d(z_n, w_k) = ||z_n - w_k||^2``.

    Args:
        z: ``[N, D]``. codebook: ``[K, D]``.
    Returns:
        ``[N, K]``, clamped at zero (the expanded form can round slightly below zero).
    """
    check_tensor("z", z, ndim=2)
    check_tensor("codebook", codebook, ndim=2, last_dim=z.shape[1])
    d = z.pow(2).sum(1, keepdim=True) - 2.0 * z @ codebook.t() + codebook.pow(2).sum(1)
    return d.clamp_min(0.0)


def posterior_losses(z: Tensor, codebook: Tensor, probs: Tensor, beta: float,
                     eta: float = 1.0) -> dict[str, Tensor]:
    """The two latent-space terms of eq. 5.4 for an arbitrary posterior.

    ``commitment = beta * E_q ||z - sg(w_z)||^2 / D`` reaches only the encoder;
    ``codebook = eta * E_q ||sg(z) - w_z||^2 / D`` reaches only the codebook. The posterior is treated
    as fixed weights (detached), so neither term moves the other side.

    Args:
        z: ``[N, D]`` encoder outputs. codebook: ``[K, D]``. probs: ``[N, K]`` posterior (or any
        non-negative weights, e.g. the ``w^m`` of eq. 5.6). beta, eta: >= 0.
    """
    beta, eta = check_float("beta", beta, 0.0), check_float("eta", eta, 0.0)
    check_tensor("probs", probs, ndim=2)
    if probs.shape != (z.shape[0], codebook.shape[0]) or (probs < 0).any():
        raise ValueError(f"probs must be non-negative weights of shape [{z.shape[0]}, {codebook.shape[0]}] "
                         f"(one row per z, one column per code), got shape {tuple(probs.shape)}")
    q = probs.detach()
    dim = z.shape[-1]
    commit = (q * squared_distances(z, codebook.detach())).sum(1).mean() / dim
    vq = (q * squared_distances(z.detach(), codebook)).sum(1).mean() / dim
    return {"codebook": eta * vq, "commitment": beta * commit}


# ---- Notebook 01: hard VQ (k-means), and the distance checks every posterior shares ----
#: Posteriors q_w(z | x) understood by :func:`posterior_weights` and :class:`vqlab.quantizers.PosteriorQuantizer`.
POSTERIORS = ("hard", "neural_gas", "fcm", "fcm_normalized", "fcm_original")


def _check_dist(dist: Tensor) -> Tensor:
    check_tensor("dist", dist, ndim=2)
    if (dist < 0).any():
        raise ValueError("dist must hold non-negative (squared) distances")
    return dist


def distance_ranks(dist: Tensor) -> Tensor:
    """Neighbourhood ranks ``r(x, z)`` of neural gas (thesis §4.2): 0 for the closest prototype,
    1 for the second closest, ..., K-1 for the furthest.

    Ties are broken deterministically by code index (the lower index gets the lower rank), the same rule
    ``argmin`` uses, so rank 0 is always the hard (k-means) assignment.

    Args:
        dist: ``[N, K]`` distances ``d(x_n, w_k)``.
    Returns:
        ``[N, K]`` ``torch.long``; every row is a permutation of ``0..K-1``.
    """
    _check_dist(dist)
    order = torch.sort(dist, dim=1, stable=True).indices
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(dist.shape[1], device=dist.device).expand_as(order).contiguous())
    return ranks


def hard_posterior(dist: Tensor) -> Tensor:
    """The k-means posterior ``q(z | x) = 1[z = argmin_k d(x, w_k)]`` (thesis §4.1.2), ``[N, K]``."""
    _check_dist(dist)
    return F.one_hot(dist.argmin(1), dist.shape[1]).to(dist.dtype)


# ---- Notebook 02: the VIB-optimal (Gibbs) encoder, the EM posterior (Roy et al. 2018; VIB paper eq. 28) ----
def gibbs_posterior(distances: Tensor, temperature: float, prior: Tensor | None = None) -> Tensor:
    """Log-posterior ``log p(z|i)`` with ``p(z|i) ∝ r(z) exp(-d(i, z) / tau)`` ``[..., K]``.

    For a fixed codebook and a distortion ``d(i, z)`` (e.g. ``||z_e(x_i) - e_z||^2``), this is the
    minimiser over ``p(Z|I)`` of ``E_p[d] + w_IB KL(p(Z|I) || r(Z))``, the VIB objective eq. 18 with the
    distortion measured in latent space (a Lagrange-multiplier calculation, as in Blahut-Arimoto): the
    temperature ``tau`` equals the IB trade-off ``w_IB`` (the paper's ``beta``). With the uniform prior and
    ``tau = 1`` it is the EM posterior eq. 28; ``tau`` is the temperature of
    :class:`vqlab.quantizers.EMQuantizer`. Computed with ``log_softmax`` after subtracting the row
    minimum, so it is finite for any ``tau > 0`` (as ``tau -> 0`` it becomes the hard assignment).

    Args:
        distances: ``[..., K]`` non-negative distortions. temperature: ``tau > 0``. prior: ``[K]`` or
            ``None`` (uniform).
    """
    check_tensor("distances", distances)
    b = check_float("temperature", temperature, 0.0, strict=True)
    k = distances.shape[-1]
    if prior is None:
        log_r = torch.zeros(k, dtype=distances.dtype, device=distances.device)
    else:
        check_probs("prior", prior)
        if prior.shape != (k,):
            raise ValueError(f"prior must have shape [{k}], got {tuple(prior.shape)}")
        log_r = torch.log(prior.to(distances.dtype))  # -inf where r(z) = 0: those codes get p(z|i) = 0
    allowed = torch.isfinite(log_r)
    ref = torch.where(allowed, distances.detach(), torch.full_like(distances, float("inf")))
    shifted = (distances - ref.min(-1, keepdim=True).values).clamp_min(0.0)
    logits = torch.where(allowed, -shifted / max(b, torch.finfo(distances.dtype).tiny) + log_r,
                         torch.full_like(distances, float("-inf")))
    return torch.log_softmax(logits, dim=-1)


# ---- Notebook 03: soft VQ-VAE (Wu & Flierl 2020, arXiv:1905.11062) ----
#: Component log-variances ``log sigma_k^2`` are clamped to this range before use, so that extreme
#: encoder outputs or slider values give a (nearly) hard or (nearly) uniform posterior, never inf/NaN.
SOFT_VQ_LOG_VAR_RANGE = (-30.0, 30.0)


def soft_vq_posterior(z: Tensor, codebook: Tensor, log_var: Tensor | float,
                      normalization: str = "paper") -> Tensor:
    """Posterior ``p(mu_k | z'_e)`` of the Gaussian-mixture view of a codebook (eqs. 4, 5, 7).

    Each codeword ``mu_k`` is the mean of a component ``N(mu_k, sigma_k^2 I)`` with prior ``1/K``, so by
    Bayes' rule (eq. 7; the uniform prior cancels)::

        p(mu_k | z') = softmax_k( -||z' - mu_k||^2 / (2 sigma_k^2) - (d/2) log sigma_k^2 )     ("paper", eq. 5)

    ``normalization="code"`` reproduces the authors' TensorFlow code (``soft_prob``), which multiplies each
    component by ``sigma_k`` instead of dividing by ``sigma_k^d``: the last term becomes
    ``+ (1/2) log sigma_k^2``. With equal variances the two coincide.

    Args:
        z: ``[N, d]`` (noisy) latent codes ``z'_e``. codebook: ``[K, d]``.
        log_var: ``log sigma_k^2`` as ``[N, K]`` (one per input, the encoder head of the paper), ``[K]``,
            or a float; clamped to :data:`SOFT_VQ_LOG_VAR_RANGE`.
    Returns:
        ``[N, K]`` rows summing to one.
    """
    check_choice("normalization", normalization, ("paper", "code"))
    dist = squared_distances(z, codebook)
    if not isinstance(log_var, Tensor):
        log_var = torch.tensor(check_float("log_var", log_var), dtype=z.dtype)
    check_tensor("log_var", log_var, min_ndim=0)
    if log_var.shape not in ((), (dist.shape[1],), tuple(dist.shape)):
        raise ValueError(f"log_var must be a float or have shape [{dist.shape[1]}] or {list(dist.shape)}, "
                         f"got {tuple(log_var.shape)}")
    log_var = log_var.to(z.dtype).clamp(*SOFT_VQ_LOG_VAR_RANGE)
    log_norm = -0.5 * z.shape[-1] * log_var if normalization == "paper" else 0.5 * log_var
    return torch.softmax(-0.5 * dist * torch.exp(-log_var) + log_norm, dim=-1)


# ---- Notebook 04: neural gas and fuzzy c-means posteriors (thesis ch. 4-5) ----
def neural_gas_posterior(dist: Tensor, lam: float) -> Tensor:
    """Neural-gas posterior ``q(z | x) = h_lam(r(x, z)) / D`` with ``h_lam(r) = exp(-r / lam)`` and
    ``D = sum_z h_lam(r(x, z))`` (thesis eq. 4.3 and §4.2; Martinetz et al. 1993).

    ``D`` is the same constant for every x (the ranks are a permutation), so this posterior turns the
    neural-gas energy into the expected distortion of eq. 4.1. ``lam -> 0`` gives the hard posterior;
    ``lam -> inf`` the uniform one.

    Args:
        dist: ``[N, K]`` distances. lam: neighbourhood range lambda > 0.
    Returns:
        ``[N, K]`` rows summing to one.
    """
    lam = check_float("lam", lam, 0.0, strict=True)
    ranks = distance_ranks(dist).to(dist.dtype)
    return torch.softmax(-ranks / lam, dim=1)


def _fcm_logits(dist: Tensor, m: float) -> tuple[Tensor, Tensor]:
    """``-log d / (m - 1)`` (softmax of it is eq. 4.4) and a mask of rows with a zero distance."""
    zero = dist == 0
    logits = -torch.log(dist.clamp_min(torch.finfo(dist.dtype).tiny)) / (m - 1.0)
    return logits, zero


def _on_prototype(zero: Tensor, dtype: torch.dtype) -> Tensor:
    """Posterior for points lying exactly on prototype(s): uniform over the zero-distance codes, in ``dtype``."""
    z = zero.to(dtype)
    return z / z.sum(1, keepdim=True).clamp_min(1.0)


def fuzzy_cmeans_posterior(dist: Tensor, m: float, normalized: bool = False) -> Tensor:
    """Fuzzy c-means memberships as a posterior (thesis eqs. 4.4, 4.6 and 4.7).

    ``dist`` holds *squared* Euclidean distances ``||x - w_k||^2``. Eq. 4.4 is Bezdek's membership with
    the plain Euclidean distance (the thesis's list of symbols: d is "the Euclidean distance"), so in
    terms of squared distances

        w_z(x) = ( sum_c (||x - w_z||^2 / ||x - w_c||^2)^(1 / (m - 1)) )^(-1) = softmax_z(-log d_z / (m - 1)),

    which is how it is computed (stable for m close to 1). ``normalized=True`` gives eq. 4.7,
    ``w_z(x)^m / sum_c w_c(x)^m = softmax_z(-m log d_z / (m - 1))``. A point lying exactly on a prototype
    (zero distance) gets membership 1 there (split equally among coinciding prototypes), the limit of
    eq. 4.4, instead of 0/0 = NaN. ``m -> 1`` gives the hard posterior, ``m -> inf`` the uniform one.

    Args:
        dist: ``[N, K]`` squared distances. m: fuzzifier > 1. normalized: eq. 4.7 instead of 4.6.
    Returns:
        ``[N, K]`` rows summing to one.
    """
    m = check_float("m", m, 1.0, strict=True)
    if not isinstance(normalized, bool):
        raise TypeError(f"normalized must be a bool, got {normalized!r}")
    _check_dist(dist)
    logits, zero = _fcm_logits(dist, m)
    probs = torch.softmax(logits * (m if normalized else 1.0), dim=1)
    return torch.where(zero.any(1, keepdim=True), _on_prototype(zero, dist.dtype), probs)


def fuzzy_cmeans_weights(dist: Tensor, m: float) -> Tensor:
    """The weights ``w_z(x)^m`` of the original fuzzy c-means objective (thesis eqs. 4.5 / 5.6).

    They are *not* a posterior: each row sums to ``sum_z w_z(x)^m`` in ``[K^(1-m), 1]``, a value that
    changes during training (why the thesis reports that eq. 5.6 diverges inside a VQ-VAE).

    Args:
        dist: ``[N, K]`` squared distances. m: fuzzifier > 1.
    Returns:
        ``[N, K]`` non-negative weights.
    """
    return fuzzy_cmeans_posterior(dist, m).pow(check_float("m", m, 1.0, strict=True))


def posterior_weights(dist: Tensor, posterior: str, *, lam: float = 1.0,
                      m: float = 2.0) -> tuple[Tensor, Tensor]:
    """The posterior ``q(z | x)`` named ``posterior`` and the weights its objective puts on ``d(x, w_z)``.

    For ``"hard"``, ``"neural_gas"``, ``"fcm"`` (eq. 4.6) and ``"fcm_normalized"`` (eq. 4.7) the weights
    *are* the posterior (eq. 4.1). For ``"fcm_original"`` the posterior is the membership of eq. 4.6 and
    the weights are ``w_z(x)^m`` (eq. 5.6). Shared by
    :class:`vqlab.quantizers.PosteriorQuantizer` and :mod:`vqlab.clustering`.

    Args:
        dist: ``[N, K]`` squared distances. posterior: one of :data:`POSTERIORS`.
        lam: neural-gas range (``"neural_gas"`` only). m: fuzzifier (the fuzzy c-means variants only).
    Returns:
        ``(probs [N, K], weights [N, K])``.
    """
    posterior = check_choice("posterior", posterior, POSTERIORS)
    if posterior == "hard":
        probs = hard_posterior(dist)
    elif posterior == "neural_gas":
        probs = neural_gas_posterior(dist, lam)
    else:
        probs = fuzzy_cmeans_posterior(dist, m, normalized=posterior == "fcm_normalized")
    weights = probs.pow(m) if posterior == "fcm_original" else probs
    return probs, weights


def neural_gas_lambda(step: int, lam_initial: float, lam_final: float, t_max: int) -> float:
    """The classic neural-gas annealing ``lam(t) = lam_i (lam_f / lam_i)^(t / t_max)``
    (Martinetz et al. 1993), held at ``lam_f`` for ``t >= t_max``. Monotone in t (decreasing when
    ``lam_f < lam_i``).

    Args:
        step: t >= 0. lam_initial, lam_final: > 0. t_max: >= 1 steps of annealing.
    """
    check_int("step", step, 0)
    lam_i = check_float("lam_initial", lam_initial, 0.0, strict=True)
    lam_f = check_float("lam_final", lam_final, 0.0, strict=True)
    t_max = check_int("t_max", t_max)
    return lam_i * (lam_f / lam_i) ** (min(step, t_max) / t_max)
