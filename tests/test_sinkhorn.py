"""OptVQ's optimal-transport assignment (arXiv:2412.15195): Sinkhorn plans with a uniform code marginal."""
import pytest
import torch

from vqlab.quantizers import SinkhornQuantizer, VectorQuantizer, nearest_codes, sinkhorn_plan
from vqlab.quantizers.sinkhorn import sample_rows


def _matrix_sinkhorn(cost: torch.Tensor, temperature: float, num_iters: int) -> torch.Tensor:
    """OptVQ's loop written on the matrix itself (normalise the total, then columns, then rows)."""
    c = cost.double()
    q = torch.exp(-((c - c.mean()) / c.std()) / temperature)
    q = q / q.sum()
    n, k = c.shape
    for _ in range(num_iters):
        q = q / q.sum(0) / k
        q = q / q.sum(1, keepdim=True) / n
    return q * n


def test_plan_is_the_matrix_iteration():
    cost = torch.rand(60, 9)
    for tau, iters in ((0.1, 5), (1.0, 1), (0.05, 30)):
        assert torch.allclose(sinkhorn_plan(cost, temperature=tau, num_iters=iters).double(),
                              _matrix_sinkhorn(cost, tau, iters), atol=1e-6)


def test_rows_are_distributions_and_the_code_marginal_becomes_uniform():
    cost = torch.rand(120, 8) + torch.linspace(0, 3, 8)                  # later codes are dearer
    plan = sinkhorn_plan(cost, temperature=0.1, num_iters=200)
    assert torch.allclose(plan.sum(1), torch.ones(120), atol=1e-5) and (plan >= 0).all()
    assert torch.allclose(plan.sum(0), torch.full((8,), 15.0), atol=1e-3)  # N / K each
    few = sinkhorn_plan(cost, temperature=0.1, num_iters=1)
    assert few.sum(0).std() > plan.sum(0).std()


def test_plan_ignores_a_shift_and_a_scale_of_the_cost():
    cost = torch.rand(40, 6)
    plan = sinkhorn_plan(cost, temperature=0.2, num_iters=5)
    assert torch.allclose(sinkhorn_plan(3.0 * cost + 7.0, temperature=0.2, num_iters=5), plan, atol=1e-5)


def test_sampled_codes_follow_the_plan():
    plan = torch.softmax(torch.randn(4, 5, generator=torch.Generator().manual_seed(0)), 1)
    draws = sample_rows(plan.repeat(5000, 1), torch.Generator().manual_seed(1)).reshape(5000, 4)
    freq = torch.stack([torch.bincount(draws[:, i], minlength=5) for i in range(4)]).double() / 5000
    assert torch.allclose(freq, plan.double(), atol=0.03)
    one_hot = torch.eye(5)[[4, 0, 2]]
    assert sample_rows(one_hot, torch.Generator().manual_seed(2)).tolist() == [4, 0, 2]


def test_a_collapsed_batch_is_spread_over_every_code_in_training_only():
    """Latents all nearest to one codeword: hard VQ uses one code; codes drawn from the transport plan use all
    of them (the plan's argmax would leave the far codewords unused)."""
    q, vq = SinkhornQuantizer(8, 2, seed=0), VectorQuantizer(8, 2, seed=0)
    with torch.no_grad():
        q.weight.copy_(torch.randn(8, 2))
        q.weight[0] = torch.tensor([5.0, 5.0])
        vq.weight.copy_(q.weight)
    z = torch.tensor([5.0, 5.0]) + 0.3 * torch.randn(64, 2)
    assert int((vq(z).counts > 0).sum()) == 1
    out = q.train()(z)
    assert int((out.counts > 0).sum()) == 8 and out.counts.max() < 20
    plan = sinkhorn_plan(torch.cdist(z, q.codebook.detach()), temperature=q.temperature, num_iters=q.num_iters)
    assert int((torch.bincount(plan.argmax(1), minlength=8) > 0).sum()) < 8
    assert torch.allclose(out.z_q, q.codebook[out.indices].detach(), atol=1e-6)
    evaluated = q.eval()(z)
    assert torch.equal(evaluated.indices, nearest_codes(z, q.codebook))
    assert torch.equal(evaluated.probs.sum(1), torch.ones(64)) and int((evaluated.counts > 0).sum()) == 1


def test_losses_and_straight_through():
    q = SinkhornQuantizer(8, 3, beta=0.5).train()
    z = torch.randn(32, 3, requires_grad=True)
    out = q(z)
    chosen = q.codebook[out.indices].detach()
    assert torch.allclose(out.losses["codebook"], (chosen - z.detach()).pow(2).mean())
    assert torch.allclose(out.losses["commitment"], 0.5 * out.losses["codebook"])
    g = torch.randn(32, 3)
    (grad,) = torch.autograd.grad((q(z).z_q * g).sum(), z)
    assert torch.equal(grad, g)


def test_trains_and_uses_more_of_the_codebook_than_hard_vq():
    from vqlab.data import load_digits
    from vqlab.models import build_vqvae
    from vqlab.train import evaluate, train

    x = load_digits().x_train[:512]
    used = {}
    for name, q in (("sinkhorn", SinkhornQuantizer(32, 4, seed=0)), ("plain", VectorQuantizer(32, 4, seed=0))):
        model = build_vqvae(q, hidden=(32,), latent_shape=(4, 4), seed=0)
        train(model, x, epochs=3, batch_size=64, seed=0, progress=False, device="cpu")
        used[name] = evaluate(model, x, device="cpu")["codes_used"]
    assert used["sinkhorn"] > used["plain"] + 5                           # evaluated with nearest codes


def test_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        SinkhornQuantizer(4, 2, temperature=0.0)
    with pytest.raises(ValueError, match="num_iters"):
        SinkhornQuantizer(4, 2, num_iters=0)
