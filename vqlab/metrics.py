"""Metrics: code usage (perplexity, codes used), clustering accuracy (Hungarian), NMI, linear probe, the
quality of generated samples (classifier judge), and latent-space sample quality (unit-ball prior, coverage,
energy distance)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from vqlab._checks import check_float, check_int, check_tensor

if TYPE_CHECKING:  # scikit-learn is imported where it is used (importing vqlab stays quick)
    from sklearn.linear_model import LogisticRegression

__all__ = [
    "perplexity",
    "code_usage",
    "codes_used",
    "cluster_accuracy",
    "nmi",
    "linear_probe",
    "kmeans_scores",
    "downstream_scores",
    "digit_judge",
    "sample_quality",
    "sample_unit_ball",
    "coverage",
    "energy_distance",
]


def perplexity(probs: Tensor) -> Tensor:
    """Perplexity ``exp(-sum_k p̄_k log p̄_k)`` of the average posterior ``p̄`` (VQ-VAE's usage measure).

    Args:
        probs: ``[N, K]`` posteriors (one-hot rows give the usage histogram), or ``[K]`` usage counts.
    Returns:
        scalar tensor in ``[1, K]``: K when every code is used equally, 1 when one code takes everything.
    """
    check_tensor("probs", probs, floating=False)
    p = probs.detach().float()
    p = p.reshape(-1, p.shape[-1]).mean(0) if p.ndim > 1 else p
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError("probs must be non-negative with a positive sum")
    p = p / p.sum()
    return torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())


def code_usage(indices: Tensor, num_codes: int) -> Tensor:
    """Counts ``[K]`` of how often each code id occurs in ``indices`` (any shape, ids in [0, K))."""
    check_int("num_codes", num_codes)
    if not isinstance(indices, Tensor) or indices.is_floating_point() or indices.is_complex():
        raise TypeError(f"indices must be an integer tensor, got {getattr(indices, 'dtype', type(indices).__name__)}")
    idx = indices.reshape(-1).long()
    if idx.numel() and (idx.min() < 0 or idx.max() >= num_codes):
        raise ValueError(f"indices must lie in [0, {num_codes}), got range [{idx.min()}, {idx.max()}]")
    return torch.bincount(idx, minlength=num_codes)


def codes_used(indices: Tensor, num_codes: int) -> int:
    """How many distinct codes occur in ``indices``."""
    return int((code_usage(indices, num_codes) > 0).sum())


def _labels(name: str, y) -> np.ndarray:
    a = y.detach().cpu().numpy() if isinstance(y, Tensor) else np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D labels, got shape {a.shape}")
    if len(a) == 0:
        raise ValueError(f"{name} is empty")
    return a


def cluster_accuracy(y_true, y_pred) -> float:
    """Unsupervised clustering accuracy: the best one-to-one matching of clusters to classes
    (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``), as in the soft VQ-VAE paper."""
    t, p = _labels("y_true", y_true), _labels("y_pred", y_pred)
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(t)} and {len(p)}")
    _, t_ids = np.unique(t, return_inverse=True)
    _, p_ids = np.unique(p, return_inverse=True)
    table = np.zeros((p_ids.max() + 1, t_ids.max() + 1), dtype=np.int64)
    np.add.at(table, (p_ids, t_ids), 1)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(t))


def nmi(y_true, y_pred) -> float:
    """Normalized mutual information (scikit-learn, arithmetic normalisation)."""
    from sklearn.metrics import normalized_mutual_info_score

    if len(_labels("y_true", y_true)) != len(_labels("y_pred", y_pred)):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}")
    return float(normalized_mutual_info_score(_labels("y_true", y_true), _labels("y_pred", y_pred)))


def linear_probe(z_train, y_train, z_test, y_test, max_iter: int = 1000) -> float:
    """Test accuracy of a multinomial logistic regression (a single softmax layer) trained on the
    train latents: how linearly readable the class is from a representation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    check_int("max_iter", max_iter)
    for zn, z, yn, y in (("z_train", z_train, "y_train", y_train), ("z_test", z_test, "y_test", y_test)):
        if len(_features(zn, z)) != len(_labels(yn, y)):
            raise ValueError(f"{zn} and {yn} must have the same length, got {len(z)} and {len(y)}")

    def feats(z):
        a = z.detach().cpu().numpy() if isinstance(z, Tensor) else np.asarray(z)
        return a.reshape(len(a), -1)

    scaler = StandardScaler().fit(feats(z_train))
    clf = LogisticRegression(max_iter=max_iter)
    clf.fit(scaler.transform(feats(z_train)), _labels("y_train", y_train))
    return float(clf.score(scaler.transform(feats(z_test)), _labels("y_test", y_test)))


# ---- Notebook 03: downstream evaluation of latents (Wu & Flierl 2020, "Representation Learning Tasks") ----

def _features(name: str, z) -> np.ndarray:
    a = z.detach().cpu().numpy() if isinstance(z, Tensor) else np.asarray(z)
    if a.ndim < 2 or len(a) == 0:
        raise ValueError(f"{name} must be [N, ...] features with N >= 1, got shape {a.shape}")
    a = a.reshape(len(a), -1).astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def kmeans_scores(z, y, n_clusters: int | None = None, n_init: int = 100, seed: int = 0) -> dict[str, float]:
    """k-means on representations ``z`` ``[N, ...]`` scored against labels ``y`` ``[N]``, as in the paper:
    the best (lowest inertia) of ``n_init`` randomly seeded runs (k-means++ seeding, scikit-learn's
    default; the paper uses 100 random initialisations), then the clustering accuracy
    (Hungarian matching, :func:`cluster_accuracy`) and :func:`nmi`.

    Args:
        n_clusters: default: the number of distinct labels.
    Returns:
        ``{"clustering": accuracy in [0, 1], "nmi": NMI in [0, 1]}``.
    """
    from sklearn.cluster import KMeans


    a, labels = _features("z", z), _labels("y", y)
    if len(a) != len(labels):
        raise ValueError(f"z and y must have the same length, got {len(a)} and {len(labels)}")
    k = len(np.unique(labels)) if n_clusters is None else check_int("n_clusters", n_clusters)
    if k > len(a):
        raise ValueError(f"n_clusters must be <= the number of points ({len(a)}), got {k}")
    pred = KMeans(k, n_init=check_int("n_init", n_init),
                  random_state=check_int("seed", seed, 0)).fit_predict(a)
    return {"clustering": cluster_accuracy(labels, pred), "nmi": nmi(labels, pred)}


def downstream_scores(z_train, y_train, z_test, y_test, n_init: int = 100, seed: int = 0) -> dict[str, float]:
    """The paper's three downstream scores of a representation (Table 1): k-means on the *test* latents
    (clustering accuracy and NMI, :func:`kmeans_scores`) and the test accuracy of a single softmax layer
    trained on the *train* latents (:func:`linear_probe`).

    Returns:
        ``{"clustering": ..., "nmi": ..., "classification": ...}``, all in [0, 1].
    """
    _features("z_test", z_test)
    scores = kmeans_scores(z_test, y_test, n_init=n_init, seed=seed)
    scores["classification"] = linear_probe(_features("z_train", z_train), y_train,
                                            _features("z_test", z_test), y_test)
    return scores


def digit_judge(x_train: Tensor, y_train: Tensor, max_iter: int = 2000) -> LogisticRegression:
    """The judge of generated digits (notebooks 05 and 07): a logistic-regression classifier fitted on
    real flat images ``x_train [N, P]`` with labels ``y_train [N]``. Its ``predict_proba`` on generated
    images feeds :func:`sample_quality`; it sees only pixels, so it can be confidently wrong on images
    that look like nothing (hence ``nn_distance``)."""
    check_tensor("x_train", x_train, ndim=2)
    y = _labels("y_train", y_train)
    if len(y) != len(x_train):
        raise ValueError(f"y_train has {len(y)} labels for {len(x_train)} images in x_train")
    check_int("max_iter", max_iter)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=max_iter).fit(x_train.detach().cpu().numpy(), y)


def sample_quality(probs, images=None, reference=None) -> dict[str, float]:
    """Rough scores for generated images, from a digits classifier's class probabilities ``[m, C]``.

    - ``confidence``: mean max class probability (high = recognisable images);
    - ``class_entropy``: entropy in nats of the predicted-class histogram (``ln C`` when every class is
      generated equally often, low when a few classes dominate);
    - ``nn_distance`` (only with ``images [m, ...]`` and ``reference [M, ...]``): mean Euclidean distance
      from each image to its nearest reference image, e.g. the training digits (smaller = closer to real data).
    """
    p = np.asarray(probs.detach().cpu() if isinstance(probs, Tensor) else probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0 or not np.isfinite(p).all():
        raise ValueError(f"probs must be a finite, non-empty [m, classes] array, got shape {p.shape}")
    hist = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    nz = hist[hist > 0]
    scores = {"confidence": float(p.max(1).mean()), "class_entropy": float(-(nz * np.log(nz)).sum())}
    if (images is None) != (reference is None):
        raise ValueError("images and reference must be given together (for nn_distance)")
    if images is not None:
        x = torch.as_tensor(images).detach().reshape(len(p), -1).double()
        ref = torch.as_tensor(reference).detach().reshape(len(reference), -1).double()
        if x.shape[1] != ref.shape[1]:
            raise ValueError(f"images have {x.shape[1]} pixels but reference has {ref.shape[1]}")
        if not (torch.isfinite(x).all() and torch.isfinite(ref).all()):
            raise ValueError("images and reference must be finite (no NaN or inf)")
        scores["nn_distance"] = torch.cdist(x, ref).min(1).values.mean().item()
    return scores


# ---- Latent-space sample quality (notebook 05): the unit-ball prior, coverage, energy distance ----
def sample_unit_ball(n: int, dim: int, generator: torch.Generator | None = None) -> Tensor:
    """``n`` points ``[n, dim]`` uniform in the closed unit ball of ℝ^dim (float32).

    A uniform direction (normalised Gaussian) times a radius ``U^{1/dim}``, ``U ~ U(0, 1)``, so that
    ``P(r ≤ t) = t^dim`` (volume of the ball of radius t over the unit ball's).
    """
    check_int("n", n, 1)
    check_int("dim", dim, 1)
    g = torch.randn(n, dim, generator=generator)
    g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
    r = torch.rand(n, 1, generator=generator) ** (1.0 / dim)
    return g * r


def coverage(latents: Tensor, samples: Tensor, radius: float) -> float:
    """Fraction of ``samples [m, d]`` (draws from the sampling distribution, e.g. the unit ball) that have
    at least one of the ``latents [n, d]`` within ``radius``: how much of the region a generator samples
    from is backed by training embeddings (1 = every sample lands near a known embedding)."""
    z = check_tensor("latents", latents, ndim=2)
    s = check_tensor("samples", samples, ndim=2, last_dim=z.shape[1])
    radius = check_float("radius", radius, 0.0, strict=True)
    near = torch.cdist(s.double(), z.double(), compute_mode="donot_use_mm_for_euclid_dist").min(1).values
    return float((near <= radius).double().mean())


def energy_distance(a: Tensor, b: Tensor) -> float:
    """Energy distance ``2 E‖A − B‖ − E‖A − A'‖ − E‖B − B'‖`` between the empirical distributions of
    ``a [n, d]`` and ``b [m, d]`` (Székely & Rizzo; V-statistics, so it is ≥ 0 and 0 for identical sets).
    Small when the latents are distributed like the samples of the prior (e.g. uniform on the ball)."""
    a = check_tensor("a", a, ndim=2).double()
    b = check_tensor("b", b, ndim=2, last_dim=a.shape[1]).double()

    def mean_dist(u: Tensor, v: Tensor) -> Tensor:
        return torch.cdist(u, v, compute_mode="donot_use_mm_for_euclid_dist").mean()

    return float(2 * mean_dist(a, b) - mean_dist(a, a) - mean_dist(b, b))
