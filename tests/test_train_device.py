"""Device choice (vqlab.train.resolve_device, train/evaluate ``device=``) and progress bars (``progress=``)."""
import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vqlab.models import VQVAE
from vqlab.nets import MLPDecoder, MLPEncoder
from vqlab.quantizers import VectorQuantizer
from vqlab.train import evaluate, resolve_device, train

ROOT = Path(__file__).resolve().parents[1]
needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only behaviour")


def small_vqvae():
    torch.manual_seed(0)
    return VQVAE(MLPEncoder(16, (2, 4), hidden=(16,)), VectorQuantizer(8, 4, codebook_update="ema"),
                 MLPDecoder((2, 4), 16, hidden=(16,)))


@pytest.fixture
def x():
    return torch.rand(64, 16, generator=torch.Generator().manual_seed(0))


def test_cpu_is_always_available():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_auto_picks_cuda_exactly_when_torch_sees_it():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("bad", ["gpu", "CPU", "cuda:x", "", "tpu"])
def test_unknown_device_names_the_argument(bad):
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


def test_device_of_wrong_type():
    with pytest.raises(TypeError, match="device"):
        resolve_device(0)


@needs_no_gpu
def test_asking_for_cuda_without_one_is_a_clear_error(x):
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="no CUDA device"):
        train(small_vqvae(), x, epochs=1, progress=False, device="cuda:0")


@needs_no_gpu
def test_cpu_and_auto_give_identical_numbers(x):
    runs = {}
    for device in ("cpu", "auto", torch.device("cpu")):
        model = small_vqvae()
        history = train(model, x, epochs=3, batch_size=16, seed=4, progress=False, device=device)
        runs[str(device)] = (history.steps, [u.tolist() for u in history.usage], evaluate(model, x, device=device),
                             [p.detach().clone() for p in model.parameters()])
    (steps, usage, scores, params), *others = runs.values()
    for other_steps, other_usage, other_scores, other_params in others:
        assert other_steps == steps and other_usage == usage and other_scores == scores
        assert all(torch.equal(a, b) for a, b in zip(params, other_params))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_run_returns_the_model_to_the_cpu(x):
    model = small_vqvae()
    history = train(model, x, epochs=2, batch_size=16, progress=False, device="cuda")
    assert next(model.parameters()).device.type == "cpu"
    assert len(history.steps["loss"]) == 8
    assert evaluate(model, x, device="cuda")["codes_used"] >= 1


def test_bad_progress_value(x):
    with pytest.raises(TypeError, match="progress"):
        train(small_vqvae(), x, epochs=1, progress="yes")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_auto_is_quiet_when_stderr_is_not_a_terminal(x, monkeypatch):
    quiet, terminal = io.StringIO(), _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    train(small_vqvae(), x, epochs=1, batch_size=16)
    monkeypatch.setattr(sys, "stderr", terminal)
    train(small_vqvae(), x, epochs=1, batch_size=16)
    assert quiet.getvalue() == ""
    assert "train" in terminal.getvalue()


def test_progress_switch_overrides_auto(x, monkeypatch):
    forced, off = io.StringIO(), _Terminal()
    monkeypatch.setattr(sys, "stderr", forced)
    train(small_vqvae(), x, epochs=1, batch_size=16, progress=True)
    monkeypatch.setattr(sys, "stderr", off)
    train(small_vqvae(), x, epochs=1, batch_size=16, progress=False)
    assert "train" in forced.getvalue()
    assert off.getvalue() == ""


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("Swapping quantizers is one line:")
    start = text.index("```python\n", start) + len("```python\n")
    return text[start:text.index("```", start)]


def test_readme_example_prints_one_summary_line_when_piped():
    done = subprocess.run([sys.executable, "-c", readme_example()], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and "perplexity" in lines[0], done.stdout


def _priors():
    from vqlab.priors import GatedPixelCNN, UniformPrior, UnigramPrior

    torch.manual_seed(0)
    codes = torch.randint(0, 5, (20, 3, 3), generator=torch.Generator().manual_seed(1))
    return [UniformPrior(5, (3, 3)), UnigramPrior(5, (3, 3)).fit(codes),
            GatedPixelCNN(5, (3, 3), channels=8, n_layers=2)]


@needs_no_gpu
@pytest.mark.parametrize("index", range(3))
def test_prior_sampling_cpu_and_auto_give_identical_maps(index):
    prior = _priors()[index]
    maps = [prior.sample(7, torch.Generator().manual_seed(3), temperature=0.8, device=device)
            for device in ("cpu", "auto")]
    known = torch.zeros(3, 3, dtype=torch.bool)
    known[0] = True
    done = [prior.complete(maps[0], known, torch.Generator().manual_seed(4), device=device) for device in ("cpu", "auto")]
    assert torch.equal(maps[0], maps[1]) and torch.equal(done[0], done[1])
    assert torch.equal(done[0][:, 0], maps[0][:, 0])


def test_prior_sampling_rejects_a_bad_device():
    with pytest.raises(ValueError, match="device"):
        _priors()[0].sample(2, device="gpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_prior_sampling_on_cuda_with_a_cpu_generator():
    prior = _priors()[2]
    maps = prior.sample(7, torch.Generator().manual_seed(3), device="cuda")
    assert maps.device.type == "cpu" and next(prior.parameters()).device.type == "cpu"
    assert maps.min() >= 0 and maps.max() < 5
