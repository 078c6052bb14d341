"""Kept wrong answers for 02_information_bottleneck: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('predicted_vdib', 'the two models give the same value', """
predicted_vdib = {"hard VQ": 0.0, "EM": 0.5}   # the conditional entropy H(q(Z|J)) instead of the cross-entropy
"""),
    ('soft_m_step', 'the *mean* of its points', """
def soft_m_step(z, probs):   # the planted bug left in: weights normalised over the codes, not the points
    weights = probs / probs.sum(dim=1, keepdim=True)
    return weights.t() @ z
"""),
    ('blahut_arimoto', 'q must be the Gibbs posterior for the final r', """
def blahut_arimoto(d, ib_weight, steps):   # returns the posterior of the previous prior
    from vqlab import losses as L
    from vqlab.posteriors import gibbs_posterior
    r = torch.full((d.shape[1],), 1.0 / d.shape[1], dtype=d.dtype)
    q = gibbs_posterior(d, ib_weight, prior=r).exp()
    for _ in range(steps):
        q = gibbs_posterior(d, ib_weight, prior=r).exp()
        r = L.marginal(q)
    return q, r
"""),
    ('em_posterior', 'not finite for a small tau', """
def em_posterior(z, codebook, tau):   # a direct exp: every term underflows to 0 for a small tau
    w = torch.exp(-torch.cdist(z, codebook) ** 2 / tau)
    return w / w.sum(1, keepdim=True)
"""),
]
