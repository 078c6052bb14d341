"""Metrics: code usage (perplexity, codes used), clustering accuracy (Hungarian), NMI, linear probe."""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

__all__ = ["perplexity", "code_usage", "codes_used", "cluster_accuracy", "nmi", "linear_probe"]


def perplexity(probs: Tensor) -> Tensor:
    """Perplexity ``exp(-sum_k p̄_k log p̄_k)`` of the average posterior ``p̄`` (VQ-VAE's usage measure).

    Args:
        probs: ``[N, K]`` posteriors (one-hot rows give the usage histogram), or ``[K]`` usage counts.
    Returns:
        scalar tensor in ``[1, K]``: K when every code is used equally, 1 when one code takes everything.
    """
    p = probs.detach().float()
    p = p.reshape(-1, p.shape[-1]).mean(0) if p.ndim > 1 else p
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError("probs must be non-negative with a positive sum")
    p = p / p.sum()
    return torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())


def code_usage(indices: Tensor, num_codes: int) -> Tensor:
    """Counts ``[K]`` of how often each code id occurs in ``indices`` (any shape, ids in [0, K))."""
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

    return float(normalized_mutual_info_score(_labels("y_true", y_true), _labels("y_pred", y_pred)))


def linear_probe(z_train, y_train, z_test, y_test, max_iter: int = 1000) -> float:
    """Test accuracy of a multinomial logistic regression (a single softmax layer) trained on the
    train latents: how linearly readable the class is from a representation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def feats(z):
        a = z.detach().cpu().numpy() if isinstance(z, Tensor) else np.asarray(z)
        return a.reshape(len(a), -1)

    scaler = StandardScaler().fit(feats(z_train))
    clf = LogisticRegression(max_iter=max_iter)
    clf.fit(scaler.transform(feats(z_train)), _labels("y_train", y_train))
    return float(clf.score(scaler.transform(feats(z_test)), _labels("y_test", y_test)))
