"""The course's recurring diagram (vqlab.plotting.plot_pipeline): the named parts, and only those, in colour."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from vqlab.plotting import PIPELINE_PARTS, plot_pipeline  # noqa: E402


@pytest.mark.parametrize("highlight", [(), ("posterior", "codebook"), PIPELINE_PARTS])
def test_the_highlighted_parts_are_coloured(highlight):
    ax = plot_pipeline(highlight, caption="what this notebook changes")
    boxes = {t.get_text().split("\n")[0]: t.get_bbox_patch() for t in ax.texts if t.get_bbox_patch() is not None}
    names = {"encoder": "encoder", "posterior": "posterior", "codebook": "codebook", "decoder": "decoder",
             "prior": "prior over codes"}
    assert set(boxes) == set(names.values())
    for part, label in names.items():
        face = matplotlib.colors.to_hex(boxes[label].get_facecolor())
        assert (face != "#ffffff") == (part in highlight), (part, face)
    assert any(t.get_text() == "what this notebook changes" for t in ax.texts)
    plt.close(ax.figure)


def test_an_unknown_part_is_named():
    with pytest.raises(ValueError, match="highlight must name parts"):
        plot_pipeline(("quantiser",))
