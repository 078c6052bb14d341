"""vqlab.experiments: the driver (compare), its result (Comparison) and the notebooks' experiments."""
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab import experiments  # noqa: E402
from vqlab.data import load_digits  # noqa: E402
from vqlab.experiments import (Comparison, Trial, collapse_experiment, compare, gradient_paths,  # noqa: E402
                               hcvq_comparison, ib_comparison, ib_metrics, straight_through_check,
                               usage_counts)
from vqlab.models import build_vqvae  # noqa: E402
from vqlab.plotting import plot_generated, plot_hcvq_runs, plot_latents, plot_usage_over_training  # noqa: E402
from vqlab.quantizers import EMQuantizer, SoftVectorQuantizer, VectorQuantizer  # noqa: E402


# ---------------------------------------------------------------- the result type and the driver
def test_comparison_mean_std_table_and_dict():
    c = Comparison({"a": {"x": [1.0, 2.0, 4.0]}, "b": {"x": [3.0, 3.0, 3.0], "y": [0.5, 1.5, 1.0]}}, (0, 1, 2))
    assert c.mean("a", "x") == pytest.approx(7 / 3)
    assert c.std("a", "x") == pytest.approx(np.std([1.0, 2.0, 4.0], ddof=1))  # the sample std, ddof=1
    assert c.summary("b", "x") == (3.0, 0.0)
    assert c.metrics() == ["x", "y"]
    text = c.table(digits={"x": 2, "y": 1}, labels={"a": "first"})
    assert "first" in text and "2.33 ± 1.53" in text and "1.0 ± 0.5" in text and "ddof=1" in text
    assert text.splitlines()[1].split()[-1] == "-"  # "a" has no y
    assert c.to_dict(digits=2) == {"a": {"x": {"mean": 2.33, "std": 1.53}},
                                   "b": {"x": {"mean": 3.0, "std": 0.0}, "y": {"mean": 1.0, "std": 0.5}}}
    one = Comparison({"a": {"x": [0.25]}}, (7,))
    assert one.std("a", "x") == 0.0 and "±" not in one.table() and "(seed 7)" in one.table()
    assert "50.0" in one.table(scale={"x": 200.0}, digits=1)
    assert c.subset(["b"]).variants == ["b"]


def test_paired_differences_pair_seed_with_seed():
    # "a" is lower than "b" on every seed by 1 +- 0.1 although both spread widely over seeds
    c = Comparison({"a": {"mse": [1.0, 5.0, 9.0, 3.0]}, "b": {"mse": [2.1, 5.9, 10.0, 4.0]},
                    "c": {"mse": [4.0, 1.0, 8.0, 6.0]}}, (0, 1, 2, 3))
    d = c.paired("a", "b", "mse")
    assert d.differences == pytest.approx((-1.1, -0.9, -1.0, -1.0)) and d.established and d.sign == -1
    assert not c.paired("c", "b", "mse").established            # differences -1.9 -4.9 -2.0 +2.0
    text = c.paired_table("b", ["mse"], higher_is_better={"mse": False}, digits=2)
    rows = text.splitlines()
    assert rows[0].split() == ["variant", "mse", "-", "b"]
    assert rows[1].startswith("a") and rows[1].endswith("better") and "-1.00 [" in rows[1]
    assert rows[2].startswith("c") and rows[2].endswith("n.e.")
    assert "not established at this size" in rows[-1]
    assert c.paired_table("b", ["mse"], higher_is_better={"mse": True}).splitlines()[1].endswith("worse")
    with pytest.raises(ValueError, match="higher_is_better"):
        c.paired_table("b", ["mse"], higher_is_better={})
    with pytest.raises(KeyError, match="no variant"):
        c.paired_table("z", ["mse"], higher_is_better={"mse": False})


def test_save_and_load_keep_values_seeds_and_meta(tmp_path):
    c = Comparison({"a": {"x": [1.0, 2.5]}, "b": {"x": [0.5, 0.25], "y": [3.0, 4.0]}}, (3, 4))
    path = c.save(tmp_path / "results" / "r.json", meta={"command": "python scripts/x.py", "seconds": 12.5})
    back = Comparison.load(path)
    assert back.values == c.values and back.seeds == (3, 4) and back.trials == {}
    assert back.meta == {"command": "python scripts/x.py", "seconds": 12.5}
    assert back.table() == c.table()


def test_compare_trains_each_factory_per_seed_and_is_reproducible():
    x = torch.rand(64, 64)
    seen = []

    def factory(seed):
        seen.append(seed)
        return build_vqvae(VectorQuantizer(4, 2, seed=seed), hidden=(8,), seed=seed)

    def hooked(seed):
        model = build_vqvae(VectorQuantizer(4, 2, seed=seed), hidden=(8,), seed=seed)
        return Trial(model, extra_losses=[lambda m, xb, out, step: {"extra": out.z_e.pow(2).mean()}])

    r1 = compare({"plain": factory, "hooked": hooked}, x, x[:16], seeds=(0, 1), epochs=1, batch_size=32,
                 device="cpu")
    r2 = compare({"plain": factory}, x, x[:16], seeds=(0, 1), epochs=1, batch_size=32, device="cpu")
    assert seen == [0, 1, 0, 1]
    assert r1.values["plain"] == r2.values["plain"] and len(r1.values["plain"]["recon"]) == 2
    assert {"recon", "perplexity", "codes_used"} <= set(r1.values["plain"])  # default measure: evaluate
    trial = r1.trials["hooked"][1]
    assert trial.name == "hooked" and trial.seed == 1 and trial.device == "cpu"
    assert "extra" in trial.history.steps and trial.metrics == {k: v[1] for k, v in r1.values["hooked"].items()}
    with pytest.raises(ValueError, match="seeds"):
        compare({"plain": factory}, x, x, seeds=())
    with pytest.raises(ValueError, match="variants"):
        compare({}, x, x)
    with pytest.raises(TypeError, match="nn.Module or a Trial"):
        compare({"bad": lambda seed: "model"}, x, x, seeds=(0,), epochs=1)


# ---------------------------------------------------------------- notebook 01
def test_gradient_paths_of_hard_vq(digits_model):
    model, x = digits_model
    paths = gradient_paths(model, x[:32])
    assert paths["recon"] == {"encoder": True, "codebook": False, "decoder": True}
    assert paths["commitment"] == {"encoder": True, "codebook": False, "decoder": False}
    assert paths["codebook"] == {"encoder": False, "codebook": True, "decoder": False}


def test_straight_through_copies_the_gradient(digits_model):
    model, x = digits_model
    check = straight_through_check(model, x[:32])
    assert check["forward_z_q_is_codeword"] and check["z_q_differs_from_z_e"]
    assert check["gradient_copied"] and check["gradient_nonzero"] and check["max_grad_difference"] == 0.0


def test_collapse_experiment_table():
    data = load_digits()
    variants = {"plain": {}, "dead-code restart": {"restart_after": 2}}
    res = collapse_experiment(data.x_train[:256], data.x_test[:100], variants, seeds=(0, 1), num_codes=32,
                              code_dim=4, epochs=2, batch_size=64, hidden=(16,))
    counts = usage_counts(res, data.x_test[:100])
    for name in variants:
        assert len(res.values[name]["recon"]) == 2
        assert all(1 <= c <= 32 for c in res.values[name]["codes_used"])
        assert counts[name].shape == (32,) and counts[name].sum() == 100
        mean, std = res.summary(name, "perplexity")
        assert 1.0 <= mean <= 32 and std >= 0
    text = res.table()
    assert "plain" in text and "dead-code restart" in text and "±" in text
    with pytest.raises(ValueError, match="seeds"):
        collapse_experiment(data.x_train[:64], data.x_test[:64], variants, seeds=())
    with pytest.raises(ValueError, match="unknown settings"):
        collapse_experiment(data.x_train[:64], data.x_test[:64], {"bad": {"decay": 0.5}}, seeds=(0,))


# ---------------------------------------------------------------- notebook 02


def test_ib_metrics_hard_vs_soft_posterior():
    x = torch.rand(40, 64)
    hard = build_vqvae(VectorQuantizer(8, 4), hidden=(128,), seed=0)
    m = ib_metrics(hard, x)
    assert m["conditional_entropy"] == 0.0
    assert math.isclose(m["rate_bound"], math.log(8), abs_tol=1e-9)
    soft = build_vqvae(EMQuantizer(8, 4, temperature=10.0), hidden=(128,), seed=0)
    m2 = ib_metrics(soft, x)
    assert m2["conditional_entropy"] > 0 and m2["rate_bound"] < math.log(8)
    assert m2["rate_bound"] >= m2["mutual_information"] - 1e-12
    assert {"recon", "perplexity", "codes_used"} <= set(m2)


def test_ib_comparison_table_and_validation():
    x = torch.rand(60, 64)
    res = ib_comparison({"hard": lambda s: VectorQuantizer(4, 2, seed=s)}, x, x[:20], seeds=(0, 1), epochs=1)
    assert isinstance(res, Comparison) and len(res.values["hard"]["recon"]) == 2
    assert "conditional_entropy" in res.table() and "seeds [0, 1]" in res.table()
    with pytest.raises(ValueError, match="seeds"):
        ib_comparison({"hard": lambda s: VectorQuantizer(4, 2)}, x, x, seeds=())


# ---------------------------------------------------------------- notebook 04

def test_start_grid_names_every_posterior_from_every_start_on_shared_nets():
    grid = experiments.start_grid(["vanilla", "neural gas 8->0.5"], ["U(1/K)", "var. scaling"])
    assert list(grid) == ["vanilla, U(1/K)", "neural gas 8->0.5, U(1/K)", "vanilla, var. scaling",
                          "neural gas 8->0.5, var. scaling"]
    models = {name: factory(3) for name, factory in grid.items()}
    q = models["neural gas 8->0.5, var. scaling"].quantizer
    assert (q.posterior, q.lam, q.lam_final, q.lam_steps, q.init) == \
        ("neural_gas", 8.0, 0.5, experiments.STEPS_PER_RUN, "variance_scaling")
    assert models["vanilla, U(1/K)"].quantizer.codebook.abs().max() <= 1 / 128           # U(-1/K, 1/K)
    assert models["vanilla, var. scaling"].quantizer.codebook.abs().max() > 0.5          # U(+-sqrt(3/8))
    encoders = [m.encoder.state_dict() for m in models.values()]                          # the same seed: same nets
    assert all(torch.equal(a, b) for e in encoders[1:] for a, b in zip(encoders[0].values(), e.values()))
    assert experiments.POSTERIOR_ROWS["neural gas"]["lam"] == experiments.NG_LAMBDA == 3.0
    assert experiments.POSTERIOR_ROWS["fcm (4.6)"]["m"] == experiments.FCM_M == 1.5
    n = load_digits().x_train.shape[0]
    assert experiments.STEPS_PER_RUN == experiments.TRAINING["epochs"] * math.ceil(n / experiments.TRAINING["batch_size"])


# ---------------------------------------------------------------- notebook 05


def test_latent_model_variants():
    for v in experiments.LATENT_VARIANTS:
        trial = experiments.latent_model(v, latent_dim=3)
        model, hooks = trial.model, trial.extra_losses
        out = model(torch.rand(8, 64))
        assert out.z_e.shape == (8, 3) and out.x_hat.shape == (8, 64)
        names = set()
        for h in hooks:
            names |= set(h(model, None, out, 0))
        assert names == {"AE": set(), "VAE": set(), "AE + L_top": {"disk", "deaths"},
                         "AE + disk only": {"disk"}}[v]
    with pytest.raises(ValueError, match="variant"):
        experiments.latent_model("GAN")


def test_prior_samples():
    ball = experiments.prior_samples("AE + L_top", 500, 2, seed=0)
    assert ball.norm(dim=1).max() <= 1 + 1e-6
    gauss = experiments.prior_samples("AE", 500, 2, seed=0)
    assert gauss.norm(dim=1).max() > 1.5
    assert torch.equal(gauss, experiments.prior_samples("VAE", 500, 2, seed=0))  # same draws per seed


def test_latent_comparison_small_run():
    data = load_digits()

    def predict_proba(imgs):  # a stand-in classifier: brightness decides the class
        s = imgs.sum(1)
        p = np.exp(-((s[:, None] - np.linspace(5, 30, 10)[None]) ** 2) / 20)
        return p / p.sum(1, keepdims=True)

    comp = experiments.latent_comparison(data.x_train[:256], data.x_test[:100], predict_proba,
                                         variants=("AE", "AE + L_top"), seeds=(0, 1), epochs=3, n_samples=200)
    assert sum(len(t) for t in comp.trials.values()) == 4 and set(comp.trials) == {"AE", "AE + L_top"}
    for row in comp.values.values():
        assert all(0 <= c <= 1 for c in row["coverage"]) and all(e >= 0 for e in row["energy"])
        assert all(0 <= b <= 1 for b in row["in_ball"]) and np.isfinite(row["recon"]).all()
    assert set(comp.values["AE"]) == {"recon", "in_ball", "coverage", "energy", "confidence", "class_entropy"}
    assert "AE + L_top" in comp.table()
    latents, samples = experiments.latent_pictures(comp, data.x_test[:100], n_samples=16)
    assert latents["AE"].shape == (100, 2) and samples["AE + L_top"].shape == (16, 64)
    plt.close(plot_latents(latents, data.y_test[:100]))
    plt.close(plot_generated(samples))


# ---------------------------------------------------------------- notebook 06


def test_hcvq_comparison_digits_smoke():
    d = load_digits()
    x = d.images(d.x_train[:128])
    res = hcvq_comparison(x, d.images(d.x_test[:64]), seeds=(0,), epochs=1, period=2, num_codes=16, code_dim=8,
                          snapshot_steps=(0,))
    assert list(res.trials) == ["dry run", "HC-VQ"]
    run = res.trials["HC-VQ"][0]
    assert {"recon", "E_z", "perplexity", "mu0", "beta1", "pe1"} <= set(run.metrics)
    assert len(run.artifacts["diagrams"]) == 2 and np.isfinite(run.artifacts["diagrams"][0]).all()
    assert set(run.artifacts["snapshots"]) == {0}
    assert run.metrics["E_z"] == pytest.approx(math.log(run.metrics["perplexity"]))
    assert "hcvq" in run.history.steps and "hcvq" not in res.trials["dry run"][0].history.steps
    plt.close(plot_hcvq_runs(res))


# ---------------------------------------------------------------- notebook 08
def test_scoreboard_trial_builds_every_row_on_the_same_conv_nets():
    x = torch.rand(6, 1, 8, 8)
    widths = set()
    for name in experiments.SCOREBOARD:
        trial = experiments.scoreboard_trial(name, 0, num_codes=16, code_dim=2, fsq_levels=(4, 4), channels=4)
        out = trial.model(x)
        assert out.x_hat.shape == x.shape and out.quant.indices.shape == (6, 4, 4), name
        assert torch.isfinite(sum(out.losses.values())), name
        widths.add(sum(p.numel() for p in trial.model.encoder.parameters()))
    assert len(widths) == 1  # one encoder for every row
    hcvq = experiments.scoreboard_trial("HC-VQ", 0, num_codes=16, code_dim=2, fsq_levels=(4, 4), channels=4)
    assert len(hcvq.extra_losses) == 1 and len(hcvq.callbacks) == 1
    with pytest.raises(ValueError, match="plain.*rotation trick"):
        experiments.scoreboard_trial("VQ", 0)
    with pytest.raises(ValueError, match="fsq_levels"):
        experiments.scoreboard_trial("FSQ", 0, code_dim=2, fsq_levels=(4, 4, 4))
    with pytest.raises(ValueError, match="variance_head=False"):
        build_vqvae(SoftVectorQuantizer(8, 2), arch="conv")


def test_compare_timing_and_a_tiny_scoreboard():
    x = torch.rand(32, 1, 8, 8)
    board = experiments.scoreboard(x, x[:8], names=("plain", "FSQ"), seeds=(0, 1), epochs=1, batch_size=16,
                                   num_codes=16, code_dim=2, fsq_levels=(4, 4), channels=4, device="cpu")
    for name, trials in board.trials.items():
        assert len(board.values[name]["train_seconds"]) == 2
        for trial in trials:
            assert trial.seconds > 0 and trial.metrics["train_seconds"] == trial.seconds
            assert trial.metrics["usage_fraction"] == trial.metrics["codes_used"] / 16
    curves = experiments.usage_curves(board)
    assert set(curves) == {"plain", "FSQ"} and all(len(c) == 2 and (c <= 1).all() for c in curves.values())
    assert plot_usage_over_training(board, window=1) is not None
    plt.close("all")
    plain = compare({"p": lambda seed: build_vqvae(VectorQuantizer(4, 2, seed=seed), hidden=(8,), seed=seed)},
                    torch.rand(16, 64), torch.rand(4, 64), seeds=(0,), epochs=1, device="cpu")
    assert "train_seconds" not in plain.values["p"] and plain.trials["p"][0].seconds > 0  # timing is opt-in
    with pytest.raises(ValueError, match="names"):
        experiments.scoreboard(x, x, names=("nope",))
