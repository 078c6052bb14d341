"""The book's notebook reader: each ipywidget is replaced by the figure it showed when the notebook ran.

The notebooks are stored with their widget state, in which a slider figure's Image widget holds the
figure drawn under the sliders (an Output widget holds what a widget printed). The book shows those saved
pictures and outputs as plain outputs and drops the widget state, so the pages need no widget JavaScript
(which would come from a CDN) and read offline.
"""
import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def read(text: str) -> nbformat.NotebookNode:
    nb = nbformat.reads(text, as_version=4)
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [shown for output in cell.outputs for shown in _static(output, state)]
    return nb


def _static(output: dict, state: dict) -> list:
    if WIDGET_VIEW not in output.get("data", {}):
        return [output]
    return _saved_outputs(output["data"][WIDGET_VIEW]["model_id"], state)


def _saved_outputs(model_id: str, state: dict) -> list:
    """The pictures and outputs saved in the Image and Output widgets at or below one widget (none where
    nothing was saved): a slider figure's picture is its ``Image`` widget's PNG."""
    model = state.get(model_id, {})
    if model.get("model_name") == "OutputModel":
        return [nbformat.from_dict(output) for output in model["state"].get("outputs", [])]
    if model.get("model_name") == "ImageModel":
        return [nbformat.v4.new_output("display_data", data={f"image/{model['state'].get('format', 'png')}": b["data"]})
                for b in model.get("buffers", []) if b.get("path") == ["value"] and b.get("encoding") == "base64"]
    children = model.get("state", {}).get("children", [])
    return [saved for child in children for saved in _saved_outputs(child.removeprefix("IPY_MODEL_"), state)]
