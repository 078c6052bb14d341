"""Tests for vqlab.topology: agreement with ripser / giotto-ph / persim, gradients, edge cases."""
import importlib.util

import numpy as np
import pytest
import torch

import vqlab.topology as T
from vqlab.metrics import sample_unit_ball
from vqlab.models import Autoencoder
from vqlab.nets import MLPDecoder, MLPEncoder


def _ripser_h0(x: torch.Tensor) -> np.ndarray:
    """ripser's finite H0 deaths, padded with the zero-length bars ripser omits (duplicates): n-1 values."""
    d = T.persistence_diagrams(x, maxdim=0)[0]
    fin = d[np.isfinite(d[:, 1]), 1]
    return np.sort(np.concatenate([fin, np.zeros(len(x) - 1 - len(fin))]))


def _cloud(seed: int, duplicates: bool) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(2, 90, (1,), generator=g))
    d = int(torch.randint(1, 7, (1,), generator=g))
    x = torch.randn(n, d, generator=g) * 3
    if duplicates:  # few distinct points, many copies, and a coarse grid for exact ties
        x = torch.round(x[torch.randint(0, max(1, n // 5), (n,), generator=g)] * 2) / 2
    return x


# ----------------------------------------------------------------------------- distances
def test_pairwise_distances_exact_on_duplicates_and_finite_gradient():
    x = torch.randn(5, 64) * 10
    x = torch.cat([x, x[:3]]).requires_grad_(True)  # 3 duplicates
    d = T.pairwise_distances(x)
    assert d.shape == (8, 8)
    assert d[0, 5].item() == 0.0 and d[2, 7].item() == 0.0 and torch.all(d.diagonal() == 0)
    naive = ((x[:, None] - x[None]).pow(2).sum(-1)).detach().sqrt()
    torch.testing.assert_close(d.detach(), naive, rtol=1e-6, atol=1e-5)
    d.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_identical_points_get_exactly_zero_distance():
    """cdist's float32 mm path gives identical points nonzero distances (measured up to 0.06 with torch
    2.13 for points of norm ~80); the exact path must give 0."""
    x = torch.randn(40, 64) * 10
    x = torch.cat([x, x])
    assert T.pairwise_distances(x)[torch.arange(40), torch.arange(40) + 40].max() == 0
    assert T.mst_deaths(x)[:40].max() == 0


# ----------------------------------------------------------------------------- MST deaths vs ripser
@pytest.mark.parametrize("duplicates", [False, True])
def test_mst_deaths_equal_ripser_h0(duplicates):
    for seed in range(40):
        x = _cloud(seed, duplicates)
        m = T.mst_deaths(x)
        assert m.shape == (len(x) - 1,)
        np.testing.assert_allclose(m.numpy(), _ripser_h0(x), atol=1e-5)


def test_mst_deaths_larger_cloud_and_fully_collapsed():
    x = torch.randn(700, 16)
    np.testing.assert_allclose(T.mst_deaths(x).numpy(), _ripser_h0(x), atol=1e-5)
    z = torch.zeros(30, 4, requires_grad=True)
    m = T.mst_deaths(z)
    assert torch.all(m == 0)
    m.sum().backward()
    assert torch.all(z.grad == 0)


def test_mst_edges_form_a_spanning_tree():
    x = torch.round(torch.randn(200, 2) * 2)  # many exact ties and duplicates
    i, j = T.mst_edges(x)
    assert len(i) == 199
    parent = list(range(200))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in zip(i.tolist(), j.tolist()):
        ra, rb = find(a), find(b)
        assert ra != rb, "cycle in the returned edges"
        parent[ra] = rb


def test_mst_deaths_gradcheck_float64():
    x = torch.randn(14, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(T.mst_deaths, (x,))
    assert torch.autograd.gradcheck(T.mean_death0, (x,))


def test_increasing_deaths_spreads_points():
    x = (torch.randn(50, 2) * 0.1).requires_grad_(True)
    before = T.mst_deaths(x).sum().item()
    opt = torch.optim.SGD([x], lr=0.01)
    for _ in range(20):
        opt.zero_grad()
        (-T.mst_deaths(x).sum()).backward()
        opt.step()
    assert T.mst_deaths(x).sum().item() > before


# ----------------------------------------------------------------------------- pairs with gradients
def test_persistence_pairs_match_ripser_diagrams():
    x = torch.tensor(sample_unit_ball(60, 2, torch.Generator().manual_seed(1)).numpy() * 2)
    t = torch.linspace(0, 6.28, 25)[:-1]
    x = torch.cat([x, torch.stack([3 * t.cos(), 3 * t.sin()], 1)])  # add a clear loop
    pairs = T.persistence_pairs(x, maxdim=1)
    dgms = T.persistence_diagrams(x, maxdim=1)
    for k in (0, 1):
        b, d = pairs[k]
        ref = dgms[k][np.isfinite(dgms[k][:, 1])]
        got = np.stack([b.detach().numpy(), d.detach().numpy()], 1)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got[np.lexsort(got.T)], ref[np.lexsort(ref.T)], atol=1e-5)
    assert len(pairs[1][0]) >= 1


def test_persistence_pairs_gradients_and_infinite_bars_dropped():
    x = torch.randn(30, 3, dtype=torch.float64, requires_grad=True)
    pairs = T.persistence_pairs(x)
    for b, d in pairs.values():
        assert torch.isfinite(b).all() and torch.isfinite(d).all()
    assert len(pairs[0][1]) == 29  # n - 1 finite H0 bars: the infinite one is gone
    (pairs[0][1].sum() + (pairs[1][1] - pairs[1][0]).sum()).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0

    def h1_total(y):
        b, d = T.persistence_pairs(y)[1]
        return (d - b).sum()

    assert torch.autograd.gradcheck(h1_total, (x.detach().clone().requires_grad_(True),))


def test_persistence_pairs_collapsed_codebook_no_nan():
    base = torch.randn(4, 8)
    z = base[torch.arange(64) % 4].clone().requires_grad_(True)  # 64 codes, 4 distinct
    pairs = T.persistence_pairs(z)
    ref = T.persistence_diagrams(z, maxdim=1)
    assert len(pairs[0][1]) == len(ref[0]) - 1 == 3
    assert len(pairs[1][1]) == len(ref[1])
    loss = pairs[0][1].sum() + T.smooth_betti(pairs[1][1] - pairs[1][0], 0.1) + T.mean_death0(z)
    loss.backward()
    assert torch.isfinite(z.grad).all()
    full = torch.zeros(32, 5, requires_grad=True)  # every code identical
    pairs = T.persistence_pairs(full)
    assert all(len(d) == 0 for _, d in pairs.values())
    assert T.mean_death0(full).item() == 0.0


def test_giotto_called_single_threaded_with_generators(monkeypatch):
    gph = pytest.importorskip("gph")  # no giotto-ph wheel for Python 3.13+ (gudhi there)

    calls = []
    real = gph.ripser_parallel

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(gph, "ripser_parallel", spy)
    T.persistence_pairs(torch.randn(20, 2))
    assert calls and all(c.get("return_generators") and c.get("n_threads") == 1 for c in calls)


def _edge_pairs(dist, maxdim, generators):
    """{dimension: sorted (birth edge, death edge) pairs}, each edge a sorted vertex pair (H0: death edges)."""
    g0, higher = generators(dist, maxdim)
    out = {0: sorted(tuple(sorted(r[1:])) for r in g0.tolist())}
    for k, g in enumerate(higher, start=1):
        out[k] = sorted((tuple(sorted(r[:2])), tuple(sorted(r[2:]))) for r in g.tolist())
    return out


def _random_cloud(rng, kind):
    n, dim = int(rng.integers(3, 70)), int(rng.integers(1, 9))
    if kind == "circle":  # a noisy circle: long H1 bars
        t = rng.uniform(0, 2 * np.pi, n)
        return np.c_[np.cos(t), np.sin(t)] + 0.1 * rng.normal(size=(n, 2))
    if kind == "codebook":  # float32 values, as a codebook holds them
        return rng.uniform(-1, 1, size=(n, dim)).astype(np.float32).astype(np.float64)
    return rng.normal(size=(n, dim))


@pytest.mark.parametrize("kind", ["gaussian", "circle", "codebook"])
def test_giotto_and_gudhi_give_the_same_pairs(kind):
    # Python 3.13+ has no giotto-ph wheel and uses gudhi: the same (birth edge, death edge) pairs wherever
    # no two distances are equal.
    pytest.importorskip("gph")
    pytest.importorskip("gudhi")
    rng = np.random.default_rng(len(kind))
    for _ in range(40):
        x = _random_cloud(rng, kind)
        dist = T.pairwise_distances(torch.as_tensor(x)).numpy()
        maxdim = 2 if len(x) <= 25 else 1
        assert _edge_pairs(dist, maxdim, T._giotto_generators) == _edge_pairs(dist, maxdim, T._gudhi_generators)


def _pair_values(dist, generators):
    g0, (g1,) = generators(dist, 1)
    return sorted(dist[g0[:, 1], g0[:, 2]]), sorted(zip(dist[g1[:, 0], g1[:, 1]], dist[g1[:, 2], g1[:, 3]]))


def test_giotto_and_gudhi_give_the_same_values_with_ties():
    # Equal distances (a lattice with duplicate points): the libraries may name different edges of one length.
    pytest.importorskip("gph")
    pytest.importorskip("gudhi")
    grid = torch.cartesian_prod(torch.arange(4.0), torch.arange(3.0)).double()
    dist = T.pairwise_distances(torch.cat([grid, grid[:3]])).numpy()
    expected = _pair_values(dist, T._giotto_generators)
    assert len(expected[1]) > 0 and _pair_values(dist, T._gudhi_generators) == expected


def test_persistence_pairs_use_gudhi_without_giotto(monkeypatch):
    pytest.importorskip("gudhi")
    find_spec, gudhi_generators, used = importlib.util.find_spec, T._gudhi_generators, []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gph" else find_spec(name, *a))
    monkeypatch.setattr(T, "_gudhi_generators",
                        lambda dist, maxdim: used.append(maxdim) or gudhi_generators(dist, maxdim))
    test_persistence_pairs_match_ripser_diagrams()
    test_persistence_pairs_collapsed_codebook_no_nan()
    assert used and set(used) == {1}


# ----------------------------------------------------------------------------- summaries
def test_smooth_betti_counts_long_bars_and_is_differentiable():
    ell = torch.tensor([0.0, 1e-4, 5.0, 7.0, float("inf")], requires_grad=True)
    b = T.smooth_betti(ell, sigma=0.01)
    assert abs(b.item() - 3.0) < 1e-3  # two long bars + one infinite; short ones ~0
    b.backward()
    assert torch.isfinite(ell.grad[:4]).all() and ell.grad[1] > 0
    assert T.smooth_betti(torch.zeros(0), 0.1).item() == 0.0
    with pytest.raises(ValueError, match="sigma"):
        T.smooth_betti(ell.detach(), 0.0)


def test_persistent_entropy_equals_persim():
    from persim.persistent_entropy import persistent_entropy as persim_pe

    x = torch.randn(40, 2)
    for dgm in T.persistence_diagrams(x, maxdim=1):
        ref = persim_pe(dgm)[0]
        assert abs(T.persistent_entropy(dgm) - ref) < 1e-9
        t = T.persistent_entropy(torch.tensor(dgm))
        assert isinstance(t, torch.Tensor) and abs(t.item() - ref) < 1e-9
    assert T.persistent_entropy(np.zeros((0, 2))) == 0.0
    assert T.persistent_entropy(torch.zeros(5)).item() == 0.0  # clamped normaliser: no NaN
    ell = torch.tensor([1.0, 2.0, 0.0], requires_grad=True)
    T.persistent_entropy(ell).backward()
    assert torch.isfinite(ell.grad).all()


def test_diagram_distances_with_persim():
    x = torch.randn(30, 2)
    d1, d2 = T.persistence_diagrams(x)[1], T.persistence_diagrams(x * 1.5)[1]
    assert T.diagram_distance(d1, d1) == 0.0
    for metric in ("bottleneck", "wasserstein"):
        assert T.diagram_distance(d1, d2, metric) > 0
    h0 = T.persistence_diagrams(x)[0]  # has an infinite bar: dropped, no error
    assert np.isfinite(T.diagram_distance(h0, T.persistence_diagrams(x * 2)[0]))
    with pytest.raises(ValueError, match="metric"):
        T.diagram_distance(d1, d2, "l2")


def test_betti_numbers_and_rips_edges():
    t = torch.linspace(0, 6.2832, 41)[:-1]
    circle = torch.stack([t.cos(), t.sin()], 1)
    dgms = T.persistence_diagrams(circle)
    step = 2 * np.sin(np.pi / 40)  # neighbour spacing
    assert T.betti_numbers_at(dgms, 0.5 * step) == [40, 0]
    assert T.betti_numbers_at(dgms, 1.01 * step) == [1, 1]
    assert T.betti_numbers_at(dgms, 2.5) == [1, 0]
    assert len(T.rips_edges_at(circle, 1.01 * step)) == 40
    assert len(T.rips_edges_at(circle, 3.0)) == 40 * 39 // 2


# ----------------------------------------------------------------------------- regularizer and sampler


def test_hinge_zero_inside_ball_positive_outside():
    reg = T.HomologicalRegularizer(weight=1.0)
    inside = sample_unit_ball(64, 3, torch.Generator().manual_seed(0)) * 0.99
    assert reg.terms(inside)["disk"].item() == 0.0
    outside = inside * 3
    assert reg.terms(outside)["disk"].item() > 0
    z = torch.tensor([[0.0, 2.0], [0.0, 0.0]])
    assert T.disk_penalty(z).tolist() == [1.0, 0.0]


def test_regularizer_scaling_and_hook():
    z = torch.randn(128, 2)
    s = T.HomologicalRegularizer(weight=0.005, reduction="sum").terms(z)
    m = T.HomologicalRegularizer(weight=0.005, reduction="mean").terms(z)
    torch.testing.assert_close(s["deaths"], -T.mst_deaths(z).sum())
    torch.testing.assert_close(m["deaths"] * 128, s["deaths"])
    assert "deaths" not in T.HomologicalRegularizer(topological=False).terms(z)
    model = Autoencoder(MLPEncoder(64, 2, (16,)), MLPDecoder(2, 64, (16,)))
    xb = torch.rand(32, 64)
    out = model(xb)
    terms = T.HomologicalRegularizer(weight=0.1)(model, xb, out, 0)
    assert set(terms) == {"disk", "deaths"} and terms["deaths"].item() <= 0
    sum(terms.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.encoder.parameters())


def test_regularizer_in_train_loop_spreads_latents():
    from vqlab.train import train

    torch.manual_seed(0)
    x = torch.rand(256, 16)
    runs = {}
    for name, hooks in {"plain": [], "reg": [T.HomologicalRegularizer(weight=1.0)]}.items():
        model = Autoencoder(MLPEncoder(16, 2, (32,)), MLPDecoder(2, 16, (32,)))
        hist = train(model, x, epochs=8, batch_size=64, lr=3e-3, seed=0, extra_losses=hooks, progress=False)
        with torch.no_grad():
            z = model.encode(x)
        runs[name] = (hist, z)
    assert "deaths" in runs["reg"][0].steps and "disk" in runs["reg"][0].steps
    z = runs["reg"][1]
    assert (z.norm(dim=1) <= 1.2).float().mean() > 0.9  # pushed into the ball


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [T.mst_deaths, T.mean_death0, T.persistence_pairs, T.mst_edges])
def test_bad_input_raises(fn):
    with pytest.raises(ValueError, match="at least 2 points"):
        fn(torch.randn(1, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        fn(torch.randn(5))
    with pytest.raises(ValueError, match="NaN"):
        fn(torch.tensor([[0.0, float("nan")], [1.0, 1.0]]))
    with pytest.raises(TypeError):
        fn([[0.0, 1.0], [1.0, 0.0]])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="reduction"):
        T.HomologicalRegularizer(reduction="max")
    with pytest.raises(ValueError, match="diagram"):
        T.diagram_distance(np.zeros((3, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="x"):
        T.persistence_diagrams(np.full((4, 2), np.nan))
    with pytest.raises(ValueError, match="lifetimes"):
        T.persistent_entropy(torch.tensor([-1.0, 2.0]))


# ----------------------------------------------------------------------------- coverage metrics
