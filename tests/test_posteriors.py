"""vqlab.posteriors: squared distances, the hard / Gibbs (EM) / soft-VQ / neural-gas / fuzzy c-means
posteriors (neural-gas thesis eqs. 4.3-4.7, 5.6; VIB paper eqs. 18, 28; soft VQ-VAE eqs. 5, 7)."""
import pytest
import torch

from vqlab import losses as L
from vqlab.posteriors import (POSTERIORS, distance_ranks, fuzzy_cmeans_posterior, fuzzy_cmeans_weights,
                              gibbs_posterior, hard_posterior, neural_gas_lambda, neural_gas_posterior,
                              posterior_weights, soft_vq_posterior, squared_distances)

SEEDS = range(6)


def _dist(n=30, k=7, d=3):
    return squared_distances(torch.randn(n, d), torch.randn(k, d))


@pytest.mark.parametrize("fn", [lambda d: neural_gas_posterior(d, 0.7), lambda d: neural_gas_posterior(d, 50.0),
                                lambda d: fuzzy_cmeans_posterior(d, 1.3),
                                lambda d: fuzzy_cmeans_posterior(d, 3.0, normalized=True), hard_posterior])
def test_posteriors_are_distributions(fn):
    q = fn(_dist())
    assert q.shape == (30, 7) and (q >= 0).all()
    assert torch.allclose(q.sum(1), torch.ones(30), atol=1e-6)


def test_posteriors_decrease_with_distance():
    d = _dist()
    order = d.argsort(1)
    for q in (neural_gas_posterior(d, 1.0), fuzzy_cmeans_posterior(d, 2.0),
              fuzzy_cmeans_posterior(d, 2.0, normalized=True)):
        sorted_q = q.gather(1, order)
        assert (sorted_q[:, :-1] >= sorted_q[:, 1:] - 1e-7).all()


def test_limits_reduce_to_hard_assignment():
    d = _dist()
    hard = hard_posterior(d)
    assert torch.allclose(neural_gas_posterior(d, 1e-3), hard, atol=1e-6)
    assert torch.allclose(fuzzy_cmeans_posterior(d, 1.0 + 1e-4), hard, atol=1e-4)
    assert torch.allclose(fuzzy_cmeans_posterior(d, 1.0 + 1e-4, normalized=True), hard, atol=1e-4)
    # the other end: very soft posteriors become uniform
    assert torch.allclose(neural_gas_posterior(d, 1e6), torch.full_like(d, 1 / 7), atol=1e-5)
    assert torch.allclose(fuzzy_cmeans_posterior(d, 1e6), torch.full_like(d, 1 / 7), atol=1e-4)


def test_fcm_membership_matches_eq_4_4_written_out():
    x, w, m = torch.randn(10, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64), 1.7
    dist = torch.cdist(x, w)  # the plain Euclidean distance of eq. 4.4
    ratio = (dist.unsqueeze(2) / dist.unsqueeze(1)) ** (2 / (m - 1))  # [N, z, c]
    expected = 1 / ratio.sum(2)
    got = fuzzy_cmeans_posterior(dist ** 2, m)
    assert torch.allclose(got, expected, atol=1e-10)
    norm = expected ** m / (expected ** m).sum(1, keepdim=True)  # eq. 4.7
    assert torch.allclose(fuzzy_cmeans_posterior(dist ** 2, m, normalized=True), norm, atol=1e-10)
    assert torch.allclose(fuzzy_cmeans_weights(dist ** 2, m), expected ** m, atol=1e-10)


def test_normalized_fcm_is_fcm_with_another_fuzzifier():
    # eq. 4.7 with fuzzifier m equals eq. 4.6 with fuzzifier m' = 2 - 1/m (same exponent m/(m-1)).
    d = _dist()
    for m in (1.2, 2.0, 4.0):
        assert torch.allclose(fuzzy_cmeans_posterior(d, m, normalized=True),
                              fuzzy_cmeans_posterior(d, 2 - 1 / m), atol=1e-5)


def test_zero_distance_gives_no_nan():
    d = torch.tensor([[0.0, 1.0, 4.0], [2.0, 0.0, 0.0], [1e-30, 1.0, 1.0]])
    for normalized in (False, True):
        for m in (1.01, 2.0, 50.0):
            q = fuzzy_cmeans_posterior(d, m, normalized=normalized)
            assert torch.isfinite(q).all()
            assert torch.allclose(q[0], torch.tensor([1.0, 0.0, 0.0]))
            assert torch.allclose(q[1], torch.tensor([0.0, 0.5, 0.5]))
    assert torch.isfinite(fuzzy_cmeans_weights(d, 2.0)).all()


def test_ranks_are_permutations_and_ties_break_by_index():
    d = _dist()
    r = distance_ranks(d)
    assert torch.equal(r.sort(1).values, torch.arange(7).expand(30, 7))
    assert torch.equal(r.argmin(1), d.argmin(1))
    tied = torch.tensor([[1.0, 0.5, 1.0, 0.5, 2.0]])
    assert distance_ranks(tied).tolist() == [[2, 0, 3, 1, 4]]
    assert distance_ranks(tied).tolist() == distance_ranks(tied.clone()).tolist()  # deterministic


def test_neural_gas_is_exp_of_ranks():
    d, lam = _dist(), 2.5
    h = torch.exp(-distance_ranks(d).float() / lam)
    assert torch.allclose(neural_gas_posterior(d, lam), h / h.sum(1, keepdim=True), atol=1e-6)
    # the normalisation D = sum_r exp(-r / lam) is the same constant for every point (thesis §4.2)
    assert torch.allclose(h.sum(1), h.sum(1)[0].expand(30))


def test_lambda_schedule_is_monotone_with_right_ends():
    lams = [neural_gas_lambda(t, 10.0, 0.1, 50) for t in range(70)]
    assert lams[0] == pytest.approx(10.0) and lams[50] == pytest.approx(0.1) and lams[69] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lams[:-1], lams[1:]))
    up = [neural_gas_lambda(t, 0.5, 4.0, 10) for t in range(12)]
    assert all(a <= b for a, b in zip(up[:-1], up[1:]))


def test_posterior_weights_dispatch():
    d = _dist()
    for name in POSTERIORS:
        probs, weights = posterior_weights(d, name, lam=1.0, m=2.0)
        assert torch.allclose(probs.sum(1), torch.ones(30), atol=1e-6)
        assert torch.equal(probs, weights) == (name != "fcm_original")


@pytest.mark.parametrize("call, match", [
    (lambda: neural_gas_posterior(_dist(), 0.0), "lam"),
    (lambda: neural_gas_posterior(_dist(), -1.0), "lam"),
    (lambda: fuzzy_cmeans_posterior(_dist(), 1.0), "m"),
    (lambda: fuzzy_cmeans_posterior(_dist(), 0.5), "m"),
    (lambda: fuzzy_cmeans_posterior(-_dist() - 1, 2.0), "dist"),
    (lambda: distance_ranks(torch.ones(3)), "dist"),
    (lambda: gibbs_posterior(torch.rand(3, 2), 0.0), "temperature must be > 0"),
    (lambda: neural_gas_lambda(0, 1.0, 0.0, 10), "lam_final"),
    (lambda: neural_gas_lambda(0, 1.0, 0.1, 0), "t_max"),
    (lambda: neural_gas_lambda(-1, 1.0, 0.1, 10), "step"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _gaussian_log_density(z, mu, var):
    d = z.shape[-1]
    return -0.5 * ((z - mu) ** 2).sum(-1) / var - 0.5 * d * torch.log(2 * torch.pi * var)


def test_posterior_is_bayes_rule_with_eq5_components():
    z, w = torch.randn(7, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    log_var = torch.randn(7, 5, dtype=torch.float64)
    var = log_var.exp()
    # eq. 7 written out: prior 1/K times eq. 5, divided by the marginal eq. 4
    joint = torch.exp(_gaussian_log_density(z[:, None], w[None], var)) / 5
    expected = joint / joint.sum(1, keepdim=True)
    probs = soft_vq_posterior(z, w, log_var)
    assert torch.allclose(probs, expected, atol=1e-10)
    assert torch.allclose(probs.sum(1), torch.ones(7, dtype=torch.float64))


def test_code_normalization_differs_only_with_unequal_variances():
    z, w = torch.randn(6, 4), torch.randn(3, 4)
    same = torch.full((6, 3), -0.5)
    assert torch.allclose(soft_vq_posterior(z, w, same), soft_vq_posterior(z, w, same, "code"), atol=1e-6)
    diff = torch.tensor([-1.0, 0.0, 1.0]).expand(6, 3)
    assert not torch.allclose(soft_vq_posterior(z, w, diff), soft_vq_posterior(z, w, diff, "code"), atol=1e-3)


@pytest.mark.parametrize("log_var", [-1e6, -30.0, 0.0, 30.0, 1e6])
def test_posterior_is_finite_for_extreme_variances(log_var):
    probs = soft_vq_posterior(100 * torch.randn(20, 2), torch.randn(4, 2), torch.full((4,), log_var))
    assert torch.isfinite(probs).all()
    assert torch.allclose(probs.sum(1), torch.ones(20), atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_gibbs_posterior_minimises_vib_objective(seed):
    """p(z|i) ∝ r(z) exp(-d/tau) minimises E_p[d] + tau KL(p(Z|I) || r): the temperature is the IB trade-off w_IB."""
    gen = torch.Generator().manual_seed(seed)
    d = torch.rand(30, 6, generator=gen, dtype=torch.float64) * 3
    r = torch.rand(6, generator=gen, dtype=torch.float64) ** 3
    r = r / r.sum()
    tau = 0.2 + seed * 0.3

    def objective(p):
        return L.vib_loss((p * d).sum(1).mean(), p, tau, r)

    best = gibbs_posterior(d, tau, r).exp()
    assert torch.allclose(best.sum(1), torch.ones(30, dtype=torch.float64))
    for _ in range(20):
        other = (best.log() + 0.3 * torch.randn(best.shape, generator=gen, dtype=torch.float64)).softmax(1)
        assert objective(other) > objective(best)
    # closed form: the minimum equals -tau E_i log sum_z r(z) exp(-d/tau)
    closed = -tau * torch.logsumexp(torch.log(r) - d / tau, 1).mean()
    assert torch.isclose(objective(best), closed, atol=1e-12)


def test_gibbs_posterior_limits_and_extremes():
    gen = torch.Generator().manual_seed(0)
    d = torch.rand(25, 7, generator=gen) * 10
    hard = gibbs_posterior(d, 1e-6).exp()
    assert torch.equal(hard.argmax(1), d.argmin(1)) and torch.allclose(hard.max(1).values, torch.ones(25))
    flat = gibbs_posterior(d, 1e8).exp()
    assert torch.allclose(flat, torch.full_like(flat, 1 / 7), atol=1e-6)
    for tau in (1e-45, 1e-30, 1e30):
        lp = gibbs_posterior(d * 1e6, tau)
        assert not torch.isnan(lp).any() and torch.allclose(lp.exp().sum(1), torch.ones(25))
    r = torch.tensor([0.0, 0.5, 0.5, 0, 0, 0, 0])  # codes with r(z) = 0 get no mass, even at tiny tau
    for tau in (1e-40, 1.0):
        p = gibbs_posterior(d, tau, r).exp()
        assert (p[:, [0, 3, 4, 5, 6]] == 0).all() and torch.allclose(p.sum(1), torch.ones(25))


def test_squared_distances_matches_cdist():
    z, w = torch.randn(20, 5), torch.randn(7, 5)
    assert torch.allclose(squared_distances(z, w), torch.cdist(z, w) ** 2, atol=1e-5)
    assert (squared_distances(w, w) >= 0).all()
