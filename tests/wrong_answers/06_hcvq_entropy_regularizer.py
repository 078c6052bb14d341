"""Kept wrong answers for 06_hcvq_entropy_regularizer: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('usage_entropy_nats', 'one code used: entropy 0 (and no NaN)', """
def usage_entropy_nats(counts):       # 0 * log 0 is NaN in floating point
    p = counts / counts.sum()
    return -(p * p.log()).sum()
"""),
]
