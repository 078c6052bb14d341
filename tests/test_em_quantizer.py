"""Tests of the EM / soft-assignment quantizer (Roy et al. 2018, arXiv:1805.11063; VIB paper eq. 28; thesis §5.1.3):
the E step (eq. 28 with a temperature), the soft M step (EMA of soft-count-weighted averages, the default) and
the tau -> 0 limit (hard VQ)."""
import math

import pytest
import torch

from vqlab import losses as L
from vqlab.models import VQVAE
from vqlab.posteriors import squared_distances
from vqlab.quantizers import EMQuantizer, QuantizerOutput, VectorQuantizer

SEEDS = range(4)


def pair(k=12, d=3, tau=1e-7, seed=0, **kw):
    """An EM quantizer and a hard VQ with the same codebook."""
    em = EMQuantizer(k, d, temperature=tau, seed=seed, **kw)
    vq = VectorQuantizer(k, d, seed=seed, codebook_update=em.codebook_update)
    with torch.no_grad():
        vq.weight.copy_(em.weight)
        if em.codebook_update == "ema":
            vq.ema_sum.copy_(em.ema_sum)
    return em, vq


def test_interface_and_shapes():
    em = EMQuantizer(16, 4, temperature=0.5, num_samples=3)
    out = em(torch.randn(3, 5, 4))
    assert isinstance(out, QuantizerOutput)
    assert out.z_q.shape == (3, 5, 4) and out.indices.shape == (3, 5) and out.probs.shape == (3, 5, 16)
    assert out.counts.sum() == 15 and set(out.losses) == {"commitment"}   # the M step learns the codebook
    assert 1.0 <= out.perplexity <= 16.0
    gradient = EMQuantizer(16, 4, temperature=0.5, codebook_update="gradient")
    assert set(gradient(torch.randn(3, 5, 4)).losses) == {"codebook", "commitment"}


def test_the_default_codebook_update_is_the_m_step():
    em = EMQuantizer(4, 2)
    assert em.codebook_update == "ema" and not isinstance(em.codebook, torch.nn.Parameter)
    assert not list(em.parameters())                  # nothing for an optimizer: EM, not gradient descent


@pytest.mark.parametrize("seed", SEEDS)
def test_one_step_without_decay_is_the_soft_m_step(seed):
    """Roy et al.'s soft-EM M step: e_k = sum_n q(k|x_n) z_n / sum_n q(k|x_n), q from the E step at the old
    codebook (the soft-count-weighted average; with a one-hot q it is k-means' centroid step)."""
    g = torch.Generator().manual_seed(seed)
    em = EMQuantizer(5, 3, temperature=0.7, decay=0.0, epsilon=1e-12, seed=seed)
    with torch.no_grad():
        em.weight.copy_(torch.randn(5, 3, generator=g))
    z = torch.randn(200, 3, generator=g)
    q = em.log_posterior(z).exp()                                        # E step, old codebook
    em(z)
    assert torch.allclose(em.codebook, (q.t() @ z) / q.sum(0)[:, None], atol=1e-5)
    hard = EMQuantizer(5, 3, temperature=1e-9, decay=0.0, epsilon=1e-12)
    with torch.no_grad():
        hard.weight.copy_(em.codebook)
    idx = hard.log_posterior(z).argmax(1)
    hard(z)
    for k in idx.unique():                                              # tau -> 0: the centroid step
        assert torch.allclose(hard.codebook[k], z[idx == k].mean(0), atol=1e-5)


def _gmm_log_likelihood(z, codebook, tau):
    """Mean log-likelihood of K equally weighted isotropic Gaussians N(e_k, tau/2 I): the model whose
    posterior is eq. 28 at temperature tau."""
    d = squared_distances(z.double(), codebook.double())
    k, dim = codebook.shape
    return float((torch.logsumexp(-d / tau, 1) - math.log(k) - 0.5 * dim * math.log(math.pi * tau)).mean())


@pytest.mark.parametrize("seed", SEEDS)
def test_repeated_steps_on_one_batch_are_em_and_never_lower_the_likelihood(seed):
    g = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(3, 2, generator=g)
    z = (centres[torch.randint(3, (300,), generator=g)] + 0.5 * torch.randn(300, 2, generator=g))
    em = EMQuantizer(4, 2, temperature=0.5, decay=0.0, epsilon=1e-12, seed=seed)
    with torch.no_grad():
        em.weight.copy_(z[torch.randperm(300, generator=g)[:4]])
    lls = [_gmm_log_likelihood(z, em.codebook, 0.5)]
    assert math.isclose(float(em.log_likelihood(z)), lls[0], rel_tol=1e-5)  # the method is this formula
    for _ in range(40):
        em(z)
        lls.append(_gmm_log_likelihood(z, em.codebook, 0.5))
    assert all(b >= a - 1e-5 for a, b in zip(lls, lls[1:])), lls      # EM's monotonicity
    assert lls[-1] > lls[0] + 0.05 and abs(lls[-1] - lls[-2]) < 1e-4   # it climbed, and converged


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tau", [1e-3, 0.1, 1.0, 10.0])
def test_posterior_is_eq28_and_sums_to_one(seed, tau):
    gen = torch.Generator().manual_seed(seed)
    em = EMQuantizer(10, 4, temperature=tau, seed=seed)
    with torch.no_grad():
        em.weight.copy_(torch.randn(10, 4, generator=gen))
    z = torch.randn(40, 4, generator=gen)
    probs = em.eval()(z).probs                       # eval: no M step, the codebook stays the one compared
    assert torch.allclose(probs.sum(-1), torch.ones(40), atol=1e-6)
    d = (z.double()[:, None, :] - em.codebook.double()[None]).pow(2).sum(-1)
    ref = torch.softmax(-d / tau, 1)
    # float32 distances carry ~1e-6 absolute error, amplified by 1/tau in the exponent
    assert torch.allclose(probs.double(), ref, atol=1e-5 if tau >= 0.1 else 1e-2)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("decoder_input", ["sample", "mean"])
@pytest.mark.parametrize("codebook_update", ["gradient", "ema"])
def test_zero_temperature_limit_is_hard_vq(seed, decoder_input, codebook_update):
    em, vq = pair(seed=seed, decoder_input=decoder_input, codebook_update=codebook_update, num_samples=3)
    z = (2 * torch.randn(64, 3, generator=torch.Generator().manual_seed(seed))).requires_grad_(True)
    a, b = em(z), vq(z)
    assert torch.equal(a.indices, b.indices) and torch.equal(a.probs, b.probs)
    assert torch.allclose(a.z_q, b.z_q, atol=1e-6)
    assert set(a.losses) == set(b.losses)
    for k in a.losses:
        assert torch.isclose(a.losses[k], b.losses[k], rtol=1e-5, atol=1e-7)
    assert L.conditional_entropy(a.probs).item() == 0.0
    upstream = torch.randn(64, 3)
    ga = torch.autograd.grad((a.z_q * upstream).sum() + sum(a.losses.values()), z)[0]
    gb = torch.autograd.grad((b.z_q * upstream).sum() + sum(b.losses.values()), z)[0]
    assert torch.allclose(ga, gb, atol=1e-6)
    if codebook_update == "ema":  # the EMA M step with soft counts = hard EMA at tau -> 0
        assert torch.allclose(em.codebook, vq.codebook, atol=1e-6)


def test_conditional_entropy_grows_with_temperature_between_limits():
    gen = torch.Generator().manual_seed(0)
    em = EMQuantizer(8, 2)
    with torch.no_grad():
        em.weight.copy_(torch.randn(8, 2, generator=gen))
    z = torch.randn(100, 2, generator=gen)
    hs = []
    for tau in [1e-6, 1e-2, 0.1, 1.0, 10.0, 1e6]:
        em.temperature = tau
        hs.append(L.conditional_entropy(em.eval()(z).probs).item())
    assert hs[0] < 1e-6 and abs(hs[-1] - math.log(8)) < 1e-4
    assert all(b > a for a, b in zip(hs, hs[1:]))  # strictly increasing: H > 0 for every tau > 0


def test_sampled_decoder_input_is_average_of_m_codewords():
    em = EMQuantizer(6, 2, temperature=1.0, num_samples=1, seed=3).eval()
    z = torch.randn(50, 2)
    zq = em(z).z_q
    # m = 1: every decoder input is exactly one codeword
    gap = (zq[:, None, :] - em.codebook.detach()[None]).abs().amax(-1).min(1).values
    assert (gap < 1e-6).all()
    em2 = EMQuantizer(6, 2, temperature=1.0, num_samples=4000, seed=3).eval()
    with torch.no_grad():
        em2.weight.copy_(em.weight)
    z = torch.randn(5, 2)
    out = em2(z)
    mean = out.probs @ em2.codebook
    var = out.probs @ em2.codebook.pow(2) - mean.pow(2)
    se = (var.clamp_min(1e-12) / 4000).sqrt()
    assert ((out.z_q - mean).abs() < 6 * se + 1e-6).all()  # Monte-Carlo average of m draws


def test_mean_decoder_input_is_posterior_mean():
    em = EMQuantizer(6, 2, temperature=0.7, decoder_input="mean").eval()
    z = torch.randn(20, 2)
    out = em(z)
    assert torch.allclose(out.z_q, out.probs @ em.codebook, atol=1e-6)


def test_sampling_uses_own_generator_deterministically():
    z = torch.randn(30, 3)
    outs = [EMQuantizer(8, 3, temperature=2.0, seed=s)(z).z_q for s in (5, 5, 6)]
    torch.manual_seed(123)  # global RNG must not matter
    again = EMQuantizer(8, 3, temperature=2.0, seed=5)(z).z_q
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], again)
    assert not torch.equal(outs[0], outs[2])


@pytest.mark.parametrize("decoder_input", ["sample", "mean"])
def test_gradients_reach_encoder_and_codebook_in_gradient_mode(decoder_input):
    em = EMQuantizer(8, 3, temperature=0.5, decoder_input=decoder_input, codebook_update="gradient")
    z = torch.randn(20, 3, requires_grad=True)
    out = em(z)
    upstream = torch.randn_like(out.z_q)
    (out.z_q * upstream).sum().backward(retain_graph=True)
    assert torch.equal(z.grad, upstream)  # straight-through: the decoder gradient is copied unchanged
    z.grad = None
    sum(out.losses.values()).backward()
    assert z.grad.abs().sum() > 0 and em.codebook.grad.abs().sum() > 0
    g_z, g_w = torch.autograd.grad(em(z).losses["codebook"], (z, em.codebook), allow_unused=True)
    assert g_z is None and g_w.abs().sum() > 0


def test_ema_mode_soft_counts_m_step():
    em = EMQuantizer(4, 2, temperature=0.5, codebook_update="ema", decay=0.9)
    assert not isinstance(em.codebook, torch.nn.Parameter)
    size0, sum0 = em.ema_size.clone(), em.ema_sum.clone()
    z = torch.randn(30, 2)
    out = em(z)
    assert set(out.losses) == {"commitment"}
    q = out.probs.detach()
    size, sums = 0.9 * size0 + 0.1 * q.sum(0), 0.9 * sum0 + 0.1 * q.t() @ z
    total = size.sum()
    assert torch.allclose(em.codebook, sums / ((size + 1e-5) / (total + 4e-5) * total)[:, None], atol=1e-6)


@pytest.mark.parametrize("codebook_update", ["ema", "gradient"])
@pytest.mark.parametrize("tau", [1e-40, 1e-20, 1e30])
def test_extreme_temperatures_give_no_nan(tau, codebook_update):
    em = EMQuantizer(8, 3, temperature=tau, num_samples=2, codebook_update=codebook_update)
    z = (1e3 * torch.randn(40, 3)).requires_grad_(True)
    out = em(z)
    assert torch.isfinite(out.probs).all() and torch.isfinite(out.z_q).all()
    assert torch.allclose(out.probs.sum(-1), torch.ones(40), atol=1e-6)
    assert torch.isfinite(em.codebook).all()
    (out.z_q.sum() + sum(out.losses.values())).backward()
    assert torch.isfinite(z.grad).all()
    if codebook_update == "gradient":
        assert torch.isfinite(em.codebook.grad).all()


def test_trains_inside_vqvae_and_reconstruction_improves():
    from vqlab.data import load_digits
    from vqlab.nets import MLPDecoder, MLPEncoder
    from vqlab.train import evaluate, train

    x = load_digits().x_train[:400]
    torch.manual_seed(0)
    model = VQVAE(MLPEncoder(64, (2, 4), (64,)), EMQuantizer(16, 4, temperature=0.05, init="kmeans++"),
                  MLPDecoder((2, 4), 64, (64,)))
    hist = train(model, x, epochs=6, batch_size=50, lr=3e-3, seed=0, progress=False)
    assert hist.epochs["recon"][-1] < 0.8 * hist.epochs["recon"][0]
    ev = evaluate(model, x)
    assert math.isfinite(ev["recon"]) and ev["codes_used"] > 1


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": 0.0}, "temperature must be > 0"),
    ({"temperature": -1.0}, "temperature must be > 0"),
    ({"temperature": float("nan")}, "temperature"),
    ({"num_samples": 0}, "num_samples"),
    ({"num_samples": 1.5}, "num_samples"),
    ({"decoder_input": "argmax"}, "decoder_input"),
    ({"codebook_update": "adam"}, "codebook_update"),
])
def test_constructor_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EMQuantizer(4, 2, **kwargs)


def test_temperature_setter_validates():
    em = EMQuantizer(4, 2)
    with pytest.raises(ValueError, match="temperature"):
        em.temperature = 0
    em.temperature = 0.3
    assert em.temperature == 0.3 and "temperature=0.3" in repr(em)


def test_posterior_matches_squared_distances_helper():
    em = EMQuantizer(5, 3, temperature=0.4)
    z = torch.randn(7, 3)
    ref = torch.log_softmax(-squared_distances(z, em.codebook) / 0.4, 1)
    assert torch.allclose(em.log_posterior(z), ref, atol=1e-5)
