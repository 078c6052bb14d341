"""Notebook 09's experiments: which gradient each estimator passes through a hard assignment, measured against
the gradient of a smoothed objective, and what the difference does to training.

The small problem (:func:`gradient_problem`): fixed encoder outputs ``z_e`` ``[N, 2]``, a codebook ``e``
``[K, 2]`` and targets ``y`` ``[N, 2]``; the loss of a decoder input is ``L(z_q) = sum_n ||z_q,n - y_n||^2 / 2``.
Hard quantization makes ``L(e_{k*(x)})`` piecewise constant in ``z_e``: its gradient is zero almost everywhere.
Quantizing *stochastically*, ``k ~ q_tau(k | x) = softmax_k(-||z_e - e_k||^2 / tau)`` (the EM quantizer's Gibbs
posterior, notebook 02), smooths it into ``L_tau(z_e) = E_{q_tau} L(e_k)``, whose gradient
(:func:`reference_gradient`) is what an estimator should follow at temperature ``tau``:

    ``grad L_tau = sum_n E_{k ~ q_tau} [ (L_n(e_k) - b_n) grad log q_tau(k | x_n) ]``,
    ``grad_{z_e} log q_tau(k | x) = (2 / tau) (e_k - sum_j q_tau(j | x) e_j)``,

a Monte-Carlo (score-function) estimate with a leave-one-out baseline ``b_n`` and its standard error; on this
small problem the expectation over the K codes is also computed exactly, which checks the estimate.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from vqlab._checks import check_choice, check_float, check_int, check_tensor
from vqlab.experiments.driver import Comparison, Factory, compare
from vqlab.models import build_vqvae
from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.quantizers import (ESTIMATORS, EstimatorQuantizer, diveq, gumbel_softmax, posterior_mean, rotation_trick,
                              softmax_straight_through, straight_through)

__all__ = ["GradientProblem", "gradient_problem", "ReferenceGradient", "reference_gradient", "ESTIMATOR_LABELS",
           "estimator_gradients", "EstimatorScore", "score_estimators", "estimator_trial", "estimator_comparison"]

#: The estimators of :data:`vqlab.quantizers.ESTIMATORS` as the notebook names them.
ESTIMATOR_LABELS = {"straight_through": "straight-through", "rotation_trick": "rotation trick",
                    "posterior_mean": "posterior mean", "gumbel": "straight-through Gumbel",
                    "softmax_straight_through": "IBQ softmax-ST", "diveq": "DiVeQ"}


@dataclass(frozen=True)
class GradientProblem:
    """Encoder outputs ``z_e`` ``[N, D]``, a codebook ``e`` ``[K, D]`` and targets ``y`` ``[N, D]`` (float64)."""

    z_e: Tensor
    codebook: Tensor
    target: Tensor

    def loss(self, z_q: Tensor) -> Tensor:
        """``L(z_q) = sum_n ||z_q,n - y_n||^2 / 2`` (a scalar)."""
        return 0.5 * (z_q - self.target).pow(2).sum()

    def point_losses(self) -> Tensor:
        """``L_n(e_k) = ||e_k - y_n||^2 / 2`` ``[N, K]``."""
        return 0.5 * squared_distances(self.target, self.codebook)


def gradient_problem(*, num_points: int = 48, num_codes: int = 8, shift: float = 0.5, seed: int = 0) -> GradientProblem:
    """The notebook's small problem in 2-D: ``num_codes`` codewords and ``num_points`` encoder outputs drawn
    from ``N(0, I)``, and targets ``y = z_e + (shift, 0)``: the loss wants every decoder input ``shift`` to the
    right of its encoder output (the direction a decoder's gradient would push). Seeded by ``seed``."""
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    codebook = torch.randn(check_int("num_codes", num_codes), 2, generator=gen, dtype=torch.float64)
    z_e = torch.randn(check_int("num_points", num_points), 2, generator=gen, dtype=torch.float64)
    offset = torch.tensor([check_float("shift", shift), 0.0], dtype=torch.float64)
    return GradientProblem(z_e=z_e, codebook=codebook, target=z_e + offset)


@dataclass(frozen=True)
class ReferenceGradient:
    """The gradient of the smoothed loss ``L_tau`` w.r.t. ``z_e`` (``[N, D]`` each).

    Attributes:
        mean: the Monte-Carlo estimate. stderr: its standard error, entry by entry.
        groups: ``[G, N, D]`` the estimates of G disjoint groups of the samples (``mean`` is their mean), for a
            jackknife of anything computed from ``mean``. exact: the expectation summed over the K codes.
        temperature: tau. num_samples: samples per point.
    """

    mean: Tensor
    stderr: Tensor
    groups: Tensor
    exact: Tensor
    temperature: float
    num_samples: int


def reference_gradient(problem: GradientProblem, temperature: float, *, num_samples: int = 4000, num_groups: int = 10,
                       seed: int = 0) -> ReferenceGradient:
    """``grad_{z_e} L_tau`` by the score-function estimator (module docstring): ``num_samples`` codes per point
    drawn from ``q_tau(k | x_n)`` (generator seeded with ``seed``), each weighted by its loss minus the mean loss
    of the other samples of its group (a leave-one-out baseline, so the estimate stays unbiased), in
    ``num_groups`` groups of equal size; and the exact ``(2 / tau) sum_k q_k (L_n(e_k) - L_bar_n) (e_k - e_bar)``."""
    tau = check_float("temperature", temperature, 0.0, strict=True)
    s, g = check_int("num_samples", num_samples, 2), check_int("num_groups", num_groups, 2)
    if s % g or s // g < 2:
        raise ValueError(f"num_samples must be a multiple of num_groups with at least 2 samples per group, "
                         f"got num_samples={num_samples!r}, num_groups={num_groups!r}")
    e, losses = problem.codebook, problem.point_losses()                             # [K, D], [N, K]
    q = gibbs_posterior(squared_distances(problem.z_e, e), tau).exp()                  # [N, K]
    e_bar = q @ e
    scores = (2.0 / tau) * (e[None, :, :] - e_bar[:, None, :])                         # [N, K, D]
    centred = losses - (q * losses).sum(1, keepdim=True)
    exact = (q[:, :, None] * centred[:, :, None] * scores).sum(1)
    n, d = problem.z_e.shape
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    k = torch.multinomial(q, s, replacement=True, generator=gen)                       # [N, S], k ~ q_tau
    drawn = losses.gather(1, k).reshape(n, g, s // g)
    baseline = (drawn.sum(2, keepdim=True) - drawn) / (s // g - 1)                     # the others of the group
    terms = (drawn - baseline).reshape(n, s, 1) * scores.gather(1, k[..., None].expand(-1, -1, d))   # [N, S, D]
    groups = terms.reshape(n, g, s // g, d).mean(2).permute(1, 0, 2)                   # [G, N, D]
    return ReferenceGradient(mean=groups.mean(0), stderr=terms.std(1) / s ** 0.5, groups=groups, exact=exact,
                             temperature=tau, num_samples=s)


def estimator_gradients(problem: GradientProblem, temperature: float, *, num_draws: int = 200,
                        direction_noise: float = 1e-3, seed: int = 0) -> dict[str, Tensor]:
    """What each estimator of :data:`ESTIMATOR_LABELS` passes to ``z_e`` ``[N, D]`` for ``L`` of ``problem``, by
    autograd through :mod:`vqlab.quantizers.estimators` (keys are the labels). The nearest codeword ``k*`` is
    the argmax of ``q_tau``; the posterior mean, straight-through Gumbel and IBQ's softmax-ST use ``q_tau`` at
    ``temperature``; straight-through, the rotation trick and DiVeQ do not depend on it. The two stochastic
    estimators (Gumbel, DiVeQ with ``direction_noise``) are averaged over ``num_draws`` draws (generator seeded
    with ``seed``): their expectation, whose bias is what the notebook compares."""
    tau = check_float("temperature", temperature, 0.0, strict=True)
    draws = check_int("num_draws", num_draws)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))

    def grad(build, repeats: int = 1) -> Tensor:
        """``d/dz_e`` of the mean over ``repeats`` copies of the batch of ``L(build(z))`` (one draw per copy)."""
        z = problem.z_e.clone().requires_grad_()
        z_q = build(z.repeat(repeats, 1))
        loss = 0.5 * (z_q - problem.target.repeat(repeats, 1)).pow(2).sum() / repeats
        return torch.autograd.grad(loss, z)[0]

    def log_q(z: Tensor) -> Tensor:
        return gibbs_posterior(squared_distances(z, problem.codebook), tau)

    def q(z: Tensor) -> Tensor:
        return log_q(z).exp()

    def chosen(z: Tensor) -> Tensor:
        return problem.codebook[q(z).detach().argmax(1)]

    out = {"straight_through": grad(lambda z: straight_through(z, chosen(z))),
           "rotation_trick": grad(lambda z: rotation_trick(z, chosen(z))),
           "posterior_mean": grad(lambda z: posterior_mean(q(z), problem.codebook)),
           "gumbel": grad(lambda z: gumbel_softmax(log_q(z), hard=True, generator=gen)[0] @ problem.codebook, draws),
           "softmax_straight_through": grad(lambda z: softmax_straight_through(q(z), problem.codebook)),
           "diveq": grad(lambda z: diveq(z, chosen(z), direction_noise=direction_noise, generator=gen), draws)}
    return {ESTIMATOR_LABELS[name]: value for name, value in out.items()}


def _cosine(a: Tensor, b: Tensor) -> float:
    return float((a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-300))


@dataclass(frozen=True)
class EstimatorScore:
    """One estimator against the reference at one temperature: the cosine similarity of the two ``[N, D]``
    gradients (flattened) with its 95 % jackknife interval over the reference's sample groups, and the relative
    magnitude ``||g_hat|| / ||g*||``."""

    estimator: str
    temperature: float
    cosine: float
    low: float
    high: float
    magnitude: float


def score_estimators(problem: GradientProblem, temperatures: Sequence[float], *, num_samples: int = 4000,
                     num_groups: int = 10, num_draws: int = 200, direction_noise: float = 1e-3,
                     seed: int = 0) -> list[EstimatorScore]:
    """:class:`EstimatorScore` of every estimator at every temperature (the reference of
    :func:`reference_gradient`, the estimators of :func:`estimator_gradients`, both seeded with ``seed``).

    The interval: the cosine is recomputed with each of the G sample groups of the reference left out, and
    ``cos +- 1.96 se`` with the jackknife ``se^2 = (G - 1)/G sum_g (cos_(-g) - mean)^2``; it says how much
    the Monte-Carlo noise of the reference moves the cosine (the stochastic estimators are averages of
    ``num_draws`` draws; their own noise is not in it)."""
    scores = []
    for tau in temperatures:
        ref = reference_gradient(problem, tau, num_samples=num_samples, num_groups=num_groups, seed=seed)
        g = ref.groups.shape[0]
        left_out = (ref.groups.sum(0, keepdim=True) - ref.groups) / (g - 1)
        for name, value in estimator_gradients(problem, tau, num_draws=num_draws, direction_noise=direction_noise,
                                               seed=seed).items():
            cos = _cosine(value, ref.mean)
            jack = np.array([_cosine(value, other) for other in left_out])
            se = float(np.sqrt((g - 1) / g * ((jack - jack.mean()) ** 2).sum()))
            scores.append(EstimatorScore(name, float(tau), cos, cos - 1.96 * se, cos + 1.96 * se,
                                         float(value.norm() / ref.mean.norm().clamp_min(1e-300))))
    return scores


def estimator_trial(estimator: str, seed: int, *, num_codes: int = 32, code_dim: int = 8,
                    latent_shape: tuple[int, int] = (4, 8), temperature: float = 1.0,
                    direction_noise: float = 1e-3) -> torch.nn.Module:
    """The digits MLP VQ-VAE of :func:`vqlab.models.build_vqvae` (``latent_shape`` codes per image) around an
    :class:`~vqlab.quantizers.EstimatorQuantizer` with ``estimator`` (one of
    :data:`vqlab.quantizers.ESTIMATORS`), K = ``num_codes``, ``temperature``, ``direction_noise``; weights and
    quantizer seeded with ``seed``."""
    check_choice("estimator", estimator, ESTIMATORS)
    quantizer = EstimatorQuantizer(num_codes, code_dim, estimator=estimator, temperature=temperature,
                                   direction_noise=direction_noise, seed=check_int("seed", seed, 0))
    return build_vqvae(quantizer, latent_shape=latent_shape, seed=seed)


def estimator_comparison(x_train: Tensor, x_test: Tensor, *, estimators: Sequence[str] = ESTIMATORS,
                         seeds: Sequence[int] = (0, 1, 2, 3), epochs: int = 15, batch_size: int = 64, lr: float = 3e-3,
                         num_codes: int = 32, temperature: float = 0.01, direction_noise: float = 1e-3) -> Comparison:
    """Every estimator trained in :func:`estimator_trial` with the same seeds and budget through
    :func:`compare` (rows named by :data:`ESTIMATOR_LABELS`), measured by :func:`vqlab.train.evaluate` on
    ``x_test`` (``recon``, ``perplexity``, ``codes_used``, the loss terms); each run's per-step log
    (``recon``, ``codes_used``) is in ``comparison.trials[label][i].history.steps``."""
    check_tensor("x_train", x_train, ndim=2)
    for name in estimators:
        check_choice("estimators", name, ESTIMATORS)

    def factory(name: str) -> Factory:
        return lambda seed: estimator_trial(name, seed, num_codes=num_codes, temperature=temperature,
                                            direction_noise=direction_noise)

    return compare({ESTIMATOR_LABELS[name]: factory(name) for name in estimators}, x_train, x_test, seeds=seeds,
                   epochs=epochs, batch_size=batch_size, lr=lr, device="cpu")
