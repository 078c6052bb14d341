import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from vqlab.priors import GatedPixelCNN, UniformPrior  # noqa: E402
from vqlab.widgets.priors import (completion_widget, completion_state, draw_completion,  # noqa: E402
                           draw_prior_samples, draw_receptive_field, prior_samples_state,
                           receptive_field_widget, receptive_field_state, prior_samples_widget)


def test_receptive_field_blind_spot_leak_and_gated():
    plain = receptive_field_state(3, "A then B", 3)
    assert plain.n_leak == 0 and plain.n_blind > 0
    assert plain.blind[3, 6]  # one row up, two columns right: never reached by masked 3x3 kernels
    leaky = receptive_field_state(3, "B only (leaks!)", 3)
    assert leaky.leak[4, 4]  # the output sees the very pixel it predicts
    gated = receptive_field_state(3, "gated", 3)
    assert gated.n_leak == 0 and gated.n_blind < plain.n_blind
    # 3 gated layers reach 3 columns either side: inside that cone nothing is missed (no blind spot)
    assert not gated.blind[:4, 1:8].any() and not gated.blind[4, :4].any()
    assert plain.blind[:4, 1:8].any()


def test_receptive_field_grows_with_layers_and_kernel():
    small = receptive_field_state(3, "A then B", 1)
    assert small.n_reached == 4  # mask A of a 3x3 kernel: 3 above, 1 to the left
    assert receptive_field_state(3, "A then B", 4).n_reached > small.n_reached
    assert receptive_field_state(5, "A then B", 1).n_reached == 12


def test_receptive_field_bad_args():
    with pytest.raises(ValueError, match="mask_type"):
        receptive_field_state(3, "C", 2)
    with pytest.raises(ValueError, match="odd"):
        receptive_field_state(4, "A then B", 2)


def _decode(codes):
    return codes.float().unsqueeze(1) / 4.0


def test_prior_samples_state_extremes():
    prior = GatedPixelCNN(5, (3, 3), channels=8, n_layers=2)
    cold = prior_samples_state(prior, _decode, temperature=0.01, n=12)
    hot = prior_samples_state(prior, _decode, temperature=100.0, n=12)
    assert cold.images.shape == (12, 1, 3, 3) and torch.isfinite(hot.images).all()
    assert cold.distinct <= hot.distinct
    assert torch.equal(prior_samples_state(prior, _decode, 1.0, 6, seed=3).codes,
                       prior_samples_state(prior, _decode, 1.0, 6, seed=3).codes)
    with pytest.raises(ValueError, match="temperature"):
        prior_samples_state(prior, _decode, temperature=0.0)


def test_completion_state_keeps_rows():
    prior = UniformPrior(5, (3, 3))
    maps = torch.randint(0, 5, (4, 3, 3))
    st = completion_state(prior, _decode, maps, index=2, rows_fixed=2, n=6)
    assert st.images.shape == (7, 1, 3, 3)
    assert torch.equal(st.completed[:, :2], maps[2:3, :2].expand(6, -1, -1))
    assert torch.equal(completion_state(prior, _decode, maps, 1, rows_fixed=3, n=2).completed[0], maps[1])
    with pytest.raises(ValueError, match="rows_fixed"):
        completion_state(prior, _decode, maps, rows_fixed=4)
    with pytest.raises(ValueError, match="index"):
        completion_state(prior, _decode, maps, index=4)


def test_draw_and_builders():
    prior = UniformPrior(5, (3, 3))
    maps = torch.randint(0, 5, (4, 3, 3))
    draw_receptive_field(receptive_field_state(3, "gated", 2))
    draw_prior_samples(prior_samples_state(prior, _decode, 1.0, 4))
    draw_completion(completion_state(prior, _decode, maps))
    for w in (receptive_field_widget(), prior_samples_widget(prior, _decode, 4),
              completion_widget(prior, _decode, maps, 3)):
        assert len(w.children) >= 3
