"""Kept wrong answers for 08_codebook_collapse_scoreboard: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('predict_rotation_gradient', 'the rescaling is |z_q| / |z_e|', """
predicted_gradient = {"half": (0.5, 0.0), "double": (2.0, 0.0), "perpendicular": (0.0, -1.0)}  # |z_e| / |z_q|
"""),
    ('rotate_to_codeword', 'z_e receives no gradient', """
def rotate_to_codeword(z_e, z_q):     # the planted bug left in: R and the rescaling differentiated
    u = z_e / z_e.norm(dim=1, keepdim=True)
    v = z_q / z_q.norm(dim=1, keepdim=True)
    s = u + v
    eye = torch.eye(z_e.shape[1], dtype=z_e.dtype)
    R = eye - 2 * s[:, :, None] * s[:, None, :] / (s * s).sum(1)[:, None, None] + 2 * v[:, :, None] * u[:, None, :]
    scale = z_q.norm(dim=1) / z_e.norm(dim=1)
    return scale[:, None] * torch.einsum("nij,nj->ni", R, z_e)
"""),
    ('fsq_code_index', 'the first digit counts in ones', """
def code_index(digits, levels):       # the last dimension taken as the least significant digit
    place = torch.cumprod(torch.tensor((*levels[1:], 1)).flip(0), 0).flip(0)
    return (digits * place).sum(-1)
"""),
]
