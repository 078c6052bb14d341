"""Kept wrong answers for 05_topological_regularization: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('h0_deaths', 'return a tensor of shape [n - 1]', """
def h0_deaths(x):                     # nearest-neighbour distances: one per point, not the MST's n - 1 edges
    d = torch.cdist(x, x) + torch.diag(torch.full((len(x),), float("inf")))
    return d.min(1).values
"""),
]
