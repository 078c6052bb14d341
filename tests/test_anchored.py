"""CVQ-VAE's anchored re-initialisation (arXiv:2307.15139): running usage decides how far a code moves."""
import math

import pytest
import torch

from vqlab.quantizers import AnchoredQuantizer, VectorQuantizer


def _quantizer(anchor: str = "nearest") -> AnchoredQuantizer:
    q = AnchoredQuantizer(4, 2, anchor=anchor, decay=0.9)
    with torch.no_grad():
        q.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0], [-10.0, 5.0]]))
    return q


def test_an_unused_code_moves_onto_its_nearest_encoder_output():
    q = _quantizer()
    z = torch.tensor([[0.1, 0.0], [0.9, 0.1], [1.1, -0.1], [2.0, 2.0]])   # codes 0, 1, 1, 1: codes 2, 3 unused
    w0 = q.weight.detach().clone()
    out = q.train()(z)
    assert out.counts.tolist() == [1.0, 3.0, 0.0, 0.0]
    usage = 0.1 * out.counts / 4
    assert torch.allclose(q.usage, usage)
    alpha = torch.exp(-10 * 4 * usage / 0.1 - 1e-3)
    anchors = z[[0, 1, 3, 0]]                                               # nearest output of each code
    assert torch.allclose(q.weight, (1 - alpha[:, None]) * w0 + alpha[:, None] * anchors, atol=1e-6)
    assert torch.allclose(q.weight[2], z[3], atol=1e-2) and torch.allclose(q.weight[0], w0[0], atol=1e-4)


def test_a_code_used_at_the_uniform_rate_stays_put_and_eval_changes_nothing():
    q = _quantizer()
    with torch.no_grad():
        q.usage.fill_(0.25)
    z = torch.tensor([[0.0, 0.1], [1.0, 0.1], [9.0, 9.0], [-9.0, 5.0]])
    w0 = q.weight.detach().clone()
    q.eval()(z)
    assert torch.equal(q.weight, w0) and torch.equal(q.usage, torch.full((4,), 0.25))
    q.train()(z)                                                            # each code used once: u stays 0.25
    assert torch.allclose(q.usage, torch.full((4,), 0.25))
    assert torch.allclose(q.weight, w0)                                     # alpha = exp(-100): no move


def test_random_anchors_are_batch_outputs():
    q = _quantizer("random")
    z = torch.randn(16, 2) + 20.0                                           # all nearest to code 2
    out = q.train()(z)
    assert out.counts.tolist() == [0.0, 0.0, 16.0, 0.0]
    alpha = math.exp(-1e-3)
    w0 = _quantizer().weight.detach()
    anchors = (q.weight.detach() - (1 - alpha) * w0) / alpha
    assert all(bool((torch.cdist(anchors[k][None], z) < 1e-3).any()) for k in (0, 1, 3))
    assert not torch.equal(anchors[0], anchors[1])                         # drawn, not the nearest (the same)


def test_forward_is_vector_quantizers():
    q, vq = _quantizer(), VectorQuantizer(4, 2)
    with torch.no_grad():
        vq.weight.copy_(q.weight)
    z = torch.randn(10, 2, requires_grad=True)
    a, b = q.train()(z), vq(z)
    assert torch.equal(a.indices, b.indices) and torch.equal(a.z_q, b.z_q)
    assert all(torch.equal(a.losses[k], b.losses[k]) for k in b.losses)
    a.losses["codebook"].backward()                                        # the in-place move kept backward valid
    assert q.weight.grad is not None


def test_training_keeps_a_large_codebook_in_use():
    from vqlab.data import load_digits
    from vqlab.models import build_vqvae
    from vqlab.train import evaluate, train

    x = load_digits().x_train[:512]
    used = {}
    for name, q in (("anchored", AnchoredQuantizer(64, 4, seed=0)), ("plain", VectorQuantizer(64, 4, seed=0))):
        model = build_vqvae(q, hidden=(32,), latent_shape=(4, 4), seed=0)
        train(model, x, epochs=3, batch_size=64, seed=0, progress=False, device="cpu")
        used[name] = evaluate(model, x, device="cpu")["codes_used"]
    assert used["anchored"] > used["plain"] + 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="anchor"):
        AnchoredQuantizer(4, 2, anchor="closest")
    with pytest.raises(ValueError, match="decay"):
        AnchoredQuantizer(4, 2, decay=1.0)
