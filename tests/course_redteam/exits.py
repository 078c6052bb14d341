# Attack (or accident): kill the kernel half-way with os._exit.
import torch
def lloyd_step(x, e):
    nearest = torch.cdist(x, e).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=e.shape[0]).to(x.dtype)
    sums = torch.zeros_like(e).index_add_(0, nearest, x)
    return torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], e)
# %%
import os
os._exit(3)
# %%
print("never runs")
