"""Grad-CAM and friends: where the model looks for each class, and whether to believe it
(C12)."""

import numpy as np
import streamlit as st

from cnnviz import cam, classmaps, images, models, questions, ui
from cnnviz.notebooks.gradcam import numbers as page_numbers
from cnnviz.ui import gradcam as blocks
from cnnviz.ui.attribution import (
    TITLES,
    comparison_of,
    method_map,
    overlay_key,
    show,
    trust_checks,
)
from cnnviz.views import gradcam as spec

ui.page_setup("Grad-CAM")

view = ui.page_view("gradcam", prefix="gc_")
name = ui.model_picker()
page = ui.page_layout(
    "Where does the CNN look for each class?",
    "Grad-CAM weighs a conv layer's feature maps by the gradient of one class's score (its "
    "*logit*) and keeps what speaks **for** that class. Below: the maps of several classes "
    "of one image, on one colour scale.")

with ui.guard("the prediction"):
    model = ui.get_model(name)
    view.settle(**spec.facts(model, name))
    names, labels = view.context["classes"], view.context["labels"]
    with page.controls:
        picked = blocks.image_source(view, names)
    prepared = models.prepare(name, picked.image)
    x, img, size = prepared.x, prepared.display, prepared.size[0]
    masks = None if picked.masks is None else np.stack(
        [models.prepare(name, picked.image, m).mask for m in picked.masks])
    logits = cam.predict_logits(model, x)[0]  # compiled probe: fast, no cache needed
    probs = models.probabilities(logits)
    view.settle(top_class=int(np.argmax(probs)))
    with page.controls:
        pick = st.columns(2)
        cls = pick[0].selectbox(
            "Explain the class", range(len(names)),
            format_func=lambda i: f"{names[i]} (p = {blocks.percent(probs[i])})",
            help="Any class, not only the top one: where is the evidence for *this* class?",
            **view.widget("cls", key=f"gc_class_{name}_{picked.name}"))
        layer = pick[1].selectbox("Target layer", view.context["layers"],
                                  format_func=labels.get,
                                  **view.widget("layer", key=f"gc_layer_{name}"))
    objects = [names.index(o) if o in names else -1 for o in picked.objects]
    compared = classmaps.compared_classes(probs, objects=objects if picked.scene else (),
                                          chosen=cls)
    comparison = comparison_of(name, x, compared, layer)
    with page.figure:
        view.bar()
        where = questions.click(
            "gc_where", f"Where will Grad-CAM look for **{names[cls]}**? Click the image.",
            tolerance=6)
        blocks.class_maps_block(where, picked, img, masks, comparison, names, probs, cls)

    # ------------------------------------------------------------ step by step
    st.header(f"How Grad-CAM made the map for {names[cls]}: five steps")
    s = blocks.five_steps(view, name, x, img, picked, masks, cls, names, comparison)
    take_home = st.container()

    # ------------------------------------------------------------ comparisons
    st.header("Other methods, same image and class")
    with st.form("gc_methods"):
        chosen = st.multiselect("Methods", list(cam.METHODS), format_func=TITLES.get, wrap=True,
                                help="Score-CAM, SmoothGrad, Integrated Gradients and "
                                     "occlusion run the model many times: a few seconds.",
                                **view.widget("cmp"))
        st.form_submit_button("Compute")
    cols = st.columns(ui.grid_columns(150, len(chosen)) if chosen else 1)
    for i, method in enumerate(chosen):
        with st.spinner(f"{TITLES[method]}…"):
            show(img, method_map(name, x, np.array([cls]), layer, method), TITLES[method],
                 cols[i % len(cols)])
    overlay_key("gc_key_methods")
    st.caption("Each map scaled to its own peak: methods have different units. CAM methods "
               "explain the target layer at its resolution; the others work on input pixels.")

    st.header("Which layers tell the classes apart?")
    contrast = blocks.contrast_class(probs, cls, picked, names)
    blocks.layers_section(view, name, x, img, masks, picked, cls, contrast, labels, names)

    # ------------------------------------------------------------ trust
    st.header("Should I trust it?")
    trust_checks(view, name, x, cls, layer, img, names[cls], picked.name)

    view.publish()
    with take_home:
        view.take_home(page_numbers(s, probs, masks, comparison, objects), {
            "image": img, "probabilities": probs, "activations": s.activations[0],
            "gradients": s.gradients[0], "channel_weights": s.weights[0],
            "weighted_sum": s.weighted_sum[0], "relu": s.relu[0], "gradcam": s.cam[0],
            "gradcam_upsampled": images.resize_map(s.cam[0], size),
            "compared_classes": np.array(comparison.classes),
            "compared_maps_shared_scale": comparison.shared})
