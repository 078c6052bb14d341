import pytest
import torch

from vqlab.models import VQVAE, Autoencoder, reconstruction_loss
from vqlab.nets import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from vqlab.quantizers import VectorQuantizer


def test_mlp_shapes():
    enc, dec = MLPEncoder(64, (4, 8), hidden=(32,)), MLPDecoder((4, 8), 64, hidden=(32,))
    z = enc(torch.rand(5, 64))
    assert z.shape == (5, 4, 8) and dec(z).shape == (5, 64)
    assert MLPEncoder(64, 3)(torch.rand(2, 1, 8, 8)).shape == (2, 3)  # images are flattened


def test_conv_shapes():
    enc, dec = ConvEncoder(latent_dim=6, n_down=1), ConvDecoder(latent_dim=6, n_up=1)
    z = enc(torch.rand(3, 1, 8, 8))
    assert z.shape == (3, 4, 4, 6)  # channels-last grid of latents
    assert dec(z).shape == (3, 1, 8, 8)
    assert ConvEncoder(latent_dim=2, n_down=2)(torch.rand(1, 1, 8, 8)).shape == (1, 2, 2, 2)


def test_clear_shape_errors():
    with pytest.raises(ValueError, match="64 features"):
        MLPEncoder(64, 3)(torch.rand(2, 10))
    with pytest.raises(ValueError, match=r"z must have shape \[N, 3\]"):
        MLPDecoder(3, 64)(torch.rand(2, 4))
    with pytest.raises(ValueError, match="images"):
        ConvEncoder()(torch.rand(2, 64))
    with pytest.raises(ValueError, match="channels-last"):
        ConvDecoder(latent_dim=4)(torch.rand(2, 4, 4, 5))
    with pytest.raises(ValueError, match="does the decoder match"):
        reconstruction_loss(torch.rand(2, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match="hidden"):
        MLPEncoder(64, 3, hidden=(0,))
    with pytest.raises(ValueError, match="output"):
        MLPDecoder(3, 64, output="relu")


def test_vqvae_losses_and_decode_indices():
    model = VQVAE(MLPEncoder(16, (2, 4)), VectorQuantizer(8, 4), MLPDecoder((2, 4), 16))
    x = torch.rand(6, 16)
    out = model(x)
    assert set(out.losses) == {"recon", "codebook", "commitment"}
    assert torch.allclose(model.decode_indices(out.quant.indices), out.x_hat, atol=1e-6)


def test_encoder_gradient_flows_through_straight_through():
    model = VQVAE(MLPEncoder(16, (2, 4)), VectorQuantizer(8, 4), MLPDecoder((2, 4), 16))
    out = model(torch.rand(6, 16))
    out.losses["recon"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())
    assert model.quantizer.codebook.grad is None  # recon reaches the codebook only via the codebook loss


def test_autoencoder_output():
    out = Autoencoder(MLPEncoder(16, 2), MLPDecoder(2, 16))(torch.rand(3, 16))
    assert out.quant is None and set(out.losses) == {"recon"}
