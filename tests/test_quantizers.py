import math

import pytest
import torch
import torch.nn.functional as F

from vqlab.metrics import perplexity
from vqlab.posteriors import posterior_losses, squared_distances
from vqlab.quantizers import EMQuantizer, PosteriorQuantizer, QuantizerOutput, VectorQuantizer


def test_shapes_and_types():
    vq = VectorQuantizer(16, 4)
    out = vq(torch.randn(3, 5, 7, 4))
    assert isinstance(out, QuantizerOutput)
    assert out.z_q.shape == (3, 5, 7, 4)
    assert out.indices.shape == (3, 5, 7) and out.indices.dtype == torch.long
    assert out.probs.shape == (3, 5, 7, 16)
    assert out.counts.shape == (16,) and out.counts.sum() == 3 * 5 * 7
    assert out.perplexity.ndim == 0
    assert set(out.losses) == {"codebook", "commitment"}


def test_nearest_codeword_and_one_hot():
    vq = VectorQuantizer(8, 3)
    z = torch.randn(50, 3)
    out = vq(z)
    brute = torch.cdist(z, vq.codebook).argmin(1)
    assert torch.equal(out.indices, brute)
    assert torch.equal(out.probs, F.one_hot(brute, 8).float())
    assert torch.allclose(out.z_q, vq.codebook[brute], atol=1e-6)


def test_straight_through_copies_decoder_gradient_to_encoder():
    vq = VectorQuantizer(8, 3)
    z = torch.randn(10, 3, requires_grad=True)
    out = vq(z)
    upstream = torch.randn_like(out.z_q)
    (out.z_q * upstream).sum().backward()
    assert torch.equal(z.grad, upstream)  # the gradient is copied unchanged
    assert vq.codebook.grad is None or torch.all(vq.codebook.grad == 0)  # decoder path skips codebook


def test_each_loss_term_reaches_only_its_side():
    vq = VectorQuantizer(8, 3, beta=0.5)
    z = torch.randn(10, 3, requires_grad=True)
    out = vq(z)
    g_z, g_w = torch.autograd.grad(out.losses["codebook"], (z, vq.codebook), allow_unused=True)
    assert g_z is None and g_w.abs().sum() > 0
    g_z, g_w = torch.autograd.grad(out.losses["commitment"], (z, vq.codebook), allow_unused=True)
    assert g_w is None and g_z.abs().sum() > 0


def test_loss_values_are_eq_5_5():
    vq = VectorQuantizer(8, 3, beta=0.3)
    z = torch.randn(10, 3)
    out = vq(z)
    err = F.mse_loss(z, vq.codebook[out.indices])
    assert torch.isclose(out.losses["codebook"], err)
    assert torch.isclose(out.losses["commitment"], 0.3 * err)


def test_generic_posterior_loss_with_one_hot_equals_hard_vq():
    vq = VectorQuantizer(8, 3, beta=0.25)
    z = torch.randn(40, 3)
    out = vq(z)
    generic = posterior_losses(z, vq.codebook, out.probs, beta=0.25)
    for k in ("codebook", "commitment"):
        assert torch.isclose(generic[k], out.losses[k], rtol=1e-5)


def test_perplexity_bounds():
    assert torch.isclose(perplexity(torch.eye(5)), torch.tensor(5.0))
    assert torch.isclose(perplexity(torch.tensor([[1.0, 0, 0]] * 4)), torch.tensor(1.0))
    assert torch.isclose(perplexity(torch.tensor([3.0, 3.0, 0.0])), torch.tensor(2.0))


def test_ema_update_maths():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 2, codebook_update="ema", decay=0.9, epsilon=1e-5)
    assert not isinstance(vq.codebook, torch.nn.Parameter)
    size0, sum0 = vq.ema_size.clone(), vq.ema_sum.clone()
    z = torch.randn(30, 2)
    out = vq(z)
    onehot = out.probs
    n = onehot.sum(0)
    size = 0.9 * size0 + 0.1 * n
    sums = 0.9 * sum0 + 0.1 * onehot.t() @ z
    total = size.sum()
    smoothed = (size + 1e-5) / (total + 4 * 1e-5) * total
    assert torch.allclose(vq.ema_size, size)
    assert torch.allclose(vq.codebook, sums / smoothed[:, None], atol=1e-6)
    assert set(out.losses) == {"commitment"}


def test_ema_not_updated_in_eval_mode():
    vq = VectorQuantizer(4, 2, codebook_update="ema").eval()
    before = vq.codebook.clone()
    vq(torch.randn(30, 2))
    assert torch.equal(before, vq.codebook)


def test_ema_converges_to_cluster_means():
    vq = VectorQuantizer(2, 1, codebook_update="ema", decay=0.5)
    vq.weight.copy_(torch.tensor([[-0.1], [0.1]]))
    vq.ema_sum.copy_(vq.weight)
    z = torch.cat([torch.full((10, 1), -2.0), torch.full((10, 1), 3.0)])
    for _ in range(60):
        vq(z)
    assert torch.allclose(vq.codebook.sort(0).values, torch.tensor([[-2.0], [3.0]]), atol=1e-3)


def test_kmeans_init_happens_once_on_first_training_batch():
    vq = VectorQuantizer(4, 2, init="kmeans++")
    z = torch.randn(100, 2) * 5
    vq(z)
    assert bool(vq.initialized)
    # every codeword is one of the batch points
    assert (torch.cdist(vq.codebook.detach(), z).min(1).values < 1e-5).all()
    first = vq.codebook.detach().clone()
    vq(torch.randn(100, 2))
    assert torch.equal(first, vq.codebook.detach())  # no re-initialisation


def test_kmeans_init_not_in_eval_mode():
    vq = VectorQuantizer(4, 2, init="kmeans++").eval()
    vq(torch.randn(10, 2))
    assert not bool(vq.initialized)


def test_dead_code_restart_moves_unused_codes_onto_data():
    vq = VectorQuantizer(4, 2, restart_after=3)
    with torch.no_grad():
        vq.weight.copy_(torch.tensor([[0.0, 0.0], [100.0, 100.0], [-100.0, 100.0], [0.1, 0.0]]))
    z = 0.05 * torch.randn(64, 2)
    for _ in range(2):
        vq(z)
    assert vq.codebook[1, 0] == 100.0  # not yet
    vq(z)
    far = torch.cdist(vq.codebook.detach()[1:3], z).min(1).values
    assert (far < 1e-4).all()  # restarted onto batch vectors (cdist rounding)
    assert vq.unused_steps[1] == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"num_codes": 0, "code_dim": 2}, "num_codes"),
    ({"num_codes": 2.5, "code_dim": 2}, "num_codes"),
    ({"num_codes": 4, "code_dim": 0}, "code_dim"),
    ({"num_codes": 4, "code_dim": 2, "beta": -1}, "beta"),
    ({"num_codes": 4, "code_dim": 2, "beta": float("nan")}, "beta"),
    ({"num_codes": 4, "code_dim": 2, "codebook_update": "adam"}, "codebook_update"),
    ({"num_codes": 4, "code_dim": 2, "decay": 1.0}, "decay"),
    ({"num_codes": 4, "code_dim": 2, "epsilon": 0}, "epsilon"),
    ({"num_codes": 4, "code_dim": 2, "init": "random"}, "init"),
    ({"num_codes": 4, "code_dim": 2, "restart_after": 0}, "restart_after"),
])
def test_constructor_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(**kwargs)


@pytest.mark.parametrize("z, message", [
    (torch.randn(4, 3), r"z_e must have shape \[\.\.\., 2\]"),
    (torch.tensor([[1.0, float("nan")]]), "NaN"),
    (torch.tensor([[1.0, float("inf")]]), "NaN or infinite"),
    (torch.ones(4, 2, dtype=torch.long), "floating-point"),
    (torch.zeros(0, 2), "empty"),
])
def test_forward_validation(z, message):
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(4, 2)(z)


def test_forward_rejects_non_tensor():
    with pytest.raises(TypeError, match="z_e must be a torch.Tensor"):
        VectorQuantizer(4, 2)([[0.0, 1.0]])


def test_single_code_codebook_works():
    out = VectorQuantizer(1, 2)(torch.randn(5, 2))
    assert (out.indices == 0).all() and torch.isclose(out.perplexity, torch.tensor(1.0))


@pytest.mark.parametrize("restart_after", [None, 1])
def test_ema_mode_backward_after_update(restart_after):
    """The EMA update and restarts happen after the losses are built; backward must still work."""
    from vqlab.quantizers import Quantizer

    class Soft(Quantizer):
        def quantize(self, z):
            probs = torch.softmax(-squared_distances(z, self.codebook), 1)
            return probs @ self.codebook, probs, self.codebook_losses(z, probs)

    for cls in (VectorQuantizer, Soft):
        q = cls(4, 2, codebook_update="ema", restart_after=restart_after)
        z = torch.randn(16, 2, requires_grad=True)
        out = q(z)
        sum(out.losses.values()).backward()
        assert z.grad is not None and torch.isfinite(z.grad).all()


@pytest.mark.parametrize("n, block_elements", [(1, 2**18), (37, 8 * 5), (1000, 3 * 64), (513, 64), (200, 1)])
def test_nearest_codes_is_the_brute_force_argmin_in_every_block(n, block_elements):
    from vqlab.quantizers import nearest_codes

    gen = torch.Generator().manual_seed(n)
    z, w = torch.randn(n, 6, generator=gen, dtype=torch.float64), torch.randn(64, 6, generator=gen, dtype=torch.float64)
    idx = nearest_codes(z, w, block_elements=block_elements)
    assert idx.dtype == torch.long and idx.shape == (n,)
    assert torch.equal(idx, torch.cdist(z, w).argmin(1))
    assert torch.equal(idx, squared_distances(z, w).argmin(1))


def test_nearest_codes_breaks_ties_towards_the_lower_index():
    from vqlab.quantizers import nearest_codes

    w = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert nearest_codes(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), w).tolist() == [0, 0]


def test_nearest_codes_rejects_a_bad_block_size():
    from vqlab.quantizers import nearest_codes

    with pytest.raises(ValueError, match="block_elements"):
        nearest_codes(torch.randn(4, 2), torch.randn(3, 2), block_elements=0)


def test_one_hot_posterior_equals_f_one_hot():
    from vqlab.quantizers import one_hot_posterior

    idx = torch.randint(9, (50,))
    for dtype in (torch.float32, torch.float64):
        assert torch.equal(one_hot_posterior(idx, 9, dtype), F.one_hot(idx, 9).to(dtype))


def test_hard_ema_update_equals_the_soft_count_formula():
    """The index-based EMA of VectorQuantizer (counts, index_add_) equals the [N, K] formula of the base."""
    from vqlab.quantizers import Quantizer

    class OneHotAsSoft(Quantizer):  # same posterior, but hard_posterior=False: the generic path
        def quantize(self, z):
            probs = F.one_hot(squared_distances(z, self.codebook).argmin(1), self.num_codes).to(z.dtype)
            return probs @ self.codebook, probs, self.codebook_losses(z, probs)

    hard = VectorQuantizer(32, 4, codebook_update="ema", decay=0.8, init="kmeans++")
    soft = OneHotAsSoft(32, 4, codebook_update="ema", decay=0.8, init="kmeans++")
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        z = torch.randn(700, 4, generator=gen)
        a, b = hard(z), soft(z)
        assert torch.equal(a.indices, b.indices) and torch.equal(a.counts, b.counts)
        assert torch.isclose(a.perplexity, b.perplexity, rtol=1e-6)
        assert torch.allclose(hard.ema_size, soft.ema_size) and torch.allclose(hard.ema_sum, soft.ema_sum, atol=1e-5)
        assert torch.allclose(hard.codebook, soft.codebook, atol=1e-6)


def test_output_without_probs_is_one_hot_at_indices_on_first_read():
    idx = torch.randint(6, (3, 4))
    out = QuantizerOutput(z_q=torch.zeros(3, 4, 2, dtype=torch.float64), indices=idx, probs=None,
                          counts=torch.bincount(idx.reshape(-1), minlength=6).double())
    assert "probs" not in vars(out)                                     # nothing [N, K] until asked
    assert torch.equal(out.probs, F.one_hot(idx, 6).double())
    assert out.probs is out.probs                                       # built once
    with pytest.raises(AttributeError, match="nope"):
        out.nope


@pytest.mark.parametrize("cls", [VectorQuantizer, EMQuantizer, PosteriorQuantizer])
def test_the_two_fixed_initialisations_have_their_ranges(cls):
    # U(-1/K, 1/K) (PyTorch ports) against U(-sqrt(3/D), sqrt(3/D)) (Sonnet/Haiku VarianceScaling, fan-in D)
    small = cls(128, 8, init="uniform", seed=0).codebook.detach()
    reference = cls(128, 8, init="variance_scaling", seed=0).codebook.detach()
    limit = math.sqrt(3 / 8)
    assert small.abs().max() <= 1 / 128 and small.abs().max() > 0.9 / 128
    assert reference.abs().max() <= limit and reference.abs().max() > 0.95 * limit
    assert reference.var().item() == pytest.approx(1 / 8, rel=0.1)     # variance scaling: Var = 1 / fan_in
    assert bool(cls(4, 2, init="variance_scaling").initialized)       # no k-means++ pass pending
