"""Property-based tests (hypothesis): invariants of the posteriors, quantizers, metrics, topology, priors.

Examples come from :func:`clouds`: points ``[N, D]`` and codebooks ``[K, D]`` on a coarse grid (so exact
ties between distances are common), with duplicated codewords and points placed exactly on codewords.
The settings profile (bounded examples, no deadline) is registered in ``conftest.py``.
"""
import numpy as np
import pytest
import torch
from hypothesis import assume, example, given
from hypothesis import strategies as st
from ripser import ripser

from vqlab import posteriors as P
from vqlab.metrics import perplexity
from vqlab.priors import tempered_probs
from vqlab.quantizers import EMQuantizer, FSQuantizer, PosteriorQuantizer, SoftVectorQuantizer, VectorQuantizer
from vqlab.topology import mst_deaths


def _rows(draw, n: int, d: int, grid: bool) -> torch.Tensor:
    if grid:
        values = st.integers(-4, 4).map(lambda v: v / 2)
    else:
        values = st.floats(-3, 3, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 2))
    return torch.tensor(draw(st.lists(st.lists(values, min_size=d, max_size=d), min_size=n, max_size=n)),
                        dtype=torch.float64)


@st.composite
def clouds(draw, max_n: int = 8, max_k: int = 6, max_d: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x [N, D], w [K, D])`` float64: duplicate codewords, points on codewords, tied distances."""
    n, k, d = draw(st.integers(1, max_n)), draw(st.integers(1, max_k)), draw(st.integers(1, max_d))
    grid = draw(st.booleans())
    x, w = _rows(draw, n, d, grid), _rows(draw, k, d, grid)
    for src, dst in draw(st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), max_size=2)):
        w[dst] = w[src]  # duplicate codewords
    for i, j in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, k - 1)), max_size=2)):
        x[i] = w[j]  # points lying exactly on a codeword
    return x, w


def _no_ties(dist: torch.Tensor, ratio: float) -> bool:
    """Every row's nearest code is unique, the second nearest at least ``ratio`` times as far (and > 0)."""
    if dist.shape[1] < 2:
        return True
    two = dist.topk(2, dim=1, largest=False).values
    return bool((two[:, 1] > 0).all() and (two[:, 1] >= ratio * two[:, 0]).all() and (two[:, 1] - two[:, 0] > 1e-3).all())


def _is_distribution(p: torch.Tensor, atol: float = 1e-12) -> None:
    assert torch.isfinite(p).all()
    assert (p >= 0).all()
    torch.testing.assert_close(p.sum(-1), torch.ones(p.shape[:-1], dtype=p.dtype), atol=atol, rtol=0)


# ----------------------------------------------------------------------------- posteriors
@given(clouds(), st.floats(0.05, 20), st.floats(1.05, 6), st.floats(-5, 5))
@example(xw=(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(3, 1, dtype=torch.float64)), lam=1.0, m=2.0,
         log_var=0.0)  # on three coinciding codewords: the fuzzy split was float32 (1/3 * 3 = 1 + 3e-8)
def test_every_posterior_is_a_distribution(xw, lam, m, log_var):
    x, w = xw
    dist = P.squared_distances(x, w)
    assert (dist >= 0).all() and dist.shape == (len(x), len(w))
    for probs in (P.hard_posterior(dist), P.gibbs_posterior(dist, lam).exp(), P.neural_gas_posterior(dist, lam),
                  P.fuzzy_cmeans_posterior(dist, m), P.fuzzy_cmeans_posterior(dist, m, normalized=True),
                  P.soft_vq_posterior(x, w, log_var), P.soft_vq_posterior(x, w, log_var, "code")):
        _is_distribution(probs)
    for name in P.POSTERIORS:
        probs, weights = P.posterior_weights(dist, name, lam=lam, m=m)
        _is_distribution(probs)
        assert (weights >= 0).all() and (weights.sum(1) <= 1 + 1e-9).all()


@given(clouds())
def test_hard_posterior_picks_a_nearest_codeword(xw):
    x, w = xw
    dist = P.squared_distances(x, w)
    q = P.hard_posterior(dist)
    assert ((q == 0) | (q == 1)).all() and (q.sum(1) == 1).all()
    chosen = (q * dist).sum(1)
    assert torch.equal(chosen, dist.min(1).values)  # exact, whichever of tied codes is chosen
    exact = ((x[:, None, :] - w[None]) ** 2).sum(-1)  # the nearest code by the direct formula too
    assert torch.allclose(exact[torch.arange(len(x)), q.argmax(1)], exact.min(1).values, atol=1e-9)


@given(clouds())
def test_ranks_are_permutations_with_rank_zero_at_the_argmin(xw):
    dist = P.squared_distances(*xw)
    ranks = P.distance_ranks(dist)
    k = dist.shape[1]
    assert torch.equal(ranks.sort(1).values, torch.arange(k).expand_as(ranks))
    assert torch.equal(ranks.argmin(1), dist.argmin(1))
    ordered = dist.gather(1, ranks.argsort(1))
    assert (ordered[:, 1:] >= ordered[:, :-1]).all()  # rank order is distance order


@given(clouds())
def test_neural_gas_with_small_lambda_is_hard_vq(xw):
    dist = P.squared_distances(*xw)
    assume(_no_ties(dist, ratio=1.0))
    torch.testing.assert_close(P.neural_gas_posterior(dist, 1e-3), P.hard_posterior(dist), atol=1e-12, rtol=0)


@given(clouds())
def test_fuzzy_cmeans_with_m_near_one_is_hard_vq(xw):
    dist = P.squared_distances(*xw)
    assume(_no_ties(dist, ratio=1.1))
    hard = P.hard_posterior(dist)
    for normalized in (False, True):
        torch.testing.assert_close(P.fuzzy_cmeans_posterior(dist, 1.001, normalized=normalized), hard,
                                   atol=1e-9, rtol=0)


@given(clouds(), st.floats(1.01, 8))
def test_normalised_fcm_is_plain_fcm_with_fuzzifier_two_minus_one_over_m(xw, m):
    """Eq. 4.7 with m: softmax(-m log d / (m - 1)); eq. 4.6 with m': softmax(-log d / (m' - 1)):
    equal for m' - 1 = (m - 1) / m, i.e. m' = 2 - 1/m (zero distances: both split the mass equally)."""
    dist = P.squared_distances(*xw)
    torch.testing.assert_close(P.fuzzy_cmeans_posterior(dist, m, normalized=True),
                               P.fuzzy_cmeans_posterior(dist, 2 - 1 / m), atol=1e-9, rtol=1e-9)


# ----------------------------------------------------------------------------- metrics, priors, topology
@st.composite
def posterior_tables(draw) -> torch.Tensor:
    n, k = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    raw = torch.tensor(draw(st.lists(st.lists(st.sampled_from([0.0, 0.0, 1e-9, 0.3, 1.0, 7.0]), min_size=k,
                                              max_size=k), min_size=n, max_size=n)), dtype=torch.float64)
    raw[raw.sum(1) == 0, draw(st.integers(0, k - 1))] = 1.0
    return raw / raw.sum(1, keepdim=True)


@given(posterior_tables())
def test_perplexity_lies_between_one_and_k(probs):
    k = probs.shape[1]
    p = float(perplexity(probs))
    assert 1 - 1e-5 <= p <= k + 1e-5
    used = int((probs.mean(0) > 1e-6).sum())
    assert p <= used + 1e-4  # exp(entropy) never exceeds the number of codes with mass
    counts = torch.bincount(probs.argmax(1), minlength=k).double()
    assert float(perplexity(counts)) == pytest.approx(float(perplexity(torch.eye(k)[probs.argmax(1)])), rel=1e-5)


@given(st.integers(1, 5), st.integers(1, 6),
       st.lists(st.sampled_from([-2.0, -1.0, 0.0, 0.5, 3.0, 40.0]), min_size=30, max_size=30))
def test_tempered_sampling_at_zero_temperature_is_argmax(n, k, values):
    logits = torch.tensor(values[: n * k], dtype=torch.float64).reshape(n, k)
    probs = tempered_probs(logits, temperature=1e-6, dim=1)
    top = logits == logits.amax(1, keepdim=True)
    assert torch.equal(probs > 1e-12, top)  # all the mass on the maxima ...
    torch.testing.assert_close(probs, top.double() / top.sum(1, keepdim=True), atol=1e-9, rtol=0)  # ... split evenly


@pytest.mark.filterwarnings("ignore:The input matrix is square")
@given(clouds(max_n=9, max_k=2, max_d=3))
def test_mst_deaths_equal_ripser_h0_finite_deaths(xw):
    x, _ = xw
    assume(len(x) >= 2)
    deaths = mst_deaths(x).numpy()
    assert deaths.shape == (len(x) - 1,) and (np.diff(deaths) >= 0).all()
    h0 = ripser(x.numpy(), maxdim=0)["dgms"][0]
    finite = np.sort(h0[np.isfinite(h0[:, 1]), 1])
    np.testing.assert_allclose(deaths[deaths > 1e-9], finite[finite > 1e-9], atol=1e-5)
    assert len(h0) - len(finite) == 1  # one bar never dies


# ----------------------------------------------------------------------------- the QuantizerOutput contract
QUANTIZERS = {
    "vq": lambda k, d: VectorQuantizer(k, d),
    "vq_ema": lambda k, d: VectorQuantizer(k, d, codebook_update="ema"),
    "vq_rotation": lambda k, d: VectorQuantizer(k, d, rotation_trick=True),
    "em_sample": lambda k, d: EMQuantizer(k, d, temperature=0.5, num_samples=3),
    "em_mean": lambda k, d: EMQuantizer(k, d, temperature=2.0, decoder_input="mean"),
    "soft_st": lambda k, d: SoftVectorQuantizer(k, d, noise_std=0.0),
    "soft_no_st": lambda k, d: SoftVectorQuantizer(k, d, noise_std=0.0, straight_through=False),
    **{f"posterior_{name}": (lambda name: lambda k, d: PosteriorQuantizer(k, d, posterior=name, lam=1.5, m=1.7))(name)
       for name in P.POSTERIORS},
}
STRAIGHT_THROUGH = {"vq", "vq_ema", "em_sample", "em_mean", "soft_st", *(f"posterior_{n}" for n in P.POSTERIORS)}


@pytest.mark.filterwarnings("ignore:posterior='fcm_original'")
@pytest.mark.parametrize("kind", sorted(QUANTIZERS))
@given(xw=clouds(max_n=6, max_k=5, max_d=3), lead=st.sampled_from([(), (2,), (1, 2)]), training=st.booleans())
def test_quantizer_output_contract(kind, xw, lead, training):
    x, w = (t.float() for t in xw)
    n, d = x.shape
    k = w.shape[0]
    q = QUANTIZERS[kind](k, d).train(training)
    q.weight.data.copy_(w)
    z_e = x.expand(*lead, n, d).clone().requires_grad_(True)
    x = z_e.detach().reshape(-1, d)  # the flat latents the quantizer sees
    out = q(z_e)
    shape = (*lead, n)
    assert out.z_q.shape == (*shape, d) and out.indices.shape == shape and out.probs.shape == (*shape, k)
    assert out.indices.dtype == torch.long and torch.isfinite(out.z_q).all()
    _is_distribution(out.probs.detach(), atol=1e-5)
    assert torch.equal(out.indices, out.probs.argmax(-1))
    # argmax of every posterior here is a nearest codeword (equal widths / temperatures; ties allowed)
    dist = P.squared_distances(x.double(), w.double())
    nearest = dist.gather(1, out.indices.reshape(-1, 1)).squeeze(1)
    torch.testing.assert_close(nearest, dist.min(1).values, atol=1e-4, rtol=1e-4)
    assert out.counts.shape == (k,) and float(out.counts.sum()) == len(x)
    assert torch.equal(out.counts, torch.bincount(out.indices.flatten(), minlength=k).to(out.counts.dtype))
    assert 1 - 1e-4 <= float(out.perplexity) <= k + 1e-4
    assert all(v.ndim == 0 and torch.isfinite(v) for v in out.losses.values())
    if kind.startswith("posterior_") or kind.startswith("vq"):  # decoder input: the nearest codeword
        torch.testing.assert_close(out.z_q.detach().reshape(-1, d), w[out.indices.flatten()], atol=1e-6, rtol=0)
    if kind in ("em_mean", "soft_st", "soft_no_st"):  # decoder input: the posterior mean
        mean = out.probs.detach().reshape(-1, k) @ w
        torch.testing.assert_close(out.z_q.detach().reshape(-1, d), mean, atol=1e-5, rtol=1e-5)
    g = torch.randn(out.z_q.shape)
    (grad,) = torch.autograd.grad((out.z_q * g).sum(), z_e, allow_unused=True)
    if kind in STRAIGHT_THROUGH:
        torch.testing.assert_close(grad, g, atol=0, rtol=0)  # straight-through: the identity, exactly
    elif kind == "vq_rotation":  # the rotation trick: |dL/dz_e| = |z_q| / |z_e| * |dL/dz_q| row by row (R orthogonal)
        ze, zq = x.double(), out.z_q.detach().reshape(-1, d).double()
        ok = (ze.norm(dim=1) > 1e-3) & (zq.norm(dim=1) > 1e-3)
        ratio = zq.norm(dim=1) / ze.norm(dim=1).clamp_min(1e-12)
        torch.testing.assert_close(grad.reshape(-1, d).double().norm(dim=1)[ok],
                                   (ratio * g.reshape(-1, d).double().norm(dim=1))[ok], atol=1e-4, rtol=1e-4)


@given(levels=st.lists(st.integers(2, 6), min_size=1, max_size=3),
       n=st.integers(1, 8), scale=st.sampled_from([0.1, 1.0, 10.0]), data=st.data())
def test_fsq_output_contract(levels, n, scale, data):
    """FSQ: indices in [0, prod L), z_q is the grid point of its index, one-hot probs, counts and perplexity."""
    q = FSQuantizer(levels)
    z = scale * torch.randn(n, len(levels), generator=torch.Generator().manual_seed(data.draw(st.integers(0, 99))))
    out = q(z)
    k = q.num_codes
    assert k == int(np.prod(levels)) and q.codebook.shape == (k, len(levels))
    assert out.indices.shape == (n,) and int(out.indices.min()) >= 0 and int(out.indices.max()) < k
    torch.testing.assert_close(out.z_q.detach(), q.codebook[out.indices], atol=1e-6, rtol=0)
    assert float(out.z_q.abs().max()) <= 1.0 + 1e-6 and torch.isfinite(out.z_q).all()
    assert torch.equal(out.indices, out.probs.argmax(-1)) and torch.equal(out.probs.sum(-1), torch.ones(n))
    assert float(out.counts.sum()) == n and 1 - 1e-4 <= float(out.perplexity) <= k + 1e-4
    assert out.losses == {}
