"""Kept wrong answers for 03_soft_vq_vae: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('hard_limit', 'answer with the int 1', """
limit_code = "e_2"   # the right idea, in the wrong form
"""),
    ('soft_posterior', 'sigma -> 0 must give hard VQ', """
def soft_posterior(z, mu, log_var):   # ignores the widths
    return torch.softmax(-0.5 * torch.cdist(z, mu) ** 2, dim=1)
"""),
    ('soft_posterior', 'normalise over the codewords', """
def soft_posterior(z, codebook, log_var):   # softmax over the batch instead of the codes
    sq = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    return torch.softmax(-0.5 * sq * torch.exp(-log_var) - 0.5 * z.shape[1] * log_var, dim=0)
"""),
    ('soft_estimate', 'must depend on z differentiably', """
def soft_estimate(z, codebook, log_var):   # right values, but detached: no gradient reaches z
    sq = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    probs = torch.softmax(-0.5 * sq * torch.exp(-log_var) - 0.5 * z.shape[1] * log_var, dim=1)
    return (probs @ codebook).detach()
"""),
    ('weighted_minimiser', 'a narrower component must pull the minimiser towards its codeword', """
def weighted_minimiser(weights, codebook, variances):   # eq. 6: ignores the widths
    return weights @ codebook
"""),
    ('soft_vq_bottleneck', 'the codebook term must move the codebook', """
def soft_vq_bottleneck(z_e, codebook, log_var, beta=0.25):   # the given code, not fixed
    sq = ((z_e[:, None, :] - codebook[None]) ** 2).sum(-1)
    z_hat = torch.softmax(-0.5 * sq * torch.exp(-log_var) - 0.5 * z_e.shape[1] * log_var, dim=1) @ codebook
    codebook_loss = ((z_hat.detach() - z_e) ** 2).mean()
    commitment_loss = beta * ((z_e - z_hat.detach()) ** 2).mean()
    z_q = z_e + (z_hat - z_e).detach()
    return z_q, codebook_loss, commitment_loss
"""),
]
