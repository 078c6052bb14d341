"""Kept wrong answers for 04_neural_gas_fuzzy_cmeans: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('ng_posterior', 'row 0: the codes are already in rank order', """
def ng_posterior(d, lam):             # a Gibbs posterior of the distances, not of the ranks
    return torch.softmax(-d / lam, dim=1)
"""),
]
