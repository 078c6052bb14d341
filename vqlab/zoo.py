"""A bottleneck zoo: one shared MLP encoder/decoder, only the bottleneck differs (Wu & Flierl 2020, Table 1).

``compare_bottlenecks(data, seeds)`` trains every bottleneck with :func:`vqlab.train.train`, extracts the
test (and train) latents ``z_e`` and scores them with :func:`vqlab.metrics.downstream_scores` (k-means
clustering accuracy and NMI on the test latents, a softmax classifier trained on the train latents),
then returns mean ± std over seeds as a plain dict; :func:`format_table` prints it next to the paper's
MNIST numbers. The same function runs from the notebook (embedded digits) and from the command line for
readers who have MNIST::

    python -m vqlab.zoo --dataset mnist --root ~/.cache/vqlab/mnist --seeds 0 1 2 --epochs 30

Bottlenecks (``BOTTLENECKS``): ``"ae"`` plain autoencoder; ``"vae"`` VAE; ``"beta_vae"`` beta-VAE;
``"vq"`` hard VQ-VAE; ``"soft_vq"`` soft VQ-VAE. For VAE/beta-VAE the encoder's last layer has 2d
outputs (mean, log-variance), for soft VQ-VAE d + K (z_e, component log-variances), as in the paper's
"Model Implementation"; the hidden layers are identical for all.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int
from vqlab.data import ImageData, load_digits, load_fashion_mnist, load_mnist
from vqlab.metrics import downstream_scores, kmeans_scores, linear_probe
from vqlab.models import VAE, VQVAE, Autoencoder, SoftVQVAE
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.quantizers import SoftVectorQuantizer, VectorQuantizer
from vqlab.train import seed_everything, train

__all__ = ["BOTTLENECKS", "LABELS", "METRICS", "PAPER_TABLE1", "ZooConfig", "build_bottleneck", "latents",
           "compare_bottlenecks", "format_table", "main"]

#: Bottleneck names, in table order.
BOTTLENECKS = ("ae", "vae", "beta_vae", "vq", "soft_vq")
#: Row labels used in tables.
LABELS = {"raw": "Raw data (pixels)", "ae": "Baseline autoencoder", "vae": "VAE", "beta_vae": "beta-VAE",
          "vq": "VQ-VAE", "soft_vq": "Soft VQ-VAE"}
#: The three downstream scores of Table 1.
METRICS = ("clustering", "nmi", "classification")
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
        epochs, batch_size, lr: training (``vqlab.train.train``).
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
    n_init: int = 100

    def __post_init__(self) -> None:
        check_int("latent_dim", self.latent_dim)
        self.hidden = tuple(check_int("hidden", h) for h in self.hidden)
        check_int("num_codes", self.num_codes)
        check_float("init_log_var", self.init_log_var)
        for name in ("vq_beta", "noise_std", "vae_beta", "beta_vae_beta"):
            check_float(name, getattr(self, name), 0.0)
        check_choice("vq_init", self.vq_init, ("uniform", "kmeans++"))
        check_int("epochs", self.epochs)
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
    seed_everything(check_int("seed", seed, 0))
    d, k, hidden = cfg.latent_dim, cfg.num_codes, cfg.hidden
    head = {"ae": d, "vae": 2 * d, "beta_vae": 2 * d, "vq": d, "soft_vq": d + k}[name]
    encoder = MLPEncoder(in_dim, head, hidden)
    decoder = MLPDecoder(d, in_dim, hidden[::-1])
    if name == "ae":
        return Autoencoder(encoder, decoder)
    if name in ("vae", "beta_vae"):
        beta = cfg.vae_beta if name == "vae" else cfg.beta_vae_beta
        return VAE(encoder, decoder, d, beta=beta * data_variance)
    if name == "vq":
        return VQVAE(encoder, VectorQuantizer(k, d, beta=cfg.vq_beta, init=cfg.vq_init, seed=seed), decoder)
    quantizer = SoftVectorQuantizer(k, d, beta=cfg.vq_beta, noise_std=cfg.noise_std, init=cfg.vq_init,
                                    straight_through=cfg.straight_through, normalization=cfg.normalization,
                                    init_log_var=cfg.init_log_var, seed=seed)
    return SoftVQVAE(encoder, quantizer, decoder)


@torch.no_grad()
def latents(model: nn.Module, x: Tensor, batch_size: int = 1024) -> Tensor:
    """The representation the paper evaluates: ``model.encode(x)`` in eval mode (``z_e`` before any
    quantizer or noise; the posterior mean for the VAE), flattened to ``[N, d]``."""
    was_training = model.training
    model.eval()
    z = torch.cat([model.encode(xb).reshape(len(xb), -1) for xb in x.split(batch_size)])
    model.train(was_training)
    return z


def _summary(values: list[float]) -> dict[str, object]:
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0, "values": list(a)}


def compare_bottlenecks(data: ImageData, seeds: Sequence[int] = (0, 1, 2),
                        bottlenecks: Sequence[str] = BOTTLENECKS, config: ZooConfig | None = None,
                        include_raw: bool = True, keep_latents: bool = True,
                        progress: bool = False) -> dict[str, object]:
    """Train every bottleneck on ``data.x_train`` for every seed and score its latents (Table 1).

    Args:
        data: an :class:`~vqlab.data.ImageData` (flat inputs ``[N, P]``, labels ``[N]``).
        seeds: one training run (and one k-means seed) per seed, at least one.
        bottlenecks: a subset of :data:`BOTTLENECKS`.
        config: :class:`ZooConfig` (default values if ``None``).
        include_raw: add the ``"raw"`` row (k-means and the softmax classifier on pixels).
        keep_latents: keep the test latents ``[N_test, d]`` of the first seed (for t-SNE pictures).
        progress: print one line per finished run.
    Returns:
        ``{"rows": {name: {metric: {"mean", "std", "values"}}}, "recon": {name: [test MSE per seed]},
        "metrics": METRICS, "seeds": [...], "config": dict, "latents": {name: Tensor},
        "y_test": Tensor, "seconds": float}``. Scores are in [0, 1] (the table prints % like the paper).
    """
    if not isinstance(data, ImageData):
        raise TypeError(f"data must be a vqlab.data.ImageData, got {type(data).__name__}")
    seeds = [check_int("seeds", s, 0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    bottlenecks = [check_choice("bottlenecks", b, BOTTLENECKS) for b in bottlenecks]
    cfg = config or ZooConfig()
    start = time.perf_counter()
    x_train, x_test = data.x_train.reshape(len(data.x_train), -1), data.x_test.reshape(len(data.x_test), -1)
    data_variance = float(x_train.var())
    scores: dict[str, dict[str, list[float]]] = {}
    recon: dict[str, list[float]] = {}
    kept: dict[str, Tensor] = {}
    if include_raw:
        probe = linear_probe(x_train, data.y_train, x_test, data.y_test)
        scores["raw"] = {m: [] for m in METRICS}
        for seed in seeds:
            s = kmeans_scores(x_test, data.y_test, n_init=cfg.n_init, seed=seed)
            for m in METRICS:
                scores["raw"][m].append(s.get(m, probe))
    for name in bottlenecks:
        scores[name], recon[name] = {m: [] for m in METRICS}, []
        for seed in seeds:
            model = build_bottleneck(name, x_train.shape[1], cfg, seed, data_variance)
            train(model, x_train, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, seed=seed,
                  progress=False)
            z_tr, z_te = latents(model, x_train), latents(model, x_test)
            with torch.no_grad():
                recon[name].append(float(model(x_test).losses["recon"]))
            s = downstream_scores(z_tr, data.y_train, z_te, data.y_test, n_init=cfg.n_init, seed=seed)
            for m in METRICS:
                scores[name][m].append(s[m])
            if keep_latents and seed == seeds[0]:
                kept[name] = z_te
            if progress:
                print(f"{name:>9} seed {seed}: " + ", ".join(f"{m} {s[m]:.3f}" for m in METRICS), flush=True)
    return {"rows": {n: {m: _summary(v) for m, v in s.items()} for n, s in scores.items()},
            "recon": recon, "metrics": METRICS, "seeds": seeds, "config": asdict(cfg), "latents": kept,
            "y_test": data.y_test, "seconds": time.perf_counter() - start}


def format_table(result: dict[str, object], reference: dict[str, tuple[float, float, float]] | None = None,
                 digits: int = 1) -> str:
    """A text table of :func:`compare_bottlenecks`'s result: mean ± std over seeds (accuracies in %,
    NMI in [0, 1]) and, if ``reference`` is given (e.g. :data:`PAPER_TABLE1`), the paper's numbers beside
    them."""
    rows = result.get("rows") if isinstance(result, dict) else None
    if not isinstance(rows, dict):
        raise ValueError("result must be the dict returned by compare_bottlenecks (it has no 'rows')")

    def cell(m: str, stats: dict) -> str:
        scale, nd = (1.0, digits + 2) if m == "nmi" else (100.0, digits)
        return f"{scale * stats['mean']:.{nd}f} ± {scale * stats['std']:.{nd}f}"

    head = ["model", "clustering %", "NMI", "classification %"]
    if reference is not None:
        head += ["paper clust. %", "paper NMI", "paper class. %"]
    lines = []
    for name, stats in rows.items():
        line = [LABELS.get(name, name)] + [cell(m, stats[m]) for m in METRICS]
        if reference is not None:
            ref = reference.get(name)
            line += ["-"] * 3 if ref is None else [f"{ref[0]:.2f}", f"{ref[1]:.4f}", f"{ref[2]:.2f}"]
        lines.append(line)
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

    def fmt(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    n = len(result.get("seeds", []))
    return "\n".join([fmt(head), "-" * (sum(widths) + 2 * (len(widths) - 1)), *map(fmt, lines),
                      f"(mean ± std over {n} seed{'s' * (n != 1)})"])


def main(argv: Sequence[str] | None = None) -> str:
    """Command line: ``python -m vqlab.zoo --dataset {digits,mnist,fashion-mnist} [--root DIR]
    [--seeds 0 1 2] [--epochs N] [--latent-dim d] [--num-codes K] ...``; prints and returns the table."""
    p = argparse.ArgumentParser(prog="python -m vqlab.zoo", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="digits", choices=("digits", "mnist", "fashion-mnist"))
    p.add_argument("--root", default=None, help="folder with the four IDX files (MNIST/Fashion-MNIST)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--bottlenecks", nargs="+", default=list(BOTTLENECKS), choices=BOTTLENECKS)
    defaults = ZooConfig()
    for f in ("latent_dim", "num_codes", "epochs", "batch_size", "n_init"):
        p.add_argument("--" + f.replace("_", "-"), type=int, default=getattr(defaults, f))
    for f in ("lr", "noise_std", "vq_beta", "beta_vae_beta"):
        p.add_argument("--" + f.replace("_", "-"), type=float, default=getattr(defaults, f))
    p.add_argument("--hidden", type=int, nargs="+", default=list(defaults.hidden),
                   help="encoder hidden widths; the paper's MNIST nets: 500 500 2000")
    a = p.parse_args(argv)
    data = {"digits": load_digits, "mnist": lambda: load_mnist(a.root),
            "fashion-mnist": lambda: load_fashion_mnist(a.root)}[a.dataset]()
    cfg = ZooConfig(latent_dim=a.latent_dim, hidden=tuple(a.hidden), num_codes=a.num_codes, epochs=a.epochs,
                    batch_size=a.batch_size, n_init=a.n_init, lr=a.lr, noise_std=a.noise_std,
                    vq_beta=a.vq_beta, beta_vae_beta=a.beta_vae_beta)
    result = compare_bottlenecks(data, a.seeds, a.bottlenecks, cfg, keep_latents=False, progress=True)
    table = format_table(result, PAPER_TABLE1)
    print(f"{data!r}\n{table}\n({result['seconds']:.0f} s)")
    return table


if __name__ == "__main__":  # pragma: no cover
    main()
