"""Kept wrong answers for 07_autoregressive_priors: mistakes students make, each with the message its public check must show.

tests/test_course.py runs each against the student version's public checks (make test-course): the check must
not give full marks and its message must contain ``message``, so a student who runs grader.check(name) learns what
to fix. Add one entry per auto-checked exercise you want guarded: (exercise name, message, source).
"""

WRONG_ANSWERS = [
    ('predicted_reach', 'mask A removes the pixel being predicted', """
predicted_reach = {"centre": True, "left_3": True, "up_1_right_1": True, "up_1_right_2": True,   # mask B everywhere
                   "up_2_right_2": True, "down_1_left_1": False}
"""),
    ('nll_bits_per_code', 'that is nats', """
def nll_bits_per_code(logits, x):     # the NLL in nats: the log base forgotten
    return torch.nn.functional.cross_entropy(logits, x)
"""),
    ('nll_bits_per_code', 'normalise over the K codes', """
def nll_bits_per_code(logits, x):     # the raw logit of the observed code taken for its log-probability
    return -logits.gather(1, x[:, None]).mean() / math.log(2.0) + 5.0
"""),
    ('tempered_softmax', 'overflows to inf', """
def tempered_softmax(logits, temperature):   # divides first: logits / tau overflows for a tiny tau
    return torch.softmax(logits / temperature, dim=1)
"""),
    ('made_masks_one_layer', 'output i depends on input i', """
def made_masks_one_layer(order, hidden):     # the planted bug left in: >= at the output
    m = len(order)
    degree_in = torch.empty(m, dtype=torch.long)
    degree_in[order] = torch.arange(1, m + 1)
    degree_hidden = 1 + torch.arange(hidden) % (m - 1)
    mask_in = (degree_hidden[:, None] >= degree_in[None, :]).float()
    mask_out = (degree_in[:, None] >= degree_hidden[None, :]).float()
    return mask_in, mask_out
"""),
    ('pixelcnn_mask', 'keeps the centre', """
def pixelcnn_mask(kappa, mask_type):         # the planted bug left in: the 1-based centre with 0-based indices
    c = math.ceil(kappa / 2)
    row, col = torch.meshgrid(torch.arange(kappa), torch.arange(kappa), indexing="ij")
    same_row = (col < c) if mask_type == "A" else (col <= c)
    return ((row < c) | ((row == c) & same_row)).float()
"""),
]
