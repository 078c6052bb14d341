"""IBQ (arXiv:2412.02692): straight-through on the softmax over all codes."""
import pytest
import torch
import torch.nn.functional as F

from vqlab.quantizers import IBQuantizer, VectorQuantizer


def _ibq(k: int = 12, d: int = 3, seed: int = 0) -> IBQuantizer:
    q = IBQuantizer(k, d, seed=seed)
    with torch.no_grad():
        q.weight.copy_(torch.randn(k, d, generator=torch.Generator().manual_seed(seed)))
    return q


def test_the_code_has_the_largest_inner_product_not_the_smallest_distance():
    q = IBQuantizer(2, 2)
    with torch.no_grad():
        q.weight.copy_(torch.tensor([[1.0, 0.0], [3.0, 0.0]]))
    out = q(torch.tensor([[1.0, 0.0]]))
    assert out.indices.item() == 1                                        # nearest is code 0; z . e_1 = 3 > 1
    assert torch.equal(out.z_q, torch.tensor([[3.0, 0.0]]))
    assert torch.allclose(out.probs, torch.softmax(torch.tensor([[1.0, 3.0]]), 1))


def test_forward_value_is_the_chosen_codeword():
    q = _ibq()
    z = torch.randn(50, 3)
    out = q(z)
    assert torch.equal(out.indices, (z @ q.codebook.t()).argmax(1))
    assert torch.allclose(out.z_q, q.codebook[out.indices], atol=1e-6)


def test_every_codeword_gets_a_gradient_from_the_decoder_input():
    q, plain = _ibq(), VectorQuantizer(12, 3)
    with torch.no_grad():
        plain.weight.copy_(q.weight)
    z = torch.randn(5, 3, requires_grad=True)                              # at most 5 of the 12 codes chosen
    g = torch.randn(5, 3)
    (grad_ibq,) = torch.autograd.grad((q(z).z_q * g).sum(), q.weight)
    assert (grad_ibq.norm(dim=1) > 0).all()
    (grad_vq,) = torch.autograd.grad((plain(z).z_q * g).sum(), plain.weight, allow_unused=True)
    assert grad_vq is None or grad_vq.abs().sum() == 0                     # straight-through: none


def test_gradients_are_those_of_the_posterior_mean_plus_the_chosen_codeword():
    """d z_q / d z_e goes through q = softmax(z . e) only (no straight-through copy to z_e); the codebook gets
    the posterior mean's gradient with the chosen codeword's weight 1 in place of q_k (value hard, slope soft)."""
    q = _ibq()
    z = torch.randn(20, 3, requires_grad=True)
    g = torch.randn(20, 3)
    gz, gw = torch.autograd.grad((q(z).z_q * g).sum(), [z, q.weight])
    z2 = z.detach().clone().requires_grad_()
    w2 = q.weight.detach().clone().requires_grad_()
    mean = torch.softmax(z2 @ w2.t(), 1) @ w2
    rz, rw = torch.autograd.grad((mean * g).sum(), [z2, w2])
    probs = torch.softmax(z2 @ w2.t(), 1).detach()
    hard = F.one_hot(probs.argmax(1), 12).float()
    assert torch.allclose(gz, rz, atol=1e-6) and torch.allclose(gw, rw + (hard - probs).t() @ g, atol=1e-5)
    assert not torch.allclose(gz, g)


def test_losses():
    q = _ibq()
    z = torch.randn(40, 3, requires_grad=True)
    out = q(z)
    chosen = q.codebook[out.indices].detach()
    assert torch.allclose(out.losses["codebook"], F.mse_loss(chosen, z.detach()))
    assert torch.allclose(out.losses["commitment"], 0.25 * out.losses["codebook"])
    assert torch.allclose(out.losses["double_quantization"], F.mse_loss(chosen, z.detach()))
    gz, gw = torch.autograd.grad(out.losses["commitment"], [z, q.weight], allow_unused=True)
    assert gz.abs().sum() > 0 and (gw is None or gw.abs().sum() == 0)     # beta on the encoder side
    gz, gw = torch.autograd.grad(q(z).losses["double_quantization"], [z, q.weight])
    assert gz.abs().sum() > 0 and (gw.norm(dim=1) > 0).all()              # through z_q: every code


def test_trains_inside_a_vqvae():
    from vqlab.data import load_digits
    from vqlab.models import build_vqvae
    from vqlab.train import train

    model = build_vqvae(IBQuantizer(16, 4, init="variance_scaling"), hidden=(32,), seed=0)
    history = train(model, load_digits().x_train[:256], epochs=3, batch_size=64, seed=0, progress=False,
                    device="cpu")
    assert history.epochs["recon"][-1] < history.epochs["recon"][0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta"):
        IBQuantizer(4, 2, beta=-1)
    with pytest.raises(ValueError, match="z_e"):
        IBQuantizer(4, 2)(torch.randn(3, 5))
