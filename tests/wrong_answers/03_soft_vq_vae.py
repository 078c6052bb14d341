"""Kept wrong answers for 03_soft_vq_vae: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('soft_posterior', 'sigma -> 0 must give hard VQ', """
def soft_posterior(z, mu, log_var):   # ignores the widths
    return torch.softmax(-0.5 * torch.cdist(z, mu) ** 2, dim=1)
"""),
]
