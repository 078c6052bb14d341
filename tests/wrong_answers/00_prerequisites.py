"""Kept wrong answers for 00_prerequisites: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns
what to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ("predicted_mi", "an answer in bits is too large", """
predicted_mi = 1.75                   # H(Z) in bits (log base 2), not in nats
"""),
    ("kl_to_standard_normal", "check which distribution your formula averages over", """
def kl_to_standard_normal(mean, log_var):   # the planted bug left in: KL(N(0, I) || q) instead of KL(q || N(0, I))
    var = log_var.exp()
    return 0.5 * (1.0 / var + mean ** 2 / var - 1.0 + log_var).sum(-1)
"""),
    ("st_quantize", "no gradient reaches z", """
def st_quantize(z, codebook):         # a plain lookup: the right values, but no straight-through gradient
    return codebook[(z[:, None] - codebook).abs().argmin(1)]
"""),
]
