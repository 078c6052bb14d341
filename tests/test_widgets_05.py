"""Tests for the notebook 05 widget states (vqlab.widgets)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vqlab import topology
from vqlab.widgets import homology  # noqa: E402


def test_rips_state_complex_matches_definition():
    s = homology.rips_state(eps=0.5, cloud="rings", noise=0.05, n=30)
    d = np.sqrt(((s.points[:, None] - s.points[None]) ** 2).sum(-1))
    assert s.points.shape == (30, 2)
    assert np.all(d[s.edges[:, 0], s.edges[:, 1]] <= 0.5)
    assert len(s.edges) == int(np.triu(d <= 0.5, 1).sum())
    for a, b, c in s.triangles:  # every triangle is a clique of the complex, listed once
        assert a < b < c and max(d[a, b], d[a, c], d[b, c]) <= 0.5
    brute = sum(1 for a in range(30) for b in range(a + 1, 30) for c in range(b + 1, 30)
                if max(d[a, b], d[a, c], d[b, c]) <= 0.5)
    assert len(s.triangles) == brute


def test_rips_betti_numbers_limits_and_circle_loop():
    n = 40
    tiny = homology.rips_state(eps=0.0, cloud="circle", noise=0.0, n=n)
    assert tiny.betti == [n, 0] and len(tiny.edges) == 0
    huge = homology.rips_state(eps=2.5, cloud="circle", noise=0.0, n=n)
    assert huge.betti == [1, 0] and len(huge.edges) == n * (n - 1) // 2
    mid = homology.rips_state(eps=0.6, cloud="circle", noise=0.0, n=n)
    assert mid.betti == [1, 1]
    # beta0 never increases with eps
    b0 = [homology.rips_state(eps=e, cloud="blobs", n=n).betti[0] for e in (0.05, 0.1, 0.3, 0.6, 1.2)]
    assert all(a >= b for a, b in zip(b0, b0[1:]))


@pytest.mark.parametrize("cloud", homology.RIPS_CLOUDS)
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_rips_extremes_draw_without_error(cloud, noise):
    import matplotlib.pyplot as plt

    for eps in (0.0, 2.0):
        s = homology.rips_state(eps=eps, cloud=cloud, noise=noise)
        assert np.isfinite(s.points).all()
        plt.close(homology.draw_rips(s))


def test_draw_rips_balls_have_radius_eps_over_two_in_data_units():
    """The ε/2-balls (one EllipseCollection) sit on the points; a redraw at another ε resizes them."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import EllipseCollection

    s = homology.rips_state(eps=0.4)
    fig = homology.draw_rips(s)
    for eps in (0.4, 1.0):
        fig = homology.draw_rips(homology.rips_state(eps=eps), fig=fig)
        ax = fig.axes[0]
        (balls,) = [c for c in ax.collections if isinstance(c, EllipseCollection)]
        np.testing.assert_allclose(balls.get_offsets(), s.points)
        fig.canvas.draw()
        # the first ball's drawn width in pixels is eps data units on the x axis (a diameter of eps)
        (x0, _), (x1, _) = ax.transData.transform([[0.0, 0.0], [eps, 0.0]])
        scaled = balls.get_paths()[0].vertices @ balls.get_transforms()[0][:2, :2].T   # the unit circle, sized
        outline = balls.get_transform().transform(scaled)                                # in pixels
        assert np.ptp(outline[:, 0]) == pytest.approx(x1 - x0, rel=0.02)
    plt.close(fig)


def test_rips_bad_arguments():
    with pytest.raises(ValueError, match="cloud"):
        homology.rips_state(cloud="torus")
    with pytest.raises(ValueError, match="eps"):
        homology.rips_state(eps=-1.0)
    with pytest.raises(ValueError, match="n"):
        homology.rips_state(n=500)


def test_death_ascent_spreads_and_hinge_only_does_not():
    s = homology.death_ascent_state(n=30, steps=(0, 10, 40))
    assert s.steps == [0, 10, 40] and len(s.points) == 3
    assert s.death_sum[-1] > 2 * s.death_sum[0]
    for pts, e in zip(s.points, s.edges):
        assert e.shape == (29, 2)
        np.testing.assert_allclose(np.sort(np.linalg.norm(pts[e[:, 0]] - pts[e[:, 1]], axis=1)),
                                   topology.mst_deaths(torch.tensor(pts)).numpy(), atol=1e-9)
    still = homology.death_ascent_state(n=30, steps=(0, 10), topological=False)
    np.testing.assert_allclose(still.points[0], still.points[1])  # inside the ball: zero gradient
    import matplotlib.pyplot as plt

    plt.close(homology.draw_death_ascent(s))
    plt.close(homology.draw_death_ascent(s, index=1))


def test_builders_return_widgets():
    from vqlab.widgets._ui import SliderFigure

    assert isinstance(homology.rips_widget(), SliderFigure)
    assert isinstance(homology.death_ascent_widget(homology.death_ascent_state(n=10, steps=(0, 2))), SliderFigure)


def test_committed_notebook_shows_a_saved_picture_for_every_widget():
    """Both widgets of notebook 05 show their saved picture before the notebook is run (issue 30)."""
    from committed import notebook_paths, saved_widget_pictures

    (path,) = [p for p in notebook_paths() if p.stem == "05_topological_regularization"]
    assert saved_widget_pictures(path) == [(True, [["image/png"]])] * 2
