import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from vqlab.metrics import (cluster_accuracy, code_usage, codes_used, coverage, energy_distance, linear_probe, nmi,
                           perplexity, sample_quality, sample_unit_ball)


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


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_sample_unit_ball_radius_distribution(dim):
    z = sample_unit_ball(20000, dim, torch.Generator().manual_seed(0))
    r = z.norm(dim=1)
    assert z.shape == (20000, dim) and r.max() <= 1 + 1e-6
    for t in (0.3, 0.6, 0.9):
        assert abs((r <= t).float().mean().item() - t ** dim) < 0.015  # P(r <= t) = t^dim
    if dim > 1:  # direction uniform: mean near 0
        assert z.mean(0).abs().max() < 0.03


def test_coverage_and_energy_distance():
    g = torch.Generator().manual_seed(0)
    a = sample_unit_ball(300, 2, g)
    b = sample_unit_ball(300, 2, g)
    assert coverage(a, a, 1e-9) == 1.0
    assert coverage(a * 0.3, b, 0.05) < coverage(a, b, 0.05)  # a shrunken cloud covers less
    assert coverage(torch.zeros(1, 2), b, 10.0) == 1.0
    assert abs(energy_distance(a, a)) < 1e-12
    assert 0 <= energy_distance(a, b) < energy_distance(a + 2.0, b)
    with pytest.raises(ValueError, match="samples"):
        coverage(a, torch.zeros(4, 3), 0.1)
    with pytest.raises(ValueError, match="radius"):
        coverage(a, b, 0.0)
    with pytest.raises(ValueError, match="dim"):
        sample_unit_ball(10, 0)


def test_sample_quality():
    uniform = np.eye(10)[np.arange(1000) % 10]  # every class once per 10, fully confident
    q = sample_quality(uniform)
    assert q["confidence"] == 1.0 and abs(q["class_entropy"] - np.log(10)) < 1e-12
    q = sample_quality(np.full((50, 10), 0.1) + np.eye(10)[np.zeros(50, int)] * 0.01)
    assert q["class_entropy"] == 0.0 and q["confidence"] < 0.2
    with pytest.raises(ValueError, match="probs"):
        sample_quality(np.zeros(5))


def test_digit_judge_recognises_real_digits_and_checks_its_input():
    from vqlab.data import load_digits
    from vqlab.metrics import digit_judge

    data = load_digits()
    judge = digit_judge(data.x_train, data.y_train)
    assert judge.score(data.x_test.numpy(), data.y_test.numpy()) > 0.9
    probs = judge.predict_proba(data.x_test[:5].numpy())
    assert probs.shape == (5, 10)
    with pytest.raises(ValueError, match="y_train"):
        digit_judge(data.x_train, data.y_train[:-1])
    with pytest.raises(ValueError, match="x_train"):
        digit_judge(data.x_train[0], data.y_train)
