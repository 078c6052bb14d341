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
# # 01 · Vector quantization → the VQ-VAE
#
# **What you will learn**
#
# 1. Vector quantization (VQ) as clustering: a codebook, its Voronoi cells, the distortion, and
#    Lloyd's k-means algorithm that lowers it — written as an expectation over a posterior $q(z\mid x)$
#    (§4.1 of the neural-gas thesis: Y. Badran, *VQ-VAE with Neural Gas and Fuzzy c-Means*, master thesis,
#    Hochschule Mittweida, 2021; no public copy is known).
# 2. The VQ-VAE: encoder → quantizer → decoder, and its loss (thesis eqs. 5.1–5.5).
# 3. The stop-gradient and the straight-through estimator, checked *numerically*: which loss term
#    moves which parameters.
# 4. Training a VQ-VAE on 8×8 digits: reconstructions, the reconstruction and perplexity curves, and a
#    code browser.
# 5. Codebook collapse — most codes never used — made visible, and four variants side by side:
#    plain, EMA codebook, k-means++ initialisation and dead-code restart.
#
# Everything runs offline on a CPU in about a minute.

# %%
import matplotlib.pyplot as plt
import torch

import vqlab
from vqlab import experiments
from vqlab.clustering import init_prototypes, kmeans, vq_distortion
from vqlab.data import load_digits, make_toy
from vqlab.models import build_vqvae
from vqlab.plotting import plot_training_curves, plot_usage, plot_voronoi, show_reconstructions
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate, train
from vqlab.widgets.vq import (code_browser_state, code_browser_widget, draw_code_browser, draw_toy_vq,
                              toy_vq_state, toy_vq_widget)

vqlab.seed_everything(0)
torch.set_printoptions(precision=4)

# %% [markdown]
# ## 1. Vector quantization is clustering
#
# A **codebook** is a set of $k$ prototypes (codewords) $\mathbf w = \{\mathbf w_0,\dots,\mathbf w_{k-1}\}$.
# It splits space into **Voronoi cells** $R_i = \{x : d(x, \mathbf w_i) \le d(x, \mathbf w_j)\ \forall j\}$,
# with $d(x, \mathbf w) = \lVert x - \mathbf w\rVert^2$. The *quantizer encoder*
# $\gamma(x) = \arg\min_z d(x, \mathbf w_z)$ turns a point into a symbol $z \in \{0,\dots,k-1\}$, and the
# quantizer replaces $x$ by $\mathbf w_{\gamma(x)}$ — compression to $\log_2 k$ bits.
#
# **The posterior view (thesis §4.1).** Let a clustering algorithm output a probability $q_{\mathbf w}(z\mid x)$
# over the codes. The expected distortion is
#
# $$E = \sum_{x\in X}\sum_{z} q_{\mathbf w}(z\mid x)\, d(x, \mathbf w_z). \qquad (4.1)$$
#
# Hard clustering is the special case of a one-hot posterior $q(z\mid x) = \mathbf 1_{z=\gamma(x)}$, and
# then (4.1) becomes the k-means objective
#
# $$E = \sum_{x\in X} d(x, \mathbf w_{\gamma(x)}). \qquad (4.2)$$
#
# **Lloyd's algorithm** lowers (4.2) by alternating two steps, each of which cannot increase $E$:
# assign every point to its cell, then move every codeword to the mean of its cell.
# (Below, $E$ is divided by the number of points.) `vqlab.clustering.kmeans` runs these iterations from
# a codebook seeded by k-means++ (`vqlab.clustering.init_prototypes(..., method="kmeans++")`).

# %%
x_toy, y_toy = make_toy("blobs", n=300, seed=0)
seeded = init_prototypes(x_toy, 5, method="kmeans++", seed=0)   # k-means++ seeding
km = kmeans(x_toy, seeded, iterations=10)                        # 10 Lloyd iterations
print("distortion per iteration:", [round(d, 3) for d in km.distortion])
print("never increases:", all(b <= a + 1e-6 for a, b in zip(km.distortion, km.distortion[1:])))

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
plot_voronoi(seeded, x_toy, y_toy, ax=axes[0], resolution=150, title="k-means++ seeding")
plot_voronoi(km.prototypes, x_toy, y_toy, ax=axes[1], resolution=150, title="after 10 Lloyd iterations")
fig.tight_layout()

# %% [markdown]
# The posterior view in numbers: with the one-hot posterior, the double sum of eq. 4.1 is the same number
# as the k-means objective 4.2. `vqlab.posteriors.posterior_losses` implements eq. 5.4, which is eq. 4.1
# applied in latent space (averaged over the $D$ dimensions), so it gives the same number divided by $D=2$.

# %%
from vqlab.posteriors import posterior_losses, squared_distances

assign, E_42 = vq_distortion(x_toy, km.prototypes)
q = torch.nn.functional.one_hot(assign, 5).float()          # q(z|x), one row per point
E_41 = (q * squared_distances(x_toy, km.prototypes)).sum(1).mean().item()
E_54 = posterior_losses(x_toy, km.prototypes, q, beta=1.0)["codebook"].item() * 2
print(f"eq. 4.1 with one-hot q: {E_41:.5f}   eq. 4.2: {E_42:.5f}   eq. 5.4 x D: {E_54:.5f}")
print("equal:", abs(E_41 - E_42) < 1e-5 and abs(E_54 - E_42) < 1e-5)

# %% [markdown]
# ## 2. The VQ-VAE: encoder → quantizer → decoder
#
# The VQ-VAE (van den Oord et al. 2017, [arXiv:1711.00937](https://arxiv.org/abs/1711.00937); thesis §5) does the same clustering, but in a *learned* latent
# space: an encoder $z_\theta(x)$ maps the input to a continuous vector, the quantizer snaps it to its nearest
# codeword $\mathbf w_{\gamma(x)}$ (the k-means posterior of §4.1.2), and a decoder $p_\phi(x\mid z)$
# reconstructs $x$ from the codeword. The distortion the quantizer introduces is the expectation
#
# $$\mathbb E_{q_{\mathbf w}(z\mid z_\theta(x))}\lVert z_\theta(x) - \mathbf w_z\rVert^2. \qquad (5.1)$$
#
# The **stop-gradient** $\mathrm{sg}[\cdot]$ is the identity in the forward pass and a constant in the
# backward pass. It splits (5.1) into a *commitment loss* that only moves the encoder (5.2) and a
# *VQ/codebook loss* that only moves the codewords (5.3):
#
# $$\ell(x) = -\log p_\phi(x\mid \mathbf w_{\gamma(x)}) + \alpha\,\lVert z_\theta(x) - \mathrm{sg}(\mathbf w_{\gamma(x)})\rVert^2
#   + \eta\,\lVert \mathrm{sg}(z_\theta(x)) - \mathbf w_{\gamma(x)}\rVert^2. \qquad (5.5)$$
#
# ($\alpha$ is the VQ-VAE paper's $\beta$, `beta` in vqlab; $\eta = 1$.) The $\arg\min$ has no useful
# gradient, so the decoder input is written with the **straight-through estimator**
#
# $$z_q = z_\theta(x) + \mathrm{sg}[\mathbf w_{\gamma(x)} - z_\theta(x)],$$
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
print("loss terms:", list(out.losses))

# %% [markdown]
# ### The straight-through estimator, numerically
# Forward: $z_q$ is exactly the chosen codeword (and differs from $z_e$). Backward: the gradient of the
# reconstruction loss with respect to the decoder input $z_q$ is *identical* to its gradient with
# respect to the encoder output $z_e$.

# %%
for name, value in experiments.straight_through_check(model, data.x_train[:64]).items():
    print(f"{name:<25} {value}")

# %% [markdown]
# ### Which loss term moves which parameters
# Back-propagating each term of eq. 5.5 on its own: the reconstruction loss reaches the decoder and —
# through the straight-through copy — the encoder, but **not the codebook** (the codewords never get a
# gradient from the reconstruction); the commitment loss reaches only the encoder; the codebook only learns
# from the codebook loss.

# %%
paths = experiments.gradient_paths(model, data.x_train[:64])
print(f"{'loss term':<12}{'encoder':>9}{'codebook':>10}{'decoder':>9}")
for term, reached in paths.items():
    print(f"{term:<12}" + "".join(f"{str(reached[p]):>{w}}" for p, w in
                                  (("encoder", 9), ("codebook", 10), ("decoder", 9))))

# %% [markdown]
# ## 3. A VQ-VAE you can play with: 2-D toy data
#
# The smallest VQ-VAE: a linear 2→2 encoder and decoder (both start as the identity) around a codebook of
# $K$ 2-D codewords, trained with full-batch Adam by `vqlab.train.train`. The left panel shows the latent
# space — the encoded points, the codewords (×), their Voronoi cells, and dead codes circled in red; the
# right panel the distortion (4.2) relative to the spread of the latent cloud, after each step. The
# codebook starts, as in the VQ-VAE reference code, uniformly in $[-1/K, 1/K]$: all codewords near the origin.
#
# Things to try with the sliders: $K=1$ (one code: everything maps to the mean); $K$ larger than the number
# of blobs; $\beta=0$ versus $\beta=2$ — the thesis notes that the commitment loss keeps the encoder output
# from "growing arbitrarily large", watch the axis scale and the raw distortion $E$; `init = kmeans++`.

# %%
toy = toy_vq_state(num_codes=8, beta=0.25, steps=100, dataset="blobs")
draw_toy_vq(toy)
plt.show()
assert toy.curve[-1] < toy.curve[0] and toy.codes_used <= 8

# %% [markdown]
# A quick check of the commitment claim on the same data (100 steps each): the root-mean-square size of
# the encoder output without and with a strong commitment weight.

# %%
# NBVAL_IGNORE_OUTPUT
scales = {b: toy_vq_state(num_codes=8, beta=b, steps=100).latent_scale for b in (0.0, 2.0)}
print({f"beta={b}": round(s, 2) for b, s in scales.items()})

# %%
print("beta=2 keeps the encoder output smaller than beta=0:", scales[2.0] < scales[0.0])
assert scales[2.0] < scales[0.0]

# %%
# NBVAL_IGNORE_OUTPUT
toy_vq_widget()

# %% [markdown]
# ## 4. Training on digits
#
# Now the digits model from §2 ($K=32$, $D=8$, one code per image), 20 epochs of Adam (batch 128). We log the
# reconstruction error and the **perplexity** $\exp(H(\bar q))$ of the batch's code usage: it is $K$
# when all codes are used equally and 1 when a single code takes everything.

# %%
# NBVAL_IGNORE_OUTPUT
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

# %%
# NBVAL_IGNORE_OUTPUT
code_browser_widget(model, data.x_test, data.image_shape)

# %% [markdown]
# ## 5. Codebook collapse, and four ways to fight it
#
# In the model above not every code is used. The mechanism: the codewords start in a tiny ball around the
# origin ($[-1/K, 1/K]^D$) while the encoder outputs are much larger, so only a few codewords ever win the
# $\arg\min$; those move towards the data, and the others receive **no gradient at all** — the codebook
# loss of eq. 5.5 only touches selected codewords (see the gradient-path table: the reconstruction never
# reaches the codebook). A larger codebook in a larger latent space makes this visible. We take $K=128$,
# $D=16$ and compare, at equal training budget (10 epochs, batch 128):
#
# - **plain**: the codebook loss of eq. 5.5, uniform initialisation;
# - **EMA**: codewords are exponential moving averages of the vectors assigned to them (decay 0.99,
#   Laplace smoothing; van den Oord et al. 2017, App. A.1), no codebook loss;
# - **k-means++ init**: the codebook is seeded by k-means++ from the first batch of encoder outputs;
# - **dead-code restart**: a code unused for 20 consecutive steps is moved onto a random encoder output.
#
# Each variant is trained with 3 seeds and evaluated on the 450 test digits.

# %%
# NBVAL_IGNORE_OUTPUT
collapse = experiments.collapse_experiment(data.x_train, data.x_test, seeds=(0, 1, 2), num_codes=128,
                                           code_dim=16, epochs=10, batch_size=128, lr=3e-3)
print(collapse.table(digits={"recon": 4, "perplexity": 1, "codes_used": 1}))

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 2.4), sharey=True)
for ax, (name, counts) in zip(axes, experiments.usage_counts(collapse, data.x_test).items()):
    plot_usage(counts, ax=ax, title=f"{name}: {(counts > 0).sum()}/128 used")
fig.tight_layout()
plt.show()

# %%
used = {name: collapse.mean(name, "codes_used") for name in collapse.variants}
perplexity = {name: collapse.mean(name, "perplexity") for name in collapse.variants}
recon = {name: collapse.mean(name, "recon") for name in collapse.variants}
print("plain, EMA and k-means++ init each use under a quarter of the 128 codes:",
      all(used[name] < 128 / 4 for name in ("plain", "EMA", "k-means++ init")))
print("dead-code restart uses most of the codebook (> 64 of 128):", used["dead-code restart"] > 64)
print("k-means++ init uses more codes than plain VQ:", used["k-means++ init"] > used["plain"])
print("dead-code restart: highest perplexity and lowest recon of the four:",
      max(perplexity, key=perplexity.get) == min(recon, key=recon.get) == "dead-code restart")
assert used["plain"] < 128 / 4                       # plain VQ uses a small fraction of the codebook
assert used["EMA"] < 128 / 4 and used["k-means++ init"] < 128 / 4   # ... and so do these two, alone
assert used["dead-code restart"] > 2 * used["plain"]  # restarts recover usage
assert used["dead-code restart"] > 64 and used["k-means++ init"] > used["plain"]   # the text below
assert max(perplexity, key=perplexity.get) == "dead-code restart"
assert min(recon, key=recon.get) == "dead-code restart"

# %% [markdown]
# **What the table shows** (test set, mean ± std over 3 seeds, this configuration only):
# plain VQ uses only a handful of its 128 codes. Dead-code restart is the one fix that recovers most of
# the codebook, with the highest perplexity and the lowest reconstruction error of the four. k-means++
# initialisation used somewhat more codes than plain VQ in our runs but stayed below a quarter of the
# codebook, and the EMA codebook, on its own, does **not** help here: it stays as collapsed as plain VQ.
# The reconstruction errors of the four variants differ much less than
# their usage. EMA changes *how* a selected codeword moves (a running mean of its vectors instead of a
# gradient step); it does nothing for a codeword that is never selected — exercise 4 lets you check
# where EMA's unused codewords end up.

# %% [markdown]
# ## Summary
#
# - VQ is clustering: a codebook, Voronoi cells, and the distortion (eq. 4.2) — which is the expectation
#   (4.1) under the one-hot k-means posterior. Lloyd's algorithm never increases it.
# - The VQ-VAE quantizes a learned latent; its loss (5.5) is reconstruction + commitment (moves the encoder)
#   + codebook loss (moves the codewords). The straight-through estimator copies the decoder-input
#   gradient to the encoder output — we checked this to the last bit — and the codewords learn only from the
#   codebook loss (or from EMA updates).
# - Codebook collapse is easy to provoke: with $K=128$, $D=16$ plain VQ used a small fraction of its codes.
#   In our runs dead-code restarts recovered most of the codebook; k-means++ seeding alone and the EMA
#   codebook alone left it collapsed.
#
# ## Exercises
#
# Exercises 1–3 are checked: run each `grader.check(...)` cell (student version) to see whether your answer
# has the properties a correct one must have; the grader also runs hidden checks. Exercises 4–6 are written
# answers. The solution version of this notebook (the one in `notebooks/`) shows a model answer for each.

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

# %% [raw]
# # BEGIN QUESTION
# name: nearest_code
# points: 2

# %% [markdown]
# **Exercise 1 (nearest codeword, eq. 4.2).** Write `nearest_code(z, codebook)`: for points `z [N, D]` and a
# codebook `[K, D]`, return the long tensor `[N]` of the indices $\gamma(\mathbf z_n)=\arg\min_k
# \lVert\mathbf z_n-\mathbf w_k\rVert^2$. Use only torch operations (no loops over points).

# %% [raw]
# # BEGIN SOLUTION

# %%
def nearest_code(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    return torch.cdist(z, codebook).argmin(dim=1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_nearest_code_small(nearest_code, torch):
    w = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    z = torch.tensor([[0.1, 0.1], [0.9, -0.2], [0.2, 1.8], [0.6, 0.0]])
    idx = nearest_code(z, w)
    assert isinstance(idx, torch.Tensor) and idx.shape == (4,), "return a tensor of shape [N]"
    assert idx.tolist() == [0, 1, 2, 1]
test_nearest_code_small(nearest_code, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_nearest_code_is_a_minimiser(nearest_code, torch):
    from vqlab.posteriors import squared_distances
    g = torch.Generator().manual_seed(11)
    z, w = torch.randn(300, 5, generator=g), torch.randn(17, 5, generator=g)
    idx = nearest_code(z, w)
    d = squared_distances(z, w)
    assert idx.dtype == torch.long and idx.shape == (300,)
    assert torch.allclose(d.gather(1, idx[:, None]).squeeze(1), d.min(1).values)
test_nearest_code_is_a_minimiser(nearest_code, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: vq_losses
# points: 2

# %% [markdown]
# **Exercise 2 (the two latent terms of eq. 5.5).** Write `vq_losses(z_e, w, beta)` for encoder outputs
# `z_e [N, D]` and their chosen codewords `w [N, D]`: return a dict with `"codebook"`
# $=\lVert \mathrm{sg}(z_e)-w\rVert^2$ and `"commitment"` $=\beta\lVert z_e-\mathrm{sg}(w)\rVert^2$, each the
# mean over the $N\cdot D$ entries (as `VectorQuantizer` does). The stop-gradients decide which side each
# term moves.

# %% [raw]
# # BEGIN SOLUTION

# %%
def vq_losses(z_e: torch.Tensor, w: torch.Tensor, beta: float) -> dict:
    # BEGIN SOLUTION
    return {"codebook": ((z_e.detach() - w) ** 2).mean(), "commitment": beta * ((z_e - w.detach()) ** 2).mean()}
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_vq_losses_match_the_quantizer(vq_losses, torch):
    from vqlab.quantizers import VectorQuantizer
    q = VectorQuantizer(8, 3, beta=0.25, seed=0)
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    out = q(z)
    mine = vq_losses(z, q.codebook[out.indices], 0.25)
    for term in ("codebook", "commitment"):
        assert torch.allclose(mine[term], out.losses[term]), f"{term} differs from VectorQuantizer's"
test_vq_losses_match_the_quantizer(vq_losses, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_vq_losses_gradient_paths(vq_losses, torch):
    g = torch.Generator().manual_seed(5)
    z = torch.randn(20, 4, generator=g, requires_grad=True)
    w = torch.randn(20, 4, generator=g, requires_grad=True)
    terms = vq_losses(z, w, 0.5)
    gz, gw = torch.autograd.grad(terms["commitment"], [z, w], allow_unused=True)
    assert gz is not None and gz.abs().sum() > 0 and (gw is None or gw.abs().sum() == 0)
    gz, gw = torch.autograd.grad(terms["codebook"], [z, w], allow_unused=True)
    assert gw is not None and gw.abs().sum() > 0 and (gz is None or gz.abs().sum() == 0)
    assert torch.isclose(terms["commitment"], 0.5 * terms["codebook"])
test_vq_losses_gradient_paths(vq_losses, torch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: straight_through
# points: 2

# %% [markdown]
# **Exercise 3 (straight-through estimator).** Write `straight_through(z_e, z_q)`: a tensor whose *value*
# is `z_q` but whose gradient with respect to `z_e` is the identity (the decoder-input gradient copied to
# the encoder output, §4), and which sends no gradient to `z_q`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def straight_through(z_e: torch.Tensor, z_q: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    return z_e + (z_q - z_e).detach()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_straight_through_forward(straight_through, torch):
    z_e, z_q = torch.randn(6, 3), torch.randn(6, 3)
    assert torch.allclose(straight_through(z_e, z_q), z_q)
test_straight_through_forward(straight_through, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_straight_through_gradient(straight_through, torch):
    g = torch.Generator().manual_seed(3)
    z_e = torch.randn(10, 4, generator=g, requires_grad=True)
    z_q = torch.randn(10, 4, generator=g, requires_grad=True)
    upstream = torch.randn(10, 4, generator=g)
    ge, gq = torch.autograd.grad((straight_through(z_e, z_q) * upstream).sum(), [z_e, z_q], allow_unused=True)
    assert ge is not None and torch.allclose(ge, upstream)
    assert gq is None or gq.abs().sum() == 0
test_straight_through_gradient(straight_through, torch)

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
# **Exercise 4.** Prove that each of Lloyd's two steps cannot increase eq. 4.2.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Write $E(\gamma, \mathbf w)=\frac1N\sum_n\lVert\mathbf x_n-\mathbf w_{\gamma(n)}\rVert^2$.
# **Assignment step:** for fixed $\mathbf w$, choosing $\gamma(n)=\arg\min_k\lVert\mathbf x_n-\mathbf w_k\rVert^2$
# minimises every term separately, so no other assignment (in particular the previous one) gives a smaller
# sum. **Update step:** for a fixed assignment, $E$ splits into one sum per cell, and
# $\sum_{n\in C_k}\lVert\mathbf x_n-\mathbf w\rVert^2$ is a convex quadratic in $\mathbf w$ with gradient
# $2\sum_{n\in C_k}(\mathbf w-\mathbf x_n)$, zero at the cell mean; the mean is therefore the minimiser and
# replacing $\mathbf w_k$ by it cannot increase the cell's sum (an empty cell keeps its codeword and adds
# nothing). Both steps are non-increasing and $E\ge 0$, so the sequence of distortions converges.

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
# **Exercise 5.** In the toy explorer, set $K=5$ (the number of blobs), `init = kmeans++` and 300 steps.
# Compare the relative distortion with Lloyd's result in §1 (there the spread is that of the raw points).
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
# **Exercise 6.** Replace the straight-through estimator by $z_q = \mathbf w_{\gamma(x)}$ (no $z_e$ term).
# Which parameters now receive a gradient from the reconstruction? Check it with `experiments.gradient_paths`
# on a small subclass of `VectorQuantizer`.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* $\gamma(x)$ is an argmin, so nothing flows through the index; the decoder input is the
# codeword itself. The reconstruction then reaches the **decoder and the codebook** (the chosen codewords get
# the decoder-input gradient) but **not the encoder**: the encoder learns only from the commitment term, which
# pulls it towards codewords that were never shaped by the reconstruction. `gradient_paths` shows
# `recon -> encoder: False, codebook: True, decoder: True` for such a subclass.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# More to explore (no model answer): train `build_vqvae(VectorQuantizer(128, 16, codebook_update="ema"))` as in
# §5 and compare the norms of the used and the unused codewords with the norms of the encoder outputs; combine
# the fixes with `experiments.collapse_experiment` and variants such as
# `{"EMA + k-means++": {"codebook_update": "ema", "init": "kmeans++"}}`; make the latent grid bigger with
# `build_vqvae(..., latent_shape=(4, 8))` (4 codes per image) and look at the code browser.
