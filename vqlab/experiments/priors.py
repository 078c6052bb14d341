"""Notebook 07: stage 1 (the code maps of a small conv VQ-VAE) and stage 2 (autoregressive priors fitted to
them, thesis §5.3), with the settings the notebook and ``scripts/07_prior_curves.py`` share.

Stage 1 trains the conv VQ-VAE of :func:`vqlab.models.build_vqvae` (K = 32 codes of dimension 8, an EMA
codebook started by k-means++, dead-code restarts) and turns every digit into a 4 x 4 code map. Stage 2 fits
each prior of :data:`PRIORS` to the training maps with :func:`vqlab.experiments.compare` (one factory per
prior, ``seed -> prior``) and measures it with :class:`PriorBits` (train and test NLL in bits per code).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vqlab._checks import check_int, check_tensor
from vqlab.experiments.driver import Trial
from vqlab.models import VQVAE, build_vqvae
from vqlab.priors import MADE, CodePrior, GatedPixelCNN, PixelCNN
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate, train

__all__ = ["NUM_CODES", "CODE_MAP_SHAPE", "STAGE_ONE_TRAINING", "PRIOR_TRAINING", "PRIORS", "StageOne", "stage_one",
           "PriorBits"]

NUM_CODES = 32
CODE_DIM = 8
CODE_MAP_SHAPE = (4, 4)
STAGE_ONE_TRAINING = {"epochs": 30, "batch_size": 64, "lr": 2e-3}
PRIOR_TRAINING = {"epochs": 20, "batch_size": 128, "lr": 3e-3}


def made_prior(seed: int) -> CodePrior:
    """MADE with one hidden layer of 256 units over the 4 x 4 maps (raster order)."""
    return MADE(NUM_CODES, CODE_MAP_SHAPE, hidden=(256,), seed=seed)


def pixelcnn_prior(seed: int) -> CodePrior:
    """Plain PixelCNN: 3 masked 3 x 3 convolutions (A, B, B) of 32 channels."""
    return PixelCNN(NUM_CODES, CODE_MAP_SHAPE, channels=32, kernel_size=3, n_layers=3, seed=seed)


def gated_prior(seed: int) -> CodePrior:
    """Gated PixelCNN: 3 gated layers (vertical and horizontal stacks) of 32 channels, 3 x 3 kernels."""
    return GatedPixelCNN(NUM_CODES, CODE_MAP_SHAPE, channels=32, kernel_size=3, n_layers=3, seed=seed)


PRIORS = {"MADE": made_prior, "PixelCNN": pixelcnn_prior, "gated PixelCNN": gated_prior}


@dataclass
class StageOne:
    """A trained ``vqvae``, the code maps of the training and test digits (``[N, 4, 4]`` long) and its test
    ``metrics`` (:func:`vqlab.train.evaluate`)."""

    vqvae: VQVAE
    codes_train: Tensor
    codes_test: Tensor
    metrics: dict[str, float]


def stage_one(x_train: Tensor, x_test: Tensor, seed: int = 0) -> StageOne:
    """Train the conv VQ-VAE on ``x_train`` ``[N, 1, 8, 8]`` (:data:`STAGE_ONE_TRAINING`) and encode both sets
    into code maps ``[N, 4, 4]`` (the nearest code of each latent vector, thesis §5.3)."""
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        if tuple(check_tensor(name, x, ndim=4).shape[1:]) != (1, 8, 8):
            raise ValueError(f"{name} must be digits [N, 1, 8, 8], got {tuple(x.shape)}")
    seed = check_int("seed", seed, 0)
    quantizer = VectorQuantizer(NUM_CODES, CODE_DIM, codebook_update="ema", init="kmeans++", restart_after=20)
    vqvae = build_vqvae(quantizer, arch="conv", channels=32, seed=seed)
    train(vqvae, x_train, **STAGE_ONE_TRAINING, seed=seed, progress=False)
    with torch.no_grad():
        codes_train, codes_test = (vqvae.quantize(vqvae.encode(x)).indices for x in (x_train, x_test))
    return StageOne(vqvae, codes_train, codes_test, evaluate(vqvae, x_test))


class PriorBits:
    """The measure of :func:`vqlab.experiments.compare` for priors: ``{"train_bits", "test_bits"}``, the NLL in
    bits per code of the training maps given here and of the test maps ``compare`` passes."""

    def __init__(self, codes_train: Tensor):
        self.codes_train = codes_train

    def __call__(self, trial: Trial, codes_test: Tensor) -> dict[str, float]:
        return {"train_bits": trial.model.bits_per_code(self.codes_train),
                "test_bits": trial.model.bits_per_code(codes_test)}
