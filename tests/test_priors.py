"""Tests for vqlab.priors: the autoregressive property (eq. 3.1) of MADE (eq. 3.3), PixelCNN (masks A/B,
eqs. 3.4, 3.5) and the gated PixelCNN by gradients, the NLL in bits per code, tempered ancestral
sampling and completion, and argument checks."""
import math

import pytest
import torch

from vqlab.priors import (MADE, GatedPixelCNN, MaskedConv2d, PixelCNN, UniformPrior, UnigramPrior, bits_per_code,
                          conv_mask, made_masks, receptive_field, tempered_probs)
from vqlab.train import train

K, SHAPE = 5, (4, 4)


def make(name, **kw):
    torch.manual_seed(0)
    if name == "MADE":
        return MADE(K, SHAPE, hidden=(64, 64), **kw)
    cls = PixelCNN if name == "PixelCNN" else GatedPixelCNN
    return cls(K, SHAPE, channels=16, kernel_size=3, n_layers=3, **kw)


def gradient_fields(model):
    """``{flat position p: [H W] input-gradient magnitudes of output p}``."""
    h, w = SHAPE
    return {i * w + j: receptive_field(model.logits, K, SHAPE, (i, j)).flatten()
            for i in range(h) for j in range(w)}


@pytest.mark.parametrize("name", ["MADE", "PixelCNN", "GatedPixelCNN"])
def test_autoregressive_property_by_gradients(name):
    fields = gradient_fields(make(name))
    for p, g in fields.items():
        assert torch.all(g[p:] == 0), f"output {p} depends on itself or a later position"
        if p > 0:
            assert g[:p].abs().sum() > 0, f"output {p} ignores every earlier position"
    # the first output sees nothing: it is the marginal p(z_0)
    assert torch.all(fields[0] == 0)


def test_first_mask_b_breaks_the_property_so_the_check_can_fail():
    for name in ("PixelCNN", "GatedPixelCNN"):
        fields = gradient_fields(make(name, first_mask="B"))
        assert any(g[p] > 0 for p, g in fields.items()), name


def test_gated_pixelcnn_has_no_blind_spot_but_pixelcnn_has_one():
    h, w = SHAPE
    missing = {}
    for name in ("PixelCNN", "GatedPixelCNN"):
        fields = gradient_fields(make(name))
        # output (2, 1): (1, 3), one row up and two columns right, is within three 3x3 layers' reach
        # but in PixelCNN's blind spot (a path would need a step up-right twice, which goes two rows up)
        missing[name] = bool(fields[2 * w + 1][1 * w + 3] == 0)
    assert missing == {"PixelCNN": True, "GatedPixelCNN": False}


def test_made_masks_connectivity_and_shapes():
    masks = made_masks(4, [6, 5], num_classes=3)
    assert [tuple(m.shape) for m in masks] == [(6, 12), (5, 6), (12, 5)]
    assert all(set(m.unique().tolist()) <= {0.0, 1.0} for m in masks)
    path = masks[2] @ masks[1] @ masks[0]  # [12, 12]: output unit <- input unit
    conn = path.reshape(4, 3, 4, 3).sum((1, 3)) > 0
    assert torch.equal(conn, torch.tril(torch.ones(4, 4, dtype=torch.bool), -1))
    # a custom ordering: output d depends exactly on the positions before d in that order
    order = torch.tensor([2, 0, 3, 1])
    model = MADE(3, (2, 2), hidden=(16,), order=order)
    rank = torch.empty(4, dtype=torch.long)
    rank[order] = torch.arange(4)
    assert torch.equal(model.connectivity(), rank[None, :] < rank[:, None])


def test_conv_masks_a_and_b():
    a, b = conv_mask(5, "A"), conv_mask(5, "B")
    assert a.shape == b.shape == (5, 5)
    expected_a = torch.zeros(5, 5)
    expected_a[:2] = 1
    expected_a[2, :2] = 1
    assert torch.equal(a, expected_a)
    diff = b - a
    assert diff.sum() == 1 and diff[2, 2] == 1  # B = A plus the centre
    assert torch.equal(conv_mask(1, "A"), torch.zeros(1, 1)) and torch.equal(conv_mask(1, "B"), torch.ones(1, 1))
    conv = MaskedConv2d(2, 3, 3, "A")
    assert conv.mask.shape == (1, 1, 3, 3) and conv(torch.randn(1, 2, 6, 6)).shape == (1, 3, 6, 6)


def test_bits_per_code_hand_computed():
    # one code map [1, 1, 2] with K = 2; p(x_0 = 1) = 0.5, p(x_1 = 0) = e^2 / (e^2 + 1)
    logits = torch.tensor([[[[0.0, 2.0]], [[0.0, 0.0]]]])  # [N=1, K=2, H=1, W=2]
    x = torch.tensor([[[1, 0]]])
    p1 = math.exp(2) / (math.exp(2) + 1)
    expected = -(math.log2(0.5) + math.log2(p1)) / 2
    assert bits_per_code(logits, x).item() == pytest.approx(expected, rel=1e-6)


def test_uniform_is_log2_k_and_unigram_fits_frequencies():
    x = torch.randint(0, K, (50, *SHAPE), generator=torch.Generator().manual_seed(0))
    assert UniformPrior(K, SHAPE).bits_per_code(x) == pytest.approx(math.log2(K), rel=1e-6)
    # a constant code map: the unigram prior with tiny smoothing approaches 0 bits
    const = torch.full((20, *SHAPE), 3)
    uni = UnigramPrior(K, SHAPE, alpha=1e-6).fit(const)
    assert uni.bits_per_code(const) < 1e-4
    # its NLL on its own training data is the (smoothed) per-position entropy: below log2 K
    assert UnigramPrior(K, SHAPE).fit(x).bits_per_code(x) < math.log2(K)


def test_training_a_prior_with_train_lowers_nll_below_unigram():
    # code maps where each row copies the previous one: a unigram prior cannot see that
    gen = torch.Generator().manual_seed(0)
    first = torch.randint(0, K, (300, 1, 4), generator=gen)
    x = first.expand(-1, 4, -1).clone()
    uni = UnigramPrior(K, SHAPE).fit(x).bits_per_code(x)
    prior = make("GatedPixelCNN")
    before = prior.bits_per_code(x)
    train(prior, x, epochs=15, batch_size=50, lr=5e-3, seed=0, progress=False)
    after = prior.bits_per_code(x)
    assert after < before and after < uni - 0.5


def test_tempered_probs_limits():
    logits = torch.tensor([[1.0, 3.0, 2.0]])
    assert torch.equal(tempered_probs(logits, 1e-6), torch.tensor([[0.0, 1.0, 0.0]]))
    assert torch.allclose(tempered_probs(logits, 1e6), torch.full((1, 3), 1 / 3), atol=1e-5)
    assert torch.allclose(tempered_probs(logits, 1.0), torch.softmax(logits, 1))
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            tempered_probs(logits, bad)


def test_sampling_shapes_determinism_and_temperature():
    model = make("PixelCNN")
    s1 = model.sample(6, torch.Generator().manual_seed(1))
    s2 = model.sample(6, torch.Generator().manual_seed(1))
    assert s1.shape == (6, *SHAPE) and s1.dtype == torch.long and torch.equal(s1, s2)
    assert s1.min() >= 0 and s1.max() < K
    # T -> 0: every sample is the same greedy map, whatever the generator
    cold = [model.sample(4, torch.Generator().manual_seed(s), temperature=1e-6) for s in (0, 1)]
    assert torch.equal(cold[0], cold[1]) and (cold[0] == cold[0][0]).all()
    # large T: codes close to uniform
    hot = model.sample(400, torch.Generator().manual_seed(0), temperature=1e4)
    freq = torch.bincount(hot.flatten(), minlength=K).float() / hot.numel()
    assert torch.allclose(freq, torch.full((K,), 1 / K), atol=0.03)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=0)


def test_completion_keeps_fixed_entries():
    model = make("GatedPixelCNN")
    base = torch.randint(0, K, (3, *SHAPE), generator=torch.Generator().manual_seed(0))
    known = torch.zeros(SHAPE, dtype=torch.bool)
    known[:2] = True
    known[3, 3] = True
    out = model.complete(base, known, torch.Generator().manual_seed(0))
    assert out.shape == base.shape and torch.equal(out[:, known], base[:, known])
    assert not torch.equal(base, out)  # something was sampled (probability of all 3 x 7 matching ~ 5^-21)
    assert torch.equal(model.complete(base, torch.ones(SHAPE, dtype=torch.bool)), base)


def test_bad_arguments_raise_clear_errors():
    model = make("PixelCNN")
    with pytest.raises(ValueError, match="integer code map"):
        model(torch.rand(2, *SHAPE))
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"code ids in \[0, 5\)"):
        model(torch.full((1, *SHAPE), K))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        PixelCNN(K, SHAPE, kernel_size=4)
    with pytest.raises(ValueError, match="mask_type"):
        conv_mask(3, "C")
    with pytest.raises(ValueError, match="first_mask"):
        GatedPixelCNN(K, SHAPE, first_mask="C")
    with pytest.raises(ValueError, match="order must be a permutation"):
        MADE(K, SHAPE, order=torch.zeros(16, dtype=torch.long))
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)
    with pytest.raises(TypeError, match="known"):
        model.complete(torch.zeros(1, *SHAPE, dtype=torch.long), torch.zeros(SHAPE))
    with pytest.raises(ValueError, match="known"):
        model.complete(torch.zeros(2, *SHAPE, dtype=torch.long), torch.zeros(3, *SHAPE, dtype=torch.bool))
    with pytest.raises(ValueError, match="shape must be a pair"):
        UniformPrior(K, (4,))
