"""Models: a plain autoencoder and the VQ-VAE, with one output type the training loop understands.

:func:`build_vqvae` is the one place that builds the course's standard digits VQ-VAEs (MLP on flat
8x8 digits, conv on 1x8x8 images) around any quantizer.

Every model's ``forward(x)`` returns a :class:`ModelOutput` whose ``losses`` dict holds the named,
already-weighted terms; the training loop minimises their sum and logs each one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int
from vqlab.nets import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from vqlab.quantizers import FSQuantizer, LFQuantizer, Quantizer, QuantizerOutput, SoftVectorQuantizer
from vqlab.train import seed_everything

__all__ = [
    "ModelOutput",
    "reconstruction_loss",
    "Autoencoder",
    "VQVAE",
    "SoftVQVAE",
    "VAE",
    "ARCHS",
    "build_vqvae",
]


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


# ---- Notebook 03: soft VQ-VAE and the bottleneck zoo (Wu & Flierl 2020) ----



def _split_last(name: str, h: Tensor, first: int, second: int) -> tuple[Tensor, Tensor]:
    """Split an encoder output ``[..., first + second]`` into ``[..., first]`` and ``[..., second]``."""
    if h.shape[-1] != first + second:
        raise ValueError(f"{name} must output [..., {first} + {second}] = [..., {first + second}], "
                         f"got shape {tuple(h.shape)}")
    return h[..., :first], h[..., first:]


class SoftVQVAE(VQVAE):
    """Soft VQ-VAE (Wu & Flierl 2020, Fig. 2): the encoder has two output heads, ``z_e`` of size d and the
    K component log-variances ``log sigma_k^2`` (paper, "Model Implementation"), given here as one encoder
    output ``[..., d + K]`` (one linear layer of width d + K is exactly two separate linear heads).

    ``forward(x)``: split, ``quantizer(z_e, log_var=...)`` (a
    :class:`~vqlab.quantizers.SoftVectorQuantizer`), decode the posterior mean; loss = eq. 27
    (``recon`` + the quantizer's ``codebook`` and ``commitment``). ``encode(x)`` returns only ``z_e``
    ``[..., d]`` (the representation used for downstream tasks); ``encode_log_var(x)`` the other head.
    """

    def _heads(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return _split_last("encoder", self.encoder(x), self.quantizer.code_dim, self.quantizer.num_codes)

    def encode(self, x: Tensor) -> Tensor:
        """``z_e`` ``[..., d]``."""
        return self._heads(x)[0]

    def encode_log_var(self, x: Tensor) -> Tensor:
        """The component log-variances ``[..., K]`` of the encoder's second head."""
        return self._heads(x)[1]

    def forward(self, x: Tensor) -> ModelOutput:
        z_e, log_var = self._heads(x)
        q = self.quantizer(z_e, log_var=log_var)
        x_hat = self.decode(q.z_q)
        return ModelOutput(x_hat=x_hat, z_e=z_e, losses={"recon": reconstruction_loss(x_hat, x), **q.losses},
                           quant=q)


class VAE(nn.Module):
    """Gaussian VAE / beta-VAE (Kingma & Welling 2014; Higgins et al. 2017) with the soft VQ-VAE paper's
    bottleneck layout: the encoder outputs ``[..., 2d]``, the mean ``mu`` and the log-variance
    ``log s^2`` of ``q(z|x) = N(mu, diag s^2)``; training decodes ``z = mu + s * eps`` (reparameterisation,
    torch's global RNG, seeded by ``train``), eval mode decodes ``mu``.

    Losses (per element, so they add to the MSE ``recon`` of every vqlab model)::

        kl = kl_weight * KL(q(z|x) || N(0, I)) / P,   KL = 1/2 sum_j (mu_j^2 + s_j^2 - log s_j^2 - 1)

    averaged over the batch, with ``P`` the number of input elements per example. With ``recon`` = MSE
    this is the negative ELBO / P of a Gaussian decoder of variance 1/2 for ``kl_weight = 1``; a weight
    above 1 is the beta-VAE's beta (named ``kl_weight`` here: ``beta`` is the VQ commitment weight).
    ``encode(x)`` returns ``mu`` (used for downstream tasks).

    Args:
        encoder: maps ``x`` to ``[N, 2d]``. decoder: maps ``[N, d]`` to the shape of ``x``.
        latent_dim: d. kl_weight: the KL weight (the beta-VAE's beta) >= 0.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int, kl_weight: float = 1.0):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.kl_weight = check_float("kl_weight", kl_weight, 0.0)

    def encode_stats(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, log s^2)``, each ``[N, d]``; the log-variance is clamped to [-30, 20]."""
        mu, log_var = _split_last("encoder", self.encoder(x), self.latent_dim, self.latent_dim)
        return mu, log_var.clamp(-30.0, 20.0)

    def encode(self, x: Tensor) -> Tensor:
        """The posterior mean ``mu`` ``[N, d]``."""
        return self.encode_stats(x)[0]

    def forward(self, x: Tensor) -> ModelOutput:
        mu, log_var = self.encode_stats(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu) if self.training else mu
        x_hat = self.decoder(z)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - log_var - 1.0).reshape(len(mu), -1).sum(1).mean()
        n_elem = x[0].numel()
        return ModelOutput(x_hat=x_hat, z_e=mu, losses={"recon": reconstruction_loss(x_hat, x),
                                                          "kl": self.kl_weight * kl / n_elem})


# ---- The standard digits VQ-VAEs (notebooks 01, 02, 03, 04, 06, 07) ----

#: Architectures of :func:`build_vqvae`.
ARCHS = ("mlp", "conv")


def build_vqvae(quantizer: Quantizer | FSQuantizer | LFQuantizer, *, arch: str = "mlp", in_dim: int = 64,
                latent_shape: int | tuple[int, ...] | None = None, hidden: tuple[int, ...] = (128, 64),
                channels: int = 32, in_channels: int = 1, n_down: int = 1, variance_head: bool = True,
                seed: int = 0) -> VQVAE:
    """The standard digits VQ-VAE around ``quantizer`` (its ``code_dim`` D fixes the latent width), any
    :class:`~vqlab.quantizers.Quantizer`, an :class:`~vqlab.quantizers.FSQuantizer` (D = ``len(levels)``) or an
    :class:`~vqlab.quantizers.LFQuantizer` / :class:`~vqlab.quantizers.BSQuantizer` (K = 2^D).

    ``arch="mlp"`` (flat inputs ``[N, in_dim]``): ``MLPEncoder(in_dim -> hidden -> latent_shape)`` and the
    mirrored ``MLPDecoder`` (``hidden`` reversed). ``latent_shape`` defaults to ``D`` (one code per image);
    ``(M, D)`` gives M codes per image. With a :class:`~vqlab.quantizers.SoftVectorQuantizer` the encoder
    gets the second head of K log-variances (output ``D + K``) and the model is a :class:`SoftVQVAE`;
    ``variance_head=False`` leaves the head out: the model is a plain :class:`VQVAE` and the components use
    the quantizer's own learned log-variances ``log_var [K]``, the same for every input (notebook 08).

    ``arch="conv"`` (images ``[N, in_channels, H, W]``): ``ConvEncoder`` with ``channels`` channels and
    ``n_down`` stride-2 steps (8x8 digits -> a 4x4 grid of D-dim latents for ``n_down=1``) and the mirrored
    ``ConvDecoder``. The conv encoder has no variance head: a ``SoftVectorQuantizer`` needs
    ``variance_head=False`` there.

    The network weights are drawn from torch's global RNG seeded here with ``seed``
    (:func:`vqlab.train.seed_everything`); the quantizer keeps its own generator (its ``seed`` argument).
    """
    if not isinstance(quantizer, (Quantizer, FSQuantizer, LFQuantizer)):
        raise TypeError("quantizer must be a vqlab.quantizers.Quantizer, FSQuantizer or LFQuantizer, "
                        f"got {type(quantizer).__name__}")
    arch = check_choice("arch", arch, ARCHS)
    if not isinstance(variance_head, bool):
        raise TypeError(f"variance_head must be a bool, got {variance_head!r}")
    seed_everything(check_int("seed", seed, 0))
    d = quantizer.code_dim
    soft = isinstance(quantizer, SoftVectorQuantizer) and variance_head
    if arch == "conv":
        if soft:
            raise ValueError("arch='conv' has no variance head: use arch='mlp' with a SoftVectorQuantizer, "
                             "or variance_head=False (the quantizer's own per-code log-variances)")
        return VQVAE(ConvEncoder(in_channels, d, channels, n_down), quantizer,
                     ConvDecoder(in_channels, d, channels, n_down))
    hidden = tuple(hidden)
    shape = d if latent_shape is None else latent_shape
    if (shape if isinstance(shape, int) else shape[-1]) != d:
        raise ValueError(f"latent_shape must end in the quantizer's code_dim {d}, got {latent_shape!r}")
    if soft:
        if not isinstance(shape, int):
            raise ValueError("a SoftVectorQuantizer needs one code per image: leave latent_shape unset")
        return SoftVQVAE(MLPEncoder(in_dim, d + quantizer.num_codes, hidden), quantizer,
                         MLPDecoder(d, in_dim, hidden[::-1]))
    return VQVAE(MLPEncoder(in_dim, shape, hidden), quantizer, MLPDecoder(shape, in_dim, hidden[::-1]))
