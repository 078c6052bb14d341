"""Data-parallel training: the few ``torch.distributed`` calls that keep a codebook in sync across ranks.

Under ``torchrun --nproc_per_node=W`` the W processes (ranks) run the same training loop, each on its own
contiguous shard of every global batch (:func:`shard`). Two kinds of state change during training:

* **gradients**: ``DistributedDataParallel`` averages them over the ranks before the optimizer step, so
  every rank takes the same step (:func:`vqlab.train.train` weights each rank's loss by its share of the
  batch, so that the average is the gradient of the global batch's mean loss even for unequal shards);
* **statistics** of the batch that a quantizer keeps besides its parameters: EMA cluster sizes ``n_k``
  and sums ``sum_n z_n``, the usage counts behind dead-code restarts and perplexity, the batch that
  k-means++ draws from. DDP knows nothing about them. A statistic of the global batch is the **sum** of the
  ranks' statistics (:func:`all_reduce_sum`), never the mean of their means; a draw from the global batch
  needs every rank's rows (:func:`gather_rows`), and every rank must end up with the same draw
  (:func:`broadcast_from_first`).

:class:`vqlab.quantizers.Quantizer` calls these helpers only in training mode and only when a process group
is initialised (:func:`is_active`), so the single-process path is untouched. ``tests/test_distributed.py``
is the certificate: after every step every rank holds bit-identical state, and W = 1, 2, 4 ranks with
batch B/W each train the same codebook and weights as one process with batch B.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["is_active", "world_size", "rank", "local_rank", "under_torchrun", "init_from_env", "shard",
           "all_reduce_sum", "gather_rows", "broadcast_from_first"]


def is_active() -> bool:
    """True when a ``torch.distributed`` process group is initialised (any world size, 1 included)."""
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """W, the number of ranks; 1 without a process group."""
    return dist.get_world_size() if is_active() else 1


def rank() -> int:
    """This process's rank in ``[0, W)``; 0 without a process group."""
    return dist.get_rank() if is_active() else 0


def under_torchrun() -> bool:
    """True when the environment of ``torchrun`` (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``) is set."""
    return all(name in os.environ for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"))


def local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK`` of ``torchrun``, the GPU it uses); 0 otherwise."""
    return int(os.environ["LOCAL_RANK"]) if under_torchrun() else 0


def init_from_env(device: torch.device) -> bool:
    """Join the process group that ``torchrun`` describes in the environment, if there is one and it is
    not joined yet: backend ``nccl`` for a CUDA ``device``, ``gloo`` for the CPU. Returns :func:`is_active`.

    Outside ``torchrun`` (no ``WORLD_SIZE`` / ``RANK`` / ``LOCAL_RANK``) nothing happens; a process group
    initialised by the caller (e.g. a test with ``init_method="file://..."``) is used as it is.
    """
    if not is_active() and under_torchrun() and dist.is_available():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return is_active()


def shard(batch: Tensor) -> tuple[Tensor, float]:
    """This rank's contiguous share of a global batch and its weight ``n_r / n``.

    Args:
        batch: ``[n]`` the global batch's row indices, the same on every rank (from the shared seed).
    Returns:
        ``(batch[start:stop], n_r / n)``: rank r gets the r-th of W nearly equal slices
        (``torch.tensor_split``: sizes differ by at most one), so the ranks' rows, in rank order, are the
        global batch in its serial order.
    """
    if batch.shape[0] < world_size():
        raise ValueError(f"a batch of {batch.shape[0]} rows cannot be split over {world_size()} ranks; "
                         "choose batch_size (and the data size) so that every batch has at least one row per rank")
    part = batch.tensor_split(world_size())[rank()]
    return part, part.shape[0] / batch.shape[0]


def all_reduce_sum(t: Tensor) -> Tensor:
    """``sum_r t_r`` over the ranks, the same tensor on every rank (a new tensor; ``t`` is unchanged).

    A statistic of the global batch (counts, sums of vectors) is the sum of the ranks' statistics; a mean
    is reduced by summing its numerator and denominator, never by averaging the ranks' means (equal only
    for equal shards).
    """
    total = t.detach().clone()
    if is_active():
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def gather_rows(z: Tensor) -> Tensor:
    """Every rank's rows ``[n_r, D]`` concatenated in rank order, ``[sum_r n_r, D]``, on every rank.

    With the contiguous shards of :func:`shard` this is the global batch in its serial order. Shards may
    differ in size (the gather pads them to the largest and trims).
    """
    z = z.detach().contiguous()
    if not is_active():
        return z
    sizes = torch.tensor([z.shape[0]], device=z.device)
    all_sizes = [torch.empty_like(sizes) for _ in range(world_size())]
    dist.all_gather(all_sizes, sizes)
    longest = int(max(all_sizes))
    padded = torch.zeros(longest, *z.shape[1:], dtype=z.dtype, device=z.device)
    padded[:z.shape[0]] = z
    parts = [torch.empty_like(padded) for _ in range(world_size())]
    dist.all_gather(parts, padded)
    return torch.cat([part[:int(n)] for part, n in zip(parts, all_sizes)])


def broadcast_from_first(t: Tensor) -> Tensor:
    """``t`` of rank 0 on every rank (in place; returns ``t``).

    The quantizers draw k-means++ centres and restart vectors on every rank from the same gathered rows
    with generators in the same state, so the draws already agree; copying rank 0's draw also keeps the
    replicas identical when a quantizer's own noise (e.g. the EM quantizer's sampling of shards of
    different sizes) has moved the ranks' generators apart.
    """
    if is_active():
        dist.broadcast(t, src=0)
    return t
