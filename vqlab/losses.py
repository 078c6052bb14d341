"""Information-theoretic terms of the (deterministic) variational information bottleneck.

Equation numbers refer to Wu & Flierl, *Variational Information Bottleneck on Vector Quantized
Autoencoders* (arXiv:1808.01048); the letters are the course's (``book/notation.md``; the paper writes ``I, i``
for ``J, j``, ``p(z|i)`` for ``q(k|j)``, ``p(z)`` for the code usage ``q̄_k``, ``q(x̂|z)`` for the decoder
``p_phi(x|k)`` and ``beta`` for ``w_IB``). Their clustering setting: ``J`` is the data-point index, ``X`` the
features, ``Z`` the code index (values ``k``), with the Markov chain ``X <-> J <-> Z <-> X̂`` (eq. 1). All
quantities are in **nats**.

Two groups of functions:

* **Posterior terms** (differentiable, used as losses): they take posteriors ``probs`` ``[..., K]``
  as returned by any vqlab quantizer (``QuantizerOutput.probs``), i.e. one row ``q(k | j)`` per latent
  vector, and a prior ``r(k)`` ``[K]`` (uniform by default). Every row is one draw of ``J``, weighted
  equally (the empirical ``1/N`` of eq. 25) unless ``weights`` ``p(j)`` are given.
  :func:`conditional_entropy` H(q(Z|J)), :func:`cross_entropy` H(q(Z|J), r(Z)) (eqs. 21-22, 25),
  :func:`kl_to_prior` KL(q(Z|J) || r(Z)) (eqs. 14-15), :func:`marginal` q̄_k, :func:`mutual_information_iz`
  I(J; Z) (eq. 13), :func:`vib_loss` (eq. 18), :func:`vdib_loss` (eq. 23), :func:`ib_lagrangian` (eq. 3).

* **Discrete joint distributions** (for checking the derivation on small finite problems): a joint
  ``p(j, x)`` ``[J, X]`` and an encoder ``q(k | j)`` ``[J, K]``. :func:`entropy`, :func:`kl_divergence`,
  :func:`mutual_information`, :func:`x_given_z` (eq. 7), :func:`ib_distortion` (eqs. 4-5),
  :func:`ib_distortion_terms` (eq. 6), :func:`decoder_entropy` (eq. 8), :func:`decoder_bound` (eqs. 9-10).

Bad inputs (rows not summing to one, negative entries, a prior with zeros where the posterior is
positive) raise a ``ValueError`` naming the argument.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from vqlab._checks import check_float, check_int, check_tensor

__all__ = [
    "check_probs", "entropy", "kl_divergence", "mutual_information",
    "marginal", "conditional_entropy", "cross_entropy", "kl_to_prior", "mutual_information_iz",
    "ib_lagrangian", "vib_loss", "vdib_loss",
    "x_given_z", "ib_distortion", "ib_distortion_terms", "decoder_entropy", "decoder_bound", "log_k",
]


# ------------------------------------------------------------------------------------- validation
def _atol(x: Tensor) -> float:
    return 1e-9 if x.dtype == torch.float64 else 1e-4


def check_probs(name: str, p: Tensor, dim: int | tuple[int, ...] = -1) -> Tensor:
    """Check that ``p`` is a probability table: finite, non-negative, summing to one over ``dim``.

    The tolerance is ``1e-4`` (float32) or ``1e-9`` (float64) per normalised slice.
    Raises ``ValueError`` naming ``name`` and the worst offending sum.
    """
    check_tensor(name, p)
    for d in (dim,) if isinstance(dim, int) else dim:
        if isinstance(d, bool) or not isinstance(d, int) or not -p.ndim <= d < p.ndim:
            raise ValueError(f"dim must name dimension(s) of {name} (shape {tuple(p.shape)}), got {dim!r}")
    if (p < 0).any():
        raise ValueError(f"{name} must be non-negative, found the entry {p.min().item():.3g}")
    sums = p.sum(dim)
    worst = (sums - 1).abs().max()
    if worst > _atol(p):
        raise ValueError(f"{name} must sum to one over dim {dim}; found a sum of "
                         f"{sums.flatten()[(sums - 1).abs().flatten().argmax()].item():.6g}")
    return p


def _check_scalar(name: str, value: Tensor | float) -> Tensor | float:
    """A finite real number or a finite one-element tensor (a loss value), else a ValueError naming it."""
    if isinstance(value, Tensor):
        check_tensor(name, value, min_ndim=0)
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got shape {tuple(value.shape)}")
        return value
    check_float(name, value)
    return value


def _log(p: Tensor) -> Tensor:
    """``log p`` with zeros clamped to the smallest normal number: ``p * _log(p)`` is exactly 0 at
    ``p = 0`` and has a finite gradient there (``torch.where`` would give NaN gradients)."""
    return torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))


def _check_support(p: Tensor, r: Tensor, p_name: str, r_name: str) -> None:
    """``r`` must be positive wherever ``p`` is (else the cross-entropy / KL is infinite)."""
    bad = (r.expand_as(p) <= 0) & (p > 0)
    if bad.any():
        k = bad.reshape(-1, p.shape[-1]).any(0).nonzero().flatten().tolist()
        raise ValueError(f"{r_name} is zero where {p_name} is positive (codes {k[:10]}): "
                         "the KL divergence / cross-entropy would be infinite")


def _prior(prior: Tensor | None, probs: Tensor) -> Tensor:
    k = probs.shape[-1]
    if prior is None:
        return torch.full((k,), 1.0 / k, dtype=probs.dtype, device=probs.device)
    check_probs("prior", prior)
    if prior.ndim != 1 or prior.shape[0] != k:
        raise ValueError(f"prior must have shape [{k}] (one probability per code), got {tuple(prior.shape)}")
    _check_support(probs, prior, "probs", "prior")
    return prior.to(probs.dtype)


def _rows(probs: Tensor, weights: Tensor | None) -> tuple[Tensor, Tensor]:
    """Flatten ``probs`` ``[..., K]`` to ``[N, K]`` and return it with weights ``p(j)`` ``[N]``."""
    check_probs("probs", probs)
    flat = probs.reshape(-1, probs.shape[-1])
    n = flat.shape[0]
    if weights is None:
        return flat, torch.full((n,), 1.0 / n, dtype=probs.dtype, device=probs.device)
    check_tensor("weights", weights)
    check_probs("weights", weights.reshape(-1), dim=0)
    if weights.numel() != n:
        raise ValueError(f"weights must have one entry per row of probs ({n}), got {weights.numel()}")
    return flat, weights.reshape(-1).to(probs.dtype)


# ----------------------------------------------------------------------------- basic quantities
def entropy(p: Tensor, dim: int = -1) -> Tensor:
    """Shannon entropy ``H(p) = -sum p log p`` over ``dim`` (nats); ``0 <= H <= log K``.

    Args: ``p`` ``[..., K, ...]`` probabilities. Returns the entropies with ``dim`` removed.
    """
    check_probs("p", p, dim)
    return 0.0 - (p * _log(p)).sum(dim)  # 0.0 - x: no printed -0.0 for one-hot rows


def kl_divergence(p: Tensor, q: Tensor, dim: int = -1) -> Tensor:
    """``KL(p || q) = sum p log(p / q)`` over ``dim`` (nats), >= 0, zero iff ``p = q``.

    Args: ``p`` and ``q`` of broadcastable shapes. Raises if ``q`` is zero where ``p`` is positive.
    """
    check_probs("p", p, dim)
    check_probs("q", q, dim)
    try:
        p, q = torch.broadcast_tensors(p, q)
    except RuntimeError:
        raise ValueError(f"p and q must have broadcastable shapes, got {tuple(p.shape)} and {tuple(q.shape)}") from None
    if ((q <= 0) & (p > 0)).any():
        raise ValueError("q is zero where p is positive: KL(p || q) is infinite")
    return (p * (_log(p) - _log(q))).sum(dim)


def mutual_information(joint: Tensor) -> Tensor:
    """``I(A; B) = KL(p(a, b) || p(a) p(b))`` of a 2-D joint table ``[A, B]`` (nats)."""
    check_tensor("joint", joint)
    if joint.ndim != 2:
        raise ValueError(f"joint must be a 2-D table [A, B], got shape {tuple(joint.shape)}")
    check_probs("joint", joint, (0, 1))
    prod = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
    return (joint * (_log(joint) - _log(prod))).sum()


# ------------------------------------------------------------------ terms on quantizer posteriors
def marginal(probs: Tensor, weights: Tensor | None = None) -> Tensor:
    """The code usage ``q̄_k = sum_j p(j) q(k | j)`` (the paper's ``p(z)``: eq. 21, the denominator of eq. 7).
    Returns ``[K]``."""
    flat, w = _rows(probs, weights)
    return w @ flat


def conditional_entropy(probs: Tensor, weights: Tensor | None = None) -> Tensor:
    """``H(q(Z|J)) = -sum_j p(j) sum_k q(k|j) log q(k|j)``, the second term of eq. 26 (nats, scalar).

    Zero for hard VQ (one-hot rows, eq. 27); positive for the soft EM posterior (eq. 28).
    """
    flat, w = _rows(probs, weights)
    return 0.0 - (w * (flat * _log(flat)).sum(1)).sum()


def cross_entropy(probs: Tensor, prior: Tensor | None = None, weights: Tensor | None = None) -> Tensor:
    """``H(q(Z|J), r(Z)) = -sum_j p(j) sum_k q(k|j) log r(k)`` (eqs. 21-22; empirical form eq. 25).

    The paper prints eq. 25 without the minus sign; the cross-entropy of eq. 22 has it, and that is
    what is computed here. With the uniform prior (default) it equals ``log K`` for *any* posterior.
    It upper-bounds ``H(Z)`` (eq. 20) with gap ``KL(q̄ || r)``.
    """
    flat, w = _rows(probs, weights)
    r = _prior(prior, flat)
    return -(w @ flat @ _log(r))


def kl_to_prior(probs: Tensor, prior: Tensor | None = None, weights: Tensor | None = None) -> Tensor:
    """``KL(q(Z|J) || r(Z)) = sum_j p(j) sum_k q(k|j) log(q(k|j) / r(k))`` (eqs. 14-15), computed
    directly (not through eq. 26, so eq. 26 can be checked). Upper-bounds ``I(J; Z)`` (eq. 14) with
    gap ``KL(q̄ || r)`` (eq. 16)."""
    flat, w = _rows(probs, weights)
    r = _prior(prior, flat)
    return (w * (flat * (_log(flat) - _log(r))).sum(1)).sum()


def mutual_information_iz(probs: Tensor, weights: Tensor | None = None) -> Tensor:
    """``I(J; Z) = sum_j sum_k p(j) q(k|j) log(q(k|j) / q̄_k)`` (eq. 13), with ``q̄_k`` from
    :func:`marginal`. For a deterministic encoder (hard VQ) it equals ``H(Z)``."""
    flat, w = _rows(probs, weights)
    pz = w @ flat
    return (w * (flat * (_log(flat) - _log(pz))).sum(1)).sum()


def ib_lagrangian(distortion: Tensor | float, rate: Tensor | float, ib_weight: float) -> Tensor | float:
    """``L_IB = d_IB(J, Z) + w_IB I(J; Z)`` (eq. 3; the paper's ``beta``, the course's IB trade-off
    ``w_IB``), the Lagrangian of the rate-distortion problem eq. 2. ``distortion`` and ``rate`` are
    scalars (nats); ``ib_weight >= 0``."""
    b = check_float("ib_weight", ib_weight, 0.0)
    return _check_scalar("distortion", distortion) + b * _check_scalar("rate", rate)


def vib_loss(distortion: Tensor, probs: Tensor, ib_weight: float, prior: Tensor | None = None,
             weights: Tensor | None = None) -> Tensor:
    """``L_VIB = distortion + w_IB KL(q(Z|J) || r(Z))`` (eq. 18; ``w_IB`` = ``ib_weight``, the paper's
    ``beta``).

    ``distortion`` is the first term of eq. 18, ``-E log p_phi(x | k)``: for a Gaussian decoder the
    reconstruction error (``ModelOutput.losses["recon"]``) up to scale and constants.
    By eq. 26 this equals :func:`vdib_loss` minus ``w_IB H(q(Z|J))``.
    """
    w_ib = check_float("ib_weight", ib_weight, 0.0)
    return _check_scalar("distortion", distortion) + w_ib * kl_to_prior(probs, prior, weights)


def vdib_loss(distortion: Tensor, probs: Tensor, ib_weight: float, prior: Tensor | None = None,
              weights: Tensor | None = None) -> Tensor:
    """``L_VDIB = distortion + w_IB H(q(Z|J), r(Z))`` (eq. 23; ``w_IB`` = ``ib_weight``, the paper's
    ``beta``). With the uniform prior the second term is the constant ``w_IB log K``, so minimising it
    is minimising the distortion alone (the VQ-VAE loss, eq. 24, whose commitment / codebook terms are
    how that distortion is minimised)."""
    w_ib = check_float("ib_weight", ib_weight, 0.0)
    return _check_scalar("distortion", distortion) + w_ib * cross_entropy(probs, prior, weights)


# ------------------------------------------------------- discrete joints: the derivation, eqs. 4-12
def _check_joint(p_jx: Tensor, q_k_given_j: Tensor) -> None:
    check_tensor("p_jx", p_jx)
    if p_jx.ndim != 2:
        raise ValueError(f"p_jx must be a 2-D table [J, X], got shape {tuple(p_jx.shape)}")
    check_probs("p_jx", p_jx, (0, 1))
    check_probs("q_k_given_j", q_k_given_j)
    if q_k_given_j.ndim != 2 or q_k_given_j.shape[0] != p_jx.shape[0]:
        raise ValueError(f"q_k_given_j must have shape [{p_jx.shape[0]}, K], got {tuple(q_k_given_j.shape)}")


def x_given_z(p_jx: Tensor, q_k_given_j: Tensor) -> tuple[Tensor, Tensor]:
    """The code usage ``q̄_k`` ``[K]`` and the true conditional ``p(x | k) = sum_j p(x|j) q(k|j) p(j) / q̄_k``
    ``[K, X]`` (eq. 7, the Markov chain eq. 1; the paper's ``p(z)`` and ``p(x|z)``). Codes with
    ``q̄_k = 0`` get a uniform ``p(x | k)`` (they carry no weight)."""
    _check_joint(p_jx, q_k_given_j)
    p_kx = q_k_given_j.t() @ p_jx  # [K, X]: p(k, x) = sum_j p(j, x) q(k | j)
    usage = p_kx.sum(1)
    safe = torch.where(usage > 0, usage, torch.ones_like(usage))
    cond = torch.where(usage[:, None] > 0, p_kx / safe[:, None], torch.full_like(p_kx, 1.0 / p_kx.shape[1]))
    return usage, cond


def ib_distortion(p_jx: Tensor, q_k_given_j: Tensor) -> Tensor:
    """``d_IB(J, Z) = sum_j sum_k p(j) q(k|j) KL(p(X|j) || p(X|k))`` (eqs. 4-5)."""
    _, px_k = x_given_z(p_jx, q_k_given_j)
    pj = p_jx.sum(1)
    px_j = p_jx / pj.clamp_min(torch.finfo(p_jx.dtype).tiny)[:, None]
    px_j = torch.where(pj[:, None] > 0, px_j, torch.full_like(px_j, 1.0 / px_j.shape[1]))
    kl = (px_j[:, None, :] * (_log(px_j)[:, None, :] - _log(px_k)[None])).sum(-1)  # [J, K]
    return (pj[:, None] * q_k_given_j * kl).sum()


def ib_distortion_terms(p_jx: Tensor, q_k_given_j: Tensor) -> tuple[Tensor, Tensor]:
    """The two terms of eq. 6, ``d_IB = first - second``:

    ``first = sum_{x,k} p(x, k) log(q̄_k / p(x, k)) = H(X | Z)`` (eq. 8) and
    ``second = sum_{j,x} p(j, x) log(p(j) / p(j, x)) = H(X | J)``, a constant of the data.
    """
    _check_joint(p_jx, q_k_given_j)
    p_kx = q_k_given_j.t() @ p_jx
    usage = p_kx.sum(1, keepdim=True)
    first = (p_kx * (_log(usage) - _log(p_kx))).sum()
    pj = p_jx.sum(1, keepdim=True)
    second = (p_jx * (_log(pj) - _log(p_jx))).sum()
    return first, second


def decoder_entropy(p_jx: Tensor, q_k_given_j: Tensor) -> Tensor:
    """``-sum_k q̄_k sum_x p(x|k) log p(x|k) = H(X | Z)`` (right-hand side of eq. 8)."""
    usage, px_k = x_given_z(p_jx, q_k_given_j)
    return -(usage * (px_k * _log(px_k)).sum(1)).sum()


def decoder_bound(p_jx: Tensor, q_k_given_j: Tensor, decoder: Tensor) -> Tensor:
    """``-sum_{j,x} p(j, x) sum_k q(k|j) log p_phi(x|k)`` (eq. 10, equal to eq. 9): the variational upper
    bound on ``H(X | Z)`` with a decoder table ``p_phi(x | k)`` ``[K, X]`` (the paper's ``q(x̂ | z)``). Its
    gap is ``sum_k q̄_k KL(p(X|k) || p_phi(X|k))`` (eq. 11)."""
    _check_joint(p_jx, q_k_given_j)
    check_probs("decoder", decoder)
    if decoder.shape != (q_k_given_j.shape[1], p_jx.shape[1]):
        raise ValueError(f"decoder must have shape [{q_k_given_j.shape[1]}, {p_jx.shape[1]}], "
                         f"got {tuple(decoder.shape)}")
    p_kx = q_k_given_j.t() @ p_jx
    _check_support(p_kx, decoder, "p(x, k)", "decoder")
    return -(p_kx * _log(decoder)).sum()


def log_k(num_codes: int) -> float:
    """``log K``, the cross-entropy H(q(Z|J), r(Z)) for the uniform prior (eq. 25)."""
    return math.log(check_int("num_codes", num_codes))
