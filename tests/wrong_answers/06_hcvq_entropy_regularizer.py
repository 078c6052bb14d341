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
    ('collapse_prediction', 'answer with one letter', """
prediction = "(b) less than 0.2 nats"  # the option, not its letter
"""),
    ('hcvq_penalty', 'no gradient reaches the codebook', """
from vqlab.hcvq import homology_signature


def hcvq_penalty(codebook, gate, target_n1=100.0, target_mu=0.5, sigma=1e-3, mu_weight=1e4):
    sig = homology_signature(codebook.detach(), sigma)    # the bug of the prompt, left in
    return gate * ((sig.n1 - target_n1) ** 2 + mu_weight * (sig.mu0 - target_mu) ** 2)
"""),
    ('sliding_gate', 'average over the last `period` steps only', """
def sliding_gate(e_z, e_in, period):  # the mean over all steps so far, not over the last `period`
    return [abs(1.0 - (sum(e_z[:t + 1]) / (t + 1)) / (sum(e_in[:t + 1]) / (t + 1))) for t in range(len(e_z))]
"""),
    ('cancelling_batch', 'is not negative', """
def cancelling_batch():               # one codeword with a positive row sum: the entropy is log N > 0
    return torch.ones(8, 4, dtype=torch.float64)
"""),
]
