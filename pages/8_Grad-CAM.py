"""Grad-CAM and friends: where the model looks, and whether to believe it (C12)."""

import numpy as np
import streamlit as st

from cnnviz import cam, evaluate, images, models, ui
from cnnviz.figures import attribution as attribution_figures
from cnnviz.figures import maps, theme
from cnnviz.figures.training import probability_figure
from cnnviz.notebooks.gradcam import numbers as page_numbers
from cnnviz.ui.attribution import TITLES, method_map, overlay_key, show, steps_of, trust_checks
from cnnviz.views import gradcam as spec

ui.page_setup("Grad-CAM")

view = ui.page_view("gradcam", prefix="gc_")
name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")
st.title("Grad-CAM: where does the model look?")
view.bar()
st.markdown(
    "Grad-CAM asks a trained network **which places in a feature map raised the score of "
    "one class**. It needs one forward pass and one backward pass: the gradient of the "
    "class *logit* (the score before softmax, which does not saturate) with respect to "
    "a convolutional layer's activations.")

with ui.guard("the prediction"):
    model = ui.get_model(name)
    prepared = models.prepare(name, choice.image, mask=choice.mask)
    x, img, mask = prepared.x, prepared.display, prepared.mask
    size = prepared.size[0]
    logits = cam.predict_logits(model, x)[0]  # compiled probe: fast, no cache needed
    probs = models.probabilities(logits)
    top = np.argsort(-probs)[:5]
    view.settle(**spec.facts(model, name), top_class=int(top[0]))
    names, labels = view.context["classes"], view.context["labels"]
    layer_names = view.context["layers"]

    st.header("What does the model predict?")
    left, right = st.columns([1, 2])
    left.image(img, caption=f"{choice.name}, as the model sees it ({size}×{size})",
               width="stretch")
    right.plotly_chart(probability_figure([names[i] for i in top], probs[top],
                                          title="Top-5 predictions (softmax of the logits)",
                                          span=2 / 3), width="stretch")

    pick = st.columns(2)
    cls = pick[0].selectbox("Explain the class", range(len(names)),
                            format_func=lambda i: f"{names[i]} (p = {probs[i]:.1%})",
                            help="Any class, not only the top one: where is the evidence "
                                 "for *this* class?",
                            **view.widget("cls", key=f"gc_class_{name}_{choice.name}"))
    layer = pick[1].selectbox("Target layer", layer_names, format_func=labels.get,
                              **view.widget("layer", key=f"gc_layer_{name}"))
    cls_arr = np.array([cls])

    # ------------------------------------------------------------ step by step
    st.header("Grad-CAM in five steps")
    pooling = st.radio("Pool each channel's gradients with", list(spec.POOLINGS),
                       format_func=spec.POOLINGS.get, horizontal=True,
                       **view.widget("pool", key="gc_pooling"))
    s = steps_of(name, x, cls_arr, layer, pooling)
    acts, grads, weights = s.activations[0], s.gradients[0], s.weights[0]
    st.subheader("1 · Feed the image forward")
    st.markdown(f"Layer **{layer}** outputs {acts.shape[2]} feature maps of "
                f"{acts.shape[0]}×{acts.shape[1]}. The logit of **{names[cls]}** is "
                f"{s.logits[0, cls]:.2f}.")
    st.subheader("2 · Gradient of the class logit with respect to every activation")
    contribution = np.abs(weights) * acts.mean(axis=(0, 1))
    shown = sorted(np.argsort(-contribution)[:6].tolist())
    st.plotly_chart(attribution_figures.gradient_channels_figure(acts, grads, shown),
                    width="stretch")
    st.caption("The six channels that contribute most. Top: what the channel detects; "
               "bottom: red where growing it would raise the score, blue where it would lower it.")
    if np.allclose(grads, grads[:1, :1], rtol=1e-4, atol=1e-12):
        st.info("Here every position of a channel gets the *same* gradient: the layer feeds "
                "global average pooling and one Dense layer, so mean and max pooling agree "
                "(and Grad-CAM equals the original CAM). Pick an earlier layer to see them differ.")
    st.subheader(f"3 · One weight per channel: the {pooling} of its gradients (signed)")
    st.plotly_chart(attribution_figures.channel_weights_figure(weights, pooling=pooling),
                    width="stretch")
    st.subheader("4 · Weighted sum of the channels, then ReLU")
    c4 = st.columns(2)
    c4[0].plotly_chart(maps.map_figure(s.weighted_sum[0], title="Σ α·A (signed)",
                                       colorscale=theme.DIVERGING, height=360),
                       width="stretch")
    c4[1].plotly_chart(maps.map_figure(s.relu[0], title="ReLU: keep the evidence FOR the class",
                                       colorscale=theme.SEQUENTIAL, height=360),
                       width="stretch")
    if not s.relu[0].max() > 0:
        st.info("The weighted sum is negative (or zero) everywhere: no location of this layer "
                "speaks *for* this class, so after ReLU the map is empty.")
    st.subheader("5 · Upsample to the image and superimpose")
    c5 = st.columns(3)
    c5[0].image(img, caption="image", width="stretch")
    c5[1].plotly_chart(maps.map_figure(images.resize_map(s.cam[0], size),
                                       title=f"Map upsampled {acts.shape[0]}→{size}",
                                       colorscale=theme.SEQUENTIAL, vmin=0, vmax=1,
                                       span=1 / 3), width="stretch")
    show(img, s.cam[0], f"Grad-CAM for '{names[cls]}'", c5[2])
    if mask is not None:
        hit = evaluate.pointing_game(s.cam, mask[None])[0]
        st.caption(f"Ground truth for this shape: the map's peak is **{'on' if hit else 'off'}** "
                   f"the object; {evaluate.energy_inside(s.cam, mask[None])[0]:.0%} of the "
                   f"map's mass lies on it, which covers {mask.mean():.0%} of the image.")
    if pooling == "max":
        mean_cam = steps_of(name, x, cls_arr, layer, "mean").cam[0]
        rho = evaluate.spearman(mean_cam, s.cam[0])
        st.warning(f"Max pooling lets one extreme pixel decide a channel's weight; the mean "
                   f"measures how much the *whole* channel matters. Rank correlation with "
                   f"the mean map: {rho:.2f}.")

    # ------------------------------------------------------------ comparisons
    st.header("Other methods, same image and class")
    with st.form("gc_methods"):
        chosen = st.multiselect("Methods", list(cam.METHODS), format_func=TITLES.get, wrap=True,
                                help="Score-CAM, SmoothGrad, Integrated Gradients and "
                                     "occlusion run the model many times: a few seconds.",
                                **view.widget("cmp"))
        st.form_submit_button("Compute")
    cols = st.columns(5)
    for i, method in enumerate(chosen):
        with st.spinner(f"{TITLES[method]}…"):
            show(img, method_map(name, x, cls_arr, layer, method), TITLES[method], cols[i % 5])
    overlay_key("gc_key_methods")
    st.caption("CAM methods explain the target layer at its resolution; the others "
               "(saliency, SmoothGrad, Integrated Gradients, occlusion) work on input pixels.")

    st.header("The same method at several layers")
    mc = st.columns([1, 3])
    method = mc[0].selectbox("Method", list(cam.CAM_METHODS), format_func=TITLES.get,
                             **view.widget("lm", key="gc_layer_method"))
    chosen_layers = mc[1].multiselect("Layers", layer_names, format_func=labels.get, wrap=True,
                                      **view.widget("lys", key=f"gc_layers_{name}"))
    cols = st.columns(max(1, len(chosen_layers)))
    for col, lyr in zip(cols, chosen_layers, strict=False):
        show(img, method_map(name, x, cls_arr, lyr, method), labels[lyr], col)
    overlay_key("gc_key_layers")
    st.caption("Deep layers: coarse but class-specific. Early layers: sharp but they mostly "
               "show edges and colours, whatever the class.")

    # ------------------------------------------------------------ trust
    st.header("Should I trust it?")
    trust_checks(view, name, x, cls, layer, img, names[cls], choice.name)

    view.publish()
    view.take_home(page_numbers(s, probs, mask), {
        "image": img, "probabilities": probs, "activations": acts, "gradients": grads,
        "channel_weights": weights, "weighted_sum": s.weighted_sum[0], "relu": s.relu[0],
        "gradcam": s.cam[0], "gradcam_upsampled": images.resize_map(s.cam[0], size)})
