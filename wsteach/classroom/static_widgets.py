"""Widgets drawn as static HTML, for the book: a snapshot of each widget as the run left it.

A page of the book has no kernel, and nbconvert's way of showing widgets loads a widget
manager from a CDN (unpkg), which the book must not. Instead, each output that shows a widget
(``application/vnd.jupyter.widget-view+json``) is replaced by plain HTML drawn from the widget
state the run stored in the notebook (``metadata.widgets``): boxes lay out their children, an
``HTML`` widget shows its value, text boxes, dropdowns, checkboxes and buttons are drawn
disabled with their values, an ``Output`` widget shows what it captured. A widget of any other
kind is named, with a note to open the notebook in JupyterLab.
"""

from __future__ import annotations

import html

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
NOTE = ("A snapshot of an interactive widget, as the notebook's run left it: open the "
        "notebook in JupyterLab to use it.")
BOXES = {"VBoxModel": "column", "BoxModel": "column", "GridBoxModel": "row", "HBoxModel": "row",
         "AccordionModel": "column", "TabModel": "column", "StackModel": "column"}
TEXTS = {"TextModel", "PasswordModel", "ComboboxModel", "IntTextModel", "FloatTextModel",
         "BoundedIntTextModel", "BoundedFloatTextModel"}
CHOICES = {"DropdownModel", "SelectModel", "RadioButtonsModel", "ToggleButtonsModel"}
VALUES = {"IntSliderModel", "FloatSliderModel", "IntProgressModel", "FloatProgressModel",
          "FloatLogSliderModel", "IntRangeSliderModel", "FloatRangeSliderModel",
          "SelectionSliderModel", "DatePickerModel", "ColorPickerModel", "ValidModel"}


def labelled(state: dict, control: str) -> str:
    description = html.escape(state.get("description") or "")
    label = f"<span class='wsteach-widget-label'>{description}</span> " if description else ""
    return f"<div class='wsteach-widget'>{label}{control}</div>"


def output_html(output: dict) -> str:
    """An output captured by an ``Output`` widget: HTML, a PNG, or text."""
    data = output.get("data", {})
    if "text/html" in data:
        return "".join(data["text/html"])
    if "image/png" in data:
        return f"<img alt='output' src='data:image/png;base64,{data['image/png']}'>"
    text = output.get("text") or data.get("text/plain") or "\n".join(output.get("traceback", []))
    return f"<pre>{html.escape(''.join(text))}</pre>"


def draw(model_id: str, models: dict) -> str:
    """The HTML of one widget (and its children) from the stored state ``models``."""
    model = models.get(model_id)
    if model is None:
        return "<em>(a widget whose state the run did not store)</em>"
    name, state = model["model_name"], model["state"]
    if name in BOXES:
        children = "".join(draw(child.removeprefix("IPY_MODEL_"), models)
                           for child in state.get("children", []))
        return (f"<div class='wsteach-widget-box' style='display:flex;gap:0.5em;"
                f"flex-direction:{BOXES[name]};flex-wrap:wrap'>{children}</div>")
    if name in {"HTMLModel", "HTMLMathModel"}:
        return labelled(state, f"<div>{state.get('value', '')}</div>")
    if name == "LabelModel":
        return labelled(state, html.escape(str(state.get("value", ""))))
    if name == "TextareaModel":
        return labelled(state, f"<textarea disabled rows='3'>"
                               f"{html.escape(str(state.get('value', '')))}</textarea>")
    if name in TEXTS:
        value = html.escape(str(state.get("value", "")))
        return labelled(state, f"<input disabled value='{value}'>")
    if name in CHOICES:
        labels, index = state.get("_options_labels", []), state.get("index")
        chosen = labels[index] if isinstance(index, int) and index < len(labels) else ""
        return labelled(state, f"<select disabled><option>{html.escape(chosen)}</option></select>")
    if name in {"CheckboxModel", "ToggleButtonModel"}:
        checked = " checked" if state.get("value") else ""
        return (f"<div class='wsteach-widget'><label><input type='checkbox' disabled{checked}> "
                f"{html.escape(state.get('description') or '')}</label></div>")
    if name == "ButtonModel":
        return f"<button disabled>{html.escape(state.get('description') or '')}</button>"
    if name in VALUES:
        return labelled(state, f"<code>{html.escape(str(state.get('value')))}</code>")
    if name == "OutputModel":
        return "".join(output_html(output) for output in state.get("outputs", []))
    return f"<em>(a {html.escape(name.removesuffix('Model'))} widget)</em>"


def freeze(notebook) -> int:
    """Replace every widget view among ``notebook``'s outputs by its snapshot; the count."""
    models = notebook.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    count = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(VIEW)
            if view is None:
                continue
            output["data"] = {"text/html": (
                f"<figure class='wsteach-widget-snapshot'>{draw(view['model_id'], models)}"
                f"<figcaption>{NOTE}</figcaption></figure>")}
            count += 1
    notebook.metadata.pop("widgets", None)
    return count
