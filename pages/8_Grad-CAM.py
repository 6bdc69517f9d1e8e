"""Grad-CAM and friends: where the model looks, and whether to believe it (C12)."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import cam, evaluate, images, models, probe, ui
from cnnviz.data import make_shapes
from cnnviz.figures import attribution as attribution_figures
from cnnviz.figures import maps, theme
from cnnviz.figures.training import probability_figure

ui.page_setup("Grad-CAM")

TITLES = cam.METHOD_TITLES
FAST = ["gradcam", "gradcam_plus_plus", "hirescam", "layercam", "saliency"]
SLOW = {"scorecam": {"top_k": 32}, "smoothgrad": {"samples": 16},
        "integrated_gradients": {"steps": 32}, "occlusion": {}}


@st.cache_data(max_entries=32, show_spinner=False)
def steps_of(name, x, cls, layer, pooling):
    return cam.gradcam_steps(ui.get_model(name), x, class_index=cls, layer=layer,
                             pooling=pooling)


@st.cache_data(max_entries=64, show_spinner=False)
def method_map(name, x, cls, layer, method):
    return cam.attribution(method, ui.get_model(name), x, class_index=cls,
                           layer=layer if method in cam.CAM_METHODS else None,
                           **SLOW.get(method, {}))[0]


@st.cache_data(max_entries=8, show_spinner="Re-initialising layers of a copy of the model…")
def sanity(name, x, cls, layer, method):
    return evaluate.randomization_check(ui.get_model(name), x, method=method,
                                        class_index=cls, layer=layer)


@st.cache_data(max_entries=8, show_spinner="Scoring every method on the shapes…")
def localisation(name, n, seed, methods, layer):
    scores = evaluate.localisation_scores(ui.get_model(name), make_shapes(n, seed=seed),
                                          (*methods, evaluate.RANDOM), layer=layer,
                                          options=SLOW, curve_steps=16)
    return pd.DataFrame([{"method": TITLES.get(s.method, "random map"),
                          "pointing game": s.pointing, "energy inside": s.energy,
                          "chance": s.chance, "deletion AUC ↓": s.deletion_auc,
                          "insertion AUC ↑": s.insertion_auc, "seconds": s.seconds}
                         for s in scores])


@st.cache_data(max_entries=16, show_spinner="Deleting and inserting pixels…")
def curves(name, x, cls, heat, seed):
    return [evaluate.deletion_insertion(ui.get_model(name), x, m, class_index=cls, steps=32)
            for m in (heat[None], evaluate.random_maps(heat[None].shape, seed=seed))]


def show(img, heat, caption, col):
    col.image(images.overlay(img, heat, alpha=0.45, colormap=theme.SEQUENTIAL, vmin=0, vmax=1),
              caption=caption, width="stretch")


def overlay_key(key):
    """The colour key of the overlays above it (maps scaled to [0, 1])."""
    st.plotly_chart(maps.colour_legend("Map value (each map scaled to [0, 1])",
                                       ticks=attribution_figures.OVERLAY_TICKS),
                    width="stretch", key=key)


name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")
st.title("Grad-CAM: where does the model look?")
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
    names = models.class_names(name)
    logits = cam.predict_logits(model, x)[0]  # compiled probe: fast, no cache needed
    probs = models.probabilities(logits)
    top = np.argsort(-probs)[:5]

    st.header("What does the model predict?")
    left, right = st.columns([1, 2])
    left.image(img, caption=f"{choice.name}, as the model sees it ({size}×{size})",
               width="stretch")
    right.plotly_chart(probability_figure([names[i] for i in top], probs[top],
                                          title="Top-5 predictions (softmax of the logits)",
                                          span=2 / 3), width="stretch")

    infos = probe.feature_layers(model, kinds=probe.default_kinds(probe.feature_layers(model)))
    labels = {i.name: i.label for i in infos}
    layer_names = list(labels)
    default = cam.default_layer(model)
    pick = st.columns(2)
    cls = pick[0].selectbox("Explain the class", range(len(names)), index=int(top[0]),
                            format_func=lambda i: f"{names[i]} (p = {probs[i]:.1%})",
                            key=f"gc_class_{name}_{choice.name}",
                            help="Any class, not only the top one: where is the evidence "
                                 "for *this* class?")
    layer = pick[1].selectbox("Target layer", layer_names, format_func=labels.get,
                              index=layer_names.index(default) if default in layer_names
                              else len(layer_names) - 1, key=f"gc_layer_{name}")
    cls_arr = np.array([cls])

    # ------------------------------------------------------------ step by step
    st.header("Grad-CAM in five steps")
    pooling = st.radio("Pool each channel's gradients with", ["mean", "max"], horizontal=True,
                       key="gc_pooling", format_func={"mean": "mean (Grad-CAM)",
                                                      "max": "max (for comparison)"}.get)
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
        chosen = st.multiselect("Methods", list(cam.METHODS), default=FAST, format_func=TITLES.get,
                                wrap=True, help="Score-CAM, SmoothGrad, Integrated Gradients and "
                                     "occlusion run the model many times: a few seconds.")
        st.form_submit_button("Compute")
    cols = st.columns(5)
    for i, method in enumerate(chosen):
        with st.spinner(f"{TITLES[method]}…"):
            show(img, method_map(name, x, cls_arr, layer, method), TITLES[method], cols[i % 5])
    overlay_key("gc_key_methods")
    st.caption("CAM methods explain the target layer at its resolution; the others "
               "(saliency, SmoothGrad, Integrated Gradients, occlusion) work on input pixels.")

    st.header("The same method at several layers")
    stages = {}
    for info in infos:  # the deepest layer of each resolution
        stages[info.shape[:2]] = info.name
    mc = st.columns([1, 3])
    method = mc[0].selectbox("Method", list(cam.CAM_METHODS), format_func=TITLES.get,
                             key="gc_layer_method")
    chosen_layers = mc[1].multiselect("Layers", layer_names, default=list(stages.values())[-4:],
                                      format_func=labels.get, key=f"gc_layers_{name}",
                                      wrap=True)
    cols = st.columns(max(1, len(chosen_layers)))
    for col, lyr in zip(cols, chosen_layers, strict=False):
        show(img, method_map(name, x, cls_arr, lyr, method), labels[lyr], col)
    overlay_key("gc_key_layers")
    st.caption("Deep layers: coarse but class-specific. Early layers: sharp but they mostly "
               "show edges and colours, whatever the class.")

    # ------------------------------------------------------------ trust
    st.header("Should I trust it?")
    tabs = st.tabs(["Sanity check: randomise the model", "Pointing game (shapes)",
                    "Deletion / insertion"])
    with tabs[0]:
        st.markdown("If the map explains what the network *learned*, destroying the learned "
                    "weights must change it. We re-initialise the layers of a **copy** of the "
                    "model from the output down, and compare each map with the original by "
                    "Spearman rank correlation (1 = same ranking).")
        with st.form("gc_sanity"):
            smethod = st.selectbox("Method", FAST, format_func=TITLES.get)
            run = st.form_submit_button("Run the randomisation check")
        wanted = (name, choice.name, cls, layer, smethod)
        if run:
            st.session_state["gc_sanity_done"] = wanted
        if st.session_state.get("gc_sanity_done") != wanted:
            st.caption("Press the button to run the check for this image, class and layer.")
        else:
            r = sanity(name, x, cls_arr, layer, smethod)
            cols = st.columns(len(r.steps))
            for col, step, m, rho in zip(cols, r.steps, r.maps, r.correlations[:, 0],
                                         strict=True):
                show(img, m[0], f"{step.replace('down to ', '↓ ')}: ρ = {rho:.2f}", col)
            overlay_key("gc_key_sanity")
            st.plotly_chart(attribution_figures.sanity_figure(r.steps, r.correlations[:, 0]),
                            width="stretch")
    with tabs[1]:
        if name != "shapes_cnn":
            st.info("The pointing game needs images whose object masks are known: pick the "
                    "built-in shapes model.")
        else:
            st.markdown("On synthetic shapes the object mask is the ground truth. **Pointing "
                        "game**: is the map's peak on the object? **Energy inside**: what share "
                        "of the map lies on it? A random map scores the object's area share "
                        "(*chance*). Each map explains the image's true class.")
            with st.form("gc_pointing"):
                fc = st.columns(2)
                n = fc[0].slider("Shape images", 20, 200, 60, step=20)
                pmethods = fc[1].multiselect("Methods", list(cam.METHODS), default=FAST,
                                             format_func=TITLES.get, wrap=True)
                go_point = st.form_submit_button("Score the methods")
            wanted = (n, tuple(pmethods), layer)
            if go_point:
                st.session_state["gc_point_done"] = wanted
            if st.session_state.get("gc_point_done") == wanted:
                table = localisation(name, n, 1234, tuple(pmethods), layer)
                st.plotly_chart(attribution_figures.localisation_figure(
                    table["method"], {k: table[k] for k in ("pointing game", "energy inside")},
                    float(table["chance"].iloc[0])), width="stretch")
                st.dataframe(table.round(3), hide_index=True)
                st.caption(f"{n} images from make_shapes(seed=1234), target layer {layer}; "
                           "deletion/insertion areas from 16-step curves, averaged.")
    with tabs[2]:
        st.markdown("Remove the pixels the map ranks highest first (replaced by the image's "
                    "mean colour): a faithful map makes the class probability **fall fast** "
                    "(small area under the deletion curve). Insert them first into a blank "
                    "image: it should **rise fast** (large area). A random map is the "
                    "reference. One image is noisy: the pointing-game tab averages the areas "
                    "over many shapes.")
        dmethod = st.selectbox("Method", FAST, format_func=TITLES.get, key="gc_del_method")
        real, rand = curves(name, x, cls_arr, method_map(name, x, cls_arr, layer, dmethod), 0)
        st.plotly_chart(attribution_figures.deletion_insertion_figure(
            real.fractions,
            {TITLES[dmethod]: real.deletion[0], "random map": rand.deletion[0]},
            {TITLES[dmethod]: real.insertion[0], "random map": rand.insertion[0]},
            ylabel=f"p({names[cls]})"), width="stretch")
        st.dataframe(pd.DataFrame({
            "map": [TITLES[dmethod], "random"],
            "deletion AUC (lower is better)": [real.deletion_auc[0], rand.deletion_auc[0]],
            "insertion AUC (higher is better)": [real.insertion_auc[0], rand.insertion_auc[0]],
        }).round(3), hide_index=True)
