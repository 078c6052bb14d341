"""Posteriors of the neural-gas / fuzzy c-means thesis (eqs. 4.3-4.7, 5.4-5.6) and PosteriorQuantizer."""
import warnings

import pytest
import torch

from vqlab.quantizers import (POSTERIORS, PosteriorQuantizer, VectorQuantizer, distance_ranks,
                              fuzzy_cmeans_posterior, fuzzy_cmeans_weights, hard_posterior,
                              neural_gas_lambda, neural_gas_posterior, posterior_weights,
                              squared_distances)


def _dist(n=30, k=7, d=3):
    return squared_distances(torch.randn(n, d), torch.randn(k, d))


def _quantizer(posterior, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PosteriorQuantizer(8, 3, posterior=posterior, **kw)


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
    # a point on a prototype inside the quantizer
    q = _quantizer("fcm")
    out = q(q.codebook.detach()[:3].clone())
    assert torch.isfinite(out.probs).all() and all(torch.isfinite(v) for v in out.losses.values())


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


def test_quantizer_follows_the_schedule_in_training_only():
    q = PosteriorQuantizer(8, 3, posterior="neural_gas", lam=4.0, lam_final=0.5, lam_steps=3)
    z = torch.randn(20, 3)
    seen = []
    for _ in range(5):
        seen.append(q.current_lambda)
        q(z)
    assert seen == pytest.approx([4.0, 4.0 * 0.125 ** (1 / 3), 4.0 * 0.125 ** (2 / 3), 0.5, 0.5])
    q.eval()
    q(z)
    assert int(q.step) == 5
    assert PosteriorQuantizer(8, 3, lam=2.0).current_lambda == 2.0


@pytest.mark.parametrize("posterior", POSTERIORS)
def test_sg_placement_each_term_reaches_only_its_side(posterior):
    q = _quantizer(posterior, beta=0.4, eta=0.7)
    z = torch.randn(25, 3, requires_grad=True)
    out = q(z)
    g_z, g_w = torch.autograd.grad(out.losses["commitment"], (z, q.codebook), allow_unused=True)
    assert g_w is None and g_z.abs().sum() > 0
    g_z, g_w = torch.autograd.grad(out.losses["codebook"], (z, q.codebook), allow_unused=True)
    assert g_z is None and g_w.abs().sum() > 0


@pytest.mark.parametrize("posterior", POSTERIORS)
def test_straight_through_hard_codeword_is_the_decoder_input(posterior):
    q = _quantizer(posterior)
    z = torch.randn(12, 3, requires_grad=True)
    out = q(z)
    nearest = torch.cdist(z.detach(), q.codebook.detach()).argmin(1)
    assert torch.allclose(out.z_q, q.codebook[nearest], atol=1e-6)
    assert torch.equal(out.indices, nearest)
    up = torch.randn_like(out.z_q)
    assert torch.equal(torch.autograd.grad((out.z_q * up).sum(), z)[0], up)


def test_hard_posterior_loss_equals_vector_quantizer():
    vq = VectorQuantizer(8, 3, beta=0.3)
    pq = PosteriorQuantizer(8, 3, posterior="hard", beta=0.3, eta=1.0)
    pq.load_state_dict(vq.state_dict(), strict=False)
    z = torch.randn(40, 3, requires_grad=True)
    a, b = vq(z), pq(z)
    assert torch.equal(a.indices, b.indices) and torch.equal(a.probs, b.probs)
    for k in ("codebook", "commitment"):
        assert torch.isclose(a.losses[k], b.losses[k], rtol=1e-6)
    ga = torch.autograd.grad(sum(a.losses.values()) + a.z_q.pow(2).sum(), (z, vq.codebook))
    gb = torch.autograd.grad(sum(b.losses.values()) + b.z_q.pow(2).sum(), (z, pq.codebook))
    for x, y in zip(ga, gb):
        assert torch.allclose(x, y, atol=1e-6)


def test_soft_loss_is_expected_distortion_eq_5_4():
    q = PosteriorQuantizer(8, 3, posterior="neural_gas", lam=1.5, beta=0.2, eta=0.9)
    z = torch.randn(16, 3)
    out = q(z)
    d = ((z.unsqueeze(1) - q.codebook.detach().unsqueeze(0)) ** 2).sum(2)
    expected = (out.probs * d).sum(1).mean() / 3
    assert torch.isclose(out.losses["commitment"], 0.2 * expected, rtol=1e-5)
    assert torch.isclose(out.losses["codebook"], 0.9 * expected, rtol=1e-5)


def test_fcm_original_uses_unnormalised_weights_and_warns():
    with pytest.warns(UserWarning, match="eq. 5.6"):
        q = PosteriorQuantizer(8, 3, posterior="fcm_original", m=2.0, beta=1.0)
    z = torch.randn(16, 3)
    out = q(z)
    d = squared_distances(z, q.codebook.detach())
    u = fuzzy_cmeans_posterior(d, 2.0)
    assert torch.allclose(out.probs, u)
    mass = (u ** 2).sum(1)
    assert (mass < 1).all() and (mass >= 8 ** -1.0 - 1e-6).all()  # sum_z w^m lies in [K^(1-m), 1]
    assert torch.isclose(out.losses["commitment"], ((u ** 2) * d).sum(1).mean() / 3, rtol=1e-5)


def test_posterior_weights_dispatch():
    d = _dist()
    for name in POSTERIORS:
        probs, weights = posterior_weights(d, name, lam=1.0, m=2.0)
        assert torch.allclose(probs.sum(1), torch.ones(30), atol=1e-6)
        assert torch.equal(probs, weights) == (name != "fcm_original")


def test_ema_mode_drops_codebook_loss():
    q = PosteriorQuantizer(8, 3, posterior="neural_gas", codebook_update="ema")
    out = q(torch.randn(20, 3))
    assert set(out.losses) == {"commitment"}


def test_shapes_through_the_common_interface():
    q = PosteriorQuantizer(16, 4, posterior="fcm_normalized", m=1.5)
    out = q(torch.randn(2, 5, 4))
    assert out.z_q.shape == (2, 5, 4) and out.probs.shape == (2, 5, 16) and out.indices.shape == (2, 5)
    assert out.counts.sum() == 10 and 1.0 <= out.perplexity.item() <= 16.0


@pytest.mark.parametrize("call, match", [
    (lambda: neural_gas_posterior(_dist(), 0.0), "lam"),
    (lambda: neural_gas_posterior(_dist(), -1.0), "lam"),
    (lambda: fuzzy_cmeans_posterior(_dist(), 1.0), "m"),
    (lambda: fuzzy_cmeans_posterior(_dist(), 0.5), "m"),
    (lambda: fuzzy_cmeans_posterior(-_dist() - 1, 2.0), "dist"),
    (lambda: distance_ranks(torch.ones(3)), "dist"),
    (lambda: PosteriorQuantizer(0, 3), "num_codes"),
    (lambda: PosteriorQuantizer(8, 3, lam=0.0), "lam"),
    (lambda: PosteriorQuantizer(8, 3, m=1.0), "m"),
    (lambda: PosteriorQuantizer(8, 3, posterior="som"), "posterior"),
    (lambda: PosteriorQuantizer(8, 3, eta=-1.0), "eta"),
    (lambda: PosteriorQuantizer(8, 3, lam_final=0.1), "lam_steps"),
    (lambda: PosteriorQuantizer(8, 3, lam_final=0.0, lam_steps=10), "lam_final"),
    (lambda: neural_gas_lambda(0, 1.0, 0.0, 10), "lam_final"),
    (lambda: neural_gas_lambda(0, 1.0, 0.1, 0), "t_max"),
    (lambda: neural_gas_lambda(-1, 1.0, 0.1, 10), "step"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_training_a_small_vqvae_with_each_posterior_stays_finite():
    from vqlab.models import VQVAE
    from vqlab.nets import MLPDecoder, MLPEncoder
    from vqlab.train import train

    x = torch.rand(4, 16)[torch.arange(64) % 4] + 0.02 * torch.randn(64, 16)  # four noisy patterns
    for posterior in ("neural_gas", "fcm", "fcm_normalized"):
        model = VQVAE(MLPEncoder(16, (2, 3), hidden=(16,)), _quantizer(posterior),
                      MLPDecoder((2, 3), 16, hidden=(16,)))
        h = train(model, x, epochs=5, batch_size=16, lr=1e-2, seed=0, progress=False)
        assert all(torch.isfinite(torch.tensor(h.steps["loss"])))
        assert h.epochs["recon"][-1] < 0.9 * h.epochs["recon"][0]
