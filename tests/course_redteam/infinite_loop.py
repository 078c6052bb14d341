# Accident: an infinite loop after a correct answer that the student checked (otter grades a question
# where the notebook calls grader.check, so lloyd_step keeps its points).
import otter
grader = otter.Notebook("01_vector_quantization.ipynb")
import torch
def lloyd_step(x, e):
    nearest = torch.cdist(x, e).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=e.shape[0]).to(x.dtype)
    sums = torch.zeros_like(e).index_add_(0, nearest, x)
    return torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], e)
grader.check("lloyd_step")
# %%
while True:
    pass
