"""PosteriorQuantizer: the neural-gas / fuzzy c-means posteriors inside a VQ-VAE quantizer (thesis eq. 5.4)."""
import warnings

import pytest
import torch

from vqlab.models import VQVAE
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.posteriors import POSTERIORS, fuzzy_cmeans_posterior, squared_distances
from vqlab.quantizers import PosteriorQuantizer, VectorQuantizer
from vqlab.train import train


def _quantizer(posterior, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PosteriorQuantizer(8, 3, posterior=posterior, **kw)


def test_zero_distance_gives_no_nan():
    # a point on a prototype inside the quantizer (the posterior itself: tests/test_posteriors.py)
    q = _quantizer("fcm")
    out = q(q.codebook.detach()[:3].clone())
    assert torch.isfinite(out.probs).all() and all(torch.isfinite(v) for v in out.losses.values())


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


def test_ema_mode_drops_codebook_loss():
    q = PosteriorQuantizer(8, 3, posterior="neural_gas", codebook_update="ema")
    out = q(torch.randn(20, 3))
    assert set(out.losses) == {"commitment"}


def test_shapes_through_the_common_interface():
    q = PosteriorQuantizer(16, 4, posterior="fcm_normalized", m=1.5)
    out = q(torch.randn(2, 5, 4))
    assert out.z_q.shape == (2, 5, 4) and out.probs.shape == (2, 5, 16) and out.indices.shape == (2, 5)
    assert out.counts.sum() == 10 and 1.0 <= out.perplexity.item() <= 16.0


def test_training_a_small_vqvae_with_each_posterior_stays_finite():
    x = torch.rand(4, 16)[torch.arange(64) % 4] + 0.02 * torch.randn(64, 16)  # four noisy patterns
    for posterior in ("neural_gas", "fcm", "fcm_normalized"):
        model = VQVAE(MLPEncoder(16, (2, 3), hidden=(16,)), _quantizer(posterior),
                      MLPDecoder((2, 3), 16, hidden=(16,)))
        h = train(model, x, epochs=5, batch_size=16, lr=1e-2, seed=0, progress=False)
        assert all(torch.isfinite(torch.tensor(h.steps["loss"])))
        assert h.epochs["recon"][-1] < 0.9 * h.epochs["recon"][0]


@pytest.mark.parametrize("call, match", [
    (lambda: PosteriorQuantizer(0, 3), "num_codes"),
    (lambda: PosteriorQuantizer(8, 3, lam=0.0), "lam"),
    (lambda: PosteriorQuantizer(8, 3, m=1.0), "m"),
    (lambda: PosteriorQuantizer(8, 3, posterior="som"), "posterior"),
    (lambda: PosteriorQuantizer(8, 3, eta=-1.0), "eta"),
    (lambda: PosteriorQuantizer(8, 3, lam_final=0.1), "lam_steps"),
    (lambda: PosteriorQuantizer(8, 3, lam_final=0.0, lam_steps=10), "lam_final"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
