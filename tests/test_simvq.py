"""SimVQ (arXiv:2411.02038): hard VQ on the codebook C W^T, C frozen, W learned."""
import pytest
import torch

from vqlab.quantizers import SimVQuantizer, VectorQuantizer


def test_codebook_is_the_frozen_basis_times_the_learned_map():
    q = SimVQuantizer(32, 4, seed=3)
    assert [name for name, _ in q.named_parameters()] == ["projection.weight"]
    assert "weight" in dict(q.named_buffers()) and not q.basis.requires_grad
    assert torch.allclose(q.codebook, q.basis @ q.projection.weight.t())
    assert abs(q.basis.var().item() - 1 / 4) < 0.08                        # N(0, 1/D)
    again = SimVQuantizer(32, 4, seed=3)
    assert torch.equal(again.basis, q.basis) and torch.equal(again.projection.weight, q.projection.weight)


def test_codes_are_the_nearest_codewords_of_the_mapped_codebook_not_of_the_basis():
    q = SimVQuantizer(64, 3, seed=0)
    with torch.no_grad():
        q.projection.weight.copy_(torch.tensor([[0.0, -2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.5]]))
    z = torch.randn(200, 3)
    out = q(z)
    d = torch.cdist(z, q.codebook)
    assert torch.equal(out.indices, d.argmin(1))
    assert not torch.equal(out.indices, torch.cdist(z, q.basis).argmin(1))   # the basis alone picks others
    assert torch.allclose(out.z_q, q.codebook[out.indices], atol=1e-6)


def test_one_used_code_moves_every_codeword():
    """The codebook loss of the codes in use is a gradient on W: all K codewords move (plain VQ moves one)."""
    torch.manual_seed(0)
    sim, plain = SimVQuantizer(16, 3, seed=1), VectorQuantizer(16, 3, seed=1)
    z = torch.full((8, 3), 2.0) + 0.01 * torch.randn(8, 3)                 # one cluster: one code in use
    for q in (sim, plain):
        before = q.codebook.detach().clone()
        out = q(z)
        out.losses["codebook"].backward()
        with torch.no_grad():
            for p in q.parameters():
                p -= 0.1 * p.grad
        moved = (q.codebook.detach() - before).norm(dim=1) > 1e-6
        assert int((out.counts > 0).sum()) == 1
        assert int(moved.sum()) == (16 if q is sim else 1)
    assert sim.basis.grad is None


def test_losses_and_gradients_are_vector_quantizers_on_the_same_codebook():
    sim = SimVQuantizer(20, 4, seed=2)
    vq = VectorQuantizer(20, 4)
    with torch.no_grad():
        vq.weight.copy_(sim.codebook)
    z = torch.randn(30, 4)
    a, b = sim(z.clone().requires_grad_()), vq(z)
    assert torch.equal(a.indices, b.indices)
    for k in ("codebook", "commitment"):
        assert torch.allclose(a.losses[k], b.losses[k])
    zz = z.clone().requires_grad_()
    g = torch.randn(30, 4)
    (grad,) = torch.autograd.grad((sim(zz).z_q * g).sum(), zz)
    assert torch.equal(grad, g)                                            # straight-through
    rot = SimVQuantizer(20, 4, seed=2, rotation_trick=True)
    (grad_rot,) = torch.autograd.grad((rot(zz).z_q * g).sum(), zz)
    assert not torch.allclose(grad_rot, g)


def test_a_trained_model_keeps_the_basis_and_learns_the_map():
    from vqlab.data import load_digits
    from vqlab.models import build_vqvae
    from vqlab.train import train

    q = SimVQuantizer(32, 4, seed=0)
    basis, w = q.basis.clone(), q.projection.weight.detach().clone()
    model = build_vqvae(q, hidden=(32,), seed=0)
    train(model, load_digits().x_train[:256], epochs=1, batch_size=64, seed=0, progress=False, device="cpu")
    assert torch.equal(q.basis, basis) and not torch.allclose(q.projection.weight, w)


def test_agrees_with_vector_quantize_pytorch():
    vqp = pytest.importorskip("vector_quantize_pytorch")
    peer = vqp.SimVQ(dim=4, codebook_size=128, rotation_trick=False, input_to_quantize_commit_loss_weight=0.25,
                     commitment_weight=1.0)
    ours = SimVQuantizer(128, 4, beta=0.25)
    with torch.no_grad():
        ours.weight.copy_(peer.frozen_codebook)
        ours.projection.weight.copy_(peer.code_transform.weight)
    z = torch.randn(3, 200, 4, generator=torch.Generator().manual_seed(1))
    zp, zo = z.clone().requires_grad_(), z.clone().requires_grad_()
    q_peer, idx_peer, loss_peer = peer(zp)
    out = ours(zo)
    assert torch.equal(out.indices, idx_peer) and torch.allclose(out.z_q, q_peer, atol=1e-6)
    loss = sum(out.losses.values())
    assert torch.allclose(loss, loss_peer, atol=1e-6)                      # codebook + 0.25 commitment
    (loss + out.z_q.sum()).backward()
    (loss_peer + q_peer.sum()).backward()
    assert torch.allclose(zo.grad, zp.grad, atol=1e-6)
    assert torch.allclose(ours.projection.weight.grad, peer.code_transform.weight.grad, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(TypeError, match="rotation_trick"):
        SimVQuantizer(4, 2, rotation_trick="yes")
    with pytest.raises(ValueError, match="num_codes"):
        SimVQuantizer(0, 2)
