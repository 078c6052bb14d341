import math

import pytest
import torch

from vqlab.priors import (MADE, GatedPixelCNN, MaskedConv2d, PixelCNN, UniformPrior, UnigramPrior,
                          bits_per_code, conv_mask, made_masks, receptive_field,
                          tempered_probs)

K, SHAPE = 5, (4, 4)


def _ar_models():
    return [MADE(K, SHAPE, hidden=(64,)), PixelCNN(K, SHAPE, channels=16, n_layers=3),
            GatedPixelCNN(K, SHAPE, channels=16, n_layers=3)]


def _input_grad(model, pos):
    x = torch.randn(3, K, *SHAPE, requires_grad=True)
    (g,) = torch.autograd.grad(model.logits(x)[:, :, pos[0], pos[1]].sum(), x)
    return g.abs().sum((0, 1)).flatten()


@pytest.mark.parametrize("idx", range(3))
def test_autoregressive_property_by_gradients(idx):
    model = _ar_models()[idx]
    for pos in [(0, 0), (1, 2), (2, 1), (3, 3)]:
        g = _input_grad(model, pos)
        p = pos[0] * SHAPE[1] + pos[1]
        assert (g[p:] == 0).all(), f"{type(model).__name__} output {pos} sees itself or the future"
        if p > 0:
            assert g[p - 1] > 0, "the immediately preceding code must influence the output"
            assert (g[:p] > 0).any()


def test_made_with_custom_order_follows_it():
    order = torch.randperm(16, generator=torch.Generator().manual_seed(3))
    model = MADE(K, SHAPE, hidden=(64, 64), order=order)
    rank = torch.empty(16, dtype=torch.long)
    rank[order] = torch.arange(16)
    conn = model.connectivity()
    assert torch.equal(conn, rank[None, :] < rank[:, None])  # output i sees exactly the inputs before it
    last = int(order[-1])
    g = _input_grad(model, divmod(last, SHAPE[1]))
    assert (g[last] == 0) and (g > 0).sum() == 15


def test_made_mask_shapes_and_connectivity():
    masks = made_masks(4, (7, 6), num_classes=3)
    assert [tuple(m.shape) for m in masks] == [(7, 12), (6, 7), (12, 6)]
    path = masks[2] @ masks[1] @ masks[0]
    conn = path.reshape(4, 3, 4, 3).sum((1, 3)) > 0
    assert torch.equal(conn, torch.ones(4, 4).tril(-1).bool())
    with pytest.raises(ValueError, match="n_inputs"):
        made_masks(1, (4,))
    with pytest.raises(ValueError, match="permutation"):
        made_masks(3, (4,), order=torch.tensor([0, 0, 1]))


def test_conv_masks_eq_3_4_and_3_5():
    """0-based centre c = kappa // 2; the thesis's ceil(kappa / 2) read with 0-based indices would keep the centre."""
    a, b = conv_mask(3, "A"), conv_mask(3, "B")
    assert torch.equal(a, torch.tensor([[1., 1, 1], [1, 0, 0], [0, 0, 0]]))
    assert torch.equal(b - a, torch.tensor([[0., 0, 0], [0, 1, 0], [0, 0, 0]]))
    assert conv_mask(5, "A").sum() == 12 and conv_mask(5, "B").sum() == 13
    conv = MaskedConv2d(2, 3, 5, "A")
    assert conv.mask.shape == (1, 1, 5, 5) and conv(torch.randn(1, 2, 6, 6)).shape == (1, 3, 6, 6)
    with pytest.raises(ValueError, match="odd"):
        conv_mask(4, "A")
    with pytest.raises(ValueError, match="mask_type"):
        conv_mask(3, "C")


def test_blind_spot_in_plain_pixelcnn_not_in_gated():
    shape, pos = (5, 5), (2, 1)
    past = torch.arange(25).reshape(5, 5) < pos[0] * 5 + pos[1]
    plain = PixelCNN(2, shape, channels=16, n_layers=4)
    gated = GatedPixelCNN(2, shape, channels=16, n_layers=4)
    f_plain = receptive_field(plain.logits, 2, shape, pos) > 0
    f_gated = receptive_field(gated.logits, 2, shape, pos) > 0
    assert not f_plain[1, 4] and past[1, 4]  # above-right, reached by no path of masked 3x3 kernels
    assert f_gated[past].all() and not f_gated[~past].any()
    assert not f_plain[~past].any()


def test_bits_per_code_hand_computed():
    p = torch.tensor([0.5, 0.25, 0.25])
    logits = p.log().reshape(1, 3, 1, 1).expand(1, 3, 1, 2).contiguous()
    x = torch.tensor([[[0, 1]]])
    assert bits_per_code(logits, x).item() == pytest.approx((1 + 2) / 2)
    assert UniformPrior(8, (2, 3)).bits_per_code(torch.randint(0, 8, (4, 2, 3))) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="do not match"):
        bits_per_code(logits, torch.zeros(1, 2, 2, dtype=torch.long))


def test_unigram_counts_with_laplace_smoothing():
    x = torch.tensor([[[0, 1]], [[0, 0]], [[0, 1]]])  # position 0 always 0; position 1: 0 once, 1 twice
    prior = UnigramPrior(2, (1, 2), alpha=1.0).fit(x)
    p = prior.log_probs.exp()
    assert torch.allclose(p[:, 0, 0], torch.tensor([4 / 5, 1 / 5]))
    assert torch.allclose(p[:, 0, 1], torch.tensor([2 / 5, 3 / 5]))
    expected = -(3 * math.log2(4 / 5) + math.log2(2 / 5) + 2 * math.log2(3 / 5)) / 6
    assert prior.bits_per_code(x) == pytest.approx(expected, rel=1e-5)


def test_training_lowers_nll_below_unigram():
    from vqlab.train import train
    # position (0, 1) copies (0, 0): a dependency the unigram prior cannot express
    a = torch.randint(0, 4, (256,))
    x = torch.stack([a, a], 1).reshape(256, 1, 2)
    model = GatedPixelCNN(4, (1, 2), channels=16, n_layers=2)
    before = model.bits_per_code(x)
    train(model, x, epochs=30, batch_size=64, lr=1e-2, seed=0, progress=False)
    unigram = UnigramPrior(4, (1, 2)).fit(x).bits_per_code(x)
    assert model.bits_per_code(x) < unigram - 0.3 < before


def test_seed_fixes_the_initial_weights():
    for build in (lambda s: MADE(K, SHAPE, hidden=(16,), seed=s), lambda s: PixelCNN(K, SHAPE, channels=8, seed=s),
                  lambda s: GatedPixelCNN(K, SHAPE, channels=8, n_layers=2, seed=s)):
        a, b, c = build(3), build(3), build(4)
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    torch.manual_seed(0)
    free = PixelCNN(K, SHAPE, channels=8)           # seed=None: torch's global generator as it stands
    torch.manual_seed(0)
    assert all(torch.equal(p, q) for p, q in zip(free.parameters(), PixelCNN(K, SHAPE, channels=8).parameters()))
    with pytest.raises(ValueError, match="seed"):
        MADE(K, SHAPE, seed=-1)


def test_sampling_shapes_determinism_and_completion():
    model = GatedPixelCNN(K, SHAPE, channels=8, n_layers=2)
    s1 = model.sample(6, torch.Generator().manual_seed(1))
    s2 = model.sample(6, torch.Generator().manual_seed(1))
    assert s1.shape == (6, 4, 4) and s1.dtype == torch.long and torch.equal(s1, s2)
    assert ((s1 >= 0) & (s1 < K)).all()
    known = torch.zeros(SHAPE, dtype=torch.bool)
    known[:2] = True
    done = model.complete(s1, known, torch.Generator().manual_seed(2))
    assert torch.equal(done[:, :2], s1[:, :2])


def test_temperature_limits():
    logits = torch.tensor([[1.0, 3.0, -2.0, 2.9]])
    assert torch.equal(tempered_probs(logits, 1e-30), torch.tensor([[0.0, 1.0, 0.0, 0.0]]))
    assert torch.allclose(tempered_probs(logits, 1e6), torch.full((1, 4), 0.25), atol=1e-5)
    assert torch.allclose(tempered_probs(logits, 1.0), torch.softmax(logits, 1))
    model = PixelCNN(K, SHAPE, channels=8, n_layers=2)
    cold = model.sample(4, torch.Generator().manual_seed(0), temperature=1e-8)
    greedy = torch.zeros(4, *SHAPE, dtype=torch.long)
    for pos in range(16):  # greedy decoding, position by position
        greedy.view(4, -1)[:, pos] = model.logits(greedy).flatten(2)[:, :, pos].argmax(1)
    assert torch.equal(cold, greedy)
    hot = UnigramPrior(K, SHAPE).fit(torch.zeros(50, *SHAPE, dtype=torch.long))
    s = hot.sample(2000, torch.Generator().manual_seed(0), temperature=1e4)
    freq = torch.bincount(s.flatten(), minlength=K).float() / s.numel()
    assert (freq - 1 / K).abs().max() < 0.02  # uniform although the prior puts ~98% on code 0


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperature_raises(t):
    with pytest.raises(ValueError, match="temperature"):
        UniformPrior(K, SHAPE).sample(2, temperature=t)


def test_bad_arguments_raise_clear_errors():
    model = PixelCNN(K, SHAPE, channels=8, n_layers=2)
    with pytest.raises(ValueError, match=r"\[N, 4, 4\]"):
        model(torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        model(torch.full((2, 4, 4), 5))
    with pytest.raises(ValueError, match="integer code map"):
        model.check_codes(torch.zeros(2, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="3 dimensions"):
        model(torch.zeros(4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)
    with pytest.raises(TypeError, match="known"):
        model.complete(torch.zeros(1, 4, 4, dtype=torch.long), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="shape"):
        PixelCNN(K, (4,))
    with pytest.raises(ValueError, match="kernel_size"):
        GatedPixelCNN(K, SHAPE, kernel_size=2)
    with pytest.raises(ValueError, match="position"):
        receptive_field(model.logits, K, SHAPE, (4, 0))


def test_sample_quality_scores():
    from sklearn.linear_model import LogisticRegression

    from vqlab.metrics import sample_quality
    gen = torch.Generator().manual_seed(0)
    ref = torch.cat([torch.zeros(20, 4), torch.ones(20, 4)]) + 0.05 * torch.randn(40, 4, generator=gen)
    clf = LogisticRegression().fit(ref.numpy(), [0] * 20 + [1] * 20)
    q = sample_quality(clf.predict_proba(ref.numpy()), ref, ref)
    assert q["nn_distance"] == pytest.approx(0.0, abs=1e-9)
    assert q["class_entropy"] == pytest.approx(math.log(2)) and 0.5 < q["confidence"] <= 1.0
    far = ref + 3.0
    q_far = sample_quality(clf.predict_proba(far.numpy()), far, ref)
    assert q_far["nn_distance"] > 1.0 and q_far["class_entropy"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="together"):
        sample_quality(clf.predict_proba(ref.numpy()), ref)