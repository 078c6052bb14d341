"""Tests for notebook 01's widget state functions (vqlab.widgets, section "Notebook 01")."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab.data import load_digits  # noqa: E402
from vqlab.experiments import COLLAPSE_VARIANTS, codeword_travel, collapse_experiment  # noqa: E402
from vqlab.posteriors import squared_distances  # noqa: E402
from vqlab.quantizers import VectorQuantizer  # noqa: E402
from vqlab.widgets.vq import (code_browser_state, draw_code_browser, draw_latent_terms, draw_toy_vq,  # noqa: E402
                              latent_terms_state, toy_vq_state)


# ---------------------------------------------------------------- the latent terms of eq. 5.5 in 2-D
def test_latent_terms_gradients_are_the_two_sides_of_eq_5_5():
    s = latent_terms_state(num_codes=5, beta=0.25, n=60)
    n, d = s.z_e.shape
    assert s.codebook.shape == (5, 2) and s.assignments.shape == (60,)
    assert torch.equal(s.assignments, squared_distances(s.z_e, s.codebook).argmin(1))
    chosen = s.codebook[s.assignments]
    # commitment: beta ||z_e - sg(e)||^2 / (N D) moves only the encoder outputs, towards their codewords
    assert torch.allclose(s.grads["commitment"]["z_e"], 2 * 0.25 * (s.z_e - chosen) / (n * d), atol=1e-7)
    assert (s.grads["commitment"]["codebook"] == 0).all()
    # codebook: ||sg(z_e) - e||^2 / (N D) moves only the codewords, each towards its cell
    assert (s.grads["codebook"]["z_e"] == 0).all()
    expected = torch.zeros(5, 2).index_add_(0, s.assignments, 2 * (chosen - s.z_e) / (n * d))
    assert torch.allclose(s.grads["codebook"]["codebook"], expected, atol=1e-7)


def test_latent_terms_default_has_a_codeword_that_gets_no_gradient():
    s = latent_terms_state()
    dead = torch.bincount(s.assignments, minlength=s.codebook.shape[0]) == 0
    assert dead.any() and (s.grads["codebook"]["codebook"][dead] == 0).all()
    assert (s.grads["codebook"]["codebook"][~dead].norm(dim=1) > 0).all()


def test_draw_latent_terms_panels_and_bad_arguments():
    s = latent_terms_state(num_codes=3, n=20, dataset="moons", seed=0)
    for terms, panels in (((), 1), (("commitment",), 2), (("commitment", "codebook"), 3)):
        fig = draw_latent_terms(s, terms=terms)
        assert len(fig.axes) == panels
        plt.close(fig)
    with pytest.raises(ValueError, match="terms"):
        draw_latent_terms(s, terms=("recon",))
    for kwargs, name in ((dict(num_codes=0), "num_codes"), (dict(beta=-0.1), "beta"), (dict(n=1), "n"),
                         (dict(dataset="spiral"), "dataset"), (dict(seed=-1), "seed")):
        with pytest.raises(ValueError, match=name):
            latent_terms_state(**kwargs)


# ---------------------------------------------------------------- toy VQ explorer
def test_toy_state_shapes_and_bounds():
    s = toy_vq_state(num_codes=6, beta=0.25, steps=20, dataset="moons", n=120)
    assert s.points.shape == (120, 2) and s.z_e.shape == (120, 2)
    assert s.codebook.shape == (6, 2) and s.assignments.shape == (120,)
    assert 1 <= s.codes_used <= 6
    assert 1.0 - 1e-4 <= s.perplexity <= s.codes_used + 1e-4
    assert len(s.curve) == 21
    assert torch.equal(s.assignments, squared_distances(s.z_e, s.codebook).argmin(1))
    for v in (s.distortion, s.relative_distortion, s.recon, s.latent_scale):
        assert torch.isfinite(torch.tensor(v)) and v >= 0


@pytest.mark.parametrize("init", ["uniform", "variance_scaling", "kmeans++"])
def test_toy_distortion_decreases_with_steps_on_blobs(init):
    before = toy_vq_state(num_codes=5, steps=0, dataset="blobs", init=init)
    after = toy_vq_state(num_codes=5, steps=150, dataset="blobs", init=init)
    assert after.relative_distortion < before.relative_distortion
    assert after.recon < before.recon


def test_toy_commitment_keeps_latents_small():
    """Eq. 5.2: the commitment loss keeps the encoder output from growing."""
    free = toy_vq_state(num_codes=8, beta=0.0, steps=150)
    committed = toy_vq_state(num_codes=8, beta=1.0, steps=150)
    assert committed.latent_scale < free.latent_scale
    assert committed.distortion < free.distortion


@pytest.mark.parametrize("kwargs", [dict(num_codes=1), dict(num_codes=50, n=20), dict(beta=0.0),
                                    dict(steps=0), dict(steps=0, init="kmeans++")])
def test_toy_extreme_values(kwargs):
    kwargs = {"steps": 10, **kwargs}
    s = toy_vq_state(**kwargs)
    assert s.codes_used <= min(s.codebook.shape[0], s.points.shape[0])
    assert all(torch.isfinite(torch.tensor(v)) for v in (s.distortion, s.relative_distortion, s.recon))
    if s.codebook.shape[0] == 1:
        assert s.codes_used == 1 and s.relative_distortion == pytest.approx(
            float((s.z_e - s.codebook).pow(2).sum(1).mean() / (s.z_e - s.z_e.mean(0)).pow(2).sum(1).mean()))
    plt.close(draw_toy_vq(s))


def test_toy_state_is_deterministic():
    a, b = toy_vq_state(steps=15), toy_vq_state(steps=15)
    assert torch.equal(a.codebook, b.codebook) and a.curve == b.curve


@pytest.mark.parametrize("kwargs, name", [(dict(num_codes=0), "num_codes"), (dict(beta=-1.0), "beta"),
                                          (dict(steps=-1), "steps"), (dict(dataset="spiral"), "dataset"),
                                          (dict(init="random"), "init"), (dict(lr=0.0), "lr")])
def test_toy_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        toy_vq_state(**kwargs)


# ---------------------------------------------------------------- code browser


def test_code_browser_returns_exactly_the_inputs_of_the_code(digits_model):
    model, x = digits_model
    with torch.no_grad():
        idx = model.quantize(model.encode(x)).indices
    total = 0
    for code in range(16):
        s = code_browser_state(model, x, code)
        expected = (idx == code).nonzero().flatten()
        assert torch.equal(s.input_indices, expected)
        assert s.count == len(expected) and torch.equal(s.inputs, x[expected])
        assert s.decoded.shape == (1, 64)
        assert torch.allclose(s.decoded, model.decode(model.quantizer.codebook[code:code + 1]))
        total += s.count
        plt.close(draw_code_browser(s))
    assert total == len(x)
    assert int(s.usage.sum()) == len(x)


def test_code_browser_unused_code_and_mode_restored(digits_model):
    model, x = digits_model
    model.train()
    usage = code_browser_state(model, x, 0).usage
    assert model.training  # mode restored
    model.eval()
    dead = (usage == 0).nonzero().flatten()
    saved = model.quantizer.weight.detach().clone()
    if dead.numel() == 0:  # make one: a codeword far away from every encoder output
        with torch.no_grad():
            model.quantizer.weight[15] = 1e3
        dead = torch.tensor([15])
    s = code_browser_state(model, x, int(dead[0]))
    with torch.no_grad():
        model.quantizer.weight.copy_(saved)
    assert s.count == 0 and s.inputs.shape[0] == 0
    fig = draw_code_browser(s)
    assert any("no input maps" in t.get_text() for t in fig.axes[1].texts)
    plt.close(fig)


def test_code_browser_grid_latents():
    from vqlab.models import VQVAE
    from vqlab.nets import MLPDecoder, MLPEncoder

    model = VQVAE(MLPEncoder(64, (3, 4), (16,)), VectorQuantizer(5, 4), MLPDecoder((3, 4), 64, (16,)))
    x = torch.rand(30, 64)
    with torch.no_grad():
        idx = model.quantize(model.encode(x)).indices
    for code in range(5):
        s = code_browser_state(model, x, code)
        assert torch.equal(s.input_indices, (idx == code).any(1).nonzero().flatten())
        assert s.decoded.shape == (1, 64)


def test_code_browser_bad_arguments(digits_model):
    model, x = digits_model
    for code in (-1, 16, 1.5, True):
        with pytest.raises(ValueError, match="code"):
            code_browser_state(model, x, code)
    with pytest.raises(TypeError, match="model"):
        code_browser_state(torch.nn.Linear(64, 64), x, 0)
    with pytest.raises(TypeError, match="x"):
        code_browser_state(model, x.numpy(), 0)


# ---------------------------------------------------------------- collapse table and codeword travel
def test_collapse_variants_include_the_reference_initialisation():
    assert COLLAPSE_VARIANTS["plain"] == {}                      # U(-1/K, 1/K), the PyTorch ports' start
    assert COLLAPSE_VARIANTS["reference init"] == {"init": "variance_scaling"}
    assert COLLAPSE_VARIANTS["reference init + restart"] == {"init": "variance_scaling", "restart_after": 20}


@pytest.fixture(scope="module")
def small_collapse():
    data = load_digits()
    variants = {"plain": {}, "EMA": {"codebook_update": "ema"}, "reference init": {"init": "variance_scaling"}}
    return collapse_experiment(data.x_train[:256], data.x_test[:100], variants, seeds=(0,), num_codes=32,
                               code_dim=4, epochs=2, batch_size=64, hidden=(16,))


def test_codeword_travel_unchosen_codewords_stay(small_collapse):
    """Zero gradient (plain) and EMA counts and sums that decay together (App. A.1) leave an unchosen codeword
    where it started; the chosen ones move."""
    for name in ("plain", "EMA"):
        t = codeword_travel(small_collapse.trials[name][0])
        assert t.selected.dtype == torch.bool and t.start.shape == t.end.shape == (32, 4)
        assert (~t.selected).any() and t.selected.any()
        assert (t.distance[t.selected] > 0).all()
        if name == "plain":
            assert (t.distance[~t.selected] == 0).all() and (t.factor[~t.selected] == 1).all()
        else:
            assert ((t.factor[~t.selected] - 1).abs() < 1e-3).all()
            assert torch.allclose(t.end[~t.selected], t.start[~t.selected], rtol=1e-3, atol=0)


def test_codeword_travel_start_is_the_initialisation(small_collapse):
    plain = codeword_travel(small_collapse.trials["plain"][0])
    reference = codeword_travel(small_collapse.trials["reference init"][0])
    assert plain.start.abs().max() <= 1 / 32 and reference.start.abs().max() <= (3 / 4) ** 0.5
    assert reference.start.abs().max() > 1 / 32
    assert torch.equal(plain.start, VectorQuantizer(32, 4, seed=0).codebook.detach())


def test_codeword_travel_bad_argument(digits_model):
    from vqlab.experiments import Trial
    with pytest.raises(TypeError, match="trial"):
        codeword_travel(digits_model[0])
    with pytest.raises(TypeError, match="trial"):
        codeword_travel(Trial(digits_model[0]))
