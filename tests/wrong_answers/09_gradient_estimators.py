"""Kept wrong answers for 09_gradient_estimators: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('predict_reference_norm', 'the posterior of an output deep inside its cell is one-hot', """
predicted_ratio = {"interior": 1.0, "border": 1.0}   # the smoothed gradient taken for the straight-through copy
"""),
    ('gibbs_score', 'the scores must average to zero under q_tau', """
def gibbs_score(z, codebook, tau):   # the planted bug left in: the normaliser's gradient forgotten
    return (2.0 / tau) * (codebook - z)
"""),
    ('gibbs_score', 'check the factor 2 / tau', """
def gibbs_score(z, codebook, tau):   # centred, but the derivative of ||z - e||^2 taken as (z - e)
    q = torch.softmax(-((codebook - z) ** 2).sum(1) / tau, dim=0)
    return (codebook - q @ codebook) / tau
"""),
    ('straight_through_gumbel', 'the value must be the one-hot of argmax(logits + noise)', """
def straight_through_gumbel(logits, gumbel_noise):   # the relaxed sample alone: soft in the forward pass too
    return torch.softmax(logits + gumbel_noise, dim=1)
"""),
    ('straight_through_gumbel', 'the gradient must be that of s = softmax(logits + noise)', """
def straight_through_gumbel(logits, gumbel_noise):   # the slope of the noiseless softmax
    soft = torch.softmax(logits, dim=1)
    hard = torch.nn.functional.one_hot((logits + gumbel_noise).argmax(1), logits.shape[1]).to(soft.dtype)
    return hard - soft.detach() + soft
"""),
]
