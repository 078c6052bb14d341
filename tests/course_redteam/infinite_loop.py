# Accident: an infinite loop after a correct answer that the student checked (otter grades a question
# where the notebook calls grader.check, so nearest_code keeps its points).
import otter
grader = otter.Notebook("01_vector_quantization.ipynb")
def nearest_code(z, codebook):
    return ((z[:, None, :] - codebook[None]) ** 2).sum(-1).argmin(1)
grader.check("nearest_code")
# %%
while True:
    pass
