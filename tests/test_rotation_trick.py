import pytest
import torch

from vqlab.quantizers import VectorQuantizer, rotation_trick


def _pair(update: str, seed: int = 0) -> tuple[VectorQuantizer, VectorQuantizer]:
    plain = VectorQuantizer(16, 5, codebook_update=update, seed=seed)
    rot = VectorQuantizer(16, 5, codebook_update=update, seed=seed, rotation_trick=True)
    with torch.no_grad():
        rot.weight.copy_(plain.weight)
    return plain, rot


def _grad_ze(z_e: torch.Tensor, z_q: torch.Tensor, upstream: torch.Tensor) -> torch.Tensor:
    z = z_e.clone().requires_grad_()
    return torch.autograd.grad((rotation_trick(z, z_q) * upstream).sum(), z)[0]


@pytest.mark.parametrize("update", ["gradient", "ema"])
def test_forward_is_exactly_plain_vq(update):
    plain, rot = _pair(update)
    z = torch.randn(40, 5)
    a, b = plain(z), rot(z)
    assert torch.equal(a.z_q, b.z_q) and torch.equal(a.indices, b.indices) and torch.equal(a.probs, b.probs)
    assert a.losses.keys() == b.losses.keys() and all(torch.equal(a.losses[k], b.losses[k]) for k in a.losses)


def test_forward_value_is_the_straight_through_value_bit_for_bit():
    z_e, z_q = 1e3 * torch.randn(100, 7), torch.randn(100, 7)
    out = rotation_trick(z_e.requires_grad_(), z_q)
    assert torch.equal(out, z_e + (z_q - z_e).detach())
    assert torch.allclose(out, z_q, atol=1e-3)                            # z_q up to one rounding of z_e


def test_gradient_is_rotated_and_rescaled_by_the_norm_ratio():
    gen = torch.Generator().manual_seed(0)
    z_e, z_q, g = (torch.randn(200, 6, generator=gen, dtype=torch.float64) for _ in range(3))
    grad = _grad_ze(z_e, z_q, g)
    ratio = z_q.norm(dim=1) / z_e.norm(dim=1)
    assert torch.allclose(grad.norm(dim=1), ratio * g.norm(dim=1))       # R is orthogonal
    assert not torch.allclose(grad, g)                                    # unlike the straight-through copy
    # the upstream direction q = z_q/|z_q| is carried back onto e = z_e/|z_e| (R^T q = e)
    q = z_q / z_q.norm(dim=1, keepdim=True)
    e = z_e / z_e.norm(dim=1, keepdim=True)
    assert torch.allclose(_grad_ze(z_e, z_q, q), ratio[:, None] * e)
    # and angles between upstream gradients are preserved (a rotation, not just a rescaling)
    g2 = torch.randn(200, 6, generator=gen, dtype=torch.float64)
    grad2 = _grad_ze(z_e, z_q, g2)
    assert torch.allclose((grad * grad2).sum(1), ratio ** 2 * (g * g2).sum(1))


def test_gradient_matches_the_explicit_matrix():
    gen = torch.Generator().manual_seed(3)
    z_e, z_q, g = (torch.randn(4, generator=gen, dtype=torch.float64) for _ in range(3))
    e, q = z_e / z_e.norm(), z_q / z_q.norm()
    r = (e + q) / (e + q).norm()
    rot = torch.eye(4, dtype=torch.float64) - 2 * torch.outer(r, r) + 2 * torch.outer(q, e)
    assert torch.allclose(rot @ e, q) and torch.allclose(rot.T @ rot, torch.eye(4, dtype=torch.float64))
    expected = (z_q.norm() / z_e.norm()) * rot.T @ g
    assert torch.allclose(_grad_ze(z_e[None], z_q[None], g[None])[0], expected)


def test_leading_dimensions_are_rows():
    gen = torch.Generator().manual_seed(6)
    z_e, z_q, g = (torch.randn(3, 4, 5, generator=gen, dtype=torch.float64) for _ in range(3))
    flat = _grad_ze(z_e.reshape(-1, 5), z_q.reshape(-1, 5), g.reshape(-1, 5))
    assert torch.equal(_grad_ze(z_e, z_q, g).reshape(-1, 5), flat)


def test_same_direction_reduces_to_a_rescaled_copy():
    z_q = torch.randn(30, 5, dtype=torch.float64)
    z_e = 0.25 * z_q                                                      # already on the codeword's ray
    g = torch.randn(30, 5, dtype=torch.float64)
    assert torch.allclose(_grad_ze(z_e, z_q, g), 4.0 * g)                 # R = I, scale |z_q|/|z_e| = 4
    assert torch.allclose(_grad_ze(z_q, z_q, g), g)                       # z_e = z_q: straight-through


def test_degenerate_rows_give_finite_gradients():
    z_e = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1.0, -2.0, 0.5], [2.0, 0.0, 0.0]])
    z_q = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-2.0, 4.0, -1.0], [1.0, 1e-20, 0.0]])
    g = torch.randn(4, 3)
    grad = _grad_ze(z_e, z_q, g)
    assert torch.isfinite(grad).all()
    assert torch.equal(grad[:2], g[:2])                                   # zero norm: straight-through
    assert torch.allclose(grad[2].norm(), 2 * g[2].norm())               # antiparallel: a reflection, scale 2
    assert torch.allclose(grad[3], 0.5 * g[3])                            # (almost) parallel


@pytest.mark.parametrize("update", ["gradient", "ema"])
def test_quantizer_routes_rotated_gradient_and_keeps_loss_paths(update):
    plain, rot = _pair(update)
    z = torch.randn(50, 5)
    upstream = torch.randn(50, 5)
    za, zb = z.clone().requires_grad_(), z.clone().requires_grad_()
    a, b = plain(za), rot(zb)
    (a.z_q * upstream).sum().backward()
    (b.z_q * upstream).sum().backward()
    assert torch.equal(za.grad, upstream)
    w = plain.codebook.detach()[a.indices] if update == "gradient" else b.z_q.detach()
    assert torch.allclose(zb.grad, _grad_ze(z, w, upstream), atol=1e-6)
    if update == "gradient":
        assert rot.codebook.grad is None or torch.all(rot.codebook.grad == 0)  # decoder path skips codebook
        g_w = torch.autograd.grad(rot(z).losses["codebook"], rot.codebook)[0]
        assert g_w.abs().sum() > 0


def test_rotation_trick_must_be_bool():
    with pytest.raises(TypeError, match="rotation_trick"):
        VectorQuantizer(4, 2, rotation_trick=1)


def _peer_rotate():
    vqp = pytest.importorskip("vector_quantize_pytorch")
    module = vqp.vector_quantize_pytorch
    fn = getattr(module, "rotate_to", None) or getattr(module, "rotate_from_to", None)
    if fn is None:
        pytest.skip("this vector-quantize-pytorch has no rotate_to / rotate_from_to")
    return fn


def test_gradient_agrees_with_vector_quantize_pytorch_rotate_to():
    rotate_to = _peer_rotate()
    gen = torch.Generator().manual_seed(2)
    z_e, z_q, g = (torch.randn(300, 8, generator=gen) for _ in range(3))
    z = z_e.clone().requires_grad_()
    peer_out = rotate_to(z, z_q)
    g_peer = torch.autograd.grad((peer_out * g).sum(), z)[0]
    assert torch.allclose(peer_out, z_q, atol=1e-5)
    assert torch.allclose(_grad_ze(z_e, z_q, g), g_peer, rtol=1e-4, atol=1e-5)


def test_quantizer_agrees_with_vector_quantize_pytorch_module():
    vqp = pytest.importorskip("vector_quantize_pytorch")
    peer = vqp.VectorQuantize(dim=8, codebook_size=32, rotation_trick=True, learnable_codebook=True,
                              ema_update=False, commitment_weight=0.0, kmeans_init=False).train()
    ours = VectorQuantizer(32, 8, rotation_trick=True)
    with torch.no_grad():
        ours.weight.copy_(peer._codebook.embed[0])
    z = torch.randn(200, 8, generator=torch.Generator().manual_seed(4))
    g = torch.randn(200, 8, generator=torch.Generator().manual_seed(5))
    zp, zo = z.clone().requires_grad_(), z.clone().requires_grad_()
    quantize, idx, _ = peer(zp.unsqueeze(0))
    (quantize[0] * g).sum().backward()
    out = ours(zo)
    (out.z_q * g).sum().backward()
    assert torch.equal(out.indices, idx[0].long())
    assert torch.allclose(out.z_q, quantize[0], atol=1e-5)
    assert torch.allclose(zo.grad, zp.grad, rtol=1e-4, atol=1e-5)
