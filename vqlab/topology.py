"""Persistent homology of point clouds, differentiable 0-dim deaths, and the homological regularizer.

Two papers use this module:

* Hoagland, Liu & Montelli, *Homological Regularization for Autoencoders* (``L_top``, §III): maximise the
  0-dimensional death times of the Vietoris–Rips filtration of a batch of latents while keeping the latents
  in the unit ball. :class:`HomologicalRegularizer`, :func:`mst_deaths` (the latents' prior and the sample-quality measures:
  :func:`vqlab.metrics.sample_unit_ball`, :func:`vqlab.metrics.coverage`, :func:`vqlab.metrics.energy_distance`).
* Volkov, *Homology-constrained VQ entropy regularizer* (§2): the signature ``{β¹, μ⁰}`` of a codebook's
  diagram. :func:`persistence_pairs`, :func:`smooth_betti`, :func:`mean_death0`, :func:`persistent_entropy`.

Diagrams come from the libraries (ripser, giotto-ph or gudhi, persim); nothing they compute is re-implemented. To get
gradients, the *pairing* (which edge created / killed which feature) is found on a detached exact distance
matrix, and the birth and death values are then read back out of a differentiable distance matrix.

Pitfalls handled here (measured on the course machines):

* ``torch.cdist``'s default matrix-multiply path in float32 invents small nonzero distances between
  identical points; :func:`pairwise_distances` uses the exact difference-based path.
* a hand-written ``sqrt`` has a NaN gradient at zero distance (duplicate points); the exact ``cdist`` path
  and :func:`_edge_lengths` give a zero (sub)gradient there instead.
* scipy's ``csgraph`` reads a zero in a dense matrix as "no edge", so duplicates give a wrong MST there;
  :func:`mst_deaths` has its own vectorised Borůvka search and never drops zero-length edges.
* giotto-ph with ``n_threads > 1`` returned wrong H1 birth edges for ~1-4 % of bars; it is always called with
  ``n_threads=1`` when generators are used.
* infinite bars are dropped before any arithmetic.
"""
from __future__ import annotations

import importlib.util
import math
import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from vqlab._checks import check_choice, check_float, check_int, check_tensor

__all__ = ["pairwise_distances", "persistence_diagrams", "diagram_distance", "mst_edges",
           "mst_deaths", "persistence_pairs", "smooth_betti", "mean_death0", "persistent_entropy",
           "disk_penalty", "HomologicalRegularizer", "betti_numbers_at", "rips_edges_at"]


def _check_cloud(name: str, x: Any, min_points: int = 2) -> Tensor:
    """A finite floating-point point cloud ``[n, d]`` with ``n >= min_points``."""
    x = check_tensor(name, x, ndim=2)
    if x.shape[0] < min_points:
        raise ValueError(f"{name} must hold at least {min_points} points (shape [n, d] with n >= {min_points}), "
                         f"got shape {tuple(x.shape)}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one coordinate per point, got shape {tuple(x.shape)}")
    return x


def _as_numpy_cloud(name: str, x: Any) -> np.ndarray:
    if not isinstance(x, Tensor):
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    return _check_cloud(name, x).detach().cpu().double().numpy()


# ----------------------------------------------------------------------------- distances
def pairwise_distances(x: Tensor) -> Tensor:
    """Exact Euclidean distance matrix ``[n, n]`` of a point cloud ``x [n, d]``, differentiable.

    Uses ``torch.cdist(..., compute_mode="donot_use_mm_for_euclid_dist")``: identical points get exactly 0
    (the default float32 matrix-multiply path gave up to 0.06 there for points of norm ~80) and a zero
    gradient (no NaN).
    """
    x = _check_cloud("x", x, min_points=1)
    return torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")


def _edge_lengths(x: Tensor, i: Tensor, j: Tensor) -> Tensor:
    """``‖x[i] − x[j]‖`` for index vectors ``i, j [m]``: the entries ``D[i, j]`` of the distance matrix,
    computed without building it. Safe sqrt: the gradient is 0 (not NaN) where the two points coincide."""
    return _safe_norm(x[i] - x[j])


def _safe_norm(v: Tensor) -> Tensor:
    """Euclidean norm over the last axis with a zero (not NaN) gradient at the zero vector."""
    sq = v.pow(2).sum(-1)
    pos = sq > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def _search_distances(x: Tensor) -> Tensor:
    """Detached float64 matrix ``[n, n]`` of *squared* distances (diagonal ``inf``), used only to *choose*
    MST edges (squared distances have the same order, hence the same MST).

    One matrix product of augmented points ``[z, ‖z‖², 1] · [−2z, 1, ‖z‖²]ᵀ = ‖z_i‖² + ‖z_j‖² − 2 z_i·z_j``
    in float64, on centred points rescaled by a power of two (exact; no overflow). Its rounding error
    (~1e-16 of the squared diameter) is far below float32 resolution and only matters between edges whose
    lengths agree to that precision; it is ~5x faster than the difference-based kernel at n = 2048, d = 64.
    The product is not guaranteed to be bitwise symmetric; :func:`mst_edges` checks for the (tie) cycles
    that this could cause. The returned deaths are always recomputed exactly from coordinate differences.
    """
    z = x.detach().double()
    z = z - z.mean(0)
    top = float(z.abs().max())
    if top > 0:
        z = z * 2.0 ** -math.ceil(math.log2(top))
    sq = z.pow(2).sum(1, keepdim=True)
    one = torch.ones_like(sq)
    g = torch.cat([z, sq, one], 1) @ torch.cat([-2.0 * z, one, sq], 1).T
    return g.fill_diagonal_(float("inf"))


# ----------------------------------------------------------------------------- diagrams (libraries)
def persistence_diagrams(x, maxdim: int = 1) -> list[np.ndarray]:
    """Vietoris–Rips persistence diagrams of ``x [n, d]`` with ripser, like ``ripser(x)["dgms"]``.

    Returns a list of ``maxdim + 1`` arrays ``[m_k, 2]`` of (birth, death) pairs; the one infinite H0 bar
    (and any others) has death ``inf``. Zero-length bars (duplicate points) are omitted, as ripser does.
    """
    from ripser import ripser

    check_int("maxdim", maxdim, 0)
    pts = _as_numpy_cloud("x", x)
    with warnings.catch_warnings():  # ripser warns about square / wide inputs; x is always a cloud here
        warnings.simplefilter("ignore", UserWarning)
        return ripser(pts, maxdim=maxdim)["dgms"]


def _finite(dgm, name: str) -> np.ndarray:
    d = np.asarray(dgm, dtype=np.float64)
    if d.size == 0:
        return d.reshape(0, 2)
    if d.ndim != 2 or d.shape[1] != 2:
        raise ValueError(f"{name} must be a diagram of shape [m, 2] (birth, death), got shape {d.shape}")
    if np.isnan(d).any():
        raise ValueError(f"{name} contains NaN")
    return d[np.isfinite(d).all(1)]


def diagram_distance(d1, d2, metric: str = "bottleneck") -> float:
    """Bottleneck or (order-1 ... persim default) Wasserstein distance between two diagrams ``[m, 2]``
    with persim. Infinite bars are dropped first (persim cannot match them)."""
    from persim import bottleneck, wasserstein

    check_choice("metric", metric, ("bottleneck", "wasserstein"))
    a, b = _finite(d1, "d1"), _finite(d2, "d2")
    return float(bottleneck(a, b) if metric == "bottleneck" else wasserstein(a, b))


# ----------------------------------------------------------------------------- 0-dim deaths = MST
class _TieCycle(RuntimeError):
    """Picks formed a cycle longer than 2 (possible only if the search matrix is not exactly symmetric)."""


def _pointer_jump(parent: Tensor) -> Tensor:
    """Roots of a forest given by ``parent`` (roots point to themselves): O(log depth) vectorised rounds."""
    for _ in range(2 + max(1, parent.numel()).bit_length()):
        nxt = parent[parent]
        if torch.equal(nxt, parent):
            return parent
        parent = nxt
    raise _TieCycle


def _boruvka(dist: Tensor) -> tuple[Tensor, Tensor]:
    """Borůvka on a dense symmetric weight matrix ``dist [n, n]`` (diagonal ``inf``), see :func:`mst_edges`.

    Keeps ``q [k, n]``: the minimum weight from each component (rows) to each point (columns), and
    ``cmat [k, k]``: component-to-component minima; both are contracted along rows with
    ``scatter_reduce(amin)`` after every round (row reductions are the fast direction in memory).
    """
    n = dist.shape[0]
    inf = float("inf")
    label = torch.arange(n)  # component of each point, in 0..k-1
    q, cmat = dist, dist
    out_i, out_j = [], []
    while cmat.shape[0] > 1:
        k = cmat.shape[0]
        w, other = cmat.min(1)  # lightest outgoing edge of each component; ties -> smallest id
        rows = torch.arange(k)
        mutual = other[other] == rows  # both ends picked the same edge: keep it once
        keep = ~mutual | (rows < other)
        a, b, wk = rows[keep], other[keep], w[keep]
        if k == n:  # singletons: the pick is the edge itself
            i, j = a, b
        else:  # map the picked component pair (a, b) back to an original edge of weight w
            hit = q[other[label], torch.arange(n)] == w[label]
            first = torch.full((k,), n).scatter_reduce_(0, label, torch.where(hit, torch.arange(n), n), "amin")
            i = first[a]
            # q holds column minima, so compare against columns dist[:, i] (exact same entries)
            match = (dist.index_select(1, i).T == wk[:, None]) & (label[None, :] == b[:, None])
            j = match.to(torch.uint8).argmax(1)
        out_i.append(i)
        out_j.append(j)
        parent = _pointer_jump(torch.where(mutual & (rows < other), rows, other))
        _, new = torch.unique(parent, return_inverse=True)
        k2 = int(new.max()) + 1
        q = torch.full((k2, n), inf, dtype=dist.dtype).scatter_reduce_(0, new[:, None].expand(k, n), q, "amin")
        label = new[label]
        cmat = torch.full((k2, k2), inf, dtype=dist.dtype).scatter_reduce_(
            0, label[:, None].expand(n, k2), q.T, "amin")
        cmat.fill_diagonal_(inf)
    return torch.cat(out_i), torch.cat(out_j)


def mst_edges(x: Tensor) -> tuple[Tensor, Tensor]:
    """Edges ``(i [n-1], j [n-1])`` of a Euclidean minimum spanning tree of ``x [n, d]`` (no gradient).

    Vectorised Borůvka: every component picks its lightest outgoing edge, all picks are merged at once
    (pointer jumping), and the matrix of component-to-component minimum distances is contracted with
    ``scatter_reduce(amin)``. Components at least halve per round, so there are at most ⌈log₂ n⌉ sequential
    rounds (a Prim loop needs n); only the first round touches all n² entries. Picks are ordered by
    (weight, smaller id, larger id), a strict total order on a symmetric matrix, so ties (duplicate points,
    zero-length edges) never create a cycle; each picked component pair is mapped back to an original edge
    of the same length. Zero-length edges are ordinary edges (unlike scipy's dense csgraph input).
    """
    x = _check_cloud("x", x)
    dist = _search_distances(x)
    try:
        return _boruvka(dist)
    except _TieCycle:  # the float64 product was not bitwise symmetric at a tie: symmetrise and redo
        return _boruvka(torch.minimum(dist, dist.T))


def mst_deaths(x: Tensor) -> Tensor:
    """The ``n − 1`` finite H0 death times of the Vietoris–Rips filtration of ``x [n, d]``, differentiable.

    All 0-dim bars are born at 0 and die when their component merges, i.e. at the lengths of the edges of
    a minimum spanning tree (Kruskal = the 0-dim persistence algorithm). The edges are found without
    gradient (:func:`mst_edges`); the lengths are then computed from ``x`` so gradients flow to the points
    (same values and gradients as indexing the autograd distance matrix, without building it). Duplicate
    points give exact zeros with zero gradient; ripser omits those zero-length bars from its diagram.
    Returns ``[n − 1]`` sorted ascending.
    """
    i, j = mst_edges(x)
    return _edge_lengths(x, i, j).sort().values


def mean_death0(x: Tensor) -> Tensor:
    """μ⁰ (HC-VQ §2, the signature ``{β¹, μ⁰}``): the mean of the ``n − 1`` finite 0-dim deaths of
    ``x [n, d]``, differentiable. Zero deaths of duplicate points count (a collapsed codebook has μ⁰ = 0)."""
    return mst_deaths(x).mean()


# ----------------------------------------------------------------------------- H0 / H1 pairs with gradients
def persistence_pairs(x: Tensor, maxdim: int = 1) -> dict[int, tuple[Tensor, Tensor]]:
    """Finite persistence pairs of ``x [n, d]`` in dimensions ``0..maxdim`` with gradients.

    giotto-ph (``ripser_parallel(..., return_generators=True, n_threads=1)``; gudhi on Python 3.13+, see
    :func:`_rips_generators`) on the detached exact distance matrix gives, for each finite bar, the edge
    whose length is its birth (H1) and the edge whose length is its death; these entries are then read out
    of the autograd distance matrix (:func:`pairwise_distances`). Infinite bars are dropped. Meant for small
    clouds such as a codebook (K ≤ 512): the cost is that of ripser on a K-point cloud.

    Returns ``{k: (births [m_k], deaths [m_k])}``; H0 births are zeros. Zero-length bars (duplicates) are
    omitted, as in ripser's diagram, so a fully collapsed cloud gives empty tensors (no NaN).
    """
    x = _check_cloud("x", x)
    check_int("maxdim", maxdim, 0)
    dist = pairwise_distances(x)
    g0, gens = _rips_generators(dist.detach().double().cpu().numpy(), maxdim)
    g0 = torch.as_tensor(g0)
    d0 = dist[g0[:, 1], g0[:, 2]]
    pairs = {0: (torch.zeros_like(d0), d0)}
    for k in range(1, maxdim + 1):
        g = torch.as_tensor(gens[k - 1])
        pairs[k] = (dist[g[:, 0], g[:, 1]], dist[g[:, 2], g[:, 3]])
    return pairs


def _rips_generators(dist: np.ndarray, maxdim: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The edges behind every finite bar of the Vietoris–Rips filtration of a distance matrix ``[n, n]``.

    Returns ``(g0 [m_0, 3], [g_1 [m_1, 4], ..., g_maxdim])`` as int64 vertex indices, giotto-ph's ``gens``
    layout: an H0 row is (birth vertex, death edge ``i, j``), an Hk row (birth edge ``a, b``, death edge
    ``c, d``); a bar's birth and death are the lengths of those edges. Zero-length bars are omitted.

    giotto-ph computes them where it is installed. It has no wheel for Python 3.13+; there gudhi's flag
    persistence generators give the same pairs, about 30x slower for 128 points (tests/test_topology.py
    compares the two on random clouds). Where two edges have exactly the same length the two libraries may
    name different ones: the same values, the gradient on other points.
    """
    if importlib.util.find_spec("gph") is None:
        return _gudhi_generators(dist, maxdim)
    return _giotto_generators(dist, maxdim)


def _giotto_generators(dist: np.ndarray, maxdim: int) -> tuple[np.ndarray, list[np.ndarray]]:
    from gph import ripser_parallel

    gens = ripser_parallel(dist, maxdim=maxdim, metric="precomputed", return_generators=True, n_threads=1)["gens"]
    return _as_generators(gens[0], gens[1], maxdim)


def _gudhi_generators(dist: np.ndarray, maxdim: int) -> tuple[np.ndarray, list[np.ndarray]]:
    import gudhi

    tree = gudhi.RipsComplex(distance_matrix=dist).create_simplex_tree(max_dimension=maxdim + 1)
    tree.compute_persistence(homology_coeff_field=2)  # Z/2, giotto-ph's default
    g0, higher = tree.flag_persistence_generators()[:2]
    return _as_generators(g0, higher, maxdim)


def _as_generators(g0, higher, maxdim: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """int64 arrays ``[m_0, 3]`` and one ``[m_k, 4]`` per dimension 1..maxdim (empty where a library gave none)."""
    higher = list(higher)[:maxdim]
    higher += [np.empty((0, 4))] * (maxdim - len(higher))
    return np.asarray(g0, dtype=np.int64).reshape(-1, 3), [np.asarray(g, dtype=np.int64).reshape(-1, 4) for g in higher]


def smooth_betti(lifetimes: Tensor, sigma: float) -> Tensor:
    """Smooth Betti number ``β̃ = m − Σ_i exp(−½ (ℓ_i / σ)²)`` of ``m`` bars with lifetimes ``ℓ [m]``.

    "Approximate counting based on narrow gaussians" (HC-VQ §2): a bar of lifetime ≫ σ counts ≈ 1, a bar
    of lifetime 0 counts 0, and the count is differentiable in the lifetimes. Infinite lifetimes count 1.
    """
    if not isinstance(lifetimes, Tensor):
        raise TypeError(f"lifetimes must be a torch.Tensor, got {type(lifetimes).__name__}")
    if lifetimes.ndim != 1:
        raise ValueError(f"lifetimes must be 1-D [m], got shape {tuple(lifetimes.shape)}")
    if torch.isnan(lifetimes).any() or (lifetimes < 0).any():
        raise ValueError("lifetimes must be non-negative and not NaN")
    sigma = check_float("sigma", sigma, 0.0, strict=True)
    fin = lifetimes[torch.isfinite(lifetimes)]
    n_inf = lifetimes.numel() - fin.numel()
    return (fin.numel() - torch.exp(-0.5 * (fin / sigma) ** 2).sum()) + n_inf


def persistent_entropy(lifetimes_or_diagram, eps: float = 1e-12):
    """Persistent entropy ``E = −Σ p_i log p_i``, ``p_i = ℓ_i / L``, ``L = max(Σ ℓ_i, eps)``.

    Accepts lifetimes ``[m]`` or a diagram ``[m, 2]`` (lifetime = death − birth), as a tensor
    (differentiable; returns a 0-dim tensor) or a NumPy array (returns a float). Infinite bars are
    dropped first; zero-length bars contribute 0 (``0 log 0 = 0``); the clamped normaliser ``L`` keeps an
    empty or all-zero diagram at E = 0 instead of NaN. Equals ``persim.persistent_entropy`` wherever that
    is defined (all bars of positive length).
    """
    as_tensor = isinstance(lifetimes_or_diagram, Tensor)
    t = lifetimes_or_diagram if as_tensor else torch.as_tensor(np.asarray(lifetimes_or_diagram, dtype=np.float64))
    if t.ndim == 2 and t.shape[1] == 2:
        t = t[torch.isfinite(t).all(1)]
        t = t[:, 1] - t[:, 0]
    elif t.ndim == 1:
        t = t[torch.isfinite(t)]
    else:
        raise ValueError(f"lifetimes_or_diagram must be lifetimes [m] or a diagram [m, 2], got shape "
                         f"{tuple(t.shape)}")
    if torch.isnan(t).any() or (t < 0).any():
        raise ValueError("lifetimes must be non-negative (death >= birth) and not NaN")
    total = t.sum().clamp_min(eps)
    p = t / total
    e = -(torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))).sum()
    return e if as_tensor else float(e)


# ----------------------------------------------------------------------------- Hoagland et al. regularizer
def disk_penalty(z: Tensor) -> Tensor:
    """Per-point hinge ``max(‖z_i‖ − 1, 0)`` ``[n]`` for latents ``z [n, d]``: 0 inside the unit ball,
    growing linearly outside it (the first sum of ``L_top``, §III)."""
    return torch.relu(_safe_norm(z) - 1.0)


class HomologicalRegularizer:
    """``λ L_top(B) = λ [Σ_{x∈B} max(‖z_x‖ − 1, 0) − Σ_{d∈†(B)} d]`` (Hoagland et al., §III), as a
    :func:`vqlab.train.train` ``extra_losses`` hook: ``hook(model, xb, out, step)`` reads the latents
    ``out.z_e`` (one point per example, flattened to ``[B, D]``) and returns ``{"disk": ..., "deaths": ...}``
    (both already weighted; their sum is ``λ L_top``).

    **Batch-size scaling.** The disk sum grows like B. The death sum is the length of a Euclidean minimum
    spanning tree: for B points spread over a fixed region of ℝ^D it grows like ``B^{1−1/D}``
    (Beardwood–Halton–Hammersley / Steele), e.g. like √B in 2-D, and a single death shrinks like
    ``B^{−1/D}``. Gradients behave differently from values: ∂(Σ d)/∂z_i is a sum of unit vectors along the
    MST edges at z_i (bounded degree), so each point feels an O(1) push whatever B is, and the hinge gives
    each outside point a unit pull. A batch-mean reconstruction loss gives each latent a gradient O(1/B).

    * ``reduction="sum"`` (the paper's formula; λ = 0.005 at B = 128 with a cross-entropy summed over
      pixels): relative to a batch-mean reconstruction the regularizer's per-point force grows ∝ B, so λ is
      tied to the batch size.
    * ``reduction="mean"`` (default): both sums are divided by B (``Σ hinge / B − Σ d / B``); the two terms
      keep the paper's ratio and every per-point force is O(1/B), like the reconstruction's, so λ need not
      change with B. The logged value of the death term still shrinks like ``B^{−1/D}``.

    Measured (digits, 2-D latent, λ = 0.1 with "mean", the same number of steps): B = 32, 128, 512 gave
    energy distances to the uniform disk of 0.014, 0.013, 0.015 and coverages 0.93, 0.92, 0.90; the
    fraction of latents inside the ball rose with B (0.68, 0.92, 0.94).

    Args:
        weight: λ. The paper's 0.005 pairs with ``reduction="sum"`` and summed BCE. With vqlab's per-pixel
            MSE and ``reduction="mean"``, λ = 0.1 (notebook 05) fills the disk on digits without raising
            the reconstruction error; 0.3 and 1.0 also fill it but raised the test MSE (2-D, 60 epochs:
            0.037, 0.041, 0.047 for λ = 0.1, 0.3, 1.0).
        reduction: ``"mean"`` (default) or ``"sum"`` (the paper's literal formula).
        topological: ``False`` drops the death term: the "disk penalty only" ablation of Appendix A-A.
    """

    def __init__(self, weight: float = 0.1, reduction: str = "mean", topological: bool = True):
        self.weight = check_float("weight", weight, 0.0)
        self.reduction = check_choice("reduction", reduction, ("mean", "sum"))
        self.topological = bool(topological)

    def terms(self, z: Tensor) -> dict[str, Tensor]:
        """Unweighted ``{"disk": Σ hinge, "deaths": −Σ deaths}`` (each divided by B for ``"mean"``) for
        latents ``z [B, ...]`` (flattened to ``[B, D]``)."""
        z = check_tensor("z", z, min_ndim=2)
        z = z.reshape(z.shape[0], -1)
        _check_cloud("z", z)
        scale = 1.0 / z.shape[0] if self.reduction == "mean" else 1.0
        out = {"disk": disk_penalty(z).sum() * scale}
        if self.topological:
            out["deaths"] = -mst_deaths(z).sum() * scale
        return out

    def __call__(self, model: nn.Module, xb: Tensor, out: Any, step: int) -> dict[str, Tensor]:
        return {k: self.weight * v for k, v in self.terms(out.z_e).items()}

    def __repr__(self) -> str:
        return (f"HomologicalRegularizer(weight={self.weight}, reduction={self.reduction!r}, "
                f"topological={self.topological})")


# ----------------------------------------------------------------------------- Rips complex at one radius
def rips_edges_at(x, eps: float) -> np.ndarray:
    """Edges ``[m, 2]`` (i < j) of the Vietoris–Rips complex of ``x [n, d]`` at radius ``eps``:
    the pairs with ``‖x_i − x_j‖ ≤ eps`` (the paper's definition of R_ε)."""
    pts = _as_numpy_cloud("x", x)
    eps = check_float("eps", eps, 0.0)
    d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
    i, j = np.nonzero(np.triu(d <= eps, 1))
    return np.stack([i, j], 1)


def betti_numbers_at(diagrams: list[np.ndarray], eps: float) -> list[int]:
    """Betti numbers ``β_k(R_ε)`` read off persistence diagrams: the number of bars with
    ``birth ≤ ε < death`` in each dimension (infinite bars included: they never die)."""
    eps = check_float("eps", eps, 0.0)
    out = []
    for d in diagrams:
        d = np.asarray(d, dtype=np.float64).reshape(-1, 2)
        out.append(int(((d[:, 0] <= eps) & (eps < d[:, 1])).sum()))
    return out

