"""Issue 27's experiments: notebook 08's frontier rows and large codebook (vqlab.experiments.frontier) and
notebook 09's reference gradient and estimators (vqlab.experiments.gradients)."""
import numpy as np
import pytest
import torch

from vqlab.experiments import (FRONTIER, estimator_gradients, frontier_trial, gradient_problem, large_codebook,
                               reference_gradient, row_name, score_estimators, uniform_ceiling)
from vqlab.posteriors import gibbs_posterior, squared_distances


@pytest.mark.parametrize("k", [64, 4096])
def test_uniform_ceiling_matches_a_simulation(k):
    n = 7200
    rng = np.random.default_rng(0)
    usage, perplexity = [], []
    for _ in range(200):
        counts = np.bincount(rng.integers(0, k, n), minlength=k)
        p = counts[counts > 0] / n
        usage.append((counts > 0).mean())
        perplexity.append(np.exp(-(p * np.log(p)).sum()) / k)
    ceiling = uniform_ceiling(k, n)
    assert ceiling["usage_fraction"] == pytest.approx(np.mean(usage), abs=2e-3)
    assert ceiling["perplexity_fraction"] == pytest.approx(np.mean(perplexity), abs=2e-3)


@pytest.mark.parametrize("name", FRONTIER)
def test_every_frontier_row_has_k_codes_and_the_binary_rows_log2_k_bits(name):
    model = frontier_trial(name, 0, num_codes=64).model
    quantizer = model.quantizer
    assert quantizer.num_codes == 64
    assert quantizer.code_dim == (6 if name in ("LFQ", "BSQ") else 3)
    out = model(torch.rand(2, 1, 8, 8))
    assert out.x_hat.shape == (2, 1, 8, 8)


def test_large_codebook_names_its_rows_by_k_and_pairs_them_by_seed():
    x = torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    result = large_codebook(x, x[:8], names=("plain", "LFQ"), num_codes=16, seeds=(0, 1), epochs=1, device="cpu")
    assert result.variants == [row_name("plain", 16), row_name("LFQ", 16)] == ["plain, K = 16", "LFQ, K = 16"]
    assert {"recon", "usage_fraction", "perplexity_fraction", "train_perplexity_fraction"} <= set(result.metrics())
    assert all(0 < v <= 1 for v in result.values["LFQ, K = 16"]["usage_fraction"])
    assert result.paired("LFQ, K = 16", "plain, K = 16", "recon").n == 2


@pytest.mark.parametrize("tau", [0.05, 0.5, 5.0])
def test_the_exact_reference_is_the_gradient_of_the_smoothed_loss_and_the_estimate_is_near_it(tau):
    problem = gradient_problem(num_points=12, num_codes=5)
    z = problem.z_e.clone().requires_grad_()
    q = gibbs_posterior(squared_distances(z, problem.codebook), tau).exp()
    smoothed = (q * problem.point_losses()).sum()                      # L_tau = sum_n E_q L_n(e_k)
    (autograd,) = torch.autograd.grad(smoothed, z)
    ref = reference_gradient(problem, tau, num_samples=4000)
    assert torch.allclose(ref.exact, autograd, atol=1e-10)
    assert (ref.mean - ref.exact).norm() <= 4 * ref.stderr.norm()          # within its error bar
    assert torch.allclose(ref.groups.mean(0), ref.mean)


def test_straight_through_passes_the_copy_and_scores_are_cosines():
    problem = gradient_problem(num_points=10, num_codes=4)
    grads = estimator_gradients(problem, 0.3, num_draws=4)
    nearest = problem.codebook[squared_distances(problem.z_e, problem.codebook).argmin(1)]
    assert torch.allclose(grads["straight-through"], nearest - problem.target)
    scores = score_estimators(problem, [0.3], num_samples=400, num_draws=4)
    assert len(scores) == 6 and all(s.low <= s.cosine <= s.high and -1 <= s.cosine <= 1 for s in scores)
