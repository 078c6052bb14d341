"""Kept wrong answers for 01_vector_quantization: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('vq_losses', "commitment differs from VectorQuantizer's", """
def vq_losses(z_e, w, beta):          # forgot beta on the commitment term
    return {"codebook": ((z_e.detach() - w) ** 2).mean(), "commitment": ((z_e - w.detach()) ** 2).mean()}
"""),
]
