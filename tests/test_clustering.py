"""Classic batch VQ algorithms of vqlab.clustering (thesis ch. 4)."""
import pytest
import torch

from vqlab.clustering import (batch_update, dead_units, fuzzy_cmeans, init_prototypes, kmeans, kmeans_plusplus,
                              neural_gas, vq_distortion)
from vqlab.data import make_toy
from vqlab.posteriors import squared_distances


def _two_blobs():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(100, 2, generator=g) * 0.3 + torch.tensor([-2.0, 0.0])
    b = torch.randn(100, 2, generator=g) * 0.3 + torch.tensor([2.0, 0.0])
    return torch.cat([a, b])


def _bad_start():
    """Two prototypes inside the data, four far away to the right: the far ones never win a point."""
    return torch.tensor([[-2.0, 0.5], [2.0, 0.5], [12.0, 0.0], [13.0, 1.0], [14.0, -1.0], [15.0, 0.0]])


def test_kmeans_leaves_dead_units_neural_gas_does_not():
    x, init = _two_blobs(), _bad_start()
    assert dead_units(x, init) == 4
    km = kmeans(x, init, 20)
    ng = neural_gas(x, init, 40)
    assert dead_units(x, km.prototypes) == 4
    assert torch.equal(km.prototypes[2:], init[2:])  # dead units never move
    assert dead_units(x, ng.prototypes) == 0
    assert ng.distortion[-1] < km.distortion[-1]


def test_kmeans_distortion_never_increases():
    x, _ = make_toy("blobs", 300, seed=1)
    res = kmeans(x, init_prototypes(x, 8, "data", seed=0), 15)
    d = torch.tensor(res.distortion)
    assert (d[1:] <= d[:-1] + 1e-6).all()
    assert len(res.distortion) == 16 and res.history.shape == (16, 8, 2)


def test_kmeans_matches_scikit_learn_from_same_start():
    from sklearn.cluster import KMeans

    x, _ = make_toy("blobs", 300, seed=2)
    init = init_prototypes(x, 5, "data", seed=3)
    ours = kmeans(x.double(), init.double(), 100).prototypes
    ref = KMeans(5, init=init.double().numpy(), n_init=1, max_iter=100, tol=0, algorithm="lloyd").fit(
        x.double().numpy())
    assert torch.allclose(ours, torch.tensor(ref.cluster_centers_), atol=1e-6)


def test_fuzzy_cmeans_objective_decreases():
    x, _ = make_toy("moons", 300, seed=0)
    res = fuzzy_cmeans(x, init_prototypes(x, 6, "data", seed=1), 25, m=2.0)
    obj = torch.tensor(res.objective)
    assert (obj[1:] <= obj[:-1] + 1e-6).all()  # Bezdek's alternating optimisation of eq. 4.5


def test_neural_gas_lambda_schedule_and_limit():
    x, _ = make_toy("blobs", 300, seed=0)
    init = init_prototypes(x, 6, "data", seed=0)
    res = neural_gas(x, init, 10, lam_initial=3.0, lam_final=0.01)
    assert res.lambdas[0] == pytest.approx(3.0) and res.lambdas[-1] == pytest.approx(0.01)
    assert all(a > b for a, b in zip(res.lambdas[:-1], res.lambdas[1:]))
    # with a tiny fixed lambda, batch neural gas is Lloyd's k-means
    ng = neural_gas(x, init, 10, lam_initial=1e-4, lam_final=1e-4)
    assert torch.allclose(ng.prototypes, kmeans(x, init, 10).prototypes, atol=1e-5)


def test_batch_update_is_weighted_mean_and_keeps_empty_units():
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    w = batch_update(x, a, torch.tensor([[9.0, 9.0], [7.0, 7.0]]))
    assert torch.allclose(w, torch.tensor([[1.0, 0.0], [7.0, 7.0]]))


def test_init_and_helpers():
    x, _ = make_toy("blobs", 100, seed=0)
    box = init_prototypes(x, 20, "box", seed=0, spread=3.0)
    assert box.shape == (20, 2)
    assert init_prototypes(x, 4, "kmeans++", seed=0).shape == (4, 2)
    assert vq_distortion(x, x)[1] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda x: init_prototypes(x, 0), "num_codes"),
    (lambda x: init_prototypes(x, 3, "grid"), "method"),
    (lambda x: init_prototypes(x, 3, "box", spread=0.0), "spread"),
    (lambda x: kmeans(x, torch.zeros(3, 5)), "init"),
    (lambda x: kmeans(x, torch.zeros(3, 2), iterations=-1), "iterations"),
    (lambda x: fuzzy_cmeans(x, torch.zeros(3, 2), m=1.0), "m"),
    (lambda x: neural_gas(x, torch.zeros(3, 2), lam_final=0.0), "lam_final"),
    (lambda x: kmeans(x[:, 0], torch.zeros(3, 1)), "x"),
])
def test_bad_arguments(call, match):
    x, _ = make_toy("blobs", 50, seed=0)
    with pytest.raises(ValueError, match=match):
        call(x)


def test_kmeans_plusplus_picks_distinct_clusters():
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.01 * torch.randn(30, 2) for c in centres])
    seeds = kmeans_plusplus(x, 3, torch.Generator().manual_seed(1))
    nearest = torch.cdist(seeds, centres).argmin(1)
    assert sorted(nearest.tolist()) == [0, 1, 2]


def test_kmeans_plusplus_with_fewer_points_than_codes():
    x = torch.randn(3, 2)
    seeds = kmeans_plusplus(x, 10, torch.Generator().manual_seed(0))
    assert seeds.shape == (10, 2) and torch.isfinite(seeds).all()
    assert torch.unique(seeds, dim=0).shape[0] == 10


def test_lloyd_from_kmeanspp_never_increases_and_beats_seeding():
    """Notebook 01's k-means: vqlab.clustering.kmeans from a k-means++ seeding."""
    x, _ = make_toy("blobs", 300, seed=0)
    seeded = init_prototypes(x, 5, method="kmeans++", seed=0)
    res = kmeans(x, seeded, 15)
    d = res.distortion
    assert len(d) == 16 and res.prototypes.shape == (5, 2) and torch.equal(res.history[0], seeded)
    assert all(b <= a + 1e-6 for a, b in zip(d, d[1:]))
    assert d[-1] < d[0]
    # the recorded distortion is eq. 4.2 / N of the final codebook's Voronoi cells
    assign, dist = vq_distortion(x, res.prototypes)
    assert assign.shape == (300,) and torch.equal(assign, squared_distances(x, res.prototypes).argmin(1))
    assert dist == pytest.approx(d[-1], rel=1e-5)


def test_lloyd_single_code_is_the_mean():
    x, _ = make_toy("rings", 200, seed=0)
    res = kmeans(x, init_prototypes(x, 1, method="kmeans++", seed=0), 3)
    assert torch.allclose(res.prototypes[0], x.mean(0), atol=1e-5)


def test_vq_distortion_is_eq_4_1_with_one_hot_posterior():
    x, _ = make_toy("moons", 100, seed=1)
    w = torch.randn(7, 2)
    assign, dist = vq_distortion(x, w)
    q = torch.nn.functional.one_hot(assign, 7).float()
    eq_4_1 = (q * squared_distances(x, w)).sum(1).mean()
    brute = torch.stack([(x - wk).pow(2).sum(1) for wk in w], 1).min(1).values.mean()
    assert dist == pytest.approx(float(eq_4_1), rel=1e-5)
    assert dist == pytest.approx(float(brute), rel=1e-5)
