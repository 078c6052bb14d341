# Attack (or accident): kill the kernel half-way with os._exit.
def nearest_code(z, codebook):
    return ((z[:, None, :] - codebook[None]) ** 2).sum(-1).argmin(1)
# %%
import os
os._exit(3)
# %%
print("never runs")
