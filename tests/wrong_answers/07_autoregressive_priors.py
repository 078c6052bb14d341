"""Kept wrong answers for 07_autoregressive_priors: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('pixelcnn_mask', 'mask A: all rows above', """
def pixelcnn_mask(k, kind):           # always mask B (the centre pixel sees itself)
    m = torch.ones(k, k)
    m[k // 2, k // 2 + 1:] = 0
    m[k // 2 + 1:] = 0
    return m
"""),
]
