import pytest
import torch

from vqlab.data import load_digits
from vqlab.models import VQVAE, Autoencoder
from vqlab.nets import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from vqlab.quantizers import VectorQuantizer
from vqlab.train import History, configure_threads, evaluate, load_checkpoint, save_checkpoint, train


def small_vqvae(seed=0):
    torch.manual_seed(seed)
    return VQVAE(MLPEncoder(16, (2, 4), hidden=(16,)), VectorQuantizer(8, 4), MLPDecoder((2, 4), 16, hidden=(16,)))


@pytest.fixture
def x():
    return torch.rand(64, 16, generator=torch.Generator().manual_seed(0))


def test_history_records_every_term(x):
    h = train(small_vqvae(), x, epochs=2, batch_size=16, progress=False)
    assert set(h.steps) >= {"recon", "codebook", "commitment", "loss", "perplexity", "codes_used"}
    assert len(h.steps["loss"]) == 8 and len(h.epochs["loss"]) == 2
    assert len(h.usage) == 2 and h.usage[0].sum() == 64 * 2  # two codes per example
    total = [r + c + m for r, c, m in zip(h.steps["recon"], h.steps["codebook"], h.steps["commitment"])]
    assert h.steps["loss"] == pytest.approx(total)


def test_same_seed_same_history(x):
    h1 = train(small_vqvae(0), x, epochs=2, batch_size=16, seed=3, progress=False)
    h2 = train(small_vqvae(0), x, epochs=2, batch_size=16, seed=3, progress=False)
    assert h1.steps == h2.steps


def test_training_reduces_reconstruction_error():
    x = load_digits().x_train[:256]
    model = VQVAE(MLPEncoder(64, (4, 4)), VectorQuantizer(16, 4), MLPDecoder((4, 4), 64))
    before = evaluate(model, x)["recon"]
    train(model, x, epochs=20, batch_size=32, lr=3e-3, progress=False)
    assert evaluate(model, x)["recon"] < 0.6 * before


def test_autoencoder_and_conv_models_train():
    imgs = torch.rand(32, 1, 8, 8)
    ae = Autoencoder(ConvEncoder(latent_dim=4), ConvDecoder(latent_dim=4))
    h = train(ae, imgs, epochs=1, batch_size=8, progress=False)
    assert set(h.steps) == {"recon", "loss"}
    vq = VQVAE(ConvEncoder(latent_dim=4), VectorQuantizer(8, 4), ConvDecoder(latent_dim=4))
    out = vq(imgs)
    assert out.x_hat.shape == imgs.shape and out.quant.indices.shape == (32, 4, 4)


def test_extra_losses_and_callbacks(x):
    calls = []

    def extra(model, xb, out, step):
        return {"l2": 1e-3 * out.z_e.pow(2).mean()}

    def cb(model, step):
        calls.append(step)
        return {"step_seen": float(step)}

    h = train(small_vqvae(), x, epochs=1, batch_size=32, extra_losses=[extra], callbacks=[cb], progress=False)
    assert "l2" in h.steps and h.steps["step_seen"] == [0.0, 1.0] and calls == [0, 1]


def test_nonfinite_loss_raises_clear_error(x):
    def blow_up(model, xb, out, step):
        return {"bad": torch.tensor(float("nan"))}

    with pytest.raises(FloatingPointError, match="loss became nan"):
        train(small_vqvae(), x, epochs=1, extra_losses=[blow_up], progress=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": -1}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"lr": 0}, "lr"), ({"seed": -1}, "seed"),
])
def test_train_validation(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train(small_vqvae(), x, progress=False, **kwargs)


def test_train_rejects_nan_data():
    with pytest.raises(ValueError, match="x contains NaN"):
        train(small_vqvae(), torch.full((4, 16), float("nan")), progress=False)


def test_checkpoint_roundtrip(tmp_path, x):
    model = small_vqvae()
    h = train(model, x, epochs=1, batch_size=32, progress=False)
    path = save_checkpoint(tmp_path / "ck" / "m.pt", model, h)
    fresh = small_vqvae(seed=5)
    h2 = load_checkpoint(path, fresh)
    assert isinstance(h2, History) and h2.steps == h.steps
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt", fresh)


def test_configure_threads():
    assert configure_threads(1) == 1
    with pytest.raises(ValueError, match="num_threads"):
        configure_threads(0)


def test_evaluate_reports_usage(x):
    out = evaluate(small_vqvae(), x)
    assert {"recon", "codebook", "commitment", "perplexity", "codes_used"} <= set(out)
    assert 1.0 <= out["perplexity"] <= 8.0 and out["codes_used"] <= 8


def test_steps_is_an_exact_budget_that_stops_part_way_through_an_epoch(x):
    h = train(small_vqvae(), x, steps=6, batch_size=16, progress=False)    # 4 steps per epoch
    assert len(h.steps["loss"]) == 6 and len(h.epochs["loss"]) == 2 and h.usage[1].sum() == 2 * 16 * 2
    full = train(small_vqvae(), x, epochs=2, batch_size=16, progress=False)
    assert h.steps["loss"] == full.steps["loss"][:6]                        # the same batches, cut short
    assert train(small_vqvae(), x, epochs=5, steps=4, batch_size=16, progress=False).steps["loss"] == \
        full.steps["loss"][:4]                                              # steps overrides epochs
    with pytest.raises(ValueError, match="steps"):
        train(small_vqvae(), x, steps=0, progress=False)
