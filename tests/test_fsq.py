import math

import pytest
import torch

from vqlab.metrics import perplexity
from vqlab.models import VQVAE
from vqlab.quantizers import FSQuantizer, QuantizerOutput

LEVELS = [(8, 5, 5, 5), (7, 5, 3), (4, 4), (2, 3, 6), (16,)]


@pytest.mark.parametrize("levels", LEVELS)
def test_number_of_codes_is_the_product_of_levels(levels):
    fsq = FSQuantizer(levels)
    assert fsq.num_codes == math.prod(levels) and fsq.code_dim == len(levels)
    assert fsq.codebook.shape == (math.prod(levels), len(levels))
    assert torch.unique(fsq.codebook, dim=0).shape[0] == math.prod(levels)  # all grid points distinct


@pytest.mark.parametrize("levels", LEVELS)
def test_every_index_round_trips_to_its_code(levels):
    fsq = FSQuantizer(levels)
    k = torch.arange(fsq.num_codes)
    digits = fsq.indices_to_digits(k)
    assert ((digits >= 0) & (digits < torch.tensor(levels))).all()
    assert torch.equal(fsq.digits_to_indices(digits), k)
    assert torch.equal(fsq.codes_to_indices(fsq.indices_to_codes(k)), k)
    # quantizing a grid point gives back the grid point and its id (the bound is invertible on the grid)
    grid = fsq.codebook
    pre = torch.atanh((grid * fsq._half_width + fsq._offset) / fsq._half_l) - fsq._shift
    out = fsq(pre)
    assert torch.equal(out.indices, k) and torch.allclose(out.z_q, grid, atol=1e-6)


@pytest.mark.parametrize("levels", LEVELS)
def test_values_lie_on_the_grid_in_the_unit_interval(levels):
    fsq = FSQuantizer(levels)
    z = 4 * torch.randn(2000, len(levels))
    out = fsq(z)
    assert (out.z_q.abs() <= 1).all()
    half = torch.tensor(levels) // 2
    scaled = out.z_q * half
    assert torch.equal(scaled, scaled.round())                         # integer multiples of 1/floor(L/2)
    assert (scaled >= -half).all() and (scaled <= torch.tensor(levels) - 1 - half).all()
    assert torch.equal(fsq.codebook[out.indices], out.z_q)             # indices name the output code
    # the code is the grid point nearest to the bounded value f(z) (rounding)
    assert ((fsq.bound(z) - scaled).abs() <= 0.5 + 1e-6).all()


def test_extreme_inputs_use_the_outermost_levels():
    fsq = FSQuantizer((4, 5))
    out = fsq(torch.tensor([[-50.0, -50.0], [50.0, 50.0]]))
    assert torch.equal(out.z_q, torch.tensor([[-1.0, -1.0], [0.5, 1.0]]))
    assert out.indices.tolist() == [0, fsq.num_codes - 1]


def test_straight_through_gradient_is_identity_on_the_bounded_value():
    fsq = FSQuantizer((8, 5, 5, 5))
    z = torch.randn(64, 4, requires_grad=True)
    upstream = torch.randn(64, 4)
    (fsq(z).z_q * upstream).sum().backward()
    zz = z.detach().clone().requires_grad_()
    ((fsq.bound(zz) / fsq._half_width) * upstream).sum().backward()   # rounding removed
    assert torch.allclose(z.grad, zz.grad, atol=1e-6)
    assert (z.grad != 0).all()


def test_interface_matches_the_other_quantizers():
    fsq = FSQuantizer((5, 3, 4))
    out = fsq(torch.randn(3, 6, 2, 3))
    assert isinstance(out, QuantizerOutput)
    assert out.z_q.shape == (3, 6, 2, 3) and out.indices.shape == (3, 6, 2) and out.indices.dtype == torch.long
    assert out.probs.shape == (3, 6, 2, 60)
    assert torch.equal(out.probs.argmax(-1), out.indices) and torch.equal(out.probs.sum(-1), torch.ones(3, 6, 2))
    assert out.counts.shape == (60,) and out.counts.sum() == 36
    assert torch.isclose(out.perplexity, perplexity(out.probs.reshape(-1, 60)))
    assert out.losses == {}
    assert not list(fsq.parameters()) and not fsq.state_dict()          # nothing learned, nothing saved


def test_drop_in_for_a_vqvae():
    torch.manual_seed(0)
    fsq = FSQuantizer((5, 5, 4))
    model = VQVAE(torch.nn.Linear(10, fsq.code_dim), fsq, torch.nn.Linear(fsq.code_dim, 10))
    out = model(torch.randn(32, 10))
    assert set(out.losses) == {"recon"}
    sum(out.losses.values()).backward()
    assert model.encoder.weight.grad.abs().sum() > 0                    # straight-through reaches the encoder
    x_hat = model.decode_indices(out.quant.indices)
    assert torch.allclose(x_hat, out.x_hat, atol=1e-6)


def test_float64_inputs_stay_float64():
    out = FSQuantizer((5, 3))(torch.randn(7, 2, dtype=torch.float64))
    assert out.z_q.dtype == torch.float64 and out.probs.dtype == torch.float64


@pytest.mark.parametrize("levels", [(), [], (1, 5), (5, 0), (5, 2.0), (5, "3"), (True, 5), 8, "85", None])
def test_bad_levels_raise_naming_levels(levels):
    with pytest.raises(ValueError, match="levels"):
        FSQuantizer(levels)


@pytest.mark.parametrize("eps", [-0.1, 1.0, float("nan")])
def test_bad_eps_raises(eps):
    with pytest.raises(ValueError, match="eps"):
        FSQuantizer((5, 5), eps=eps)


def test_latent_dim_must_match_the_number_of_levels():
    with pytest.raises(ValueError, match=r"z_e must have shape \[\.\.\., 3\].*levels=\(5, 5, 4\)"):
        FSQuantizer((5, 5, 4))(torch.randn(8, 4))


@pytest.mark.parametrize("levels", [(8, 5, 5, 5), (7, 5, 5, 5, 5), (4, 3), (16, 16)])
def test_agrees_with_vector_quantize_pytorch(levels):
    vqp = pytest.importorskip("vector_quantize_pytorch")
    peer = vqp.FSQ(levels=list(levels))
    ours = FSQuantizer(levels)
    z = 3 * torch.randn(4, 500, len(levels), generator=torch.Generator().manual_seed(1))
    z_peer, idx_peer = peer(z)                                            # peer layout [B, N, D]
    out = ours(z)
    assert torch.equal(out.indices, idx_peer.long())
    assert torch.allclose(out.z_q, z_peer, rtol=0, atol=1e-6)
    assert torch.equal(ours.codebook, peer.implicit_codebook)
    g_peer = torch.autograd.grad(peer(z.requires_grad_())[0].sum(), z)[0]
    g_ours = torch.autograd.grad(ours(z).z_q.sum(), z)[0]
    assert torch.allclose(g_ours, g_peer, atol=1e-6)
