"""One training loop for every vqlab model, plus seeding, thread control and checkpoints.

``train(model, x)`` minimises the sum of ``model(x_batch).losses`` and returns a :class:`History` with
every named loss term, the reconstruction error, perplexity and code usage per step and per epoch.
"""
from __future__ import annotations

import os
import pickle
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from vqlab import distributed
from vqlab._checks import check_float, check_int, check_tensor
from vqlab.metrics import perplexity

__all__ = ["configure_threads", "seed_everything", "resolve_device", "eval_mode", "History", "train", "evaluate",
           "save_checkpoint", "load_checkpoint"]

#: Extra loss hook: ``fn(model, x_batch, output, step) -> {name: weighted scalar}``, added to the loss.
ExtraLoss = Callable[[nn.Module, Tensor, object, int], dict[str, Tensor]]
#: Logging hook: ``fn(model, step) -> {name: float}`` recorded into ``History.steps`` after each step.
Callback = Callable[[nn.Module, int], dict[str, float]]


def configure_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op CPU thread count; the single place vqlab does so.

    Default: the environment variable ``VQLAB_NUM_THREADS`` if set, else 1. On the 2-core course
    machines torch's and scikit-learn's OpenMP pools fought each other (a small training run measured
    ~15x slower right after a scikit-learn KMeans); the small nets used here do not gain from more
    threads. Returns the number of threads now in use.
    """
    if num_threads is None:
        num_threads = int(os.environ.get("VQLAB_NUM_THREADS", "1"))
    torch.set_num_threads(check_int("num_threads", num_threads))
    return torch.get_num_threads()


configure_threads()  # once, when vqlab.train is first imported (every training, experiment and prior module does)


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch; the single place vqlab sets global seeds.

    Returns a fresh ``torch.Generator`` seeded with ``seed`` for callers that want their own stream.
    """
    check_int("seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device a run uses; the single place vqlab chooses one.

    ``"auto"``: the first CUDA GPU if torch sees one, else the CPU. ``"cpu"`` forces the CPU; ``"cuda"``
    or ``"cuda:N"`` asks for a GPU and fails clearly when there is none. A ``torch.device`` is accepted too.
    Under ``torchrun``, ``"auto"`` (with a GPU) and ``"cuda"`` mean each process's own GPU, ``cuda:LOCAL_RANK``.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {type(device).__name__}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and distributed.under_torchrun():  # one GPU per process
        device = f"cuda:{distributed.local_rank()}"
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} asks for a GPU but torch sees no CUDA device; "
                             "use device='auto' or 'cpu'")
        index = int(device[5:]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s)")
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``with eval_mode(model):`` runs the block in eval mode and restores the model's train/eval mode
    afterwards (also when the block raises)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _someone_watching() -> bool:
    """True when a person sees the output as it comes: a Jupyter kernel (notebook) or a terminal on stderr
    (where tqdm writes). False for output piped to a file (CI logs, ``nohup``, scripts)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if type(shell).__name__ == "ZMQInteractiveShell":
        return True
    return sys.stderr.isatty()


def _model_device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return torch.device("cpu") if first is None else first.device


@dataclass
class History:
    """Per-step and per-epoch logs of a training run.

    ``steps[name]`` and ``epochs[name]`` are lists of floats for every loss term (``recon``,
    ``codebook``, ``commitment``, ...), the total ``loss``, ``perplexity`` and ``codes_used``;
    ``usage`` holds one ``[K]`` array of code counts per epoch (quantized models only).
    """

    steps: dict[str, list[float]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    usage: list[np.ndarray] = field(default_factory=list)

    def log_step(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.steps.setdefault(k, []).append(float(v))

    def final(self, name: str) -> float:
        """The last epoch's mean of ``name``."""
        return self.epochs[name][-1]


def _step_values(out, losses: dict[str, Tensor], loss: Tensor) -> dict[str, float]:
    values = {name: term.item() for name, term in losses.items()}
    values["loss"] = loss.item()
    if getattr(out, "quant", None) is not None:
        values["perplexity"] = out.quant.perplexity.item()
        values["codes_used"] = float((out.quant.counts > 0).sum())
    return values


def train(model: nn.Module, x: Tensor, *, epochs: int = 10, steps: int | None = None, batch_size: int = 64,
          lr: float = 1e-3, weight_decay: float = 0.0, seed: int = 0, extra_losses: Iterable[ExtraLoss] = (),
          callbacks: Iterable[Callback] = (), progress: bool | None = None,
          optimizer: torch.optim.Optimizer | None = None, device: str | torch.device = "auto") -> History:
    """Train ``model`` on ``x`` with Adam, minimising the sum of its named losses.

    Args:
        model: any vqlab model: ``model(x_batch)`` returns an object with a ``losses`` dict
            (see :class:`vqlab.models.ModelOutput`).
        x: ``[N, ...]`` training inputs (the shape the model expects; integer tensors such as code
            maps are allowed).
        epochs, batch_size, lr, weight_decay: the usual; batches are reshuffled each epoch.
        steps: train for exactly this many optimizer steps instead of ``epochs`` (the last epoch stops
            part-way; papers often state their budget in steps). ``None``: ``epochs`` full epochs.
        seed: seeds everything (:func:`seed_everything`) before training, so a rerun gives the same
            history on the same machine.
        extra_losses: hooks adding terms such as a topological regularizer (see ``ExtraLoss``).
        callbacks: hooks logging extra values after each optimizer step (see ``Callback``).
        progress: show a tqdm bar; ``None`` (default) shows it only when someone is watching (a notebook
            or a terminal), not when output goes to a file or a pipe.
        optimizer: use this optimizer instead of a fresh Adam (e.g. to continue training).
        device: where to train (:func:`resolve_device`; ``"auto"`` is a CUDA GPU if there is one). The
            model and ``x`` move there for the run and the model moves back afterwards, so code written
            for the CPU keeps working. On the CPU this changes nothing: same seed, same numbers.
    Returns:
        the :class:`History` of the run.

    **Data-parallel** (``torchrun --nproc_per_node=W``, or any initialised ``torch.distributed`` process
    group; :mod:`vqlab.distributed`): every rank calls ``train`` with the same arguments and data. The
    batches are the serial run's (``batch_size`` is the global batch B); rank r trains on the r-th contiguous
    slice of each (B/W rows), inside ``DistributedDataParallel`` (``gloo`` on the CPU, ``nccl`` on CUDA,
    one GPU per rank). Each rank's loss is weighted by its share ``n_r / B`` of the batch (times W, since
    DDP averages the gradients), so the averaged gradient is that of the global batch's mean, also when
    the last batch splits unequally; the quantizers sum their statistics over the ranks. The model
    losses (per-example means) and the history (global means, the same on every rank) are then the
    serial run's up to rounding. An ``extra_losses`` term that is not a mean over examples (e.g. a
    function of the whole batch's usage) is averaged over the ranks with the same weights, which is
    not the serial value; hooks and callbacks see the unwrapped ``model``.
    """
    check_tensor("x", x, floating=False)
    check_int("epochs", epochs, 0)
    if steps is not None:
        check_int("steps", steps)
    check_int("batch_size", batch_size)
    check_float("lr", lr, 0.0, strict=True)
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None (auto), got {progress!r}")
    run_on, home = resolve_device(device), _model_device(model)
    data_parallel = distributed.init_from_env(run_on)
    generator = seed_everything(seed)
    model.to(run_on)
    x = x.to(run_on)
    extra_losses, callbacks = list(extra_losses), list(callbacks)
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    n = x.shape[0]
    steps_per_epoch = max(1, -(-n // batch_size))
    total = epochs * steps_per_epoch if steps is None else steps
    net, share = model, 1.0
    if data_parallel:  # replicas kept in step by DDP (gradients) and the quantizers (statistics)
        ranks = distributed.world_size()
        if min(batch_size, n, n % batch_size or batch_size) < ranks:
            raise ValueError(f"batch_size={batch_size} with {n} rows leaves a batch of fewer rows than the "
                             f"{ranks} ranks; every batch needs at least one row per rank")
        net = DistributedDataParallel(model, device_ids=[run_on] if run_on.type == "cuda" else None,
                                      forward_sync_buffers=False)
    model.train()
    step = 0
    show = _someone_watching() if progress is None else progress
    bar = tqdm(total=total, disable=not show, desc="train", leave=False)
    for _ in range(-(-total // steps_per_epoch)):
        first = len(history.steps.get("loss", []))
        counts = None
        for idx in torch.randperm(n, generator=generator).split(batch_size)[:total - step]:
            if data_parallel:
                idx, share = distributed.shard(idx)
            xb = x[idx]
            out = net(xb)
            for hook in extra_losses:
                out.losses.update(hook(model, xb, out, step))
            loss = sum(out.losses.values())
            losses, batch_loss = out.losses, loss
            if data_parallel:  # the global batch's mean of every term: sum_r (n_r / B) * term_r
                means = distributed.all_reduce_sum(share * torch.stack([*out.losses.values(), loss]))
                losses, batch_loss = dict(zip(out.losses, means[:-1])), means[-1]
            if not torch.isfinite(batch_loss):
                raise FloatingPointError(f"loss became {batch_loss.item()} at step {step}; terms: "
                                         f"{ {k: v.item() for k, v in losses.items()} }. "
                                         "Try a smaller learning rate or loss weight.")
            opt.zero_grad(set_to_none=True)
            (loss * (share * ranks) if data_parallel else loss).backward()   # DDP divides by the ranks
            opt.step()
            values = _step_values(out, losses, batch_loss)
            for cb in callbacks:
                values.update(cb(model, step))
            history.log_step(values)
            if getattr(out, "quant", None) is not None:
                c = out.quant.counts.detach()
                counts = c.clone() if counts is None else counts + c
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{values['loss']:.4f}")
        for k, v in history.steps.items():
            history.epochs.setdefault(k, []).append(float(np.mean(v[first:])))
        if counts is not None:
            history.usage.append(counts.cpu().numpy())
    bar.close()
    model.eval()
    model.to(home)
    return history


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, batch_size: int = 512, *,
             device: str | torch.device = "auto") -> dict[str, float]:
    """Evaluate ``model`` (in eval mode) on ``x``: mean of every loss term, the reconstruction error
    ``recon`` (MSE), and for quantized models the perplexity of code usage and the number of codes used
    over the whole of ``x``. ``device`` as in :func:`train` (the model moves back afterwards)."""
    check_tensor("x", x, floating=False)
    run_on, home = resolve_device(device), _model_device(model)
    was_training = model.training
    model.to(run_on)
    model.eval()
    sums: dict[str, float] = {}
    counts = None
    for xb in x.split(batch_size):
        xb = xb.to(run_on)
        out = model(xb)
        for k, v in out.losses.items():
            sums[k] = sums.get(k, 0.0) + v.item() * xb.shape[0]
        if getattr(out, "quant", None) is not None:
            counts = out.quant.counts if counts is None else counts + out.quant.counts
    model.train(was_training)
    model.to(home)
    result = {k: v / x.shape[0] for k, v in sums.items()}
    if counts is not None:
        result["perplexity"] = perplexity(counts).item()
        result["codes_used"] = float((counts > 0).sum())
    return result


def save_checkpoint(path: str | Path, model: nn.Module, history: History | None = None,
                    optimizer: torch.optim.Optimizer | None = None) -> Path:
    """Save the model's state dict (and optionally the history and optimizer state) to ``path``.

    Only tensors and plain types (dict, list, float, int, str, None) are written, so that
    :func:`load_checkpoint` can read the file with ``torch.load(weights_only=True)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    saved_history = None if history is None else {
        "steps": history.steps, "epochs": history.epochs,
        "usage": [torch.as_tensor(u) for u in history.usage]}
    torch.save({"model": model.state_dict(),
                "history": saved_history,
                "optimizer": None if optimizer is None else optimizer.state_dict()}, path)
    return path


def load_checkpoint(path: str | Path, model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None) -> History | None:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Returns the saved :class:`History`, or ``None`` if none was saved. The file is read with
    ``torch.load(weights_only=True)``: a checkpoint that holds anything but tensors and plain
    types (for example a pickled object, which could run code when unpickled) is refused with a
    ValueError naming the file, and nothing in it is executed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(f"refusing to load checkpoint {path}: it holds something other than "
                         f"tensors and plain types ({err})") from None
    if not isinstance(state, dict) or not {"model", "history", "optimizer"} <= state.keys():
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint")
    model.load_state_dict(state["model"])
    if optimizer is not None and state["optimizer"] is not None:
        optimizer.load_state_dict(state["optimizer"])
    saved = state["history"]
    if saved is None:
        return None
    return History(steps=saved["steps"], epochs=saved["epochs"],
                   usage=[u.numpy() for u in saved["usage"]])
