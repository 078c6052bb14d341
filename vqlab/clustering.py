"""Classic (non-neural) vector quantization on point sets: batch k-means, batch neural gas, fuzzy c-means.

All three minimise an expected distortion ``sum_n sum_k a_nk d(x_n, w_k)`` (thesis eq. 4.1, with
``d = ||x - w||^2``) by alternating two steps:

1. weights ``a_nk`` from the current prototypes, using the posteriors shared with the VQ-VAE quantizer
   (:func:`vqlab.posteriors.posterior_weights`): one-hot (k-means, eq. 4.2), neural-gas ranks (eq. 4.3)
   or fuzzy memberships to the power m (fuzzy c-means, eq. 4.5);
2. the batch update ``w_k = sum_n a_nk x_n / sum_n a_nk``, the exact minimiser for fixed weights
   (Lloyd's algorithm; batch neural gas, Cottrell et al. 2006 = thesis ref. [7]; Bezdek's fuzzy c-means).

A prototype that receives zero total weight stays where it is: with the one-hot k-means weights this is
a *dead unit* that never moves again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.posteriors import neural_gas_lambda, posterior_weights, squared_distances

__all__ = ["VQResult", "kmeans_plusplus", "init_prototypes", "batch_update", "vq_distortion", "dead_units",
           "kmeans", "neural_gas", "fuzzy_cmeans"]


@dataclass
class VQResult:
    """What each algorithm returns.

    Attributes:
        prototypes: ``[K, D]`` final codebook.
        history: ``[T+1, K, D]`` the codebook before the first and after every iteration.
        distortion: ``T+1`` values of the hard quantization error ``mean_n min_k ||x_n - w_k||^2``
            (eq. 4.2 divided by N), the same yardstick for every method.
        objective: ``T+1`` values of the method's own objective ``mean_n sum_k a_nk d(x_n, w_k)``
            (eq. 4.1 / 4.3 / 4.5), computed with the weights of the step.
        lambdas: neural gas only, the ``T`` lambda values used.
    """

    prototypes: Tensor
    history: Tensor
    distortion: list[float]
    objective: list[float]
    lambdas: list[float] = field(default_factory=list)


def _check_points(x: Tensor) -> Tensor:
    return check_tensor("x", x, ndim=2)


def kmeans_plusplus(x: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre is drawn with probability
    proportional to its squared distance to the nearest centre chosen so far. Also the ``init="kmeans++"``
    of every :class:`vqlab.quantizers.Quantizer`.

    Args:
        x: ``[N, D]`` points; k: number of centres. If ``N < k`` the extra centres are copies of
        random points plus tiny noise, so the codebook never contains exact duplicates.
    Returns:
        ``[k, D]`` centres.
    """
    x = _check_points(x).detach()
    check_int("k", k)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    n = x.shape[0]
    first = torch.randint(n, (1,), generator=generator)
    centres = [x[first[0]]]
    d2 = (x - centres[0]).pow(2).sum(1)
    for _ in range(1, min(k, n)):
        total = d2.sum()
        if total <= 0:  # all remaining points coincide with a centre
            idx = torch.randint(n, (1,), generator=generator)[0]
        else:
            idx = torch.multinomial(d2 / total, 1, generator=generator)[0]
        centres.append(x[idx])
        d2 = torch.minimum(d2, (x - x[idx]).pow(2).sum(1))
    out = torch.stack(centres)
    if k > n:
        extra = x[torch.randint(n, (k - n,), generator=generator)]
        scale = 1e-3 * (x.std() + 1e-6)
        out = torch.cat([out, extra + scale * torch.randn(extra.shape, generator=generator)])
    return out


def init_prototypes(x: Tensor, num_codes: int, method: str = "data", seed: int = 0,
                    spread: float = 1.0) -> Tensor:
    """Initial prototypes ``[K, D]``.

    ``method="data"``: K distinct random data points. ``method="box"``: uniform in the data's bounding
    box scaled by ``spread`` around its centre (``spread > 1`` places some prototypes far from the data:
    a bad start). ``method="kmeans++"``: k-means++ seeding.
    """
    x = _check_points(x)
    k = check_int("num_codes", num_codes)
    method = check_choice("method", method, ("data", "box", "kmeans++"))
    g = torch.Generator().manual_seed(check_int("seed", seed, 0))
    if method == "kmeans++":
        return kmeans_plusplus(x, k, g)
    if method == "data":
        if k > x.shape[0]:
            raise ValueError(f"num_codes={k} exceeds the number of points {x.shape[0]} for method='data'")
        return x[torch.randperm(x.shape[0], generator=g)[:k]].clone()
    spread = check_float("spread", spread, 0.0, strict=True)
    lo, hi = x.min(0).values, x.max(0).values
    centre, half = (lo + hi) / 2, spread * (hi - lo) / 2
    return centre + half * (2 * torch.rand(k, x.shape[1], generator=g, dtype=x.dtype) - 1)


def batch_update(x: Tensor, weights: Tensor, prototypes: Tensor) -> Tensor:
    """``w_k = sum_n a_nk x_n / sum_n a_nk`` (the minimiser of eq. 4.1 for fixed weights ``a [N, K]``);
    prototypes whose total weight is zero are returned unchanged."""
    _check_points(x)
    check_tensor("prototypes", prototypes, ndim=2, last_dim=x.shape[1])
    check_tensor("weights", weights, ndim=2)
    if weights.shape != (x.shape[0], prototypes.shape[0]) or (weights < 0).any():
        raise ValueError(f"weights must be non-negative with shape [{x.shape[0]}, {prototypes.shape[0]}] (rows of x, "
                         f"rows of prototypes), got shape {tuple(weights.shape)}")
    mass = weights.sum(0)
    new = (weights.t() @ x) / mass.clamp_min(torch.finfo(x.dtype).tiny).unsqueeze(1)
    return torch.where((mass > 0).unsqueeze(1), new, prototypes)


def vq_distortion(z: Tensor, codebook: Tensor) -> tuple[Tensor, float]:
    """Hard assignments and the mean distortion of a codebook (thesis eq. 4.2, divided by N).

    ``gamma(z_n) = argmin_k ||z_n - w_k||^2`` and ``E = (1/N) sum_n ||z_n - w_gamma(z_n)||^2``; this is
    eq. 4.1 with the one-hot (k-means) posterior ``q(k | z_n) = 1[k = gamma(z_n)]``.

    Args:
        z: ``[N, D]`` points. codebook: ``[K, D]``.
    Returns:
        ``(assignments [N] long, distortion)``.
    """
    z = check_tensor("z", z, ndim=2)
    codebook = check_tensor("codebook", codebook, ndim=2, last_dim=z.shape[1])
    d = squared_distances(z.detach(), codebook.detach())
    best, assign = d.min(1)
    return assign, float(best.mean())


def dead_units(x: Tensor, prototypes: Tensor) -> int:
    """How many prototypes are nearest to no point of ``x`` (dead units)."""
    check_tensor("prototypes", prototypes, ndim=2, last_dim=_check_points(x).shape[1])
    idx = squared_distances(_check_points(x), prototypes).argmin(1)
    return int(prototypes.shape[0] - torch.unique(idx).numel())


def _run(x: Tensor, init: Tensor, iterations: int, posterior: str, lambdas: list[float] | None = None,
         m: float = 2.0) -> VQResult:
    x = _check_points(x)
    w = check_tensor("init", init, ndim=2, last_dim=x.shape[1]).to(x.dtype).clone()
    check_int("iterations", iterations, 0)
    history, distortion, objective = [w], [vq_distortion(x, w)[1]], []
    for t in range(iterations):
        lam = lambdas[t] if lambdas else 1.0
        dist = squared_distances(x, w)
        _, a = posterior_weights(dist, posterior, lam=lam, m=m)
        objective.append((a * dist).sum(1).mean().item())
        w = batch_update(x, a, w)
        history.append(w)
        distortion.append(vq_distortion(x, w)[1])
    dist = squared_distances(x, w)
    objective.append((posterior_weights(dist, posterior, lam=lambdas[-1] if lambdas else 1.0, m=m)[1]
                      * dist).sum(1).mean().item())
    return VQResult(w, torch.stack(history), distortion, objective, list(lambdas or []))


def kmeans(x: Tensor, init: Tensor, iterations: int = 30) -> VQResult:
    """Batch k-means (Lloyd): hard posterior (thesis eq. 4.2), batch update.

    Args:
        x: ``[N, D]`` points. init: ``[K, D]`` initial prototypes. iterations: T >= 0.
    """
    return _run(x, init, iterations, "hard")


def neural_gas(x: Tensor, init: Tensor, iterations: int = 30, lam_initial: float | None = None,
               lam_final: float = 0.01) -> VQResult:
    """Batch neural gas (Cottrell et al. 2006): neural-gas posterior ``exp(-r / lam)`` (thesis eq. 4.3)
    with lambda annealed by :func:`vqlab.posteriors.neural_gas_lambda` from ``lam_initial`` (default
    K / 2) to ``lam_final`` over the ``iterations``.

    Args:
        x: ``[N, D]`` points. init: ``[K, D]``. iterations: T >= 1. lam_initial, lam_final: > 0
        (equal values give a fixed lambda).
    """
    k = check_tensor("init", init, ndim=2).shape[0]
    t_max = check_int("iterations", iterations)
    lam_i = k / 2 if lam_initial is None else lam_initial
    lambdas = [neural_gas_lambda(t, lam_i, lam_final, max(1, t_max - 1)) for t in range(t_max)]
    return _run(x, init, iterations, "neural_gas", lambdas)


def fuzzy_cmeans(x: Tensor, init: Tensor, iterations: int = 30, m: float = 2.0) -> VQResult:
    """Fuzzy c-means (Bezdek): memberships of eq. 4.4, update ``w_k = sum u^m x / sum u^m`` which
    minimises the original objective eq. 4.5 for fixed memberships.

    Args:
        x: ``[N, D]`` points. init: ``[K, D]``. iterations: T >= 0. m: fuzzifier > 1.
    """
    return _run(x, init, iterations, "fcm_original", m=check_float("m", m, 1.0, strict=True))
