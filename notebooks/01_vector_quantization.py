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
# # 01 · Vector quantization → the VQ-VAE
#
# **What you will learn**
#
# 1. Vector quantization (VQ) as clustering: a codebook, its Voronoi cells, the distortion, and
#    Lloyd's k-means algorithm that lowers it — written as an expectation over a posterior $q(k\mid x)$
#    (§4.1 of the neural-gas thesis: Y. Badran, *VQ-VAE with Neural Gas and Fuzzy c-Means*, master thesis,
#    Hochschule Mittweida, 2021; no public copy is known).
# 2. The VQ-VAE: encoder → quantizer → decoder, and its loss (thesis eqs. 5.1–5.5; VQ-VAE eq. 3).
# 3. The stop-gradient and the straight-through estimator, checked *numerically*: which loss term
#    moves which parameters.
# 4. Training a VQ-VAE on 8×8 digits: reconstructions, the reconstruction and perplexity curves, and a
#    code browser.
# 5. Codebook collapse — most codes never used — made visible, and side by side over 10 seeds: plain VQ from
#    two initialisations, an EMA codebook, k-means++ initialisation and dead-code restarts, each compared
#    with plain VQ by paired differences and their 95 % intervals.
#
# Before you start: notebook [00_prerequisites](00_prerequisites.ipynb) explains the straight-through
# estimator (§4) and the VAE with its ELBO and KL term (§3), which this notebook uses. The symbols are the
# course's ([notation](../book/notation.md)): codewords $e_k$, $k = 1, \dots, K$, the nearest code $k^*(x)$,
# the posterior $q(k\mid x)$, the commitment weight $\beta$. Everything runs offline on a CPU in under a minute.

# %% [markdown]
# ### Paper ↔ this notebook
#
# Two sources: the VQ-VAE paper (van den Oord, Vinyals & Kavukcuoglu 2017,
# [arXiv:1711.00937](https://arxiv.org/abs/1711.00937): eqs. 1–3 and Appendix A.1) and the neural-gas thesis
# (§4.1 and §5.1: eqs. 4.1, 4.2, 5.1–5.5). Where they are wrong or unclear, where the public code departs from
# them, and what this notebook does (each choice is checked where it says):
#
# - **The sign of the reconstruction term.** Thesis eqs. 5.4 and 5.5 (and the $\ell(x)$ of its §5.1) and VQ-VAE
#   eq. 3 all print $+\log p(x\mid z_q(x))$. A loss that is *minimised* needs $-\log p$ — with the plus sign,
#   training would make the data less likely; the paper's own text calls the term "the reconstruction loss".
#   We write $-\log p_\phi(x\mid z_q(x))$; vqlab's `recon` is the MSE, a Gaussian decoder's $-\log p_\phi$ up to
#   scale and constants. *Checked in §4: training lowers `recon`.*
# - **argmax for argmin.** Thesis §4.1 defines the quantizer encoder as an $\arg\max$ of the distance; its
#   §4.1.2 and §5 use the $\arg\min$, the nearest codeword $k^*(x)$. *Checked in §1 (the one-hot posterior at
#   the argmin turns eq. 4.1 into eq. 4.2) and by exercise 3's checks.*
# - **Small slips of the thesis.** Eq. 5.3 conditions the posterior on $x$ where eqs. 5.1 and 5.2 condition on
#   $z_e(x)$ (the same posterior is meant); eq. 5.5 writes the codeword of a code $z$ where the nearest one,
#   $e_{k^*(x)}$, is meant; §5.1.1 substitutes the k-means posterior "in equation 5.8" where eq. 5.4 is meant.
# - **Sums or means.** The papers write squared norms $\lVert\cdot\rVert^2$, sums over the $D$ dimensions.
#   vqlab, like DeepMind's Sonnet code (`reduce_mean`), averages both latent terms over the batch *and* the
#   $D$ dimensions: each is the paper's divided by $D$ — the same ratio $\beta$ between them, another balance
#   against the reconstruction term. *Checked in §2.*
# - **The EMA codebook.** App. A.1 gives the update without smoothing and without starting values. vqlab adds
#   the Laplace smoothing of the counts that DeepMind's Sonnet code has (`epsilon` $= 10^{-5}$) and starts
#   every count at 1 with its sum at the initial codeword (Sonnet 2 starts both at 0 and corrects the bias).
#   *Checked in §5: one step equals App. A.1.*
# - **The initialisation** is not in the paper. DeepMind's reference code (Sonnet / Haiku) draws the codebook
#   from $U(-\sqrt{3/D}, \sqrt{3/D})$ ("variance scaling", vqlab's `init="variance_scaling"`); common PyTorch
#   ports (zalandoresearch/pytorch-vq-vae and its copies) draw it from $U(-1/K, 1/K)$, vqlab's default
#   `init="uniform"`. §5 trains from both. *Checked in §5: the ranges.*
# - **$\beta = 0.25$**, vqlab's default, is the paper's choice for all its experiments (§3.2; it reports results
#   robust for $\beta$ from 0.1 to 2.0). *Checked in §2.*
#
# The letters, paper by paper:
#
# | paper symbol | course symbol | meaning |
# |---|---|---|
# | $\mathbf w$ (the codebook) | $e$ | codebook |
# | $\mathbf w_z$, $\mathbf w_i$ | $e_k$ | codeword |
# | $z$ (a code), $i$ | $k$ | code index |
# | $k$ (number of prototypes) | $K$ | number of codes |
# | $q_{\mathbf w}(z\mid x)$, $p_{\mathbf w}(z\mid x)$, $P_{\mathbf w}(z\mid x)$ | $q(k\mid x)$ | posterior over codes |
# | $\gamma(x)$ | $k^*(x)$ | nearest code index |
# | $\boldsymbol\beta(x)$ | $z_q(x)$ | quantized latent |
# | $z_\theta(x)$, $e(x)$ | $z_e(x)$ | encoder output |
# | $\mathrm d(x, \mathbf w_z)$ | $d(x, e_k)$ | squared distance |
# | $\mathbf E$ | $E$ | expected distortion |
# | $R_i$ | $V_k$ | Voronoi cell |
# | $\alpha$ | $\beta$ | commitment weight |
# | $\eta$ | $\eta$ | codebook-loss weight |
# | $p_\phi(x\mid z)$ | $p_\phi(x\mid z)$ | decoder |
# | $\theta$ | $\theta$ | encoder parameters |
# | $\phi$ | $\phi$ | decoder parameters |
#
# | paper symbol | course symbol | meaning |
# |---|---|---|
# | $z_e(x)$ | $z_e(x)$ | encoder output |
# | $e \in \mathbb R^{K\times D}$ | $e$ | codebook |
# | $e_i$, $e_j$ | $e_k$ | codeword |
# | $K$ | $K$ | number of codes |
# | $D$ | $D$ | code dimension |
# | $k$ | $k$ | code index |
# | $q(z = k\mid x)$ | $q(k\mid x)$ | posterior over codes |
# | $z_q(x)$ | $z_q(x)$ | quantized latent |
# | $p(z)$ (uniform prior) | $r(k)$ | prior over codes |
# | $\beta$ | $\beta$ | commitment weight |
# | $\mathrm{sg}[\cdot]$ | $\mathrm{sg}$ | stop-gradient |

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
import math

import matplotlib.pyplot as plt
import torch

import vqlab
from vqlab import experiments
from vqlab.clustering import init_prototypes, kmeans, vq_distortion
from vqlab.data import load_digits, make_toy
from vqlab.models import build_vqvae
from vqlab.plotting import plot_pipeline, plot_training_curves, plot_usage, plot_voronoi, show_reconstructions
from vqlab.posteriors import posterior_losses, squared_distances
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate, train
from vqlab.widgets.vq import (code_browser_state, code_browser_widget, draw_code_browser, draw_latent_terms,
                              draw_toy_vq, latent_terms_state, toy_vq_state, toy_vq_widget)

vqlab.seed_everything(0)
torch.set_printoptions(precision=4)

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 01_vector_quantization
# init_cell: true
# check_all_cell: false
# export_cell: false
# solutions_pdf: false
# run_tests: false
# generate: true
# tests:
#   files: false

# %% [markdown]
# The course's recurring picture: an encoder, a posterior over the $K$ codes of a codebook, a decoder, and a
# prior over codes for generation. This notebook is about the middle: the posterior that puts all its mass on
# the nearest codeword, and how the codebook learns.

# %%
plot_pipeline(highlight=("posterior", "codebook"),
              caption="01: the one-hot posterior at the nearest codeword, and how the codebook learns")
plt.show()

# %% [markdown]
# ## 1. Vector quantization is clustering
#
# **The picture first.** 300 points from five blobs and a **codebook** of $K=5$ codewords (×). Every point
# belongs to its nearest codeword; the coloured regions are those codewords' **cells**. Left: a codebook
# seeded by k-means++ (each new codeword a data point, drawn far from the codewords already chosen). Right:
# after 10 iterations of Lloyd's algorithm — assign every point to its cell, move every codeword to the mean
# of its cell, repeat. The codewords settle in the middle of the blobs. The maths below says what this
# lowers, and why it never goes up.

# %%
x_toy, y_toy = make_toy("blobs", n=300, seed=0)
seeded = init_prototypes(x_toy, 5, method="kmeans++", seed=0)   # k-means++ seeding
km = kmeans(x_toy, seeded, iterations=10)                        # 10 Lloyd iterations
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
plot_voronoi(seeded, x_toy, y_toy, ax=axes[0], resolution=150, title="k-means++ seeding")
plot_voronoi(km.prototypes, x_toy, y_toy, ax=axes[1], resolution=150, title="after 10 Lloyd iterations")
fig.tight_layout()

# %% [markdown]
# **The maths.** A codebook $e = \{e_1, \dots, e_K\}$ splits space into **Voronoi cells**
# $V_k = \{x : d(x, e_k) \le d(x, e_j)\ \forall j\}$, with the squared distance $d(x, e_k) = \lVert x - e_k\rVert^2$.
# The *quantizer encoder* $k^*(x) = \arg\min_k d(x, e_k)$ turns a point into a code $k \in \{1,\dots,K\}$,
# and the quantizer replaces $x$ by $e_{k^*(x)}$ — compression to $\log_2 K$ bits.
#
# **The posterior view (thesis §4.1).** Let a clustering algorithm output a probability $q(k\mid x)$ over the
# codes. The expected distortion is
#
# $$E = \mathbb E_{x,k}\, d(x, e_k) \approx \sum_{x\in X}\sum_{k=1}^{K} q(k\mid x)\, d(x, e_k). \qquad (4.1)$$
#
# Hard clustering is the special case of a one-hot posterior $q(k\mid x) = \mathbf 1_{k=k^*(x)}$ (thesis
# §4.1.2), and then (4.1) becomes the k-means objective
#
# $$E = \sum_{x\in X} d(x, e_{k^*(x)}). \qquad (4.2)$$
#
# **Lloyd's algorithm** lowers (4.2) by alternating the two steps of the picture, each of which cannot increase
# $E$ (exercise 5 asks you to prove it). Below, $E$ is divided by the number of points $N$.
# `vqlab.clustering.kmeans` runs these iterations from a codebook seeded by k-means++
# (`vqlab.clustering.init_prototypes(..., method="kmeans++")`).
#
# **Checked:** the distortion of the picture's iterations never increases, and with the one-hot posterior
# the double sum of eq. 4.1 is the same number as the k-means objective 4.2. `vqlab.posteriors.posterior_losses`
# implements the codebook term of eq. 5.4 (§2), which is eq. 4.1 applied in latent space and averaged over
# the $D$ dimensions, so it gives the same number divided by $D=2$.

# %%
print("distortion per iteration:", [round(d, 3) for d in km.distortion])
print("never increases:", all(b <= a + 1e-6 for a, b in zip(km.distortion, km.distortion[1:])))
assign, E_42 = vq_distortion(x_toy, km.prototypes)
q = torch.nn.functional.one_hot(assign, 5).float()          # q(k|x), one row per point
E_41 = (q * squared_distances(x_toy, km.prototypes)).sum(1).mean().item()
E_54 = posterior_losses(x_toy, km.prototypes, q, beta=1.0)["codebook"].item() * 2
print(f"eq. 4.1 with one-hot q: {E_41:.5f}   eq. 4.2: {E_42:.5f}   eq. 5.4 x D: {E_54:.5f}")
print("equal:", abs(E_41 - E_42) < 1e-5 and abs(E_54 - E_42) < 1e-5)
assert all(b <= a + 1e-6 for a, b in zip(km.distortion, km.distortion[1:]))
assert abs(E_41 - E_42) < 1e-5 and abs(E_54 - E_42) < 1e-5

# %% [markdown]
# ## 2. The VQ-VAE: encoder → quantizer → decoder
#
# The VQ-VAE (van den Oord et al. 2017, [arXiv:1711.00937](https://arxiv.org/abs/1711.00937); thesis §5) does the
# same clustering, but in a *learned* latent space: an encoder maps the input to a continuous vector $z_e(x)$,
# the quantizer snaps it to its nearest codeword $z_q(x) = e_{k^*(x)}$ (VQ-VAE eqs. 1–2: the one-hot posterior
# of §1), and a decoder $p_\phi(x\mid z_q(x))$ reconstructs $x$ from the codeword. Read as a VAE (notebook 00
# §3), the posterior is one-hot and the prior uniform, $r(k) = 1/K$, so the KL term is the constant $\log K$
# (VQ-VAE §3.1) and drops out of training.
#
# **The picture first.** Encoder outputs $z_e$ in 2-D (a toy set standing in for a real encoder's outputs), a
# codebook of five codewords, and each output's quantization error, the grey segment to its codeword. The loss
# below penalises these segments — but whom should it move, the point or the codeword? One codeword (circled)
# is nearest to no point at all: keep an eye on it.

# %%
terms_toy = latent_terms_state()
draw_latent_terms(terms_toy, terms=())
plt.show()

# %% [markdown]
# **The maths.** The distortion the quantizer introduces is the expectation (thesis eq. 5.1)
#
# $$\mathbb E_{q(k\mid z_e(x))}\lVert z_e(x) - e_k\rVert^2. \qquad (5.1)$$
#
# The **stop-gradient** $\mathrm{sg}[\cdot]$ is the identity in the forward pass and a constant in the
# backward pass. It splits (5.1) into a *commitment loss* with the codewords held constant (5.2) and a
# *VQ* or *codebook loss* with the encoder output held constant (5.3):
#
# $$\beta\sum_k q(k\mid z_e(x))\,\lVert z_e(x) - \mathrm{sg}(e_k)\rVert^2, \qquad (5.2) \qquad\qquad
#   \eta\sum_k q(k\mid z_e(x))\,\lVert \mathrm{sg}(z_e(x)) - e_k\rVert^2. \qquad (5.3)$$
#
# With the reconstruction term the loss of one input is
#
# $$\ell(x) = -\log p_\phi(x\mid z_q(x)) + \beta\,\mathbb E_{q(k\mid z_e(x))}\lVert z_e(x) - \mathrm{sg}(e_k)\rVert^2
#   + \eta\,\mathbb E_{q(k\mid z_e(x))}\lVert \mathrm{sg}(z_e(x)) - e_k\rVert^2, \qquad (5.4)$$
#
# and with the one-hot posterior of hard VQ, the vanilla VQ-VAE,
#
# $$\ell(x) = -\log p_\phi(x\mid z_q(x)) + \beta\,\lVert z_e(x) - \mathrm{sg}(e_{k^*(x)})\rVert^2
#   + \eta\,\lVert \mathrm{sg}(z_e(x)) - e_{k^*(x)}\rVert^2. \qquad (5.5)$$
#
# With $\eta = 1$ this is VQ-VAE eq. 3 (both papers print $+\log p$: see the box above). The $\arg\min$ has no
# useful gradient, so the decoder input is written with the **straight-through estimator** (notebook 00 §4)
#
# $$z_q(x) = z_e(x) + \mathrm{sg}[e_{k^*(x)} - z_e(x)],$$
#
# which *equals* the codeword in the forward pass, while in the backward pass the gradient reaching
# $z_q$ is copied unchanged to the encoder output. Our first model has one 8-dimensional latent per
# 8×8 digit and a codebook of $K=32$ codewords — each code will become a prototype digit.

# %%
data = load_digits()
model = build_vqvae(VectorQuantizer(num_codes=32, code_dim=8), seed=0)
out = model(data.x_train[:5])
print(data)
print("z_e", tuple(out.z_e.shape), "| z_q", tuple(out.quant.z_q.shape), "| indices", tuple(out.quant.indices.shape),
      "| probs", tuple(out.quant.probs.shape), "| x_hat", tuple(out.x_hat.shape))
print("loss terms:", list(out.losses), "| beta =", model.quantizer.beta)

# %% [markdown]
# **Means, not sums** (the box above): vqlab's codebook term is $\lVert\mathrm{sg}(z_e) - e_{k^*}\rVert^2$
# averaged over the inputs and divided by $D$, and the commitment term is $\beta$ times the same number.

# %%
e_chosen = model.quantizer.codebook[out.quant.indices]
per_input = ((out.z_e - e_chosen) ** 2).sum(1)                 # the papers' squared norms, one per input
print("codebook term = mean squared norm / D:", bool(torch.isclose(out.losses["codebook"], per_input.mean() / 8)))
print("commitment term = beta x codebook term:",
      bool(torch.isclose(out.losses["commitment"], 0.25 * out.losses["codebook"])))
assert torch.isclose(out.losses["codebook"], per_input.mean() / 8) and model.quantizer.beta == 0.25
assert torch.isclose(out.losses["commitment"], 0.25 * out.losses["codebook"])

# %% [raw]
# # BEGIN QUESTION
# name: predicted_paths
# points: 1

# %% [markdown]
# **Exercise 1 (predict, then verify · ★).** Each of the three terms of eq. 5.5 is back-propagated on its own
# through the digits model. Which parts receive a gradient from it: the encoder (the parameters $\theta$ of
# $z_e$), the codebook ($e_1, \dots, e_K$), the decoder ($\phi$)? **Before you run the cells after this
# question**, fill in `predicted_paths` with `True` (the term's gradient reaches that part) or `False`. Mind the
# stop-gradients, and the straight-through form of $z_q$ in the reconstruction term.

# %% [raw]
# # BEGIN SOLUTION

# %%
""" # BEGIN PROMPT
predicted_paths = {"recon":      {"encoder": ..., "codebook": ..., "decoder": ...},
                   "commitment": {"encoder": ..., "codebook": ..., "decoder": ...},
                   "codebook":   {"encoder": ..., "codebook": ..., "decoder": ...}}
""" # END PROMPT
# BEGIN SOLUTION NO PROMPT
predicted_paths = {"recon":      {"encoder": True, "codebook": False, "decoder": True},
                   "commitment": {"encoder": True, "codebook": False, "decoder": False},
                   "codebook":   {"encoder": False, "codebook": True, "decoder": False}}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_predicted_paths_is_a_table_of_booleans(predicted_paths):
    terms, parts = ("recon", "commitment", "codebook"), ("encoder", "codebook", "decoder")
    assert isinstance(predicted_paths, dict) and set(predicted_paths) == set(terms), \
        "predicted_paths must have the keys 'recon', 'commitment' and 'codebook'"
    for term in terms:
        row = predicted_paths[term]
        assert isinstance(row, dict) and set(row) == set(parts), \
            f"predicted_paths[{term!r}] must have the keys 'encoder', 'codebook' and 'decoder'"
        assert all(isinstance(v, bool) for v in row.values()), \
            f"replace every ... in predicted_paths[{term!r}] by True or False"
test_predicted_paths_is_a_table_of_booleans(predicted_paths)

# %%
def test_predicted_paths_decoder_column(predicted_paths):
    decoder = {term: predicted_paths[term]["decoder"] for term in predicted_paths}
    assert decoder == {"recon": True, "commitment": False, "codebook": False}, \
        ("look at the decoder column first: a term's gradient reaches the decoder only if the decoder's "
         "output appears in the term")
test_predicted_paths_decoder_column(predicted_paths)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_predicted_paths_exact(predicted_paths):
    assert predicted_paths == {"recon": {"encoder": True, "codebook": False, "decoder": True},
                               "commitment": {"encoder": True, "codebook": False, "decoder": False},
                               "codebook": {"encoder": False, "codebook": True, "decoder": False}}
test_predicted_paths_exact(predicted_paths)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Verify.** First the toy picture again, now with the negative gradient of each latent term as arrows: on the
# encoder outputs (blue) and on the codewords (orange). The commitment term pulls every $z_e$ towards its
# codeword, a fraction $\beta$ as strongly as the codebook term pulls the codewords; the codebook term pulls
# each codeword towards the mean of its cell — a gradient step of Lloyd's update. The codeword that no point
# chose gets no arrow from either term.

# %%
draw_latent_terms(terms_toy)
plt.show()
dead = torch.bincount(terms_toy.assignments, minlength=5) == 0
print("codewords chosen by no point:", dead.nonzero().flatten().tolist(),
      "| their codebook gradient is zero:", bool((terms_toy.grads["codebook"]["codebook"][dead] == 0).all()))
assert dead.any() and (terms_toy.grads["codebook"]["codebook"][dead] == 0).all()

# %% [markdown]
# Then the digits model: each term of eq. 5.5 back-propagated on its own, and whether any parameter of each part
# receives a non-zero gradient (`experiments.gradient_paths`), beside your prediction.

# %%
paths = experiments.gradient_paths(model, data.x_train[:64])
print(f"{'loss term':<12}{'encoder':>9}{'codebook':>10}{'decoder':>9}   your prediction")
for term, reached in paths.items():
    mine = predicted_paths.get(term, {}) if isinstance(predicted_paths, dict) else {}
    print(f"{term:<12}" + "".join(f"{str(reached[p]):>{w}}" for p, w in
                                  (("encoder", 9), ("codebook", 10), ("decoder", 9))),
          "  right" if mine == reached else "  not quite")
assert paths == {"recon": {"encoder": True, "codebook": False, "decoder": True},
                 "commitment": {"encoder": True, "codebook": False, "decoder": False},
                 "codebook": {"encoder": False, "codebook": True, "decoder": False}}

# %% [markdown]
# The reconstruction loss reaches the decoder and — through the straight-through copy — the encoder, but **not
# the codebook**: the codewords never get a gradient from the reconstruction. The commitment loss reaches only
# the encoder; the codebook learns only from the codebook loss. So a codeword that no input chooses learns
# nothing at all: §5 shows what that does to a codebook.
#
# ### The straight-through estimator, numerically
# Forward: $z_q$ is exactly the chosen codeword (and differs from $z_e$). Backward: the gradient of the
# reconstruction loss with respect to the decoder input $z_q$ is *identical* to its gradient with
# respect to the encoder output $z_e$.

# %%
for name, value in experiments.straight_through_check(model, data.x_train[:64]).items():
    print(f"{name:<25} {value}")

# %% [markdown]
# ## 3. A VQ-VAE you can play with: 2-D toy data
#
# The smallest VQ-VAE: a linear 2→2 encoder and decoder (both start as the identity) around a codebook of
# $K$ 2-D codewords, trained with full-batch Adam by `vqlab.train.train`. The left panel shows the latent
# space — the encoded points, the codewords (×), their Voronoi cells, and dead codes circled in red; the
# right panel the distortion (4.2) relative to the spread of the latent cloud, after each step. The
# codebook starts uniformly in $[-1/K, 1/K]$, all codewords near the origin: the initialisation of common
# PyTorch ports of the VQ-VAE. DeepMind's reference code draws it from $U(-\sqrt{3/D}, \sqrt{3/D})$, about
# $\pm 1.2$ for $D = 2$ (`init = variance_scaling`; the box above).
#
# Things to try with the sliders: $K=1$ (one code: everything maps to the mean); $K$ larger than the number
# of blobs; $\beta=0$ versus $\beta=2$ — the thesis notes (after eq. 5.2, following the VQ-VAE paper) that the
# commitment loss keeps the encoder output from "growing arbitrarily large": watch the axis scale and the raw
# distortion $E$; the three initialisations.

# %%
toy = toy_vq_state(num_codes=8, beta=0.25, steps=100, dataset="blobs")
draw_toy_vq(toy)
plt.show()
assert toy.curve[-1] < toy.curve[0] and toy.codes_used <= 8

# %% [markdown]
# A quick check of the commitment claim on the same data (100 steps each): the root-mean-square size of
# the encoder output without and with a strong commitment weight.

# %% tags=["nbval-ignore-output"]
scales = {b: toy_vq_state(num_codes=8, beta=b, steps=100).latent_scale for b in (0.0, 2.0)}
print({f"beta={b}": round(s, 2) for b, s in scales.items()})

# %%
print("beta=2 keeps the encoder output smaller than beta=0:", scales[2.0] < scales[0.0])
assert scales[2.0] < scales[0.0]

# %% tags=["nbval-ignore-output"]
toy_vq_widget()

# %% [markdown]
# ## 4. Training on digits
#
# Now the digits model from §2 ($K=32$, $D=8$, one code per image, the $U(-1/K, 1/K)$ start), 20 epochs of Adam
# (batch 128). We log the reconstruction error and the **perplexity** $\mathrm{PPL} = \exp H(\bar q)$ of the
# batch's code usage $\bar q_k$: it is $K$ when all codes are used equally and 1 when a single code takes
# everything.

# %% tags=["nbval-ignore-output"]
history = train(model, data.x_train, epochs=20, batch_size=128, lr=3e-3, seed=0, progress=False)
test = evaluate(model, data.x_test)
print({k: round(v, 4) for k, v in test.items()})
plot_training_curves(history)
plt.show()

# %%
print("reconstruction loss fell during training:", history.epochs["recon"][-1] < history.epochs["recon"][0])
print("codes used on the test set < K = 32:", test["codes_used"] < 32)
assert history.epochs["recon"][-1] < history.epochs["recon"][0] and test["codes_used"] < 32

# %%
with torch.no_grad():
    x_hat = model(data.x_test[:10]).x_hat
show_reconstructions(data.x_test[:10], x_hat, data.image_shape, title="test digits (top) and reconstructions")
plt.show()

# %% [markdown]
# With one code per image, a reconstruction can only be one of the $K$ decoded codewords: the VQ-VAE has
# learned a k-means of the digits in its latent space. The **code browser** shows, for a code, its decoded
# image and every test digit mapped to it (unused codes say so).

# %%
usage = code_browser_state(model, data.x_test, 0).usage
draw_code_browser(code_browser_state(model, data.x_test, int(usage.argmax())), data.image_shape)
plt.show()

# %% tags=["nbval-ignore-output"]
code_browser_widget(model, data.x_test, data.image_shape)

# %% [markdown]
# ## 5. Codebook collapse, and ways to fight it
#
# In the model above not every code is used. The mechanism is the one §2 showed: a codeword that no encoder
# output chooses gets **no gradient at all** — the codebook loss of eq. 5.5 only touches chosen codewords,
# and the reconstruction never reaches the codebook. Which codewords are chosen at the start depends on where
# they start relative to the encoder outputs. A larger codebook in a larger latent space makes this visible:
# $K=128$, $D=16$, and two starts. The common PyTorch ports draw the codebook from $U(-1/K, 1/K)$, a tiny ball
# around the origin; DeepMind's reference code (Sonnet / Haiku) from $U(-\sqrt{3/D}, \sqrt{3/D})$, about
# $\pm 0.43$ per coordinate here. Where do they lie relative to the untrained encoder's outputs?

# %% tags=["nbval-ignore-output"]
starts = {}
for init in ("uniform", "variance_scaling"):
    fresh = build_vqvae(VectorQuantizer(128, 16, init=init, seed=0), hidden=(128, 64), seed=0)
    with torch.no_grad():
        norms = fresh.quantizer.codebook.norm(dim=1)
        starts[init] = {"max |e_k| per coordinate": fresh.quantizer.codebook.abs().max().item(),
                        "mean ||e_k||": norms.mean().item(), "smallest ||e_k||": norms.min().item(),
                        "mean ||z_e(x)||": fresh.encode(data.x_train).norm(dim=1).mean().item()}
    print(f"{init:<17}", {k: round(v, 3) for k, v in starts[init].items()})

# %%
print("U(-1/K, 1/K) within 1/128, variance scaling within sqrt(3/16):",
      starts["uniform"]["max |e_k| per coordinate"] <= 1 / 128,
      starts["variance_scaling"]["max |e_k| per coordinate"] <= math.sqrt(3 / 16))
print("the tiny codebook lies inside the cloud of encoder outputs, the reference one around it:",
      starts["uniform"]["mean ||e_k||"] < starts["uniform"]["mean ||z_e(x)||"]
      < starts["variance_scaling"]["smallest ||e_k||"])
assert starts["uniform"]["max |e_k| per coordinate"] <= 1 / 128
assert starts["variance_scaling"]["max |e_k| per coordinate"] <= math.sqrt(3 / 16)
assert (starts["uniform"]["mean ||e_k||"] < starts["uniform"]["mean ||z_e(x)||"]
        < starts["variance_scaling"]["smallest ||e_k||"])

# %% [markdown]
# We compare, at equal training budget (10 epochs of Adam, batch 128, 110 steps):
#
# - **plain**: the codebook loss of eq. 5.5, from $U(-1/K, 1/K)$;
# - **EMA**: no codebook loss; each codeword is a running mean of the encoder outputs assigned to it
#   (van den Oord et al. 2017, App. A.1), with decay 0.99:
#
#   $$e_k = \frac{\mathrm{ema}\big(\sum_{n:\,k^*(x_n) = k} z_e(x_n)\big)}{\mathrm{ema}\big(\lvert\{n : k^*(x_n) = k\}\rvert\big)},
#   \qquad \mathrm{ema}(a) \leftarrow 0.99\,\mathrm{ema}(a) + 0.01\,a(\text{batch}),$$
#
#   the sum over the batch, and the count smoothed as in DeepMind's code (the box above);
# - **k-means++ init**: the codebook is seeded by k-means++ from the first batch of encoder outputs;
# - **dead-code restart**: a code unused for 20 consecutive steps is moved onto a random encoder output;
# - **reference init**: plain VQ from $U(-\sqrt{3/D}, \sqrt{3/D})$, DeepMind's initialisation;
# - **reference init + restart**: the same with dead-code restarts.
#
# First the EMA update checked against App. A.1: one training step of an EMA quantizer (with the smoothing
# turned down to $10^{-12}$) by hand.

# %%
ema = VectorQuantizer(8, 2, codebook_update="ema", decay=0.99, epsilon=1e-12, seed=0).train()
z_batch = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
count, total = ema.ema_size.clone(), ema.ema_sum.clone()
chosen = ema(z_batch).indices
count = 0.99 * count + 0.01 * torch.bincount(chosen, minlength=8)
total = 0.99 * total + 0.01 * torch.zeros(8, 2).index_add_(0, chosen, z_batch)
print("one EMA step = App. A.1 (e_k = running sum / running count):",
      torch.allclose(ema.codebook, total / count[:, None], atol=1e-6))
assert torch.allclose(ema.codebook, total / count[:, None], atol=1e-6)

# %% [markdown]
# Each variant is trained with 10 seeds — one run takes about 0.4 s, so the 60 runs fit the notebook's budget —
# and evaluated on the 450 test digits. The same seed gives every variant the same encoder, decoder and batch
# order, so we compare each variant with plain VQ seed by seed: the **paired differences** and their 95 %
# t interval (`comparison.paired_table`, `vqlab.stats`). "n.e." means the interval includes 0: not established at
# this size. A model that predicts the mean training digit for every input is the baseline a collapsed model
# falls back to.

# %% tags=["nbval-ignore-output"]
collapse = experiments.collapse_experiment(data.x_train, data.x_test, seeds=tuple(range(10)), num_codes=128,
                                           code_dim=16, epochs=10, batch_size=128, lr=3e-3)
baseline = ((data.x_test - data.x_train.mean(0)) ** 2).mean().item()   # predict the mean digit
print(f"mean-digit baseline: recon {baseline:.4f}")
print(collapse.table(digits={"recon": 4, "perplexity": 1, "codes_used": 1}))
print()
print(collapse.paired_table("plain", ["codes_used", "perplexity", "recon"],
                            higher_is_better={"codes_used": True, "perplexity": True, "recon": False},
                            digits={"codes_used": 1, "perplexity": 1, "recon": 4}))

# %%
paired = {(v, m): collapse.paired(v, "plain", m) for v in collapse.variants if v != "plain"
          for m in ("codes_used", "perplexity", "recon")}
used = {name: collapse.mean(name, "codes_used") for name in collapse.variants}
claims = {
    "plain, EMA and k-means++ init use under a quarter of the 128 codes in every seed":
        all(max(collapse.values[v]["codes_used"]) < 128 / 4 for v in ("plain", "EMA", "k-means++ init")),
    "dead-code restart: more codes, higher perplexity and lower recon than plain (established)":
        (paired["dead-code restart", "codes_used"].sign, paired["dead-code restart", "perplexity"].sign,
         paired["dead-code restart", "recon"].sign) == (1, 1, -1),
    "dead-code restart uses most of the codebook (> 64 of 128 on average)": used["dead-code restart"] > 64,
    "reference init: fewer codes and higher recon than plain (established)":
        (paired["reference init", "codes_used"].sign, paired["reference init", "recon"].sign) == (-1, 1),
    "reference init: one code in every seed, recon within 0.001 of the mean-digit baseline":
        max(collapse.values["reference init"]["codes_used"]) == 1
        and abs(collapse.mean("reference init", "recon") - baseline) < 1e-3,
    "reference init + restart: more codes and higher perplexity than plain (established)":
        (paired["reference init + restart", "codes_used"].sign,
         paired["reference init + restart", "perplexity"].sign) == (1, 1),
    "EMA: lower perplexity than plain (established)": paired["EMA", "perplexity"].sign == -1,
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())

# %%
counts_per_variant = experiments.usage_counts(collapse, data.x_test)
fig, axes = plt.subplots(2, 3, figsize=(12, 4.6), sharey=True)
for ax, (name, counts) in zip(axes.ravel(), counts_per_variant.items()):
    plot_usage(counts, ax=ax, title=f"{name}: {(counts > 0).sum()}/128 used (seed 0)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What the table shows** (test set, 10 seeds, this configuration only; the numbers are this run's, the
# verdicts those of the paired intervals, and the cell above checks the ones stated as established):
#
# - Plain VQ uses only a handful of its 128 codes (8.8 ± 4.4).
# - **Dead-code restart** is the one fix that recovers most of the codebook: 79 more codes than plain VQ
#   (+79.3 [+72.4, +86.2]), a higher perplexity (+58.9 [+51.5, +66.3]) and a lower reconstruction error
#   (−0.0017 [−0.0024, −0.0011]), all established.
# - **The reference initialisation does not rescue plain VQ — it collapses it completely**: one code in every
#   seed, and a reconstruction error (0.0741) at the mean-digit baseline (0.0740): the decoder sees a single
#   codeword and outputs the mean digit (−7.8 [−11.0, −4.6] codes and +0.0086 [+0.0081, +0.0091] recon against
#   plain, established). So the collapse here does not rest on the tiny $U(-1/K, 1/K)$ start of the PyTorch ports:
#   from DeepMind's start it is worse. The reason is in the numbers before the table: the untrained encoder's
#   outputs ($\lVert z_e\rVert \approx 0.40$) lie well inside the shell of reference codewords
#   ($\lVert e_k\rVert \approx 1.0$, the shortest 0.71), so one or two codewords are nearest to every input
#   (exercise 8). How an encoder's outputs compare with the codebook's scale decides it, and that is a property of
#   this small MLP, not a general verdict on the initialiser. With restarts the reference start recovers as well
#   (+86.1 [+76.6, +95.6] codes, established; recon −0.0010 [−0.0016, −0.0003] in this run).
# - **k-means++ init** used a few more codes than plain VQ (+3.2 [−1.9, +8.3]): not established at this size
#   (10 seeds), and it stays below a quarter of the codebook in every seed.
# - **The EMA codebook**, on its own, does not help here: its perplexity is *lower* than plain VQ's
#   (−3.2 [−5.7, −0.6], established); the differences in codes used (−3.4 [−7.2, +0.4]) and reconstruction are not
#   established at this size.
# - The reconstruction errors differ far less than the usage: restarts use ten times as many codes as plain VQ
#   and reconstruct 0.0017 better (0.0637 against 0.0655).
#
# EMA changes *how* a chosen codeword moves (a running mean of its vectors instead of a gradient step); does it
# do anything for a codeword that is never chosen? Predict it first.

# %% [raw]
# # BEGIN QUESTION
# name: predicted_factor
# points: 1

# %% [markdown]
# **Exercise 2 (predict, then verify · ★★).** Take the EMA row and a code that no encoder output chose in any of
# the 110 training steps. vqlab starts its running count at 1 and its running sum at the initial codeword
# $e_k(\text{start})$ (the box above), and the update is the one displayed above. After training its codeword is
# $e_k(\text{end}) = c\, e_k(\text{start})$. **Before you run the cell after this question**, predict $c$ to
# three decimals and store it in `predicted_factor` (a number). You may ignore the smoothing of the counts.

# %% [raw]
# # BEGIN SOLUTION

# %%
predicted_factor = 1.0  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_predicted_factor_is_a_number(predicted_factor):
    assert isinstance(predicted_factor, (int, float)) and not isinstance(predicted_factor, bool), \
        "store a number in predicted_factor"
    assert 0 <= predicted_factor <= 2, "c is a ratio of two lengths of the same codeword: between 0 and 2 here"
test_predicted_factor_is_a_number(predicted_factor)

# %%
def test_predicted_factor_uses_both_averages(predicted_factor):
    assert abs(predicted_factor - 1) < 0.05, \
        ("an unused code has a count of 0 and a sum of 0 in every batch, so its running count AND its running sum "
         "are both multiplied by 0.99 at every step: what happens to their ratio?")
test_predicted_factor_uses_both_averages(predicted_factor)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_predicted_factor_three_decimals(predicted_factor):
    assert abs(predicted_factor - 1) < 1e-3
test_predicted_factor_three_decimals(predicted_factor)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Verify.** Every codeword of the ten EMA runs (and, for comparison, of the ten plain runs) that no training
# vector ever chose: the factor $c = \lVert e_k(\text{end})\rVert / \lVert e_k(\text{start})\rVert$ and how far it
# moved; and how far the chosen ones moved.

# %% tags=["nbval-ignore-output"]
travel = {name: [experiments.codeword_travel(trial) for trial in collapse.trials[name]] for name in ("EMA", "plain")}
factors = {}
for name, runs in travel.items():
    factors[name] = torch.cat([t.factor[~t.selected] for t in runs])
    still = torch.cat([t.distance[~t.selected] for t in runs]).max()
    moved = torch.cat([t.distance[t.selected] for t in runs])
    print(f"{name:<6} {len(factors[name])} of {128 * len(runs)} codewords never chosen: c in "
          f"[{factors[name].min():.5f}, {factors[name].max():.5f}], moved at most {still:.1e}; "
          f"the chosen ones moved up to {moved.max():.2f} (median {moved.median():.3f})")
print("your prediction:", predicted_factor)

# %%
print("every never-chosen codeword stayed where it started, to 1e-4 (EMA) and exactly (plain):",
      bool(((factors["EMA"] - 1).abs() < 1e-4).all()) and bool((factors["plain"] == 1).all()))
assert ((factors["EMA"] - 1).abs() < 1e-4).all() and (factors["plain"] == 1).all()

# %% [markdown]
# An unused code's running count and running sum shrink by the same factor 0.99 at every step, so their ratio —
# the codeword — stays where it started: $c = 1$ up to the smoothing of the counts ($c \approx 0.99998$ after 110
# steps). With the codebook loss (plain) an unused codeword gets a zero gradient and does not move at all. Either
# way the never-chosen codewords stay far from the encoder outputs. (Over much longer runs the smoothing takes
# over once $0.99^t$ nears $10^{-5}$, after about 1150 steps, and pulls unused EMA codewords towards the origin.)

# %% [markdown]
# ## Summary
#
# - VQ is clustering: a codebook, Voronoi cells, and the distortion (eq. 4.2) — which is the expectation
#   (4.1) under the one-hot k-means posterior. Lloyd's algorithm never increases it.
# - The VQ-VAE quantizes a learned latent; its loss (5.5) is reconstruction + commitment (moves the encoder)
#   + codebook loss (moves the codewords). The straight-through estimator copies the decoder-input
#   gradient to the encoder output — we checked this to the last bit — and the codewords learn only from the
#   codebook loss (or from EMA updates), so a codeword no input chooses learns nothing.
# - Codebook collapse is easy to provoke: with $K=128$, $D=16$ plain VQ used about 9 of its 128 codes, and from
#   DeepMind's reference initialisation a single one, reconstructing the mean digit. Dead-code restarts
#   recovered most of the codebook from either start (established over 10 seeds); k-means++ seeding alone and
#   the EMA codebook alone left it collapsed. A codeword no input chooses stays where it started, under EMA as
#   under the codebook loss.
#
# ## Exercises
#
# Exercises 1 and 2 (predict, then verify) are in §2 and §5; exercises 3 and 4 are below. All four are checked:
# run each `grader.check(...)` cell (student version) to see whether your answer has the properties a correct one
# must have — the public checks say more as you get closer — and the grader also runs hidden checks. Exercises
# 5–8 are written answers. The solution version of this notebook (the one in `notebooks/`) shows a model answer
# for each. Difficulty: ★ a few lines, ★★ needs the idea of its section, ★★★ needs a short derivation.

# %% [raw]
# # BEGIN QUESTION
# name: lloyd_step
# points: 2

# %% [markdown]
# **Exercise 3 (one Lloyd iteration · ★★).** Write `lloyd_step(x, e)`: for points `x [N, D]` and a codebook
# `e [K, D]`, return the codebook `[K, D]` after one iteration of Lloyd's algorithm (§1): assign every point to
# its nearest codeword $k^*(x_n)$, then move every codeword to the mean of the points in its cell. A codeword
# whose cell is empty must keep its place. Use torch operations only (no loop over the points).

# %% [raw]
# # BEGIN SOLUTION

# %%
def lloyd_step(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    nearest = torch.cdist(x, e).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=e.shape[0]).to(x.dtype)
    sums = torch.zeros_like(e).index_add_(0, nearest, x)
    return torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], e)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lloyd_step_moves_codewords_to_their_cell_means(lloyd_step, torch):
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    e = torch.tensor([[0.0, 0.0], [4.0, 3.0]])
    new = lloyd_step(x, e)
    assert isinstance(new, torch.Tensor) and new.shape == (2, 2), "return the new codebook, a tensor [K, D] like e"
    assert torch.allclose(new, torch.tensor([[0.0, 0.5], [4.0, 0.5]])), \
        "each codeword moves to the mean of the points nearest to it (its Voronoi cell)"
test_lloyd_step_moves_codewords_to_their_cell_means(lloyd_step, torch)

# %%
def test_lloyd_step_keeps_a_codeword_with_an_empty_cell(lloyd_step, torch):
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    e = torch.tensor([[0.0, 0.0], [4.0, 3.0], [-9.0, -9.0]])
    new = lloyd_step(x, e)
    assert torch.isfinite(new).all() and torch.equal(new[2], e[2]), \
        "a codeword whose cell is empty must stay where it is (the mean of no points is 0/0)"
test_lloyd_step_keeps_a_codeword_with_an_empty_cell(lloyd_step, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_lloyd_step_is_one_kmeans_iteration(lloyd_step, torch):
    from vqlab.clustering import kmeans, vq_distortion
    g = torch.Generator().manual_seed(7)
    x, e = torch.randn(300, 3, generator=g), 2 * torch.randn(9, 3, generator=g)
    new = lloyd_step(x, e)
    assert torch.allclose(new, kmeans(x, e, iterations=1).prototypes, atol=1e-5)
    assert vq_distortion(x, new)[1] <= vq_distortion(x, e)[1] + 1e-6
test_lloyd_step_is_one_kmeans_iteration(lloyd_step, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: vq_losses
# points: 2

# %% [markdown]
# **Exercise 4 (debugging · ★★).** The function below is meant to return the two latent terms of eq. 5.5 for
# encoder outputs `z_e [N, D]` and their chosen codewords `e_k [N, D]`, each averaged over the $N\cdot D$ entries
# as `VectorQuantizer` does: `"codebook"` $=\lVert\mathrm{sg}(z_e) - e_k\rVert^2$ and `"commitment"`
# $=\beta\lVert z_e - \mathrm{sg}(e_k)\rVert^2$. Its numbers agree with `VectorQuantizer`'s to the last digit, yet
# a VQ-VAE trained with it pulls the encoder hard towards the codewords, while the codewords learn at a quarter
# of their speed. Find the bug and fix it (keep the signature).

# %% [raw]
# # BEGIN SOLUTION

# %%
def vq_losses(z_e: torch.Tensor, e_k: torch.Tensor, beta: float) -> dict:
    """ # BEGIN PROMPT
    return {"codebook": ((z_e - e_k.detach()) ** 2).mean(),
            "commitment": beta * ((z_e.detach() - e_k) ** 2).mean()}
    """ # END PROMPT
    # BEGIN SOLUTION NO PROMPT
    return {"codebook": ((z_e.detach() - e_k) ** 2).mean(),
            "commitment": beta * ((z_e - e_k.detach()) ** 2).mean()}
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_vq_losses_values_then_gradient_sides(vq_losses, torch):
    from vqlab.quantizers import VectorQuantizer
    q = VectorQuantizer(8, 3, beta=0.25, seed=0)
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(1), requires_grad=True)
    out = q(z)
    e_k = q.codebook[out.indices]
    mine = vq_losses(z, e_k, 0.25)
    assert isinstance(mine, dict) and set(mine) == {"codebook", "commitment"}, \
        "return a dict with the keys 'codebook' and 'commitment'"
    for term in ("codebook", "commitment"):
        assert torch.allclose(mine[term], out.losses[term]), f"the value of {term} differs from VectorQuantizer's"
    _, g_e = torch.autograd.grad(mine["commitment"], [z, q.weight], retain_graph=True, allow_unused=True)
    assert g_e is None or g_e.abs().sum() == 0, \
        ("the values are right, but the commitment term sent a gradient to the codewords: equal values are not "
         "enough, the stop-gradient decides which side a term moves")
    g_z, _ = torch.autograd.grad(mine["codebook"], [z, q.weight], allow_unused=True)
    assert g_z is None or g_z.abs().sum() == 0, "the codebook term sent a gradient to the encoder outputs"
test_vq_losses_values_then_gradient_sides(vq_losses, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_vq_losses_gradients_exact(vq_losses, torch):
    g = torch.Generator().manual_seed(6)
    z = torch.randn(12, 3, generator=g, requires_grad=True)
    e = torch.randn(12, 3, generator=g, requires_grad=True)
    terms = vq_losses(z, e, 0.3)
    (g_z,) = torch.autograd.grad(terms["commitment"], [z])
    (g_e,) = torch.autograd.grad(terms["codebook"], [e])
    assert torch.allclose(g_z, 2 * 0.3 * (z - e).detach() / 36)
    assert torch.allclose(g_e, 2 * (e - z).detach() / 36)
test_vq_losses_gradients_exact(vq_losses, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: lloyd_monotone
# manual: true
# points: 2

# %% [markdown]
# **Exercise 5 (written · ★★).** Prove that each of Lloyd's two steps cannot increase eq. 4.2.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Write $E(k^*, e)=\frac1N\sum_n d(x_n, e_{k^*(n)})$ for an assignment $n \mapsto k^*(n)$.
# **Assignment step:** for fixed $e$, choosing $k^*(n)=\arg\min_k d(x_n, e_k)$ minimises every term separately,
# so no other assignment (in particular the previous one) gives a smaller sum. **Update step:** for a fixed
# assignment, $E$ splits into one sum per cell, and $\sum_{n\in V_k}\lVert x_n-e\rVert^2$ is a convex quadratic
# in $e$ with gradient $2\sum_{n\in V_k}(e-x_n)$, zero at the cell mean; the mean is therefore the minimiser and
# replacing $e_k$ by it cannot increase the cell's sum (an empty cell keeps its codeword and adds nothing). Both
# steps are non-increasing and $E\ge 0$, so the sequence of distortions converges.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: toy_comparison
# manual: true
# points: 1

# %% [markdown]
# **Exercise 6 (written · ★).** In the toy explorer, set $K=5$ (the number of blobs), `init = kmeans++` and 300
# steps. Compare the relative distortion with Lloyd's result in §1 (there the spread is that of the raw points).
# Why is the comparison not quite fair? (Hint: in the VQ-VAE the encoder moves the points, too.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Lloyd's algorithm quantizes fixed points, so its distortion is measured against the spread
# of the raw data. In the toy VQ-VAE the encoder is trained at the same time: the commitment term pulls the
# encoder outputs towards their codewords, so the points being quantized move, and their spread changes
# with them. A low relative distortion there can come from the encoder shrinking or clustering its outputs,
# not only from a better codebook; only the reconstruction error compares the two on equal terms.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: no_straight_through
# manual: true
# points: 1

# %% [markdown]
# **Exercise 7 (written · ★★).** Replace the straight-through estimator by $z_q(x) = e_{k^*(x)}$ (no $z_e$
# term). Which parameters now receive a gradient from the reconstruction? Check it with
# `experiments.gradient_paths` on a small subclass of `VectorQuantizer`.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* $k^*(x)$ is an argmin, so nothing flows through the index; the decoder input is the
# codeword itself. The reconstruction then reaches the **decoder and the codebook** (the chosen codewords get
# the decoder-input gradient) but **not the encoder**: the encoder learns only from the commitment term, which
# pulls it towards codewords that were never shaped by the reconstruction. `gradient_paths` shows
# `recon -> encoder: False, codebook: True, decoder: True` for such a subclass.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: reference_start
# manual: true
# points: 2

# %% [markdown]
# **Exercise 8 (written · ★★).** From DeepMind's initialisation, plain VQ used a single code in every seed of §5,
# although that codebook is more than 50 times wider than the $U(-1/K, 1/K)$ one. Explain why, using
# $\lVert z_e - e_k\rVert^2 = \lVert z_e\rVert^2 - 2\,z_e\cdot e_k + \lVert e_k\rVert^2$ and the numbers printed at
# the start of §5. Name two changes that would avoid it, one of which is in the table.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The nearest codeword minimises $\lVert e_k\rVert^2 - 2\,z_e\cdot e_k$ ($\lVert z_e\rVert^2$ is
# the same for every $k$). The untrained encoder's outputs are short ($\lVert z_e\rVert \approx 0.4$) while the
# reference codewords lie on a shell of radius about 1 (the shortest about 0.7), so $\lVert e_k\rVert^2$ varies
# by more across codewords than $2\,z_e\cdot e_k$ can make up: the shortest codeword or two are nearest to every
# input. Only they get a codebook gradient, the commitment term pulls all encoder outputs onto them, and the
# decoder, fed one codeword, learns the mean digit; the other codewords never get a gradient (§2). The tiny
# $U(-1/K, 1/K)$ codebook instead sits *inside* the cloud of encoder outputs, where the direction of $z_e$
# decides, so several codewords win parts of it. Changes that help: dead-code restarts (the table: "reference
# init + restart" uses most of the codebook), a k-means++ start from encoder outputs, or scaling the start to
# the encoder's outputs (a smaller initialisation, or normalising $z_e$).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# More to explore (no model answer): combine the fixes with `experiments.collapse_experiment` and variants such as
# `{"EMA + k-means++": {"codebook_update": "ema", "init": "kmeans++"}}`; train longer (e.g. `epochs=100`) and look
# at where the EMA row's unused codewords end up; make the latent grid bigger with
# `build_vqvae(..., latent_shape=(4, 8))` (4 codes per image) and look at the code browser.
