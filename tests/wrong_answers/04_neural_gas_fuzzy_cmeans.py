"""Kept wrong answers for 04_neural_gas_fuzzy_cmeans: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('predict_top_mass', 'neural gas: the nearest code has rank 0 for every input', """
predicted_top_mass = {"hard": 1.0, "neural_gas": 1.0, "fcm": 0.5}   # h(0) = 1, forgetting the normaliser C_lambda
"""),
    ('ng_posterior', 'row 0: the codes are already in rank order', """
def ng_posterior(d, lam):             # a Gibbs posterior of the distances, not of the ranks
    return torch.softmax(-d / lam, dim=1)
"""),
    ('ng_posterior', 'argsort gives the *order* of the codes', """
def ng_posterior(dist, lam):          # the planted bug left in: the order of the codes taken for their ranks
    ranks = torch.argsort(dist, dim=1, stable=True)
    return torch.softmax(-ranks.to(dist.dtype) / lam, dim=1)
"""),
    ('fcm_posterior', 'd ** (-1 / (m - 1)) overflows', """
def fcm_posterior(dist, m):           # eq. 4.4 as powers: right for m = 2, inf / inf = nan for m close to 1
    w = dist ** (-1.0 / (m - 1.0))
    return w / w.sum(1, keepdim=True)
"""),
    ('latent_terms', 'the commitment term moved the codebook', """
from vqlab.posteriors import squared_distances

def latent_terms(z, codebook, probs, beta, eta):   # the planted bug left in: no sg(e_k) in the commitment term
    q, dim = probs.detach(), z.shape[1]
    commit = (q * squared_distances(z, codebook)).sum(1).mean() / dim
    vq = (q * squared_distances(z.detach(), codebook)).sum(1).mean() / dim
    return {"commitment": beta * commit, "codebook": eta * vq}
"""),
]
