"""Tests for vqlab.hcvq: the HC-VQ regularizer (Volkov 2022, §2-4)."""
import math

import numpy as np
import pytest
import torch

from vqlab.hcvq import (MODES, EntropyAccumulator, HCVQRegularizer, homology_signature,
                        intensity_entropy, rowsum_entropy, usage_entropy, value_entropy)
from vqlab.models import VQVAE
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.quantizers import VectorQuantizer
from vqlab.train import train


def square(side: float = 1.0) -> torch.Tensor:
    return side * torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)


def polygon(n: int, radius: float = 1.0) -> torch.Tensor:
    t = torch.arange(n, dtype=torch.float64) * 2 * math.pi / n
    return radius * torch.stack([t.cos(), t.sin()], 1)


def tiny_model(num_codes: int = 16, code_dim: int = 4) -> VQVAE:
    torch.manual_seed(0)
    return VQVAE(MLPEncoder(64, (2, code_dim), (32,)), VectorQuantizer(num_codes, code_dim),
                 MLPDecoder((2, code_dim), 64, (32,)))


@pytest.fixture
def digits_batch():
    from vqlab.data import load_digits

    d = load_digits()
    return d.x_train[:32]


# ----------------------------------------------------------------------------- signature
def test_signature_of_unit_square():
    """Square of side s: three MST edges of length s (mu0 = s); one loop born at s, dying at the
    diagonal s*sqrt(2) (one H1 bar of lifetime s(sqrt 2 - 1))."""
    for side in (1.0, 2.5):
        sig = homology_signature(square(side), sigma=1e-3)
        assert float(sig.mu0) == pytest.approx(side, rel=1e-6)
        assert float(sig.n1) == pytest.approx(1.0, abs=1e-6)
        b1, d1 = sig.pairs[1]
        assert float(d1[0] - b1[0]) == pytest.approx(side * (math.sqrt(2) - 1), rel=1e-6)


def test_smooth_count_is_narrow_gaussian_count():
    """n1 = m - sum exp(-(l/sigma)^2 / 2): with sigma equal to the square's H1 lifetime, 1 - e^{-1/2}."""
    lifetime = math.sqrt(2) - 1
    sig = homology_signature(square(), sigma=lifetime)
    assert float(sig.n1) == pytest.approx(1 - math.exp(-0.5), rel=1e-6)


def test_signature_polygon_and_line():
    n, r = 12, 1.0
    sig = homology_signature(polygon(n, r))
    assert float(sig.mu0) == pytest.approx(2 * r * math.sin(math.pi / n), rel=1e-6)  # the side
    assert float(sig.n1) == pytest.approx(1.0, abs=1e-6)  # one circle
    line = torch.tensor([[0.0], [0.1], [5.0], [5.1]], dtype=torch.float64)
    sig = homology_signature(line)
    assert float(sig.mu0) == pytest.approx((0.1 + 0.1 + 4.9) / 3, rel=1e-6)
    assert float(sig.n1) == 0.0  # points on a line have no loops


def test_signature_matches_ripser_on_random_cloud():
    from ripser import ripser

    x = torch.randn(60, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    dgms = ripser(x.numpy(), maxdim=1)["dgms"]
    finite0 = dgms[0][np.isfinite(dgms[0][:, 1])]
    sig = homology_signature(x, sigma=1e-9)
    assert float(sig.mu0) == pytest.approx(finite0[:, 1].mean(), rel=1e-6)
    lifetimes = dgms[1][:, 1] - dgms[1][:, 0]
    assert float(sig.n1) == pytest.approx(float((lifetimes > 1e-7).sum()), abs=1e-6)


def test_mu0_counts_duplicates_like_mean_death0():
    """mu0 is the mean over all K - 1 MST edges, zero-length ones (duplicate codes) included."""
    from vqlab.topology import mean_death0

    base = torch.randn(6, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    cloud = torch.cat([base, base[:3], base[:1]])  # 4 duplicates
    sig = homology_signature(cloud)
    assert float(sig.mu0) == pytest.approx(float(mean_death0(cloud)), rel=1e-9)
    assert float(sig.mu0) == pytest.approx(float(homology_signature(base).mu0) * 5 / 9, rel=1e-9)


def test_persistent_entropy_tracked_equals_persim():
    from persim.persistent_entropy import persistent_entropy

    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sig = homology_signature(x)
    b1, d1 = sig.pairs[1]
    dgm = np.stack([b1.detach().numpy(), d1.detach().numpy()], 1)
    assert sig.pe1 == pytest.approx(float(persistent_entropy([dgm])[0]), rel=1e-6)


def test_collapsed_codebook_no_nan():
    """All codes equal: mu0 = 0, no loops; the loss and its gradient are finite (no NaN)."""
    codebook = torch.ones(16, 8, requires_grad=True)
    sig = homology_signature(codebook)
    assert float(sig.mu0.detach()) == 0.0 and float(sig.n1.detach()) == 0.0
    reg = HCVQRegularizer(period=1, target_mu=0.5)
    loss = reg.penalty(sig)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(codebook.grad).all()


# ----------------------------------------------------------------------------- entropies
def test_entropies_hand_values():
    assert float(usage_entropy(torch.ones(8))) == pytest.approx(math.log(8), rel=1e-6)
    assert float(usage_entropy(torch.tensor([5.0, 0, 0]))) == pytest.approx(0.0, abs=1e-6)
    # the public code's formula: row sums [2, 2] -> p = [1/2, 1/2]
    x = torch.tensor([[1.0, 1.0], [2.0, 0.0]])
    assert float(rowsum_entropy(x)) == pytest.approx(-2 * 0.5 * math.log(0.5 + 1e-8), rel=1e-6)
    assert float(rowsum_entropy(torch.tensor([[1.0, -1.0]]))) == 0.0  # zero total: 0, not NaN
    flat = torch.full((3, 1, 4, 4), 0.2)
    assert float(intensity_entropy(flat)) == pytest.approx(math.log(16), rel=1e-6)
    one_hot = torch.zeros(2, 16)
    one_hot[:, 3] = 1.0
    assert float(intensity_entropy(one_hot)) == pytest.approx(0.0, abs=1e-9)
    assert float(intensity_entropy(torch.zeros(2, 16))) == 0.0
    # §2's formula on all values: equal magnitudes give log(numel), signs do not matter, a zero tensor gives 0
    assert float(value_entropy(torch.full((4, 8), 0.3))) == pytest.approx(math.log(32), rel=1e-6)
    assert float(value_entropy(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))) == pytest.approx(math.log(4), rel=1e-6)
    assert float(value_entropy(torch.tensor([[0.0, 2.0], [0.0, 0.0]]))) == pytest.approx(0.0, abs=1e-9)
    assert float(value_entropy(torch.zeros(3, 2))) == 0.0


def test_paper_and_code_entropies_do_not_see_collapse():
    """The paper's H_z (all values) and the code's (row sums) of a fully collapsed batch -- every latent the
    same codeword -- are as high as for a batch that uses every codeword equally often; only the usage
    entropy drops to 0. The code's row-sum entropy of a collapsed batch is exactly log N, its maximum."""
    gen = torch.Generator().manual_seed(0)
    codebook = (2 * torch.rand(128, 64, generator=gen, dtype=torch.float64) - 1) * math.sqrt(3 / 64)
    spread_idx = torch.arange(1024) % 128
    collapsed, spread = codebook[[5]].repeat(1024, 1), codebook[spread_idx]
    assert abs(float(value_entropy(collapsed)) - float(value_entropy(spread))) < 0.2
    assert float(value_entropy(collapsed)) > math.log(1024 * 64) - 0.5  # near the maximum log(N D)
    assert float(rowsum_entropy(collapsed)) == pytest.approx(math.log(1024), abs=1e-4)  # the code adds 1e-8 in the log
    assert float(usage_entropy(torch.bincount(spread_idx, minlength=128).double())) == pytest.approx(math.log(128))
    assert float(usage_entropy(torch.tensor([1024.0] + [0.0] * 127))) == pytest.approx(0.0, abs=1e-9)


# ----------------------------------------------------------------------------- accumulator
@pytest.mark.parametrize("mode", ["usage", "paper"])
def test_accumulator_sliding_mean(mode):
    rng = np.random.default_rng(0)
    ez, ein = rng.uniform(0, 3, 25), rng.uniform(1, 4, 25)
    acc = EntropyAccumulator(period=7, mode=mode)
    for t in range(25):
        gate = acc.update(ez[t], ein[t])
        lo = max(0, t + 1 - 7)
        expected = abs(1 - ez[lo:t + 1].mean() / ein[lo:t + 1].mean())
        assert gate == pytest.approx(expected, rel=1e-12)
        assert gate > 0  # active from the first step


def test_accumulator_code_blocks():
    """Code mode: 0 for the first k-1 calls, refreshed from the block at every k-th call, zero E_z
    skipped, the block cleared after each refresh."""
    k = 5
    acc = EntropyAccumulator(period=k, mode="code")
    ez = [1.0, 0.0, 2.0, 1.0, 2.0,   3.0, 3.0, 3.0, 3.0, 3.0,   0.0, 0.0, 0.0, 0.0, 0.0]
    ein = [2.0] * 15
    gates = [acc.update(a, b) for a, b in zip(ez, ein)]
    assert gates[:k - 1] == [0.0] * (k - 1)
    first = abs(1 - np.mean([1.0, 2.0, 1.0, 2.0]) / 2.0)  # the zero is not accumulated
    assert gates[k - 1:2 * k - 1] == pytest.approx([first] * k)
    assert gates[2 * k - 1] == pytest.approx(abs(1 - 3.0 / 2.0))  # only the second block counts
    assert gates[-1] == gates[2 * k - 1]  # an empty block keeps the old factor


def test_accumulator_bad_args():
    with pytest.raises(ValueError, match="period"):
        EntropyAccumulator(period=0)
    with pytest.raises(ValueError, match="mode"):
        EntropyAccumulator(mode="lightning")
    with pytest.raises(ValueError, match="e_z"):
        EntropyAccumulator().update(float("nan"), 1.0)


# ----------------------------------------------------------------------------- the regularizer
def _step(model, reg, x, step=0):
    out = model(x)
    return out, reg(model, x, out, step)


def test_gradient_reaches_only_the_codebook(digits_batch):
    model = tiny_model()
    model.quantizer.weight.data.copy_(0.01 * torch.randn(16, 4))  # mu0 far below T_mu
    reg = HCVQRegularizer(period=1, target_mu=0.5)
    out, terms = _step(model, reg, digits_batch)
    term = terms["hcvq"]
    assert term.requires_grad and float(term.detach()) > 0
    term.backward()
    grad = model.quantizer.codebook.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    for name, p in model.named_parameters():
        if not name.startswith("quantizer"):
            assert p.grad is None or p.grad.abs().sum() == 0, name


def test_gradient_step_moves_mu0_towards_target():
    codebook = (0.05 * torch.randn(32, 8)).requires_grad_()
    reg = HCVQRegularizer(period=1, target_mu=0.5, target_n1=0.0)
    before = float(homology_signature(codebook).mu0.detach())
    opt = torch.optim.SGD([codebook], lr=1e-5)
    for _ in range(5):
        opt.zero_grad()
        reg.penalty(homology_signature(codebook)).backward()
        opt.step()
    after = float(homology_signature(codebook).mu0.detach())
    assert before < after < 0.5


def test_modes_in_training_step(digits_batch):
    """Usage and paper modes act from the first step; code mode is off (zero, no gradient) until step P."""
    k = 3
    model = tiny_model()
    regs = {mode: HCVQRegularizer(period=k, mode=mode) for mode in MODES}
    assert HCVQRegularizer().mode == "usage"  # the default
    for step in range(k):
        out = model(digits_batch)
        terms = {mode: reg(model, digits_batch, out, step)["hcvq"] for mode, reg in regs.items()}
        for mode in ("usage", "paper"):
            assert terms[mode].requires_grad and float(terms[mode].detach()) > 0
        if step < k - 1:
            assert not terms["code"].requires_grad and float(terms["code"]) == 0.0
        else:
            assert terms["code"].requires_grad and float(terms["code"].detach()) > 0
    assert regs["code"].history["gate"][:k - 1] == [0.0] * (k - 1)
    # three different entropies: usage (<= log K), all latent values (<= log(N D)), row sums
    z_q = out.quant.z_q.detach().reshape(-1, 4)
    assert regs["usage"].history["E_z"][-1] <= math.log(16) + 1e-6
    assert regs["paper"].history["E_z"][-1] == pytest.approx(float(value_entropy(z_q)))
    assert regs["paper"].history["E_input"][-1] == pytest.approx(float(value_entropy(digits_batch)))
    assert regs["code"].history["E_z"][-1] == pytest.approx(float(rowsum_entropy(z_q)))
    assert len({reg.history["E_z"][-1] for reg in regs.values()}) == 3


def test_dry_run_adds_nothing_but_logs(digits_batch):
    model = tiny_model()
    reg = HCVQRegularizer(period=2, active=False)
    out, terms = _step(model, reg, digits_batch)
    assert terms == {}
    assert len(reg.history["mu0"]) == 1 and np.isfinite(reg.history["mu0"][0])
    assert set(reg.callback(model, 0)) >= {"hcvq_E_z", "hcvq_mu0", "hcvq_n1", "hcvq_gate"}


def test_lambda_zero_is_a_dry_run(digits_batch):
    x = digits_batch.reshape(-1, 64)
    h_dry = train(tiny_model(), x, epochs=2, batch_size=8, seed=0, progress=False,
                  extra_losses=[HCVQRegularizer(period=2, active=False)])
    h_zero = train(tiny_model(), x, epochs=2, batch_size=8, seed=0, progress=False,
                   extra_losses=[HCVQRegularizer(period=2, weight=0.0)])
    assert h_dry.steps["recon"] == h_zero.steps["recon"]


def test_training_logs_and_raises_mu0(digits_batch):
    """Through vqlab.train.train: the callback values are logged per step, the run is reproducible,
    and the regularizer raises mu0 of the codebook above the dry run's (same seed)."""
    x = digits_batch.reshape(-1, 64)

    def run(active):
        model = tiny_model()
        reg = HCVQRegularizer(period=2, target_mu=1.0, active=active)
        h = train(model, x, epochs=3, batch_size=8, seed=0, extra_losses=[reg], callbacks=[reg.callback],
                  progress=False)
        return model, h

    (m_dry, h_dry), (m_on, h_on), (_, h_on2) = run(False), run(True), run(True)
    assert len(h_on.steps["hcvq_mu0"]) == len(h_on.steps["loss"]) == 12
    assert "hcvq" in h_on.steps and "hcvq" not in h_dry.steps
    assert h_on.steps["loss"] == h_on2.steps["loss"]
    mu = [float(homology_signature(m.quantizer.codebook.detach()).mu0) for m in (m_dry, m_on)]
    assert mu[1] > mu[0]


def test_regularizer_bad_args(digits_batch):
    with pytest.raises(ValueError, match="period"):
        HCVQRegularizer(period=0)
    with pytest.raises(ValueError, match="mode"):
        HCVQRegularizer(mode="Paper")
    with pytest.raises(ValueError, match="weight"):
        HCVQRegularizer(weight=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        HCVQRegularizer(sigma=0.0)
    with pytest.raises(ValueError, match="target_mu"):
        HCVQRegularizer(target_mu=float("nan"))
    with pytest.raises(TypeError, match="active"):
        HCVQRegularizer(active="yes")
    with pytest.raises(ValueError, match="cloud"):
        homology_signature(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="cloud"):
        homology_signature(torch.zeros(5))
    with pytest.raises(ValueError, match="non-negative"):
        intensity_entropy(-torch.ones(2, 4))
    # an EMA codebook is a buffer: the topological gradient has nothing to act on
    ema = VQVAE(MLPEncoder(64, (2, 4), (32,)), VectorQuantizer(16, 4, codebook_update="ema"),
                MLPDecoder((2, 4), 64, (32,)))
    with pytest.raises(ValueError, match="gradient"):
        _step(ema, HCVQRegularizer(period=1), digits_batch)
    from vqlab.models import Autoencoder

    ae = Autoencoder(MLPEncoder(64, 4, (32,)), MLPDecoder(4, 64, (32,)))
    with pytest.raises(ValueError, match="quantizer"):
        _step(ae, HCVQRegularizer(period=1), digits_batch)
