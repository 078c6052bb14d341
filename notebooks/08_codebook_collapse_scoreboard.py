# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (vqlab)
#     language: python
#     name: vqlab
# ---

# %% [markdown]
# # 08 · The codebook-collapse scoreboard
#
# **What you will learn**
#
# 1. Finite scalar quantization (FSQ, Mentzer et al. 2023, [arXiv:2309.15505](https://arxiv.org/abs/2309.15505)): bound each latent
#    dimension, round it, and get an *implicit* codebook of $\prod_d L_d$ codes that nothing has to learn.
# 2. The rotation trick (Fifty et al. 2024, [arXiv:2410.06424](https://arxiv.org/abs/2410.06424)): the same forward pass as the
#    straight-through estimator, but a gradient that is rotated from the codeword back onto the encoder
#    output — both checked numerically.
# 3. Every collapse fix of notebooks 01–06 and these two on **one** conv VQ-VAE, with one training budget
#    and three seeds: reconstruction error, perplexity, the fraction of the codebook used, training time,
#    and how usage develops during training.
# 4. How to read such a scoreboard honestly: which differences are larger than the spread over seeds,
#    and which are not.
#
# Everything runs offline on a CPU in one to two minutes.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

import vqlab
from vqlab.data import load_digits
from vqlab.experiments import SCOREBOARD, scoreboard
from vqlab.plotting import plot_usage_over_training
from vqlab.quantizers import FSQuantizer, rotation_trick
from vqlab.train import eval_mode
from vqlab.widgets.fsq import draw_fsq, fsq_state, fsq_widget

vqlab.seed_everything(0)
torch.set_printoptions(precision=4)

# %% [markdown]
# ## 1. The contestants
#
# Codebook collapse — most codewords never selected, so the model uses a fraction of its capacity — came
# up in every notebook so far, and each brought its own fix:
#
# | row | what changes | notebook |
# |---|---|---|
# | plain | hard VQ, straight-through estimator, codebook loss (VQ-VAE) | 01 |
# | EMA | codewords are running means of their assigned vectors, no codebook loss | 01 |
# | k-means++ | the codebook is seeded by k-means++ on the first batch | 01 |
# | dead-code restart | a code unused for 20 steps jumps onto a random encoder output | 01 |
# | EM | soft assignments $p(z\mid x)\propto e^{-\lVert z_e-e_z\rVert^2/\tau}$, sampled decoder input (Roy et al. 2018, [arXiv:1805.11063](https://arxiv.org/abs/1805.11063)) | 02 |
# | soft VQ | noisy latents and the posterior-mean estimator (Wu & Flierl) | 03 |
# | neural gas | rank-based posterior $\propto e^{-\text{rank}/\lambda}$ in the eq. 5.4 loss | 04 |
# | normalised fuzzy c-means | the normalised fuzzy memberships (thesis eq. 4.7) in the eq. 5.4 loss | 04 |
# | HC-VQ | plain VQ plus the homology-constrained entropy regularizer (Volkov 2022, [arXiv:2211.14363](https://arxiv.org/abs/2211.14363)) | 06 |
# | FSQ | no learned codebook at all: bounded, rounded latents | this notebook |
# | rotation trick | plain VQ with the rotated gradient instead of straight-through | this notebook |
#
# The two new rows first.
#
# ## 2. Finite scalar quantization
#
# FSQ replaces the codebook by a fixed grid. Each of the $D$ latent dimensions gets $L_d$ levels: the
# encoder output is **bounded** and **rounded**,
#
# $$f(z) = \lfloor L/2\rfloor \tanh(z), \qquad \hat z = \operatorname{round}(f(z)) \in
# \{-\lfloor L/2\rfloor, \dots, \lfloor L/2\rfloor\} \quad (L \text{ odd}),$$
#
# and the rounding passes gradients straight through, $\operatorname{round}_{\text{ste}}(x) = x +
# \operatorname{sg}(\operatorname{round}(x) - x)$ (paper §3, eq. 1). The **implicit codebook** is the grid of
# all combinations, $K = \prod_d L_d$ codes — with levels $(4, 4, 4)$, $K = 64$ in $D = 3$. For an even
# $L$ the bound is shifted by half a step so that $\hat z$ still takes $L$ integer values (paper App. A.1;
# `vqlab.quantizers.FSQuantizer` documents the exact formula), and `z_q` is $\hat z/\lfloor L/2\rfloor$.
# Nothing is learned by the quantizer: no codebook loss, no commitment loss, no EMA (`losses == {}`).
# A code can only go unused if the encoder never sends a latent into its cell — there is no codeword
# that could drift away from the data, which is how collapse happens in a learned codebook.
#
# The straight-through rounding means that $\partial z_q/\partial z = f'(z)/\lfloor L/2\rfloor$: the
# derivative of the bound, nothing else. We check the grid and this gradient:

# %%
fsq = FSQuantizer((4, 4, 4))
z = torch.randn(2000, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
out = fsq(z)
out.z_q.sum().backward()
z_bound = z.detach().requires_grad_()
fsq.bound(z_bound).sum().backward()                      # f acts elementwise: this gradient is f'(z)
expected = z_bound.grad / 2.0                            # floor(L/2) = 2 for L = 4
print("K =", fsq.num_codes, "| codebook", tuple(fsq.codebook.shape), "| distinct grid points:",
      len(torch.unique(fsq.codebook, dim=0)), "| losses:", out.losses)
print("z_q is a grid point:", bool(torch.equal(fsq.codebook[out.indices], out.z_q.detach())))
print("dz_q/dz = f'(z) / floor(L/2):", bool(torch.allclose(z.grad, expected, atol=1e-6)))

# %% [markdown]
# ## 3. The rotation trick
#
# The straight-through estimator $z_q = z_e + \operatorname{sg}(w - z_e)$ copies the decoder's gradient
# to $z_e$ unchanged (notebook 01): every encoder output in a Voronoi cell gets the same push, wherever
# it sits relative to its codeword. The rotation trick (arXiv:2410.06424, eq. 4) instead maps $z_e$ onto
# $w$ by a rotation and rescaling and treats that map as a constant. With the unit vectors
#
# $$e = \frac{z_e}{\lVert z_e\rVert},\qquad q = \frac{w}{\lVert w\rVert},\qquad
# r = \frac{e + q}{\lVert e + q\rVert},\qquad R = I - 2rr^\top + 2qe^\top,$$
#
# $R$ is the rotation in the plane of $e$ and $q$ with $Re = q$, and
#
# $$\tilde z_q = \operatorname{sg}\!\Big(\frac{\lVert w\rVert}{\lVert z_e\rVert} R\Big)\, z_e = w,
# \qquad \frac{\partial L}{\partial z_e} = \frac{\lVert w\rVert}{\lVert z_e\rVert} R^\top
# \frac{\partial L}{\partial \tilde z_q}.$$
#
# Same forward value, a different gradient: two encoder outputs in the same cell now receive different
# updates depending on their angle to the codeword. We build $R$ by hand and compare it with
# `vqlab.quantizers.rotation_trick`:

# %%
gen = torch.Generator().manual_seed(1)
z_e = torch.randn(5, 3, generator=gen, requires_grad=True)
w = torch.randn(5, 3, generator=gen)
g = torch.randn(5, 3, generator=gen)                     # an upstream gradient dL/dz~_q
z_tilde = rotation_trick(z_e, w)
(z_tilde * g).sum().backward()
e, q = z_e.detach() / z_e.detach().norm(dim=1, keepdim=True), w / w.norm(dim=1, keepdim=True)
r = (e + q) / (e + q).norm(dim=1, keepdim=True)
eye = torch.eye(3).expand(5, 3, 3)
R = eye - 2 * r[:, :, None] * r[:, None, :] + 2 * q[:, :, None] * e[:, None, :]
scale = (w.norm(dim=1) / z_e.detach().norm(dim=1))[:, None]
by_hand = scale * torch.einsum("nji,nj->ni", R, g)       # s R^T g
print("forward value is the codeword:", bool(torch.allclose(z_tilde, w, atol=1e-6)))
print("R is a rotation (R^T R = I, det R = 1):", bool(torch.allclose(R.transpose(1, 2) @ R, eye, atol=1e-5)),
      bool(torch.allclose(torch.linalg.det(R), torch.ones(5), atol=1e-5)))
print("R e = q:", bool(torch.allclose(torch.einsum("nij,nj->ni", R, e), q, atol=1e-6)))
print("gradient = (|w|/|z_e|) R^T g:", bool(torch.allclose(z_e.grad, by_hand, atol=1e-5)),
      "| differs from straight-through:", bool((z_e.grad - g).abs().max() > 1e-3))

# %% [markdown]
# ## 4. The scoreboard
#
# **One setup for every row** (`vqlab.experiments.scoreboard`): the conv VQ-VAE of
# `build_vqvae(..., arch="conv", channels=16)` (8×8 digits → a 4×4 grid of $D$-dim latents → 8×8), $K = 256$
# codes of dimension $D = 3$ — so that FSQ with levels $(8, 8, 4)$ has the same $K$ and the same encoder —,
# commitment weight $\beta = 0.25$ wherever there is one, Adam with learning rate $2\cdot 10^{-3}$, batch
# 64, **8 epochs** (about 170 steps) on the 1347 training digits, seeds 0, 1, 2; measured on the 450 test
# digits. The method settings are the earlier notebooks' defaults, not tuned here: EM temperature
# $\tau = 0.1$, soft VQ noise $\sigma_\epsilon = 0.1$ with learned per-code variances (the conv encoder has
# no variance head, so `build_vqvae(..., variance_head=False)`), neural gas $\lambda = 3$, fuzzifier
# $m = 2$, HC-VQ in paper mode with the paper's targets and a period of 20 steps. $K = 256$ codes for 1347
# training images (21 552 latents of the 4×4 grids) is generous on purpose: that is where codebooks collapse
# (exercise 5 shrinks the codebook to 64).
#
# Columns: test reconstruction MSE, perplexity $\exp H$ of the test codes (at most $K$), the fraction of
# the $K$ codes that at least one test latent uses, and the wall time of training. The budget is small
# on purpose (the whole notebook has to run in about a minute and a half): the ranking after longer training may differ
# (`epochs=` sets the budget of every row). Training seconds depend on the machine and its load; read them as rough ratios.

# %%
# NBVAL_IGNORE_OUTPUT
data = load_digits()
x_train, x_test = data.images(data.x_train), data.images(data.x_test)
board = scoreboard(x_train, x_test, seeds=(0, 1, 2), epochs=8, num_codes=256, code_dim=3, fsq_levels=(8, 8, 4),
                   device="cpu")
METRICS = ("recon", "perplexity", "usage_fraction", "train_seconds")
print(board.table(metrics=METRICS, digits={"recon": 4, "perplexity": 1, "usage_fraction": 1, "train_seconds": 2},
                  titles={"recon": "test MSE", "usage_fraction": "codes used [%]", "train_seconds": "train [s]"},
                  scale={"usage_fraction": 100.0}))
assert board.variants == list(SCOREBOARD)
assert all(np.isfinite(board.values[v][m]).all() for v in board.variants for m in METRICS)

# %% [markdown]
# **Inside or outside one standard deviation.** With three seeds the sample standard deviation is itself
# uncertain, so we use a deliberately simple rule: a row is *better than plain VQ* in a metric only if the
# two means differ by more than the standard deviation of **both** rows (and *worse* by the same rule);
# everything else counts as "within the spread". This is not a significance test — it only keeps us from
# reading noise as a ranking.

# %%
# NBVAL_IGNORE_OUTPUT
def versus_plain(metric: str, higher_is_better: bool) -> dict[str, list[str]]:
    """Rows better / worse than plain VQ by more than one std of both, and the rest."""
    m0, s0 = board.summary("plain", metric)
    verdict = {"better": [], "worse": [], "within one std": []}
    for name in board.variants[1:]:
        m, s = board.summary(name, metric)
        gap = (m - m0) if higher_is_better else (m0 - m)
        verdict["better" if gap > max(s, s0) else "worse" if -gap > max(s, s0) else "within one std"].append(name)
    return verdict


usage_verdict = versus_plain("usage_fraction", higher_is_better=True)
recon_verdict = versus_plain("recon", higher_is_better=False)
for metric, verdict in (("codes used", usage_verdict), ("test MSE", recon_verdict)):
    for kind, names in verdict.items():
        print(f"{metric:>10} | {kind:<14} | {', '.join(names) or '-'}")
fsq_min = min(board.values["FSQ"]["usage_fraction"])
print(f"FSQ uses {100 * board.mean('FSQ', 'usage_fraction'):.0f} % of its codes on average, "
      f"at least {100 * fsq_min:.0f} % in every seed")
assert board.mean("plain", "usage_fraction") < 0.35               # plain VQ collapses: most codes are dead
assert {"k-means++", "dead-code restart", "EM", "neural gas", "FSQ"} <= set(usage_verdict["better"])
assert {"EMA", "soft VQ"} <= set(usage_verdict["worse"])          # these two use even fewer codes
assert min(board.values["dead-code restart"]["usage_fraction"]) >= 0.9    # restarts keep (almost) every code alive
assert fsq_min >= 0.25                                            # FSQ's grid is never mostly dead here
assert {"dead-code restart", "FSQ"} <= set(recon_verdict["better"])
assert {"EM", "soft VQ", "normalised fuzzy c-means"} <= set(recon_verdict["worse"])

# %% [markdown]
# ### Usage during training
#
# The test numbers are a snapshot at the end. The per-step logs of the training loop (`trial.history`)
# show how each row got there: here the number of distinct codes in each training batch (1024 latents),
# divided by $K$, averaged over the three seeds and smoothed over 10 steps.

# %%
# NBVAL_IGNORE_OUTPUT
plot_usage_over_training(board, metric="codes_used", window=10)
plt.show()

# %% [markdown]
# **What the scoreboard shows** (this configuration, three seeds; the verdict lines above are recomputed
# on every run and asserted, the numbers quoted here are those of our run). **Plain VQ collapses**: of its 256
# codes the test digits used only about a fifth (19.7 ± 7.5 %, perplexity about 22). Six rows used more codes
# by more than one standard deviation of both: dead-code restart (98 %) and neural gas (95 %) keep almost every
# code alive, FSQ's grid was 58 % used (at least 41 % in every seed), EM about 50 %, k-means++ initialisation about 47 %
# and normalised fuzzy c-means about 44 % — the last with a large spread (± 16 points), so it passes the rule
# only just. Two rows used *fewer* codes than plain VQ: the EMA codebook (6 %, as in notebook 01) and soft VQ
# (10 %). HC-VQ with the paper's targets (chosen for a $128 \times 64$ codebook, not this one) and the rotation
# trick (26 ± 2.5 %) are **within one standard deviation** of plain VQ: in this small setting the rotation
# trick did not reproduce the clear usage gain of its paper.
# In test MSE, dead-code restart (0.021), FSQ, neural gas and k-means++ were lower than plain VQ (0.032) by
# more than one standard deviation of both; EM, soft VQ, fuzzy c-means and HC-VQ were higher — their decoders
# receive samples or mixtures of codewords, which 8 epochs do not turn into sharp reconstructions. EMA and the
# rotation trick are within the spread of plain VQ. Training times depend on the load of the machine; what held
# in our runs: EM, neural gas and fuzzy c-means (a posterior over all $K$ codes) and HC-VQ (persistent homology
# every 20 steps) took roughly 2–6× as long as the hard-VQ rows. A smaller codebook, a wider latent or a
# longer budget can change all of this — exercise 5 shrinks the codebook.

# %% [markdown]
# ## 5. FSQ's implicit codebook, interactively
#
# The widget draws the grid of all $\prod_d L_d$ codes for two or three dimensions and how a fixed random
# batch of latents $z \sim \mathcal N(0, s^2 I)$ uses it after bounding and rounding. A small spread $s$
# uses only the cells around the origin, a large one piles latents on the outermost levels (where $\tanh$
# saturates): usage depends on where the encoder puts its outputs, not on any codeword. First the default
# state, then the trained FSQ model's test latents (seed 0) on its own grid:

# %%
# NBVAL_IGNORE_OUTPUT
default = fsq_state((4, 4, 4))
print(f"K = {len(default.grid)}, counts sum to {int(default.counts.sum())}, used {default.usage_fraction:.0%}")
assert len(default.grid) == math.prod((4, 4, 4)) and default.counts.sum() == 2000
draw_fsq(default)
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
fsq_model = board.trials["FSQ"][0].model
with eval_mode(fsq_model), torch.no_grad():
    trained = fsq_state((8, 8, 4), latents=fsq_model.encode(x_test))
print(f"trained FSQ, seed 0: {trained.usage_fraction:.0%} of the grid used by the test latents")
assert trained.usage_fraction == board.values["FSQ"]["usage_fraction"][0]
draw_fsq(trained)
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
fsq_widget()

# %% [markdown]
# ## Summary
#
# - FSQ bounds each latent dimension with $\lfloor L/2\rfloor\tanh$ and rounds it with a straight-through
#   gradient; its codebook is the implicit grid of $\prod_d L_d$ points and nothing in it is learned, so no
#   codeword can be left behind — but cells the encoder never reaches still go unused.
# - The rotation trick keeps the straight-through forward value and rotates the gradient by
#   $R = I - 2rr^\top + 2qe^\top$ (rescaled by $\lVert w\rVert/\lVert z_e\rVert$); we checked $Re = q$, that $R$ is
#   a rotation and that the autograd gradient equals $\frac{\lVert w\rVert}{\lVert z_e\rVert}R^\top g$.
# - On one conv VQ-VAE ($K = 256$, $D = 3$, 8 epochs, 3 seeds) plain VQ used about a fifth of its codes.
#   Dead-code restart and neural gas kept almost all alive; FSQ, EM, k-means++ and (only just) fuzzy
#   c-means also used more codes than plain VQ by more than one standard deviation; EMA and soft VQ used
#   fewer; the rotation trick and HC-VQ were within the spread. Dead-code restart, FSQ, neural gas and
#   k-means++ also reconstructed best. A scoreboard is only as good as its spread: print which differences
#   exceed it before ranking.
#
# ## Exercises
#
# Exercises 1–3 are checked (`grader.check(...)` in the student version; hidden checks when graded);
# 4 and 5 are written answers. This solution version shows a model answer for each.

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 08_codebook_collapse_scoreboard
# init_cell: true
# check_all_cell: false
# export_cell: false
# solutions_pdf: false
# run_tests: false
# generate: true
# tests:
#   files: false

# %% [raw]
# # BEGIN QUESTION
# name: fsq_code_index
# points: 2

# %% [markdown]
# **Exercise 1 (FSQ's implicit codebook).** An FSQ code is one digit $q_d\in\{0,\dots,L_d-1\}$ per
# dimension. Write `code_index(digits, levels)` for `digits [N, D]` (long) and `levels` ($L_1,\dots,L_D$):
# the mixed-radix index $\sum_d q_d\prod_{j<d}L_j$ (dimension 0 is the least significant digit, as in
# `FSQuantizer`), a long tensor `[N]`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def code_index(digits: torch.Tensor, levels: tuple) -> torch.Tensor:
    # BEGIN SOLUTION
    place = torch.cumprod(torch.tensor((1, *levels[:-1])), 0)
    return (digits * place).sum(-1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_code_index_small(code_index, torch):
    idx = code_index(torch.tensor([[0, 0], [1, 0], [0, 1], [2, 3]]), (3, 4))
    assert isinstance(idx, torch.Tensor) and idx.shape == (4,), "return a long tensor of shape [N]"
    assert idx.tolist() == [0, 1, 3, 11], "dimension 0 is the least significant digit: q_0 + L_0 q_1"
test_code_index_small(code_index, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_code_index_is_fsq_s_numbering(code_index, torch, math):
    from vqlab.quantizers import FSQuantizer
    for levels in [(8, 5, 5, 5), (2, 7), (4, 4, 4)]:
        grid = torch.cartesian_prod(*[torch.arange(n) for n in levels]).reshape(-1, len(levels))
        idx = code_index(grid, levels)
        assert sorted(idx.tolist()) == list(range(math.prod(levels)))      # a bijection onto 0..K-1
        q = FSQuantizer(levels)
        half = torch.tensor([n // 2 for n in levels])
        z_q = (grid - half) / half                                         # FSQ's grid point of each digit vector
        assert torch.allclose(q.codebook[idx], z_q, atol=1e-6)              # FSQuantizer numbers them the same way
test_code_index_is_fsq_s_numbering(code_index, torch, math)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: rotation_matrix
# points: 2

# %% [markdown]
# **Exercise 2 (the rotation of §3).** Write `rotation_matrix(e, q)` for two unit vectors `e, q [D]` (not
# opposite): $R = I - 2rr^\top + 2qe^\top$ with $r=(e+q)/\lVert e+q\rVert$, a `[D, D]` tensor.

# %% [raw]
# # BEGIN SOLUTION

# %%
def rotation_matrix(e: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    r = (e + q) / (e + q).norm()
    return torch.eye(len(e), dtype=e.dtype) - 2 * torch.outer(r, r) + 2 * torch.outer(q, e)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_rotation_maps_e_onto_q(rotation_matrix, torch):
    g = torch.Generator().manual_seed(2)
    e, q = torch.randn(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    e, q = e / e.norm(), q / q.norm()
    R = rotation_matrix(e, q)
    assert R.shape == (5, 5) and torch.allclose(R @ e, q)
test_rotation_maps_e_onto_q(rotation_matrix, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_rotation_is_a_rotation_and_is_the_trick_s_gradient(rotation_matrix, torch, rotation_trick):
    g = torch.Generator().manual_seed(9)
    z_e = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    z_q = torch.randn(4, generator=g, dtype=torch.float64)
    e, q = z_e.detach() / z_e.detach().norm(), z_q / z_q.norm()
    R = rotation_matrix(e, q)
    assert torch.allclose(R.T @ R, torch.eye(4, dtype=torch.float64)) and torch.isclose(torch.det(R), torch.tensor(1.0, dtype=torch.float64))
    upstream = torch.randn(4, generator=g, dtype=torch.float64)
    (grad,) = torch.autograd.grad((rotation_trick(z_e[None], z_q[None])[0] * upstream).sum(), z_e)
    assert torch.allclose(grad, z_q.norm() / z_e.detach().norm() * R.T @ upstream)
test_rotation_is_a_rotation_and_is_the_trick_s_gradient(rotation_matrix, torch, rotation_trick)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: usage_fraction
# points: 2

# %% [markdown]
# **Exercise 3 (the scoreboard's usage column).** Write `usage_fraction(indices, num_codes)`: the fraction of
# the `num_codes` codes that occur at least once in the long tensor `indices` (any shape), as a Python float.

# %% [raw]
# # BEGIN SOLUTION

# %%
def usage_fraction(indices: torch.Tensor, num_codes: int) -> float:
    # BEGIN SOLUTION
    return torch.unique(indices).numel() / num_codes
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_usage_fraction_small(usage_fraction, torch):
    assert usage_fraction(torch.tensor([[0, 0], [3, 1]]), 8) == 3 / 8
test_usage_fraction_small(usage_fraction, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_usage_fraction_agrees_with_vqlab(usage_fraction, torch):
    from vqlab.metrics import codes_used
    g = torch.Generator().manual_seed(4)
    for k in (1, 7, 64):
        idx = torch.randint(0, k, (5, 9), generator=g)
        u = usage_fraction(idx, k)
        assert 0 < u <= 1 and abs(u - codes_used(idx, k) / k) < 1e-12
        assert usage_fraction(idx.flip(0), k) == u
test_usage_fraction_agrees_with_vqlab(usage_fraction, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: rotation_and_usage
# manual: true
# points: 2

# %% [markdown]
# **Exercise 4.** Why can the rotation trick change which codes are used although its forward pass is
# identical to the straight-through estimator's? (Hint: follow two encoder outputs in the same cell for one
# step.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* With straight-through both outputs receive the decoder's gradient at their common codeword
# unchanged, so they move in parallel and stay in the same cell unless the step is large. With the rotation
# the gradient of each output is rotated by its own $R$ (and scaled by $\lVert z_q\rVert/\lVert z_e\rVert$):
# outputs at different angles to the codeword move in different directions, so some cross into neighbouring
# cells — those codes are then selected and trained, which is how the rotation trick counters collapse
# (arXiv:2410.06424, §4).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: bigger_codebook
# manual: true
# points: 1

# %% [markdown]
# **Exercise 5.** Train the scoreboard with a smaller codebook:
# `scoreboard(x_train, x_test, num_codes=64, code_dim=3, fsq_levels=(4, 4, 4), epochs=8)` (under a minute).
# Does plain VQ still collapse? Which rows are still outside one standard deviation of plain VQ (rebind the
# global `board` and reuse `versus_plain`)? Explain what you see.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (our run of this setting, 3 seeds).* With 64 codes plain VQ hardly collapses: it used all 64
# codes on the test digits in two seeds and 73 % in the third (mean about 90 %, ± 15 points). The rows that
# used more codes — dead-code restart and neural gas (all 64 in every seed), the rotation trick, fuzzy
# c-means, k-means++ — were then all *within* one standard deviation of plain VQ; only the rows that used
# fewer (EMA, soft VQ, HC-VQ with the paper's targets, and FSQ at 53–84 % of its 4×4×4 grid) were outside it.
# A fix for collapse can only show where there is collapse: with few codes per latent every code keeps
# receiving encoder outputs, and the large seed spread of plain VQ hides the rest. Report the table with its
# spread; with 3 seeds, differences inside one standard deviation are not a ranking.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION
