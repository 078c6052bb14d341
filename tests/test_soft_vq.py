"""Soft VQ (Wu & Flierl 2020): posterior, estimator, noise, hard-VQ limit, gradients, models."""
import pytest
import torch

from vqlab.models import VAE, SoftVQVAE, VQVAE
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.posteriors import soft_vq_posterior, squared_distances
from vqlab.quantizers import SoftVectorQuantizer, VectorQuantizer


def test_estimator_is_a_convex_combination_of_codewords():
    q = SoftVectorQuantizer(6, 2, noise_std=0.0, init_log_var=0.5).eval()
    out = q(torch.randn(40, 2) * 3)
    assert (out.probs >= 0).all() and torch.allclose(out.probs.sum(-1), torch.ones(40), atol=1e-6)
    assert torch.allclose(out.z_q, out.probs @ q.codebook, atol=1e-6)  # eq. 6
    # inside the bounding box of the codebook (a necessary condition for the convex hull)
    lo, hi = q.codebook.min(0).values, q.codebook.max(0).values
    assert ((out.z_q >= lo - 1e-6) & (out.z_q <= hi + 1e-6)).all()


def test_hard_vq_limit():
    """sigma_k -> 0 (equal for all k) and sigma_eps = 0: the estimator is the nearest codeword."""
    torch.manual_seed(1)
    z = torch.randn(200, 4)
    soft = SoftVectorQuantizer(16, 4, noise_std=0.0, init_log_var=-25.0).train()
    hard = VectorQuantizer(16, 4).train()
    hard.weight.data.copy_(soft.weight.data)
    s, h = soft(z), hard(z)
    assert torch.equal(s.indices, h.indices)
    assert torch.allclose(s.probs, h.probs, atol=1e-6)
    assert torch.allclose(s.z_q, h.z_q, atol=1e-5)
    for name in ("codebook", "commitment"):
        assert torch.allclose(s.losses[name], h.losses[name], rtol=1e-4)
    # and it is a limit: the distance to hard VQ shrinks as sigma does
    gaps = []
    for lv in (0.0, -2.0, -4.0):
        soft.log_var.data.fill_(lv)
        gaps.append((soft(z).z_q - h.z_q).abs().max().item())
    assert gaps[0] > gaps[1] > gaps[2]


def test_noise_only_in_training_mode():
    q = SoftVectorQuantizer(8, 3, noise_std=0.5)
    z = torch.randn(10, 3)
    q.eval()
    a, b = q(z), q(z)
    assert torch.equal(a.z_q, b.z_q)
    q.train()
    c, d = q(z), q(z)
    assert not torch.equal(c.z_q, d.z_q)
    # no noise when noise_std = 0, even in training mode
    q0 = SoftVectorQuantizer(8, 3, noise_std=0.0).train()
    assert torch.equal(q0(z).z_q, q0(z).z_q)


def test_noise_is_added_with_the_requested_std():
    q = SoftVectorQuantizer(4, 2, noise_std=0.3).train()
    z = torch.zeros(20000, 2)
    assert abs((q.add_noise(z) - z).std().item() - 0.3) < 0.01
    assert torch.equal(q.eval().add_noise(z), z)


def test_same_seed_same_noise():
    z = torch.randn(10, 3)
    a = SoftVectorQuantizer(8, 3, noise_std=0.5, seed=3).train()(z).z_q
    b = SoftVectorQuantizer(8, 3, noise_std=0.5, seed=3).train()(z).z_q
    assert torch.equal(a, b)


def test_gradients_reach_encoder_codebook_and_variance_head():
    torch.manual_seed(0)
    model = SoftVQVAE(MLPEncoder(64, 4 + 8, (16,)), SoftVectorQuantizer(8, 4, init="kmeans++"),
                      MLPDecoder(4, 64, (16,)))
    model.train()
    x = torch.rand(32, 64)
    out = model(x)
    assert set(out.losses) == {"recon", "codebook", "commitment"}
    sum(out.losses.values()).backward()
    head = model.encoder.net[-1]
    d = 4
    assert head.weight.grad[:d].abs().sum() > 0, "z_e head gets no gradient"
    assert head.weight.grad[d:].abs().sum() > 0, "variance head gets no gradient"
    assert model.quantizer.codebook.grad.abs().sum() > 0
    assert model.quantizer.log_var.grad.abs().sum() > 0
    assert model.decoder.net[0].weight.grad.abs().sum() > 0


def test_codebook_term_trains_codebook_and_variances_commitment_trains_encoder():
    q = SoftVectorQuantizer(8, 3, noise_std=0.0)
    z = torch.randn(10, 3, requires_grad=True)
    lv = torch.randn(10, 8, requires_grad=True)
    out = q(z, log_var=lv)
    gz, gw, glv = torch.autograd.grad(out.losses["codebook"], (z, q.codebook, lv), allow_unused=True)
    assert gw.abs().sum() > 0 and glv.abs().sum() > 0
    # eq. 27 read literally (and the authors' code): sg() stops z'_e itself, but z_hat_q still depends on
    # z'_e through the posterior weights, so this term also reaches the encoder
    assert gz.abs().sum() > 0
    gz, gw, glv = torch.autograd.grad(out.losses["commitment"], (z, q.codebook, lv), allow_unused=True)
    assert gw is None and glv is None and gz.abs().sum() > 0


def test_straight_through_switch():
    z = torch.randn(10, 3, requires_grad=True)
    q = SoftVectorQuantizer(8, 3, noise_std=0.0)
    up = torch.randn(10, 3)
    (q(z).z_q * up).sum().backward()
    assert torch.allclose(z.grad, up)  # paper, text after eq. 27: gradient copied to z_e
    z.grad = None
    q_soft = SoftVectorQuantizer(8, 3, noise_std=0.0, straight_through=False)
    out = q_soft(z)
    (out.z_q * up).sum().backward()
    assert not torch.allclose(z.grad, up)  # gradient through the posterior mean instead
    assert q_soft.codebook.grad.abs().sum() > 0


def test_loss_values_are_eq_27():
    q = SoftVectorQuantizer(8, 3, beta=0.7, noise_std=0.0).eval()
    z = torch.randn(12, 3)
    out = q(z)
    z_hat = out.probs @ q.codebook
    assert torch.allclose(out.losses["codebook"], ((z - z_hat) ** 2).mean())
    assert torch.allclose(out.losses["commitment"], 0.7 * ((z - z_hat) ** 2).mean())


def test_forward_with_and_without_head_shapes():
    q = SoftVectorQuantizer(5, 3)
    out = q(torch.randn(2, 4, 3), log_var=torch.zeros(2, 4, 5))
    assert out.z_q.shape == (2, 4, 3) and out.probs.shape == (2, 4, 5) and out.indices.shape == (2, 4)
    out = q(torch.randn(2, 4, 3))
    assert out.z_q.shape == (2, 4, 3)
    # works inside the plain VQVAE too (per-code variances only)
    model = VQVAE(MLPEncoder(64, 3), SoftVectorQuantizer(5, 3), MLPDecoder(3, 64))
    assert model(torch.rand(6, 64)).x_hat.shape == (6, 64)


def test_head_adds_to_per_code_offset():
    q = SoftVectorQuantizer(4, 2, noise_std=0.0, init_log_var=-1.0).eval()
    z, lv = torch.randn(5, 2), torch.randn(5, 4)
    expected = soft_vq_posterior(z, q.codebook, lv - 1.0)
    assert torch.allclose(q(z, log_var=lv).probs, expected)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="noise_std"):
        SoftVectorQuantizer(4, 2, noise_std=-1.0)
    with pytest.raises(ValueError, match="normalization"):
        SoftVectorQuantizer(4, 2, normalization="tf")
    with pytest.raises(ValueError, match="codebook_update"):
        SoftVectorQuantizer(4, 2, codebook_update="ema")
    with pytest.raises(TypeError, match="straight_through"):
        SoftVectorQuantizer(4, 2, straight_through="yes")
    q = SoftVectorQuantizer(4, 2)
    with pytest.raises(ValueError, match="log_var"):
        q(torch.randn(3, 2), log_var=torch.zeros(3, 5))
    with pytest.raises(ValueError, match="log_var"):
        q(torch.randn(3, 2), log_var=torch.zeros(4, 4))
    with pytest.raises(ValueError, match="z_e"):
        q(torch.randn(3, 3), log_var=torch.zeros(3, 4))
    with pytest.raises(ValueError, match="normalization"):
        soft_vq_posterior(torch.randn(2, 2), torch.randn(3, 2), 0.0, "other")
    model = SoftVQVAE(MLPEncoder(64, 4), SoftVectorQuantizer(8, 4), MLPDecoder(4, 64))
    with pytest.raises(ValueError, match=r"encoder must output \[\.\.\., 4 \+ 8\]"):
        model(torch.rand(2, 64))


def test_soft_vqvae_encode_returns_z_e_only():
    model = SoftVQVAE(MLPEncoder(64, 3 + 5), SoftVectorQuantizer(5, 3), MLPDecoder(3, 64))
    x = torch.rand(4, 64)
    assert model.encode(x).shape == (4, 3) and model.encode_log_var(x).shape == (4, 5)
    assert torch.allclose(model.encode(x), model.encoder(x)[:, :3])


def test_vae_kl_and_modes():
    torch.manual_seed(0)
    vae = VAE(MLPEncoder(64, 2 * 3), MLPDecoder(3, 64), latent_dim=3, kl_weight=2.0)
    x = torch.rand(8, 64)
    mu, log_var = vae.encode_stats(x)
    kl = 0.5 * (mu ** 2 + log_var.exp() - log_var - 1).sum(1).mean()
    out = vae.eval()(x)
    assert set(out.losses) == {"recon", "kl"}
    assert torch.allclose(out.losses["kl"], 2.0 * kl / 64)
    assert torch.equal(vae(x).x_hat, vae(x).x_hat)  # eval decodes the mean
    vae.train()
    assert not torch.equal(vae(x).x_hat, vae(x).x_hat)  # training samples z
    assert torch.equal(vae.encode(x), mu)
    with pytest.raises(ValueError, match="kl_weight"):
        VAE(MLPEncoder(64, 6), MLPDecoder(3, 64), 3, kl_weight=-1.0)
    with pytest.raises(ValueError, match="encoder must output"):
        VAE(MLPEncoder(64, 5), MLPDecoder(3, 64), 3)(x)


def test_kl_is_zero_at_the_prior():
    enc = MLPEncoder(64, 4, (8,))
    for p in enc.parameters():
        torch.nn.init.zeros_(p)
    vae = VAE(enc, MLPDecoder(2, 64), 2).eval()
    assert vae(torch.rand(3, 64)).losses["kl"].abs().item() < 1e-7


def test_squared_distances_still_used_for_hard_assignment():
    q = SoftVectorQuantizer(8, 3, noise_std=0.0).eval()
    z = torch.randn(30, 3)
    # with equal variances the most probable code is the nearest one
    assert torch.equal(q(z).indices, squared_distances(z, q.codebook).argmin(1))
