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
# # 07 · Autoregressive priors: MADE, PixelCNN and gated PixelCNN over VQ-VAE codes
#
# Source: the neural-gas thesis (Y. Badran, *VQ-VAE with Neural Gas and Fuzzy c-Means*, master thesis,
# Hochschule Mittweida, 2021), §3.1–3.3 (autoregressive models, MADE,
# PixelCNN masks A and B, eqs. 3.1–3.5) and §5.3 (stage 2: learning the prior over code maps), which follow
# MADE (Germain et al. 2015, [arXiv:1502.03509](https://arxiv.org/abs/1502.03509)) and PixelCNN (van den Oord
# et al. 2016, [arXiv:1601.06759](https://arxiv.org/abs/1601.06759)). The code lives in `vqlab.priors`.
#
# ## What you will learn
# - the **chain rule** (eq. 3.1) as a recipe for exact likelihoods, and why the ordering matters;
# - **MADE** masks (eq. 3.3) and a check that output $i$ depends only on inputs $<i$;
# - PixelCNN **masked convolutions** of type A and B (eqs. 3.4, 3.5), their **blind spot**, and how the
#   **gated PixelCNN**'s vertical and horizontal stacks remove it;
# - **stage 2** of a VQ-VAE: fit a prior over the $4\times4$ code maps of a small conv VQ-VAE, compare its
#   NLL in bits per code with a uniform and a per-position (unigram) prior, then **generate new digits**
#   by sampling code maps and decoding them.

# %%
import matplotlib.pyplot as plt
import torch

import vqlab
from vqlab import priors
from vqlab.data import load_digits
from vqlab.metrics import digit_judge, sample_quality
from vqlab.models import build_vqvae
from vqlab.plotting import image_grid
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate, train
from vqlab.widgets.priors import (completion_state, completion_widget, draw_completion, draw_prior_samples,
                                  draw_receptive_field, prior_samples_state, prior_samples_widget,
                                  receptive_field_state, receptive_field_widget)

_ = vqlab.seed_everything(0)

# %% [markdown]
# ## 1 · The chain rule and MADE
#
# A code map $\mathbf z=(z_1,\dots,z_n)$ with $z_i\in\{0,\dots,K-1\}$ can always be factorised (eq. 3.1)
#
# $$p(\mathbf z)=\prod_{i=1}^{n}p(z_i\mid \mathbf z_{<i}),\qquad
#   \log p(\mathbf z)=\sum_{i=1}^{n}\log p(z_i\mid\mathbf z_{<i}) \quad\text{(eq. 3.2)}.$$
#
# If one network outputs all $n$ conditionals at once, the product is a true, normalised distribution only if
# output $i$ never sees $z_i, z_{i+1},\dots$ — the *autoregressive property*. The factorisation holds for
# **any** ordering, but a network learns some orderings more easily than others (nearby positions of an
# image are strongly dependent); MADE's authors even train over many orderings.
#
# **MADE** (§3.2) enforces the property in an MLP by multiplying each weight matrix with a binary mask,
# $h^l = a(b^l + (M^l\odot W^l)\,h^{l-1})$ (eq. 3.3). Each unit gets a *degree*: input $d$ its rank in the
# ordering, hidden units a degree in $1..n-1$; a hidden unit may connect to units of degree $\le$ its own,
# an output of degree $d$ only to hidden units of degree $<d$. Below: the connectivity (product of masks)
# of a MADE with a shuffled ordering, and a gradient check of the same property.

# %%
order = torch.randperm(6, generator=torch.Generator().manual_seed(1))
made = priors.MADE(num_codes=3, shape=(1, 6), hidden=(32, 32), order=order)
conn = made.connectivity()                      # [6, 6]: output position i <- input position j
rank = torch.empty(6, dtype=torch.long)
rank[order] = torch.arange(6)
print("ordering:", order.tolist())
print("connectivity == 'j comes before i':", torch.equal(conn, rank[None, :] < rank[:, None]))

x = torch.randn(4, 3, 1, 6, requires_grad=True)  # a float (relaxed one-hot) input, so we can differentiate
sees_self_or_future = []
for i in range(6):
    (g,) = torch.autograd.grad(made.logits(x)[:, :, 0, i].sum(), x)
    reached = g.abs().sum((0, 1, 2)) > 0
    sees_self_or_future.append(bool((reached & (rank >= rank[i])).any()))
print("some output depends on its own or a later input:", any(sees_self_or_future))
print("the last position in the order depends on all 5 others:",
      int((torch.autograd.grad(made.logits(x)[:, :, 0, int(order[-1])].sum(), x)[0].abs().sum((0, 1, 2)) > 0).sum()))

# %% [markdown]
# ## 2 · Masked convolutions, the blind spot, and the gated PixelCNN
#
# PixelCNN (§3.3) uses the raster ordering (row by row, left to right) and masks every $k\times k$ kernel.
# With the centre $c=\lfloor k/2\rfloor$ (0-based; the thesis writes $\lceil n/2\rceil$ with 1-based indices),
#
# $$M^{A}[i,j]=\mathbb 1\big[i<c \ \lor\ (i=c \land j<c)\big]\quad\text{(eq. 3.4)},\qquad
#   M^{B}[i,j]=\mathbb 1\big[i<c \ \lor\ (i=c \land j\le c)\big]\quad\text{(eq. 3.5)}.$$
#
# Mask A (first layer) hides the pixel being predicted; mask B (later layers) may use the centre, because
# after the first layer the feature at a pixel already summarises only *earlier* pixels. (The thesis's set
# notation $x_{\{<i,<j\}}$ is looser than the mask: the mask conditions on *all* rows above plus the pixels to the left.)

# %%
print("mask A (k=5):\n", priors.conv_mask(5, "A").int())
print("mask B - mask A is the centre only:", torch.equal(priors.conv_mask(5, "B") - priors.conv_mask(5, "A"),
                                                         torch.zeros(5, 5).index_put_((torch.tensor(2), torch.tensor(2)), torch.tensor(1.0))))

# %% [markdown]
# Which inputs can reach the output at the centre pixel? We ask the gradients
# (`priors.receptive_field`): blue pixels influence the centre output, red pixels are earlier in the
# ordering but can **never** influence it, orange would be cheating (the pixel itself or a later one).
# Stacked masked $3\times3$ kernels grow the field up and to the left but never further right than one
# column per row up: the **blind spot** of the thesis's Fig. 3.2. The gated PixelCNN (van den Oord et al.
# 2016, [arXiv:1606.05328](https://arxiv.org/abs/1606.05328), the thesis's ref. [23]) splits each layer into a *vertical stack* (a $(c{+}1)\times k$ kernel over the
# rows above, shifted down by one row) and a *horizontal stack* (a $1\times(c{+}1)$ kernel over the current row),
# joined by gates $\tanh(W_f * x)\odot\sigma(W_g * x)$; its field is a full cone. Using mask B in the first
# layer instead would let the output see the pixel it predicts.

# %%
fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
rf = {m: receptive_field_state(3, m, 3) for m in ("A then B", "gated", "B only (leaks!)")}
for ax, state in zip(axes, rf.values()):
    draw_receptive_field(state, ax=ax)
plt.tight_layout()
plt.show()
for m, s in rf.items():
    print(f"{m:16s} past pixels reached {s.n_reached:2d}/{s.n_past}, unreached {s.n_blind:2d}, leaks {s.n_leak}")

# %% [markdown]
# (The gated stack's few red pixels sit at the corners, out of reach of 3 layers of 3-wide kernels; more
# layers remove them, whereas the plain PixelCNN's blind wedge above-right stays.) Try it:

# %%
# NBVAL_IGNORE_OUTPUT
receptive_field_widget()

# %% [markdown]
# ## 3 · Stage 2: a prior over the code maps of a conv VQ-VAE
#
# Stage 1 (notebook 01): a conv VQ-VAE with $K=32$ codes compresses each 8×8 digit into a $4\times4$ code map
# (one downsampling step). During stage 1 the prior is implicitly uniform (§5.2). Stage 2 (§5.3) treats the
# code maps of the training set as a new categorical "image" dataset and fits an autoregressive prior to it.

# %%
# NBVAL_IGNORE_OUTPUT
data = load_digits()
x_train, x_test = data.images(data.x_train), data.images(data.x_test)
K, D = 32, 8
vqvae = build_vqvae(VectorQuantizer(K, D, codebook_update="ema", init="kmeans++", restart_after=20),
                    arch="conv", channels=32, seed=0)
train(vqvae, x_train, epochs=30, batch_size=64, lr=2e-3, seed=0, progress=False)
stage1 = evaluate(vqvae, x_test)
with torch.no_grad():
    codes_train = vqvae.quantize(vqvae.encode(x_train)).indices    # [1347, 4, 4] long
    codes_test = vqvae.quantize(vqvae.encode(x_test)).indices      # [450, 4, 4]
print(f"test recon MSE {stage1['recon']:.4f}, code perplexity {stage1['perplexity']:.1f} of {K}")

# %%
print("code maps:", tuple(codes_train.shape), codes_train.dtype)
print(f"more than half of the {K} codes used on the test set:", stage1["codes_used"] > K / 2)
assert codes_train.shape[1:] == (4, 4) and stage1["codes_used"] > K / 2

# %% [markdown]
# Every prior is a `priors.CodePrior`: `prior(code_maps).losses == {"nll": bits per code}`, so the one
# training loop `vqlab.train.train` fits it (integer code maps are accepted as inputs). The NLL in **bits per
# code** is eq. 3.2 divided by $n\ln 2$. The baselines: a uniform prior costs exactly $\log_2 K = 5$ bits per
# code; the *unigram* prior $p(\mathbf z)=\prod_i p_i(z_i)$ uses each position's code frequencies (Laplace
# smoothed) but no dependencies between positions.

# %%
# NBVAL_IGNORE_OUTPUT
shape = (4, 4)
uniform = priors.UniformPrior(K, shape)
unigram = priors.UnigramPrior(K, shape).fit(codes_train)
made = priors.MADE(K, shape, hidden=(256,))
pixelcnn = priors.PixelCNN(K, shape, channels=32, kernel_size=3, n_layers=3)
gated = priors.GatedPixelCNN(K, shape, channels=32, kernel_size=3, n_layers=3)
histories = {name: train(p, codes_train, epochs=20, batch_size=128, lr=3e-3, seed=0, progress=False)
             for name, p in (("MADE", made), ("PixelCNN", pixelcnn), ("gated PixelCNN", gated))}
nll = {name: (p.bits_per_code(codes_train), p.bits_per_code(codes_test))
       for name, p in (("uniform", uniform), ("unigram", unigram), ("MADE", made), ("PixelCNN", pixelcnn),
                       ("gated PixelCNN", gated))}
print(f"{'prior':16s} {'train':>7s} {'test':>7s}   (bits per code; a map has 16 codes)")
for name, (tr, te) in nll.items():
    print(f"{name:16s} {tr:7.3f} {te:7.3f}")

# %%
autoregressive = ("MADE", "PixelCNN", "gated PixelCNN")
claims = {
    "uniform prior: exactly log2 K = 5 bits per code": abs(nll["uniform"][1] - 5.0) < 1e-6,
    "unigram saves 0.7 to 1.3 bits per test code over uniform": 0.7 < nll["uniform"][1] - nll["unigram"][1] < 1.3,
    "every autoregressive prior beats unigram on the test maps": all(nll[n][1] < nll["unigram"][1] for n in autoregressive),
    "every autoregressive prior: train NLL below test NLL": all(nll[n][0] < nll[n][1] for n in autoregressive),
    "plain PixelCNN: the highest test NLL of the three": max(autoregressive, key=lambda n: nll[n][1]) == "PixelCNN",
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())

# %% [markdown]
# Read the table (numbers from this run; they move a little with the seed): the unigram prior already saves
# about one bit per code over uniform — code usage is far from uniform and differs by position. The
# autoregressive priors save more on the **test** code maps, because neighbouring codes of a digit are strongly
# dependent. With only 1347 training maps they also overfit (train NLL well below test NLL); more epochs make
# the test NLL *worse*, so the short schedule here acts as early stopping. The plain PixelCNN, with its blind
# spot and no gates, is the weakest of the three here, but the comparison mixes the blind spot with other
# architectural differences (gates, residual horizontal stack), so it is not a clean test of the blind spot
# alone. The thesis reports no prior NLL for its CIFAR-10 model (§6 reports only stage-1 numbers), so there
# is no paper figure to compare with.

# %% [markdown]
# ## 4 · Generating new digits
#
# Ancestral sampling draws $z_1\sim p(z_1)$, then $z_2\sim p(z_2\mid z_1)$, … in the ordering (one forward
# pass per position), from $\mathrm{softmax}(\text{logits}/T)$. A temperature $T<1$ sharpens the
# conditionals (towards the greedy map as $T\to0$), $T>1$ flattens them (towards uniform codes). The decoder
# then turns each code map into a digit.

# %%
gen = torch.Generator().manual_seed(0)
n = 200
samples = {"test code maps (reference)": codes_test[:n],
           "gated PixelCNN, T=1": gated.sample(n, gen, temperature=1.0),
           "gated PixelCNN, T=0.5": gated.sample(n, gen, temperature=0.5),
           "unigram prior": unigram.sample(n, gen),
           "uniform random codes": uniform.sample(n, gen)}
with torch.no_grad():
    decoded = {name: vqvae.decode_indices(c) for name, c in samples.items()}
fig, axes = plt.subplots(len(decoded), 1, figsize=(7, 5.2))
for ax, (name, imgs) in zip(axes, decoded.items()):
    image_grid(imgs[:20], ncols=20, ax=ax, title=name)
plt.tight_layout()
plt.show()

# %% [markdown]
# How good are they? A judge trained in the notebook: a logistic-regression digit classifier on the raw
# training pixels. For each set of 200 decoded images we report its **mean confidence** (max class
# probability), the **entropy of the predicted-class histogram** (nats; $\ln 10\approx2.30$ means all
# ten digits appear equally often) and, because a linear classifier can be confidently wrong on images
# that look like nothing, the mean **distance to the nearest training digit** (pixel space, smaller is
# more realistic).

# %%
# NBVAL_IGNORE_OUTPUT
clf = digit_judge(data.x_train, data.y_train)
clf_acc = clf.score(data.x_test.numpy(), data.y_test.numpy())
print(f"classifier test accuracy on real digits: {clf_acc:.3f}")
quality = {name: sample_quality(clf.predict_proba(imgs.reshape(len(imgs), -1).numpy()), imgs, data.x_train)
           for name, imgs in decoded.items()}
print(f"{'samples':28s} {'confidence':>10s} {'class H':>8s} {'NN dist':>8s}")
for name, q in quality.items():
    print(f"{name:28s} {q['confidence']:10.3f} {q['class_entropy']:8.3f} {q['nn_distance']:8.3f}")

# %%
q = {name: quality[name] for name in quality}
ref, t1, t05 = q["test code maps (reference)"], q["gated PixelCNN, T=1"], q["gated PixelCNN, T=0.5"]
uni, rnd = q["unigram prior"], q["uniform random codes"]
claims = {
    "classifier test accuracy on real digits > 0.9": clf_acc > 0.9,
    "NN distance: real code maps < gated T=1 < unigram < uniform random codes":
        ref["nn_distance"] < t1["nn_distance"] < uni["nn_distance"] < rnd["nn_distance"],
    "T=0.5 vs T=1: closer to real digits, more confident, lower class entropy":
        t05["nn_distance"] < t1["nn_distance"] and t05["confidence"] > t1["confidence"]
        and t05["class_entropy"] < t1["class_entropy"],
    "random code maps: more confident than unigram samples, the lowest class entropy":
        rnd["confidence"] > uni["confidence"] and min(q, key=lambda n: q[n]["class_entropy"]) == "uniform random codes",
}
for claim, holds in claims.items():
    print(f"{claim}: {holds}")
assert all(claims.values())

# %% [markdown]
# What the numbers say (this run): samples from the learned prior are much closer to real digits than
# decoded uniform-random code maps (nearest-neighbour distance) and lie between the unigram samples and the
# real code maps; lowering the temperature to 0.5 makes them cleaner and the classifier more confident, at a
# small cost in diversity (class entropy). The classifier's confidence on its own is a weak judge: it is
# fairly confident even on decoded random code maps (in this run more than on the unigram samples), because a
# linear model extrapolates confidently far from its training data — the same caveat applies to
# classifier-based scores of generative models in general. The class histogram of the random maps is
# narrower (lower class entropy): the classifier dumps most of that noise into a few classes.
#
# Play with the temperature (from 0.01 to 100):

# %%
draw_prior_samples(prior_samples_state(gated, vqvae.decode_indices, temperature=1.0))
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
prior_samples_widget(gated, vqvae.decode_indices)

# %% [markdown]
# **Completion.** Keep the top rows of a test digit's code map and sample the rest. In raster order this is
# exact: $p(\text{rest}\mid\text{top rows})$ is just the remaining factors of eq. 3.1. Keeping the *bottom*
# rows and sampling the top would need the reverse ordering (see the exercises).

# %%
state = completion_state(gated, vqvae.decode_indices, codes_test, index=0, rows_fixed=2)
print("completion keeps the fixed top rows in all 8 samples:",
      torch.equal(state.completed[:, :2], codes_test[:1, :2].expand(8, -1, -1)))
assert torch.equal(state.completed[:, :2], codes_test[:1, :2].expand(8, -1, -1))
draw_completion(state)
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
completion_widget(gated, vqvae.decode_indices, codes_test[:50])

# %% [markdown]
# ## Summary
# - The chain rule (eq. 3.1) turns one network with the autoregressive property into an exact likelihood;
#   MADE gets the property from weight masks (eq. 3.3), PixelCNN from kernel masks A and B (eqs. 3.4, 3.5).
# - Gradients make the receptive field visible: stacked masked kernels leave a blind spot above-right of each
#   pixel; the gated PixelCNN's vertical and horizontal stacks remove it, and mask B in the first layer leaks.
# - Stage 2 of a VQ-VAE (§5.3) fits such a prior to the code maps: here it beats the uniform prior
#   ($\log_2 K$ bits per code) and the per-position unigram prior on held-out maps, though with 1347 maps it
#   overfits quickly.
# - Sampling code maps and decoding them generates new digits; temperature trades quality for diversity, and
#   completion conditions on a prefix of the ordering.
#
# ## Exercises
#
# Exercises 1–4 are checked: run each `grader.check(...)` cell (student version) to see whether your answer
# has the properties a correct one must have; the grader also runs hidden checks. Exercises 5–9 are written
# answers. The solution version of this notebook (the one in `notebooks/`) shows a model answer for each.

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 07_autoregressive_priors
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
# name: nll_bits_per_code
# points: 2

# %% [markdown]
# **Exercise 1 (bits per code, eq. 3.2).** Write `nll_bits_per_code(logits, x)`: for conditional logits
# `logits [N, K, H, W]` (unnormalised; entry `[:, :, i, j]` parameterises $p(z_{ij}\mid\mathbf z_{<ij})$)
# and observed codes `x [N, H, W]` (long), return the scalar tensor
# $-\frac{1}{N H W}\sum\log_2 p(x_{ij}\mid\mathbf x_{<ij})$. Normalise the logits yourself (a log-softmax
# over the K codes).

# %% [raw]
# # BEGIN SOLUTION

# %%
def nll_bits_per_code(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # BEGIN SOLUTION
    log_p = torch.log_softmax(logits, dim=1).gather(1, x[:, None]).squeeze(1)
    return -log_p.mean() / torch.log(torch.tensor(2.0, dtype=logits.dtype))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_uniform_logits_cost_log2_k(nll_bits_per_code, torch):
    x = torch.randint(0, 32, (5, 4, 4), generator=torch.Generator().manual_seed(0))
    bits = nll_bits_per_code(torch.zeros(5, 32, 4, 4), x)
    assert isinstance(bits, torch.Tensor) and bits.ndim == 0, "return a scalar tensor"
    assert abs(float(bits) - 5.0) < 1e-5, "a uniform prior over K = 32 codes costs log2 32 = 5 bits per code"
test_uniform_logits_cost_log2_k(nll_bits_per_code, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_bits_per_code_matches_vqlab(nll_bits_per_code, torch, priors):
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(6, 10, 3, 5, generator=g, dtype=torch.float64)
    x = torch.randint(0, 10, (6, 3, 5), generator=g)
    mine = nll_bits_per_code(logits, x)
    assert torch.allclose(mine, priors.bits_per_code(logits, x)), "differs from vqlab.priors.bits_per_code"
    shift = torch.randn(6, 1, 3, 5, generator=g, dtype=torch.float64)
    assert torch.allclose(nll_bits_per_code(logits + 10 * shift, x), mine), \
        "adding a constant to one conditional's logits must not change its probabilities"
    sure = 50.0 * torch.nn.functional.one_hot(x, 10).permute(0, 3, 1, 2).double()
    assert 0.0 <= float(nll_bits_per_code(sure, x)) < 1e-6, "a prior sure of the right codes costs 0 bits"
test_bits_per_code_matches_vqlab(nll_bits_per_code, torch, priors)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: pixelcnn_mask
# points: 2

# %% [markdown]
# **Exercise 2 (PixelCNN masks, eqs. 3.4 and 3.5).** Write `pixelcnn_mask(k, mask_type)`: the float 0/1
# mask `[k, k]` for an odd kernel size `k` and `mask_type` `"A"` or `"B"`, 0-indexed with centre
# $c=\lfloor k/2\rfloor$, as in §2.

# %% [raw]
# # BEGIN SOLUTION

# %%
def pixelcnn_mask(k: int, mask_type: str) -> torch.Tensor:
    # BEGIN SOLUTION
    c = k // 2
    i, j = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
    same_row = (j < c) if mask_type == "A" else (j <= c)
    return ((i < c) | ((i == c) & same_row)).float()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_mask_a_3x3(pixelcnn_mask, torch):
    m = pixelcnn_mask(3, "A")
    assert isinstance(m, torch.Tensor) and m.shape == (3, 3), "return a [k, k] tensor"
    assert torch.equal(m.float(), torch.tensor([[1.0, 1, 1], [1, 0, 0], [0, 0, 0]])), \
        "mask A: all rows above, and the pixels left of the centre in the centre row"
test_mask_a_3x3(pixelcnn_mask, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_masks_are_causal_and_match_vqlab(pixelcnn_mask, torch, priors):
    for k in (1, 3, 5, 7):
        a, b = pixelcnn_mask(k, "A").float(), pixelcnn_mask(k, "B").float()
        assert torch.equal(a, priors.conv_mask(k, "A")) and torch.equal(b, priors.conv_mask(k, "B"))
        centre = torch.zeros(k, k)
        centre[k // 2, k // 2] = 1.0
        assert torch.equal(b - a, centre), "B differs from A by the centre pixel only"
        raster = torch.arange(k * k).reshape(k, k)
        assert (raster[a.bool()] < k * k // 2).all(), "mask A keeps only pixels before the centre (raster order)"
        assert int(a.sum()) == k * k // 2, "mask A keeps every pixel before the centre"
test_masks_are_causal_and_match_vqlab(pixelcnn_mask, torch, priors)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: tempered_softmax
# points: 2

# %% [markdown]
# **Exercise 3 (sampling temperature, §4).** Write `tempered_softmax(logits, temperature)`: the probabilities
# $\mathrm{softmax}(\text{logits}/T)$ along dimension 1 of `logits [N, K, ...]`, for any finite $T>0$. It must
# stay finite for tiny $T$ (a one-hot at the argmax, no NaN) — subtract the maximum logit first.

# %% [raw]
# # BEGIN SOLUTION

# %%
def tempered_softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    # BEGIN SOLUTION
    shifted = logits - logits.amax(1, keepdim=True)
    return torch.softmax(shifted / temperature, dim=1)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_tempered_softmax_at_t1(tempered_softmax, torch):
    logits = torch.randn(4, 6, generator=torch.Generator().manual_seed(1))
    p = tempered_softmax(logits, 1.0)
    assert isinstance(p, torch.Tensor) and p.shape == logits.shape, "same shape as the logits"
    assert torch.allclose(p, torch.softmax(logits, 1)), "T = 1 is the plain softmax"
test_tempered_softmax_at_t1(tempered_softmax, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_tempered_softmax_limits(tempered_softmax, torch, priors):
    g = torch.Generator().manual_seed(3)
    logits = 4.0 * torch.randn(8, 5, 2, 3, generator=g, dtype=torch.float64)
    for t in (0.3, 1.0, 2.5):
        p = tempered_softmax(logits, t)
        assert torch.allclose(p.sum(1), torch.ones(8, 2, 3, dtype=torch.float64)), "normalised along dim 1"
        assert torch.allclose(p, priors.tempered_probs(logits, t)), "differs from vqlab.priors.tempered_probs"
    cold = tempered_softmax(1e3 * logits, 1e-6)
    assert torch.isfinite(cold).all(), "tiny T must not give NaN"
    assert torch.equal(cold.argmax(1), logits.argmax(1)) and torch.allclose(cold.amax(1), torch.ones_like(cold.amax(1)))
    hot = tempered_softmax(logits, 1e6)
    assert torch.allclose(hot, torch.full_like(hot, 0.2), atol=1e-4), "huge T gives uniform codes"
test_tempered_softmax_limits(tempered_softmax, torch, priors)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: unigram_log_probs
# points: 2

# %% [markdown]
# **Exercise 4 (the unigram baseline, §3).** Write `unigram_log_probs(codes, num_codes, alpha)`: for code maps
# `codes [N, H, W]` (long), return the per-position log-probabilities `[K, H, W]` of the Laplace-smoothed
# frequencies $p_{ij}(k)=\big(\text{count}_{ij}(k)+\alpha\big)/\big(N+K\alpha\big)$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def unigram_log_probs(codes: torch.Tensor, num_codes: int, alpha: float) -> torch.Tensor:
    # BEGIN SOLUTION
    counts = torch.nn.functional.one_hot(codes, num_codes).sum(0).permute(2, 0, 1).float() + alpha
    return torch.log(counts / (codes.shape[0] + num_codes * alpha))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_unigram_is_normalised(unigram_log_probs, torch):
    codes = torch.randint(0, 6, (40, 2, 3), generator=torch.Generator().manual_seed(2))
    lp = unigram_log_probs(codes, 6, 1.0)
    assert isinstance(lp, torch.Tensor) and lp.shape == (6, 2, 3), "return [K, H, W]"
    assert torch.allclose(lp.logsumexp(0), torch.zeros(2, 3), atol=1e-5), "each position's probabilities sum to 1"
test_unigram_is_normalised(unigram_log_probs, torch)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_unigram_matches_vqlab(unigram_log_probs, torch, priors):
    g = torch.Generator().manual_seed(8)
    codes = torch.randint(0, 4, (30, 3, 3), generator=g) * torch.randint(0, 2, (30, 3, 3), generator=g)
    for alpha in (0.5, 1.0, 3.0):
        ref = priors.UnigramPrior(7, (3, 3), alpha=alpha).fit(codes).log_probs
        assert torch.allclose(unigram_log_probs(codes, 7, alpha).float(), ref, atol=1e-5), \
            f"differs from vqlab.priors.UnigramPrior(alpha={alpha}).fit"
    one = unigram_log_probs(torch.zeros(3, 1, 1, dtype=torch.long), 2, 1.0).exp().flatten()
    assert torch.allclose(one.float(), torch.tensor([0.8, 0.2]), atol=1e-6), "(3 + 1) / (3 + 2) and 1 / 5"
test_unigram_matches_vqlab(unigram_log_probs, torch, priors)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: overfitting_epochs
# manual: true
# points: 1

# %% [markdown]
# **Exercise 5.** Train the gated PixelCNN for 40 or 80 epochs and plot train and test NLL per epoch
# (`bits_per_code` in a `callbacks` hook of `train`). When does it start to overfit? Does `weight_decay` help?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* A hook that returns the two NLLs (they land in the history `train` returns):
#
# ```python
# gated = priors.GatedPixelCNN(K, shape, channels=32, kernel_size=3, n_layers=3)
# def nll_hook(model, step):
#     return {"train_bits": model.bits_per_code(codes_train), "test_bits": model.bits_per_code(codes_test)}
# hist = train(gated, codes_train, epochs=80, batch_size=128, lr=3e-3, seed=0, progress=False, callbacks=[nll_hook])
# ```
#
# (`train` calls the hook after every step; `hist.epochs["test_bits"]` holds its per-epoch means, cheap
# enough for maps of 16 codes). What to look for:
# the train NLL keeps falling while the test NLL reaches a minimum and then rises; overfitting starts at
# that minimum, and the gap between the curves is the memorised part. With 1347 maps of 16 codes and a few
# tens of thousands of parameters the model can memorise the training maps, which is why §3's 20 epochs act
# as early stopping. Weight decay (`weight_decay=` of `train`, i.e. of the optimizer) shrinks the weights
# and so limits how sharp the conditionals can become; expect it to raise the train NLL, narrow the gap and
# delay (not remove) the rise of the test NLL — compare the *minimum* test NLL of both runs, not the last.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: reversed_ordering
# manual: true
# points: 1

# %% [markdown]
# **Exercise 6.** Train a MADE with the reversed ordering (`order=torch.arange(16).flip(0)`) and compare its
# test NLL with the raster ordering. Then use it to complete a digit from its *bottom* rows.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The chain rule (eq. 3.1) is exact in every ordering, so both MADEs model the same family of
# distributions in principle; differences come only from what the finite network learns. A MADE is a fully
# connected MLP without any spatial prior: reversing the ordering merely permutes the input degrees, so the
# two test NLLs should be close (within the spread you see between seeds) — unlike a PixelCNN, whose
# convolutions are built around the raster order. Completion from the bottom rows is exact with the reversed
# order, because the bottom rows now come *first*:
#
# ```python
# rev = priors.MADE(K, shape, hidden=(256,), order=torch.arange(16).flip(0))
# train(rev, codes_train, epochs=20, batch_size=128, lr=3e-3, seed=0, progress=False)
# known = torch.zeros(4, 4, dtype=torch.bool); known[2:] = True          # keep the bottom two rows
# maps = rev.complete(codes_test[:1].expand(8, -1, -1), known, torch.Generator().manual_seed(0))
# image_grid(vqvae.decode_indices(maps).detach(), ncols=8)
# ```
#
# With the raster-order model the same call would sample the top rows without ever looking at the bottom
# ones (the model never looks ahead), so the completions would ignore the kept rows.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: blind_spot_proof
# manual: true
# points: 2

# %% [markdown]
# **Exercise 7.** Show with `priors.receptive_field` that a plain PixelCNN with more layers still never sees
# the pixel one row up and two columns right, however deep it is. Why is that so for any depth?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* Check (the centre of a 9×9 grid, 3×3 kernels, mask A then B):
#
# ```python
# for n_layers in (2, 4, 8):
#     net = priors.masked_conv_stack(1, 8, 3, "A" + "B" * (n_layers - 1))
#     field = priors.receptive_field(net, 1, (9, 9), (4, 4))
#     print(n_layers, float(field[3, 6]))      # one row up, two columns right: 0.0 for every depth
# ```
#
# Why for any depth: a masked $3\times3$ kernel connects the output at $(i, j)$ only to inputs at offsets
# $(\Delta i,\Delta j)$ with $\Delta i=-1,\ \Delta j\in\{-1,0,1\}$ (the row above) or $\Delta i=0,\ \Delta
# j\le0$ (the same row, left). A path through $L$ layers adds up $L$ such offsets. No offset goes down, so to
# end one row up *exactly one* layer takes the step $\Delta i=-1$, contributing at most $\Delta j=+1$, and
# every other layer contributes $\Delta j\le 0$. Hence every reachable input one row up has $\Delta j\le1$:
# the pixel at $(-1,+2)$ is unreachable for every $L$. (In general the row $r$ above is reached only up to
# $r$ columns to the right: the blind wedge.) The gated PixelCNN's vertical stack sees the full row above
# in each layer, which removes the wedge.

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
# **Exercise 8.** Change the VQ-VAE to $K=16$ or $K=64$ codes. How do the uniform, unigram and gated NLLs
# change, and what happens to the quality of the samples?

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The uniform prior costs exactly $\log_2 K$: 4 bits per code for $K=16$, 6 for $K=64$. The
# learned priors' NLL is bounded below by the entropy of the code maps (per code), and with fewer codes a
# map carries less information: expect all NLLs in bits per code to fall for $K=16$ and to rise for $K=64$,
# so compare each with $\log_2 K$ (the fraction saved) rather than across $K$. What to look for: with $K=64$ fewer codes are
# used (look at the perplexity of stage 1) and each code is seen less often in 1347 maps, so the unigram
# and gated priors are estimated from sparser counts and the train–test gap grows; stage 1 reconstructs
# better. With $K=16$ the reconstructions (and so every decoded sample, including the test code maps) are
# blurrier, but the prior is easier to fit. Sample quality (`sample_quality`'s nearest-neighbour distance)
# is bounded by the decoder: compare the samples with the decoded test code maps of the same $K$.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: nll_vs_samples
# manual: true
# points: 1

# %% [markdown]
# **Exercise 9.** Why can a prior with a lower test NLL still produce worse-looking samples? Compare the MADE
# and gated samples with `vqlab.metrics.sample_quality`.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# *Model answer.* The NLL is the cross-entropy $\mathbb E_{\text{data}}[-\log p(\mathbf z)]$, i.e. the
# forward KL from the data to the model up to a constant: it punishes a model hard for giving a test map low
# probability, but hardly for putting probability on maps that never occur. Samples probe the other
# direction — where the model puts its mass — so a model that spreads a little mass over many implausible
# maps can have a good NLL and still draw implausible maps now and then; ancestral sampling also compounds
# one unlikely early draw into a whole bad map. The NLL is moreover an average over all 16 positions, while
# the look of a digit depends on a few of them, and the decoder may map some code combinations that the
# NLL treats as similar to very different images. To compare: draw 200 maps from each prior with the same
# generator, decode them and call `sample_quality(clf.predict_proba(...), imgs, data.x_train)` as in §4;
# look at the nearest-neighbour distance first (the classifier confidence is a weak judge, §4).

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# More to explore (no model answer): train the priors on the code maps of notebook 03's soft VQ-VAE, or use
# `priors.PixelCNN(..., first_mask="B")` and watch its train NLL fall far below any honest prior's.
