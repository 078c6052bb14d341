import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from vqlab.priors import GatedPixelCNN, UniformPrior  # noqa: E402
from vqlab.widgets.priors import (completion_widget, completion_state, draw_code_map, draw_completion,  # noqa: E402
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


def test_draw_code_map_colours_the_context_of_one_position():
    import numpy as np
    maps = torch.arange(16).reshape(4, 4)
    ax = draw_code_map(maps, position=6)
    colours = ax.images[0].get_array().reshape(16, 3)
    blue, orange = np.array((0.62, 0.78, 0.95)), np.array((1.0, 0.6, 0.0))
    assert np.allclose(colours[:6], blue) and np.allclose(colours[6], orange) and np.allclose(colours[7:], 1.0)
    reversed_ax = draw_code_map(maps, position=6, order=torch.arange(16).flip(0))
    colours = reversed_ax.images[0].get_array().reshape(16, 3)
    assert np.allclose(colours[7:], blue) and np.allclose(colours[:6], 1.0)   # the context is now below and right
    assert [t.get_text() for t in reversed_ax.texts][:2] == ["0", "16"]     # code 0 at step 16 of the reversed order
    with pytest.raises(ValueError, match="position"):
        draw_code_map(maps, position=16)
    with pytest.raises(ValueError, match="permutation"):
        draw_code_map(maps, position=0, order=torch.zeros(16, dtype=torch.long))
    with pytest.raises(ValueError, match="code_map"):
        draw_code_map(maps.float(), position=0)
