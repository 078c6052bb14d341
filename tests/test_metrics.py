import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from vqlab.metrics import cluster_accuracy, code_usage, codes_used, linear_probe, nmi, perplexity


def test_hungarian_accuracy_is_one_on_permuted_labels():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    perm = np.array([2, 0, 1])
    assert cluster_accuracy(y, perm[y]) == 1.0


def test_hungarian_accuracy_hand_case():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [1, 1, 0, 0, 0, 0]  # best matching: 1->0 (2 right), 0->1 (3 right)
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 6)


def test_hungarian_more_clusters_than_classes():
    assert cluster_accuracy([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(0.5)


def test_nmi_matches_sklearn():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 50), rng.integers(0, 3, 50)
    assert nmi(a, b) == pytest.approx(normalized_mutual_info_score(a, b))
    assert nmi(torch.tensor(a), torch.tensor(a)) == pytest.approx(1.0)


def test_metric_validation():
    with pytest.raises(ValueError, match="same length"):
        cluster_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="1-D"):
        cluster_accuracy(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        code_usage(torch.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        perplexity(torch.tensor([-1.0, 2.0]))


def test_usage():
    idx = torch.tensor([[0, 0], [2, 0]])
    assert code_usage(idx, 4).tolist() == [3, 0, 1, 0]
    assert codes_used(idx, 4) == 2


def test_linear_probe_separable_vs_random():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    z_good = np.stack([y + 0.1 * rng.standard_normal(200), rng.standard_normal(200)], 1)
    z_bad = rng.standard_normal((200, 2))
    assert linear_probe(z_good[:100], y[:100], z_good[100:], y[100:]) > 0.95
    assert linear_probe(z_bad[:100], y[:100], z_bad[100:], y[100:]) < 0.75
