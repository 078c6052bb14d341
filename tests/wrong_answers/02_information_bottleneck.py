"""Kept wrong answers for 02_information_bottleneck: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('vdib_regularizer', 'the regulariser is log K for any posterior', """
def vdib_regularizer(probs, prior):   # the posterior's entropy instead of the cross-entropy to the prior
    return -(probs * probs.clamp_min(1e-30).log()).sum(1).mean()
"""),
]
