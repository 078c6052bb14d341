"""Kept wrong answers for 01_vector_quantization: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('predicted_paths', "look at the decoder column first", """
predicted_paths = {"recon":      {"encoder": True, "codebook": True, "decoder": True},   # "every term moves everything"
                   "commitment": {"encoder": True, "codebook": True, "decoder": True},
                   "codebook":   {"encoder": True, "codebook": True, "decoder": True}}
"""),
    ('predicted_factor', "are both multiplied by 0.99 at every step", """
predicted_factor = 0.99 ** 110       # only the running sum decays: forgets that the running count decays too
"""),
    ('lloyd_step', "a codeword whose cell is empty must stay where it is", """
def lloyd_step(x, e):                 # divides every cell's sum by its count, also an empty cell's: 0/0 = nan
    nearest = torch.cdist(x, e).argmin(1)
    one_hot = torch.nn.functional.one_hot(nearest, e.shape[0]).to(x.dtype)
    return (one_hot.t() @ x) / one_hot.sum(0)[:, None]
"""),
    ('vq_losses', "the commitment term sent a gradient to the codewords", """
def vq_losses(z_e, e_k, beta):        # the planted bug left in: the two stop-gradients swapped
    return {"codebook": ((z_e - e_k.detach()) ** 2).mean(), "commitment": beta * ((z_e.detach() - e_k) ** 2).mean()}
"""),
]
