"""Property tests of vqlab.losses: every identity and inequality of the VIB paper's derivation (eqs. 5-26)
on random discrete joints p(j, x) and random encoders q(k | j), for several seeds (the course's letters)."""
import math

import pytest
import torch
import torch.nn.functional as F

from vqlab import losses as L

SEEDS = range(6)


def random_simplex(shape, gen, sparsity=0.0):
    """Random probability rows over the last dim (float64); ``sparsity`` zeroes entries at random
    (keeping at least one positive entry per row)."""
    p = torch.rand(shape, generator=gen, dtype=torch.float64) ** 3
    if sparsity:
        keep = torch.rand(shape, generator=gen) >= sparsity
        keep[..., 0] |= ~keep.any(-1)
        p = p * keep
    return p / p.sum(-1, keepdim=True)


def problem(seed, n_i=7, n_x=5, n_z=4, sparsity=0.0):
    gen = torch.Generator().manual_seed(seed)
    p_jx = random_simplex((n_i * n_x,), gen, sparsity).reshape(n_i, n_x)
    p_jx[:, 0] += 1e-3  # every j has p(j) > 0
    p_jx = p_jx / p_jx.sum()
    enc = random_simplex((n_i, n_z), gen, sparsity)
    return p_jx, enc, gen


def joint_jxk(p_jx, enc):
    return p_jx[:, :, None] * enc[:, None, :]  # eq. 1: p(j, x, k) = p(j, x) q(k | j)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sparsity", [0.0, 0.4])
def test_eq5_equals_eq6_and_is_information_loss(seed, sparsity):
    p_jx, enc, _ = problem(seed, sparsity=sparsity)
    d = L.ib_distortion(p_jx, enc)
    first, second = L.ib_distortion_terms(p_jx, enc)
    assert torch.isclose(d, first - second, atol=1e-12)
    # d_IB = I(I; X) - I(Z; X) >= 0 (data processing along X <-> I <-> Z)
    p_zx = joint_jxk(p_jx, enc).sum(0).t()
    assert torch.isclose(d, L.mutual_information(p_jx) - L.mutual_information(p_zx), atol=1e-12)
    assert d >= -1e-12
    # the second term of eq. 6 is H(X | I): a property of the data alone
    h_x_given_i = L.entropy(p_jx.flatten()) - L.entropy(p_jx.sum(1))
    assert torch.isclose(second, h_x_given_i, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_eq7_and_eq8(seed):
    p_jx, enc, _ = problem(seed)
    pz, px_z = L.x_given_z(p_jx, enc)
    brute = joint_jxk(p_jx, enc).sum(0)  # [X, Z]
    assert torch.allclose(pz, brute.sum(0), atol=1e-14)
    assert torch.allclose(px_z, (brute / brute.sum(0)).t(), atol=1e-12)
    first, _ = L.ib_distortion_terms(p_jx, enc)
    assert torch.isclose(first, L.decoder_entropy(p_jx, enc), atol=1e-12)  # eq. 8: first term = H(X|Z)


@pytest.mark.parametrize("seed", SEEDS)
def test_decoder_bound_eq9_gap_is_eq11_kl_and_tight(seed):
    p_jx, enc, gen = problem(seed)
    q = random_simplex((enc.shape[1], p_jx.shape[1]), gen)
    exact, bound = L.decoder_entropy(p_jx, enc), L.decoder_bound(p_jx, enc, q)
    pz, px_z = L.x_given_z(p_jx, enc)
    gap = (pz * L.kl_divergence(px_z, q)).sum()
    assert bound >= exact
    assert torch.isclose(bound - exact, gap, atol=1e-12)
    assert torch.isclose(L.decoder_bound(p_jx, enc, px_z), exact, atol=1e-12)  # tight at q = p(x|z)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sparsity", [0.0, 0.5])
def test_rate_bound_eq14_gap_is_eq16_kl_and_tight(seed, sparsity):
    p_jx, enc, gen = problem(seed, sparsity=sparsity)
    pi = p_jx.sum(1)
    r = random_simplex((enc.shape[1],), gen)
    mi = L.mutual_information_iz(enc, pi)
    assert torch.isclose(mi, L.mutual_information(pi[:, None] * enc), atol=1e-12)  # eq. 13
    bound = L.kl_to_prior(enc, r, pi)
    pz = L.marginal(enc, pi)
    assert bound >= mi
    assert torch.isclose(bound - mi, L.kl_divergence(pz, r), atol=1e-12)
    assert torch.isclose(L.kl_to_prior(enc, pz, pi), mi, atol=1e-12)  # tight at r = p(Z)


@pytest.mark.parametrize("seed", SEEDS)
def test_entropy_bound_eq20_gap_and_tight(seed):
    p_jx, enc, gen = problem(seed)
    pi = p_jx.sum(1)
    r = random_simplex((enc.shape[1],), gen)
    pz = L.marginal(enc, pi)
    h_z, ce = L.entropy(pz), L.cross_entropy(enc, r, pi)
    assert ce >= h_z
    assert torch.isclose(ce - h_z, L.kl_divergence(pz, r), atol=1e-12)
    assert torch.isclose(L.cross_entropy(enc, pz, pi), h_z, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sparsity", [0.0, 0.5])
def test_eq26_kl_is_cross_entropy_minus_conditional_entropy(seed, sparsity):
    gen = torch.Generator().manual_seed(seed)
    probs = random_simplex((3, 11, 6), gen, sparsity)
    r = random_simplex((6,), gen)
    kl = L.kl_to_prior(probs, r)
    assert torch.isclose(kl, L.cross_entropy(probs, r) - L.conditional_entropy(probs), atol=1e-12)
    assert kl >= 0
    # vib (eq. 18) = vdib (eq. 23) - beta H(p(Z|I))
    d = torch.tensor(0.37, dtype=torch.float64)
    assert torch.isclose(L.vib_loss(d, probs, 0.7, r),
                         L.vdib_loss(d, probs, 0.7, r) - 0.7 * L.conditional_entropy(probs), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_prior_cross_entropy_is_log_k_for_any_posterior(seed):
    gen = torch.Generator().manual_seed(seed)
    k = 2 + seed
    probs = random_simplex((20, k), gen, sparsity=0.3)
    assert math.isclose(L.cross_entropy(probs).item(), math.log(k), abs_tol=1e-12)
    assert L.log_k(k) == math.log(k)
    assert torch.isclose(L.vdib_loss(torch.tensor(0.5, dtype=torch.float64), probs, 2.0),
                         torch.tensor(0.5 + 2.0 * math.log(k), dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_hard_posterior_has_zero_conditional_entropy_and_mi_equals_entropy(seed):
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(5, (40,), generator=gen)
    onehot = F.one_hot(idx, 5).double()
    assert L.conditional_entropy(onehot).item() == 0.0  # eq. 27 -> H(p(Z|I)) = 0, printed as 0.0
    pz = L.marginal(onehot)
    assert torch.isclose(L.mutual_information_iz(onehot), L.entropy(pz), atol=1e-12)
    assert torch.isclose(L.kl_to_prior(onehot), torch.tensor(math.log(5), dtype=torch.float64))


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_nonnegative_and_entropy_bounds(seed):
    gen = torch.Generator().manual_seed(seed)
    k = 3 + seed
    p, q = random_simplex((50, k), gen, 0.3), random_simplex((50, k), gen)
    kl = L.kl_divergence(p, q)
    assert (kl >= -1e-12).all()
    assert torch.allclose(L.kl_divergence(q, q), torch.zeros(50, dtype=torch.float64), atol=1e-12)
    h = L.entropy(p)
    assert (h >= 0).all() and (h <= math.log(k) + 1e-12).all()
    assert torch.isclose(L.entropy(torch.full((k,), 1.0 / k, dtype=torch.float64)),
                         torch.tensor(math.log(k), dtype=torch.float64))
    hc = L.conditional_entropy(p)
    assert 0 <= hc <= math.log(k)
    assert 0 <= L.mutual_information_iz(p) <= math.log(k) + 1e-12


def test_ib_lagrangian_eq3():
    assert L.ib_lagrangian(1.5, 2.0, 0.25) == 2.0
    with pytest.raises(ValueError, match="ib_weight"):
        L.ib_lagrangian(1.0, 1.0, -1.0)


def test_losses_are_differentiable_even_at_one_hot():
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]], requires_grad=True)
    loss = L.vib_loss(torch.tensor(0.0), probs, 1.0) + L.conditional_entropy(probs) + L.entropy(probs).sum()
    (g,) = torch.autograd.grad(loss, probs)
    assert torch.isfinite(g).all()


@pytest.mark.parametrize("call, message", [
    (lambda: L.entropy(torch.tensor([0.5, 0.6])), "sum to one"),
    (lambda: L.conditional_entropy(torch.tensor([[1.2, -0.2]])), "non-negative"),
    (lambda: L.kl_to_prior(torch.tensor([[0.5, 0.5]]), torch.tensor([1.0, 0.0])), "prior is zero where"),
    (lambda: L.cross_entropy(torch.tensor([[0.5, 0.5]]), torch.tensor([1.0, 0.0])), "prior is zero where"),
    (lambda: L.cross_entropy(torch.tensor([[0.5, 0.5]]), torch.tensor([0.2, 0.3, 0.5])), r"prior must have shape \[2\]"),
    (lambda: L.kl_to_prior(torch.tensor([[0.5, 0.5]]), torch.tensor([0.7, 0.7])), "prior must sum to one"),
    (lambda: L.kl_divergence(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0])), "q is zero where p"),
    (lambda: L.conditional_entropy(torch.tensor([[0.5, 0.5]] * 2), torch.tensor([1.0])), "weights must have"),
    (lambda: L.vib_loss(torch.tensor(0.0), torch.tensor([[0.5, 0.5]]), -1.0), "ib_weight"),
    (lambda: L.mutual_information(torch.full((2, 2, 2), 1 / 8)), "2-D"),
    (lambda: L.ib_distortion(torch.full((2, 2), 0.25), torch.full((3, 2), 0.5)), "q_k_given_j must have shape"),
    (lambda: L.decoder_bound(torch.full((2, 2), 0.25), torch.full((2, 2), 0.5), torch.tensor([[1.0, 0], [1, 0]])),
     "decoder is zero where"),
    (lambda: L.entropy(torch.tensor([0.5, float("nan")])), "NaN"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_tolerance_accepts_float32_softmax_rows():
    probs = torch.randn(1000, 512).softmax(-1)  # float32 rounding of the row sums stays inside 1e-4
    assert 0 < L.conditional_entropy(probs) <= math.log(512)
