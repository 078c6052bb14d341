"""Gradient estimators through a hard assignment (notebook 09) and the quantizer that uses them."""
import pytest
import torch
import torch.nn.functional as F

from vqlab.posteriors import gibbs_posterior, squared_distances
from vqlab.quantizers import (ESTIMATORS, EstimatorQuantizer, diveq, gumbel_softmax, posterior_mean, rotation_trick,
                              softmax_straight_through, straight_through)

G = torch.Generator().manual_seed(0)
Z = torch.randn(40, 3, generator=G, dtype=torch.float64)
W = torch.randn(6, 3, generator=G, dtype=torch.float64)
UP = torch.randn(40, 3, generator=G, dtype=torch.float64)             # an upstream gradient dL/dz_q


def _grads(fn):
    z, w = Z.clone().requires_grad_(), W.clone().requires_grad_()
    out = fn(z, w)
    gz, gw = torch.autograd.grad((out * UP).sum(), [z, w], allow_unused=True)
    return out.detach(), gz, gw


def _nearest(z, w):
    return w[squared_distances(z.detach(), w.detach()).argmin(1)]


def test_straight_through_copies_the_gradient():
    value, gz, gw = _grads(lambda z, w: straight_through(z, _nearest(z, w)))
    assert torch.allclose(value, _nearest(Z, W)) and torch.equal(gz, UP) and gw is None


def test_posterior_mean_is_differentiable_everywhere():
    value, gz, gw = _grads(lambda z, w: posterior_mean(gibbs_posterior(squared_distances(z, w), 0.7).exp(), w))
    q = gibbs_posterior(squared_distances(Z, W), 0.7).exp()
    assert torch.allclose(value, q @ W)
    assert (gw.norm(dim=1) > 0).all() and not torch.allclose(gz, UP)


def test_softmax_straight_through_has_the_hard_value_and_the_soft_gradient():
    probs = lambda z, w: gibbs_posterior(squared_distances(z, w), 0.7).exp()   # noqa: E731
    value, gz, gw = _grads(lambda z, w: softmax_straight_through(probs(z, w), w))
    _, mz, mw = _grads(lambda z, w: posterior_mean(probs(z, w), w))
    assert torch.allclose(value, _nearest(Z, W))
    q = probs(Z, W)
    hard = F.one_hot(q.argmax(1), 6).double()
    assert torch.allclose(gz, mz) and torch.allclose(gw, mw + (hard - q).t() @ UP)


def test_gumbel_samples_follow_the_softmax_and_hard_samples_are_one_hot():
    logits = torch.tensor([[0.0, 1.0, -1.0, 2.0]]).repeat(20000, 1)
    y, index = gumbel_softmax(logits, hard=False, generator=torch.Generator().manual_seed(1))
    freq = torch.bincount(index, minlength=4).float() / 20000
    assert torch.allclose(freq, torch.softmax(logits[0], 0), atol=0.01)   # -log U (exponential) noise fails this
    assert torch.allclose(y.sum(1), torch.ones(20000)) and torch.equal(y.argmax(1), index)
    logits = logits[:5].clone().requires_grad_()
    hard, index = gumbel_softmax(logits, hard=True, generator=torch.Generator().manual_seed(2))
    assert torch.equal(hard.detach(), F.one_hot(index, 4).float())
    soft, _ = gumbel_softmax(logits, hard=False, generator=torch.Generator().manual_seed(2))
    up = torch.randn(5, 4)
    (g_hard,) = torch.autograd.grad((hard * up).sum(), logits)
    (g_soft,) = torch.autograd.grad((soft * up).sum(), logits)
    assert torch.allclose(g_hard, g_soft)                                # straight-through: the relaxed gradient


def test_diveq_moves_along_the_error_and_projects_it_out_of_the_gradient():
    value, gz, gw = _grads(lambda z, w: diveq(z, _nearest_with_grad(z, w), direction_noise=0.0))
    error = _nearest(Z, W) - Z
    r = error / error.norm(dim=1, keepdim=True)
    assert torch.allclose(value, _nearest(Z, W))                          # no noise: exactly the codeword
    assert torch.allclose(gz, UP - r * (r * UP).sum(1, keepdim=True))     # (I - r r^T) g
    idx = squared_distances(Z, W).argmin(1)
    expected_w = torch.zeros_like(W).index_add_(0, idx, r * (r * UP).sum(1, keepdim=True))
    assert torch.allclose(gw, expected_w)                                 # the codeword gets the component along r
    noisy = diveq(Z, _nearest(Z, W), direction_noise=1e-3, generator=torch.Generator().manual_seed(0))
    assert 0 < (noisy - _nearest(Z, W)).abs().max() < 1e-2


def _nearest_with_grad(z, w):
    return w[squared_distances(z.detach(), w.detach()).argmin(1)]


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimator_quantizer_shares_codes_and_losses(estimator):
    q = EstimatorQuantizer(8, 3, estimator=estimator, temperature=0.5, seed=0)
    base = EstimatorQuantizer(8, 3, seed=0)
    with torch.no_grad():
        w = torch.randn(8, 3, generator=torch.Generator().manual_seed(4))
        q.weight.copy_(w)
        base.weight.copy_(w)
    z = torch.randn(30, 3, requires_grad=True)
    out, ref = q(z), base(z)
    assert torch.equal(out.indices, ref.indices) and out.losses.keys() == ref.losses.keys()
    assert all(torch.allclose(out.losses[k], ref.losses[k]) for k in ref.losses)
    assert torch.allclose(out.probs, gibbs_posterior(squared_distances(z, w), 0.5).exp(), atol=1e-6)
    chosen = w[out.indices]
    if estimator == "posterior_mean":
        assert torch.allclose(out.z_q, out.probs @ w, atol=1e-6)
    elif estimator == "gumbel":                                           # a sampled codeword, not always k*
        assert all(bool((torch.cdist(v[None], w) < 1e-6).any()) for v in out.z_q.detach())
    else:
        assert torch.allclose(out.z_q, chosen, atol=1e-2 if estimator == "diveq" else 1e-6)
    g = torch.randn(30, 3)
    (grad,) = torch.autograd.grad((q(z).z_q * g).sum(), z)
    if estimator == "straight_through":
        assert torch.equal(grad, g)
    elif estimator == "rotation_trick":
        (expected,) = torch.autograd.grad((rotation_trick(z, chosen) * g).sum(), z)
        assert torch.allclose(grad, expected)
    else:
        assert not torch.allclose(grad, g)


def test_bad_arguments():
    with pytest.raises(ValueError, match="estimator"):
        EstimatorQuantizer(4, 2, estimator="reinforce")
    with pytest.raises(ValueError, match="direction_noise"):
        diveq(Z, Z, direction_noise=-1.0)
    with pytest.raises(TypeError, match="hard"):
        gumbel_softmax(torch.zeros(2, 3), hard=1)
    with pytest.raises(ValueError, match="logits"):
        gumbel_softmax(torch.zeros(3), hard=True)
