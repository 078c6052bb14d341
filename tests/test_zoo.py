"""Downstream metrics (k-means accuracy/NMI, softmax probe) and the bottleneck comparison (notebook 03)."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from vqlab.data import ImageData, load_digits
from vqlab.metrics import cluster_accuracy, downstream_scores, kmeans_scores, nmi
from vqlab.experiments import Comparison
from vqlab.zoo import (BOTTLENECKS, METRICS, TABLE_STYLE, ZooConfig, build_bottleneck, compare_bottlenecks, latents,
                       main, paper_table)

TINY = ZooConfig(latent_dim=2, hidden=(8,), num_codes=4, epochs=1, batch_size=32, n_init=2)


def _tiny_data(n_train=60, n_test=30):
    d = load_digits()
    return ImageData(d.x_train[:n_train], d.y_train[:n_train], d.x_test[:n_test], d.y_test[:n_test],
                     d.image_shape, "tiny")


def test_cluster_accuracy_hand_computed():
    assert cluster_accuracy([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]) == 1.0  # any relabelling
    # clusters {0,1,2}->A, {3,4,5}->B except one: best matching gets 5 of 6
    assert cluster_accuracy([0, 0, 0, 1, 1, 1], [7, 7, 7, 4, 4, 7]) == pytest.approx(5 / 6)
    # more clusters than classes: only a one-to-one matching counts
    assert cluster_accuracy([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(2 / 4)


def test_nmi_matches_hand_computation_and_sklearn():
    from sklearn.metrics import normalized_mutual_info_score

    y, p = np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1])
    # by hand: H(y) = log 2; H(p) = H(3/4, 1/4); I = H(y) - H(y|p) with H(y|p) = 3/4 H(1/3, 2/3)
    h = lambda *q: -sum(x * math.log(x) for x in q)  # noqa: E731
    mi = h(0.5, 0.5) - 0.75 * h(1 / 3, 2 / 3)
    expected = 2 * mi / (h(0.5, 0.5) + h(0.75, 0.25))  # the paper's definition
    assert nmi(y, p) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 50), rng.integers(0, 3, 50)
    assert nmi(a, b) == pytest.approx(normalized_mutual_info_score(a, b))
    assert nmi(a, a) == pytest.approx(1.0)


def test_kmeans_scores_on_separated_blobs():
    from sklearn.datasets import make_blobs

    x, y = make_blobs(90, centers=3, cluster_std=0.1, random_state=0)
    s = kmeans_scores(torch.tensor(x), torch.tensor(y), n_init=5)
    assert s == {"clustering": 1.0, "nmi": pytest.approx(1.0)}
    # scrambled labels: far from perfect
    s = kmeans_scores(x, np.random.default_rng(0).permutation(y), n_init=5)
    assert s["clustering"] < 0.7 and s["nmi"] < 0.2


def test_downstream_scores_keys_and_ranges():
    rng = np.random.default_rng(0)
    y_tr, y_te = rng.integers(0, 3, 60), rng.integers(0, 3, 30)
    z_tr, z_te = rng.normal(size=(60, 4)) + 5 * y_tr[:, None], rng.normal(size=(30, 4)) + 5 * y_te[:, None]
    s = downstream_scores(z_tr, y_tr, z_te, y_te, n_init=3)
    assert set(s) == set(METRICS)
    assert s["classification"] == 1.0 and s["clustering"] == 1.0
    assert all(0.0 <= v <= 1.0 for v in s.values())


def test_metric_bad_arguments():
    with pytest.raises(ValueError, match="same length"):
        kmeans_scores(np.zeros((5, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match="n_init"):
        kmeans_scores(np.random.rand(5, 2), [0, 1, 0, 1, 0], n_init=0)
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_scores(np.random.rand(5, 2), [0, 1, 0, 1, 0], n_clusters=9)
    with pytest.raises(ValueError, match="NaN"):
        kmeans_scores(np.full((4, 2), np.nan), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="z must be"):
        kmeans_scores(np.zeros(4), [0, 1, 0, 1])


@pytest.mark.parametrize("name", BOTTLENECKS)
def test_every_bottleneck_shares_the_hidden_layers(name):
    model = build_bottleneck(name, 64, TINY, seed=0)
    ref = build_bottleneck("ae", 64, TINY, seed=0)
    hidden = [p.shape for p in model.encoder.net[:-1].parameters()]
    assert hidden == [p.shape for p in ref.encoder.net[:-1].parameters()]
    assert [p.shape for p in model.decoder.parameters()] == [p.shape for p in ref.decoder.parameters()]
    x = torch.rand(5, 64)
    out = model.train()(x)
    assert out.x_hat.shape == x.shape and "recon" in out.losses
    assert latents(model, x).shape == (5, TINY.latent_dim)
    assert model.training  # latents() restores the mode


def test_vae_weight_follows_the_authors_variance_normalised_convention():
    cfg = ZooConfig(vae_beta=2.0, beta_vae_beta=20.0)
    assert build_bottleneck("vae", 64, cfg, data_variance=0.5).kl_weight == pytest.approx(1.0)
    assert build_bottleneck("beta_vae", 64, cfg, data_variance=0.5).kl_weight == pytest.approx(10.0)
    with pytest.raises(ValueError, match="data_variance"):
        build_bottleneck("vae", 64, cfg, data_variance=0.0)


def test_compare_bottlenecks_structure_on_a_tiny_run():
    data = _tiny_data()
    r = compare_bottlenecks(data, seeds=[0], config=TINY)
    assert isinstance(r, Comparison) and r.variants == ["raw", *BOTTLENECKS]
    for name, row in r.values.items():
        assert set(row) == set(METRICS) | ({"recon"} if name != "raw" else set())
        for m in METRICS:
            assert len(row[m]) == 1 and 0.0 <= r.mean(name, m) <= 1.0 and r.std(name, m) == 0.0
    assert r.seeds == (0,) and set(r.trials) == set(BOTTLENECKS)
    assert latents(r.trials["vq"][0].model, data.x_test).shape == (30, 2)
    assert all(len(r.values[n]["recon"]) == 1 and r.values[n]["recon"][0] > 0 for n in BOTTLENECKS)
    table = r.table(**TABLE_STYLE) + "\n" + paper_table().table(**TABLE_STYLE)
    for label in ("Raw data", "Baseline autoencoder", "VAE", "beta-VAE", "VQ-VAE", "Soft VQ-VAE", "77.6"):
        assert label in table
    assert "(seed 0)" in table


def test_compare_bottlenecks_two_seeds_give_std_and_are_reproducible():
    data = _tiny_data()
    r1 = compare_bottlenecks(data, [0, 1], ["soft_vq"], TINY, include_raw=False)
    r2 = compare_bottlenecks(data, [0, 1], ["soft_vq"], TINY, include_raw=False)
    assert r1.variants == ["soft_vq"]
    values = r1.values["soft_vq"]["classification"]
    assert len(values) == 2 and r1.std("soft_vq", "classification") == pytest.approx(np.std(values, ddof=1))
    assert r1.values == r2.values


def test_compare_bottlenecks_bad_arguments():
    data = _tiny_data()
    with pytest.raises(TypeError, match="ImageData"):
        compare_bottlenecks((data.x_train, data.y_train), [0])
    with pytest.raises(ValueError, match="seeds"):
        compare_bottlenecks(data, [])
    with pytest.raises(ValueError, match="bottlenecks"):
        compare_bottlenecks(data, [0], ["gan"])
    with pytest.raises(ValueError, match="latent_dim"):
        ZooConfig(latent_dim=0)
    with pytest.raises(ValueError, match="noise_std"):
        ZooConfig(noise_std=-0.1)
    with pytest.raises(ValueError, match="name"):
        build_bottleneck("gan", 64)


def test_cli_runs_on_digits_and_reports_missing_mnist(tmp_path, capsys, no_network):
    args = ["--dataset", "digits", "--seeds", "0", "--bottlenecks", "ae", "--epochs", "1",
            "--hidden", "8", "--latent-dim", "2", "--n-init", "1"]
    table = main(args)
    assert "Baseline autoencoder" in table and "Raw data" in table
    assert main(args + ["--device", "cpu"]) == table  # "auto" is the CPU here: the same numbers
    with pytest.raises(FileNotFoundError, match="mnist"):
        main(["--dataset", "mnist", "--root", str(tmp_path)])


def test_paper_preset_is_table_1s_setup_and_options_override_it(monkeypatch):
    paper = ZooConfig.paper()
    assert (paper.latent_dim, paper.num_codes, paper.hidden) == (64, 128, (500, 500, 2000))
    assert (paper.lr, paper.batch_size, paper.steps, paper.beta_vae_beta, paper.n_init) == (3e-4, 32, 40_000, 20.0, 100)
    seen = {}

    def fake_compare(data, seeds, bottlenecks, cfg, **kw):
        seen["cfg"] = cfg
        raise SystemExit(0)

    monkeypatch.setattr("vqlab.zoo.compare_bottlenecks", fake_compare)
    for args, expected in ((["--preset", "paper"], paper),
                           (["--preset", "paper", "--steps", "200", "--lr", "1e-3"],
                            replace(paper, steps=200, lr=1e-3)),
                           (["--preset", "paper", "--epochs", "3"], replace(paper, epochs=3, steps=None)),
                           (["--preset", "paper", "--noise-std", "0", "--normalization", "code",
                             "--no-straight-through"],
                            replace(paper, noise_std=0.0, normalization="code", straight_through=False)),
                           ([], ZooConfig())):
        with pytest.raises(SystemExit):
            main(["--dataset", "digits", *args])
        assert seen["cfg"] == expected, args


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_cli_no_verify_reads_a_repacked_copy_with_a_warning(tmp_path, monkeypatch, no_network, dataset):
    """An uncompressed copy cannot be checked against the published .gz digests: refused by default, read
    with load_mnist(verify=False)'s warning under --no-verify."""
    import struct

    rng = np.random.default_rng(0)
    for stem, array in (("train-images-idx3-ubyte", rng.integers(0, 256, (6, 4, 4), dtype=np.uint8)),
                        ("train-labels-idx1-ubyte", rng.integers(0, 10, 6, dtype=np.uint8)),
                        ("t10k-images-idx3-ubyte", rng.integers(0, 256, (2, 4, 4), dtype=np.uint8)),
                        ("t10k-labels-idx1-ubyte", rng.integers(0, 10, 2, dtype=np.uint8))):
        header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
        (tmp_path / stem).write_bytes(header + array.tobytes())
    seen = {}

    def fake_compare(data, seeds, bottlenecks, cfg, **kw):
        seen["data"] = data
        raise SystemExit(0)

    monkeypatch.setattr("vqlab.zoo.compare_bottlenecks", fake_compare)
    args = ["--dataset", dataset, "--root", str(tmp_path)]
    with pytest.raises(ValueError, match="only the published .gz"):
        main(args)
    with pytest.warns(UserWarning, match="verify=False: the .* not checked"), pytest.raises(SystemExit):
        main(args + ["--no-verify"])
    assert seen["data"].name == dataset and seen["data"].x_train.shape == (6, 16)


def test_cli_no_verify_is_only_for_idx_files(capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "digits", "--no-verify"])
    assert "--no-verify applies to --dataset mnist or fashion-mnist" in capsys.readouterr().err
