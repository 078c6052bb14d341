"""Information-theoretic terms of the (deterministic) variational information bottleneck.

Equation numbers refer to Wu & Flierl, *Variational Information Bottleneck on Vector Quantized
Autoencoders* (arXiv:1808.01048). Their clustering setting:
``I`` is the data-point index, ``X`` the features, ``Z`` the code index, with the Markov chain
``X <-> I <-> Z <-> X̂`` (eq. 1). All quantities are in **nats**.

Two groups of functions:

* **Posterior terms** (differentiable, used as losses): they take posteriors ``probs`` ``[..., K]``
  as returned by any vqlab quantizer (``QuantizerOutput.probs``), i.e. one row ``p(z | i)`` per latent
  vector, and a prior ``r(Z)`` ``[K]`` (uniform by default). Every row is one draw of ``I``, weighted
  equally (the empirical ``1/N`` of eq. 25) unless ``weights`` ``p(i)`` are given.
  :func:`conditional_entropy` H(p(Z|I)), :func:`cross_entropy` H(p(Z|I), r(Z)) (eqs. 21-22, 25),
  :func:`kl_to_prior` KL(p(Z|I) || r(Z)) (eqs. 14-15), :func:`marginal` p(z), :func:`mutual_information_iz`
  I(I; Z) (eq. 13), :func:`vib_loss` (eq. 18), :func:`vdib_loss` (eq. 23), :func:`ib_lagrangian` (eq. 3).

* **Discrete joint distributions** (for checking the derivation on small finite problems): a joint
  ``p(i, x)`` ``[I, X]`` and an encoder ``p(z | i)`` ``[I, Z]``. :func:`entropy`, :func:`kl_divergence`,
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
    """Flatten ``probs`` ``[..., K]`` to ``[N, K]`` and return it with weights ``p(i)`` ``[N]``."""
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
    """``p(z) = sum_i p(i) p(z | i)`` (eq. 21, the denominator of eq. 7). Returns ``[K]``."""
    flat, w = _rows(probs, weights)
    return w @ flat


def conditional_entropy(probs: Tensor, weights: Tensor | None = None) -> Tensor:
    """``H(p(Z|I)) = -sum_i p(i) sum_z p(z|i) log p(z|i)``, the second term of eq. 26 (nats, scalar).

    Zero for hard VQ (one-hot rows, eq. 27); positive for the soft EM posterior (eq. 28).
    """
    flat, w = _rows(probs, weights)
    return 0.0 - (w * (flat * _log(flat)).sum(1)).sum()


def cross_entropy(probs: Tensor, prior: Tensor | None = None, weights: Tensor | None = None) -> Tensor:
    """``H(p(Z|I), r(Z)) = -sum_i p(i) sum_z p(z|i) log r(z)`` (eqs. 21-22; empirical form eq. 25).

    The paper prints eq. 25 without the minus sign; the cross-entropy of eq. 22 has it, and that is
    what is computed here. With the uniform prior (default) it equals ``log K`` for *any* posterior.
    It upper-bounds ``H(Z)`` (eq. 20) with gap ``KL(p(Z) || r(Z))``.
    """
    flat, w = _rows(probs, weights)
    r = _prior(prior, flat)
    return -(w @ flat @ _log(r))


def kl_to_prior(probs: Tensor, prior: Tensor | None = None, weights: Tensor | None = None) -> Tensor:
    """``KL(p(Z|I) || r(Z)) = sum_i p(i) sum_z p(z|i) log(p(z|i) / r(z))`` (eqs. 14-15), computed
    directly (not through eq. 26, so eq. 26 can be checked). Upper-bounds ``I(I; Z)`` (eq. 14) with
    gap ``KL(p(Z) || r(Z))`` (eq. 16)."""
    flat, w = _rows(probs, weights)
    r = _prior(prior, flat)
    return (w * (flat * (_log(flat) - _log(r))).sum(1)).sum()


def mutual_information_iz(probs: Tensor, weights: Tensor | None = None) -> Tensor:
    """``I(I; Z) = sum_i sum_z p(i) p(z|i) log(p(z|i) / p(z))`` (eq. 13), with ``p(z)`` from
    :func:`marginal`. For a deterministic encoder (hard VQ) it equals ``H(Z)``."""
    flat, w = _rows(probs, weights)
    pz = w @ flat
    return (w * (flat * (_log(flat) - _log(pz))).sum(1)).sum()


def ib_lagrangian(distortion: Tensor | float, rate: Tensor | float, ib_weight: float) -> Tensor | float:
    """``L_IB = d_IB(I, Z) + w_IB I(I, Z)`` (eq. 3; the paper's ``beta``, the course's IB trade-off
    ``w_IB``), the Lagrangian of the rate-distortion problem eq. 2. ``distortion`` and ``rate`` are
    scalars (nats); ``ib_weight >= 0``."""
    b = check_float("ib_weight", ib_weight, 0.0)
    return _check_scalar("distortion", distortion) + b * _check_scalar("rate", rate)


def vib_loss(distortion: Tensor, probs: Tensor, ib_weight: float, prior: Tensor | None = None,
             weights: Tensor | None = None) -> Tensor:
    """``L_VIB = distortion + w_IB KL(p(Z|I) || r(Z))`` (eq. 18; ``w_IB`` = ``ib_weight``, the paper's
    ``beta``).

    ``distortion`` is the first term of eq. 18, ``-E log q(x̂ | z)``: for a Gaussian decoder the
    reconstruction error (``ModelOutput.losses["recon"]``) up to scale and constants.
    By eq. 26 this equals :func:`vdib_loss` minus ``w_IB H(p(Z|I))``.
    """
    w_ib = check_float("ib_weight", ib_weight, 0.0)
    return _check_scalar("distortion", distortion) + w_ib * kl_to_prior(probs, prior, weights)


def vdib_loss(distortion: Tensor, probs: Tensor, ib_weight: float, prior: Tensor | None = None,
              weights: Tensor | None = None) -> Tensor:
    """``L_VDIB = distortion + w_IB H(p(Z|I), r(Z))`` (eq. 23; ``w_IB`` = ``ib_weight``, the paper's
    ``beta``). With the uniform prior the second term is the constant ``w_IB log K``, so minimising it
    is minimising the distortion alone (the VQ-VAE loss, eq. 24, whose commitment / codebook terms are
    how that distortion is minimised)."""
    w_ib = check_float("ib_weight", ib_weight, 0.0)
    return _check_scalar("distortion", distortion) + w_ib * cross_entropy(probs, prior, weights)


# ------------------------------------------------------- discrete joints: the derivation, eqs. 4-12
def _check_joint(p_ix: Tensor, p_z_given_i: Tensor) -> None:
    check_tensor("p_ix", p_ix)
    if p_ix.ndim != 2:
        raise ValueError(f"p_ix must be a 2-D table [I, X], got shape {tuple(p_ix.shape)}")
    check_probs("p_ix", p_ix, (0, 1))
    check_probs("p_z_given_i", p_z_given_i)
    if p_z_given_i.ndim != 2 or p_z_given_i.shape[0] != p_ix.shape[0]:
        raise ValueError(f"p_z_given_i must have shape [{p_ix.shape[0]}, Z], got {tuple(p_z_given_i.shape)}")


def x_given_z(p_ix: Tensor, p_z_given_i: Tensor) -> tuple[Tensor, Tensor]:
    """``p(z)`` ``[Z]`` and ``p(x | z) = sum_i p(x|i) p(z|i) p(i) / p(z)`` ``[Z, X]`` (eq. 7, the
    Markov chain eq. 1). Codes with ``p(z) = 0`` get a uniform ``p(x | z)`` (they carry no weight)."""
    _check_joint(p_ix, p_z_given_i)
    p_xz = p_z_given_i.t() @ p_ix  # [Z, X]: p(z, x) = sum_i p(i, x) p(z | i)
    pz = p_xz.sum(1)
    safe = torch.where(pz > 0, pz, torch.ones_like(pz))
    cond = torch.where(pz[:, None] > 0, p_xz / safe[:, None], torch.full_like(p_xz, 1.0 / p_xz.shape[1]))
    return pz, cond


def ib_distortion(p_ix: Tensor, p_z_given_i: Tensor) -> Tensor:
    """``d_IB(I, Z) = sum_i sum_z p(i) p(z|i) KL(p(X|i) || p(X|z))`` (eqs. 4-5)."""
    _, px_z = x_given_z(p_ix, p_z_given_i)
    pi = p_ix.sum(1)
    px_i = p_ix / pi.clamp_min(torch.finfo(p_ix.dtype).tiny)[:, None]
    px_i = torch.where(pi[:, None] > 0, px_i, torch.full_like(px_i, 1.0 / px_i.shape[1]))
    kl = (px_i[:, None, :] * (_log(px_i)[:, None, :] - _log(px_z)[None])).sum(-1)  # [I, Z]
    return (pi[:, None] * p_z_given_i * kl).sum()


def ib_distortion_terms(p_ix: Tensor, p_z_given_i: Tensor) -> tuple[Tensor, Tensor]:
    """The two terms of eq. 6, ``d_IB = first - second``:

    ``first = sum_{x,z} p(x, z) log(p(z) / p(x, z)) = H(X | Z)`` (eq. 8) and
    ``second = sum_{i,x} p(i, x) log(p(i) / p(i, x)) = H(X | I)``, a constant of the data.
    """
    _check_joint(p_ix, p_z_given_i)
    p_zx = p_z_given_i.t() @ p_ix
    pz = p_zx.sum(1, keepdim=True)
    first = (p_zx * (_log(pz) - _log(p_zx))).sum()
    pi = p_ix.sum(1, keepdim=True)
    second = (p_ix * (_log(pi) - _log(p_ix))).sum()
    return first, second


def decoder_entropy(p_ix: Tensor, p_z_given_i: Tensor) -> Tensor:
    """``-sum_z p(z) sum_x p(x|z) log p(x|z) = H(X | Z)`` (right-hand side of eq. 8)."""
    pz, px_z = x_given_z(p_ix, p_z_given_i)
    return -(pz * (px_z * _log(px_z)).sum(1)).sum()


def decoder_bound(p_ix: Tensor, p_z_given_i: Tensor, q_x_given_z: Tensor) -> Tensor:
    """``-sum_{i,x} p(i, x) sum_z p(z|i) log q(x|z)`` (eq. 10, equal to eq. 9): the variational upper
    bound on ``H(X | Z)`` with a decoder ``q(x̂ | z)`` ``[Z, X]``. Its gap is
    ``sum_z p(z) KL(p(X|z) || q(X|z))`` (eq. 11)."""
    _check_joint(p_ix, p_z_given_i)
    check_probs("q_x_given_z", q_x_given_z)
    if q_x_given_z.shape != (p_z_given_i.shape[1], p_ix.shape[1]):
        raise ValueError(f"q_x_given_z must have shape [{p_z_given_i.shape[1]}, {p_ix.shape[1]}], "
                         f"got {tuple(q_x_given_z.shape)}")
    p_zx = p_z_given_i.t() @ p_ix
    _check_support(p_zx, q_x_given_z, "p(x, z)", "q_x_given_z")
    return -(p_zx * _log(q_x_given_z)).sum()


def log_k(num_codes: int) -> float:
    """``log K``, the cross-entropy H(p(Z|I), r(Z)) for the uniform prior (eq. 25)."""
    return math.log(check_int("num_codes", num_codes))
