"""Kept wrong answers for 08_codebook_collapse_scoreboard: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('fsq_code_index', 'dimension 0 is the least significant digit', """
def code_index(digits, levels):       # the last dimension taken as the least significant digit
    place = torch.cumprod(torch.tensor((*levels[1:], 1)).flip(0), 0).flip(0)
    return (digits * place).sum(-1)
"""),
]
