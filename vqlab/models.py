"""Models: a plain autoencoder and the VQ-VAE, with one output type the training loop understands.

Every model's ``forward(x)`` returns a :class:`ModelOutput` whose ``losses`` dict holds the named,
already-weighted terms; the training loop minimises their sum and logs each one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch.nn.functional as F
from torch import Tensor, nn

from vqlab.quantizers import Quantizer, QuantizerOutput

__all__ = ["ModelOutput", "Autoencoder", "VQVAE", "reconstruction_loss"]


@dataclass
class ModelOutput:
    """``x_hat``: reconstruction (shape of ``x``); ``z_e``: encoder output; ``losses``: named terms,
    always including ``recon``; ``quant``: the quantizer's output (``None`` for continuous models)."""

    x_hat: Tensor
    z_e: Tensor
    losses: dict[str, Tensor] = field(default_factory=dict)
    quant: QuantizerOutput | None = None


def reconstruction_loss(x_hat: Tensor, x: Tensor) -> Tensor:
    """Mean squared error over all elements (a Gaussian log-likelihood up to constants, thesis §5.1)."""
    if x_hat.shape != x.shape:
        raise ValueError(f"reconstruction has shape {tuple(x_hat.shape)} but x has shape {tuple(x.shape)}; "
                         "does the decoder match the encoder's input?")
    return F.mse_loss(x_hat, x)


class Autoencoder(nn.Module):
    """Deterministic autoencoder ``x -> z = encoder(x) -> x_hat = decoder(z)``, loss = ``recon``."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> ModelOutput:
        z = self.encode(x)
        x_hat = self.decode(z)
        return ModelOutput(x_hat=x_hat, z_e=z, losses={"recon": reconstruction_loss(x_hat, x)})


class VQVAE(nn.Module):
    """VQ-VAE ``x -> z_e = encoder(x) -> quantizer(z_e) -> x_hat = decoder(z_q)`` (thesis eq. 5.4/5.5).

    The loss is ``recon + sum(quantizer losses)``. Any :class:`~vqlab.quantizers.Quantizer` works; the
    encoder must output ``[..., D]`` with D the quantizer's ``code_dim``.
    """

    def __init__(self, encoder: nn.Module, quantizer: Quantizer, decoder: nn.Module):
        super().__init__()
        self.encoder, self.quantizer, self.decoder = encoder, quantizer, decoder

    def encode(self, x: Tensor) -> Tensor:
        """``z_e = encoder(x)``, shape ``[..., D]``."""
        return self.encoder(x)

    def quantize(self, z_e: Tensor) -> QuantizerOutput:
        return self.quantizer(z_e)

    def decode(self, z_q: Tensor) -> Tensor:
        return self.decoder(z_q)

    def decode_indices(self, indices: Tensor) -> Tensor:
        """Decode hard code ids ``[...]`` (e.g. a code map) by looking up their codewords."""
        return self.decoder(self.quantizer.codebook[indices])

    def forward(self, x: Tensor) -> ModelOutput:
        z_e = self.encode(x)
        q = self.quantize(z_e)
        x_hat = self.decode(q.z_q)
        return ModelOutput(x_hat=x_hat, z_e=z_e, losses={"recon": reconstruction_loss(x_hat, x), **q.losses},
                           quant=q)
