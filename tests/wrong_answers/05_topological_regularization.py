"""Kept wrong answers for 05_topological_regularization: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('h0_deaths', 'return a tensor of shape [N - 1]', """
def h0_deaths(x):                     # nearest-neighbour distances: one per point, not the MST's N - 1 edges
    d = torch.cdist(x, x) + torch.diag(torch.full((len(x),), float("inf")))
    return d.min(1).values
"""),
    ('death_sum_exponent', 'give the exponent as a number', """
exponent = "1/2"                      # a string, not a number
"""),
    ('sample_ball', 'a uniform radius crowds the centre', """
def sample_ball(n, dim, generator):   # uniform radius: too many points near the centre
    direction = torch.randn(n, dim, generator=generator)
    direction = direction / direction.norm(dim=1, keepdim=True)
    return direction * torch.rand(n, 1, generator=generator)
"""),
    ('betti_at', 'is not alive yet', """
import numpy as np


def betti_at(diagrams, eps):          # the bug of the prompt: a bar not yet born is counted
    return [int((d[:, 1] > eps).sum()) for d in diagrams]
"""),
]
