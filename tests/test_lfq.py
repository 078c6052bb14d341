"""LFQ (MAGVIT-v2, arXiv:2310.05737) and BSQ (arXiv:2406.07548): sign codes, entropy penalty, the sphere."""
import math

import pytest
import torch

from vqlab.quantizers import BSQuantizer, LFQuantizer, QuantizerOutput

CLASSES = [LFQuantizer, BSQuantizer]


def _brute_force_posterior(q: LFQuantizer, z: torch.Tensor) -> torch.Tensor:
    """softmax_k(-||u - c_k||^2 / tau) over the explicit codebook."""
    u = q.project(z)
    return torch.softmax(-torch.cdist(u, q.codebook).pow(2) / q.temperature, dim=1)


def test_codes_are_signs_read_as_a_binary_number_first_dimension_most_significant():
    q = LFQuantizer(3)
    out = q(torch.tensor([[0.5, -2.0, 0.1], [-1.0, -1.0, -1.0], [0.0, 3.0, -0.2], [1.0, 1.0, 1.0]]))
    assert out.indices.tolist() == [0b101, 0, 0b010, 0b111]               # zero counts as negative
    assert torch.equal(out.z_q, torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, -1.0], [-1.0, 1.0, -1.0],
                                              [1.0, 1.0, 1.0]]))
    assert torch.equal(q.codebook[out.indices], out.z_q)
    k = torch.arange(q.num_codes)
    assert torch.equal(q.bits_to_indices(q.indices_to_bits(k)), k)


@pytest.mark.parametrize("cls", CLASSES)
def test_interface_and_implicit_codebook(cls):
    q = cls(5)
    out = q(torch.randn(3, 4, 2, 5))
    assert isinstance(out, QuantizerOutput) and q.num_codes == 32
    assert out.z_q.shape == (3, 4, 2, 5) and out.indices.shape == (3, 4, 2) and out.probs.shape == (3, 4, 2, 32)
    assert out.counts.sum() == 24 and torch.equal(out.probs.argmax(-1), out.indices)
    assert q.codebook.shape == (32, 5) and len(torch.unique(q.codebook, dim=0)) == 32
    assert torch.allclose(q.codebook.abs(), torch.full((32, 5), q.scale))
    assert not list(q.parameters()) and not q.state_dict()


@pytest.mark.parametrize("cls", CLASSES)
def test_soft_assignment_is_the_softmax_over_all_codes(cls):
    """The factorized log-posterior is the brute-force softmax(-||u - c||^2 / tau) (a factor 2 or 4 off fails)."""
    for tau in (0.05, 1.0):
        q = cls(6, temperature=tau)
        z = torch.randn(40, 6, dtype=torch.float64).float()
        brute = _brute_force_posterior(q, z)
        assert torch.allclose(q.log_posterior(z).exp(), brute, atol=1e-5)
        assert torch.allclose(q.log_posterior(z).exp().sum(1), torch.ones(40), atol=1e-5)
        per_sample, batch = q.entropy_terms(z)
        h = -(brute * brute.clamp_min(1e-30).log()).sum(1).mean()
        mean = brute.mean(0)
        assert torch.allclose(per_sample, h, atol=1e-4)
        assert torch.allclose(batch, -(mean * mean.log()).sum(), atol=1e-4)
        assert torch.equal(q.log_posterior(z).argmax(1), q(z).indices)


@pytest.mark.parametrize("cls", CLASSES)
def test_losses(cls):
    q = cls(4, beta=0.5, weight=0.2, temperature=0.3)
    z = torch.randn(50, 4)
    out = q(z)
    per_sample, batch = q.entropy_terms(z)
    assert torch.allclose(out.losses["entropy"], 0.2 * (per_sample - batch))
    assert torch.allclose(out.losses["commitment"], 0.5 * (q.project(z) - out.z_q).pow(2).mean())
    assert 0 <= per_sample <= 4 * math.log(2) + 1e-5 and 0 <= batch <= 4 * math.log(2) + 1e-5


def test_the_entropy_penalty_spreads_a_collapsed_batch_over_the_codes():
    """A batch whose latents all have the same signs uses one code; descending the entropy penalty alone
    (weight 1) makes the batch use many codes (a sign error on H(q_bar) would keep it at one)."""
    q = LFQuantizer(4, beta=0.0, weight=1.0, temperature=1.0)
    z = (torch.tensor([0.3, 0.3, 0.3, 0.3]) + 0.05 * torch.randn(256, 4)).requires_grad_()
    assert int((q(z).counts > 0).sum()) == 1
    opt = torch.optim.SGD([z], lr=2.0)
    for _ in range(200):
        opt.zero_grad()
        q(z).losses["entropy"].backward()
        opt.step()
    out = q(z)
    assert int((out.counts > 0).sum()) == 16 and float(out.perplexity) > 8


@pytest.mark.parametrize("cls", CLASSES)
def test_straight_through(cls):
    z = torch.randn(30, 6, requires_grad=True)
    q = cls(6)
    g = torch.randn(30, 6)
    (grad,) = torch.autograd.grad((q(z).z_q * g).sum(), z)
    u = z.detach().clone().requires_grad_()
    (expected,) = torch.autograd.grad((q.project(u) * g).sum(), u)        # d z_q / d z = d u / d z
    assert torch.allclose(grad, expected, atol=1e-6)


def test_bsq_codes_lie_on_the_unit_sphere_and_ignore_the_scale_of_z():
    q = BSQuantizer(8)
    z = torch.randn(100, 8)
    out, scaled = q(z), q(7.5 * z)
    assert torch.allclose(out.z_q.norm(dim=1), torch.ones(100), atol=1e-6)
    assert torch.allclose(q.codebook.norm(dim=1), torch.ones(256))
    assert torch.equal(out.indices, scaled.indices) and torch.allclose(out.z_q, scaled.z_q, atol=1e-6)
    zz = z.clone().requires_grad_()
    (grad,) = torch.autograd.grad((q(zz).z_q * torch.randn(100, 8)).sum(), zz)
    assert torch.allclose((grad * z).sum(1), torch.zeros(100), atol=1e-5)   # through z / ||z||: orthogonal to z
    assert torch.isfinite(q(torch.zeros(2, 8)).z_q).all()


@pytest.mark.parametrize("spherical", [False, True])
def test_agrees_with_vector_quantize_pytorch(spherical):
    vqp = pytest.importorskip("vector_quantize_pytorch")
    peer = vqp.LFQ(dim=8, codebook_size=256, entropy_loss_weight=0.1, commitment_loss_weight=0.25,
                   spherical=spherical).train()
    ours = (BSQuantizer if spherical else LFQuantizer)(8, beta=0.25, weight=0.1, temperature=0.01).train()
    z = torch.randn(4, 60, 8, generator=torch.Generator().manual_seed(3))
    zp, zo = z.clone().requires_grad_(), z.clone().requires_grad_()
    (q_peer, idx_peer, aux), parts = peer(zp, return_loss_breakdown=True)
    out = ours(zo)
    assert torch.equal(out.indices, idx_peer)
    assert torch.allclose(out.z_q, q_peer, atol=1e-6)
    assert torch.allclose(ours.codebook, peer.maybe_l2norm(peer.codebook), atol=1e-6)
    assert torch.allclose(out.losses["commitment"], 0.25 * parts.commitment)
    per_sample, batch = ours.entropy_terms(z.reshape(-1, 8))
    # the peer clamps probabilities at 1e-5 inside its logarithms; the entropies agree to that precision
    assert abs(per_sample - parts.per_sample_entropy) < 1e-3 and abs(batch - parts.batch_entropy) < 1e-3
    (q_peer.sum()).backward()
    (out.z_q.sum()).backward()
    assert torch.allclose(zo.grad, zp.grad, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="code_dim"):
        LFQuantizer(17)
    with pytest.raises(ValueError, match="temperature"):
        BSQuantizer(4, temperature=0.0)
    with pytest.raises(ValueError, match="weight"):
        LFQuantizer(4, weight=-1.0)
    with pytest.raises(ValueError, match="z_e"):
        LFQuantizer(4)(torch.randn(2, 3))
