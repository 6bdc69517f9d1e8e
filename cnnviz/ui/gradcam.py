"""The Grad-CAM page's own blocks: its image (a scene of shapes, or the sidebar's image),
the maps of several classes on one scale behind the question that comes first, the five
steps, and the same method at several layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz import cam, classmaps, evaluate, images, questions
from cnnviz.figures import attribution as attribution_figures
from cnnviz.figures import maps, theme
from cnnviz.figures.training import probability_figure
from cnnviz.ui.attribution import TITLES, layer_map, show, steps_of
from cnnviz.ui.layout import explain
from cnnviz.ui.pageview import PICKER_KEYS
from cnnviz.ui.pickers import image_picker
from cnnviz.ui.predict import ask
from cnnviz.views import gradcam as spec


@dataclass(frozen=True)
class PageImage:
    """The image the page explains, with one mask per object when they are known."""

    name: str
    image: np.ndarray  # uint8 (H, W, 3)
    masks: np.ndarray | None  # bool (k, H, W), object j's pixels
    objects: tuple[str, ...]  # object j's class name
    scene: bool  # several shapes drawn together (the page's own source)


@st.cache_data(max_entries=32, show_spinner=False)
def scene_image(objects: tuple, seed: int, class_names: tuple):
    from cnnviz.data import make_scene

    scene = make_scene(list(objects), seed=seed, class_names=class_names)
    return (scene.image * 255).round().astype(np.uint8), scene.masks


def image_source(view, class_names) -> PageImage:
    """The image controls (drawn where the caller is): a scene of shapes, with its
    shapes and seed, or the sidebar's image picker."""
    known = [c for c in class_names if c in spec.SHAPE_CLASSES]
    sources = list(spec.IMAGES) if known else ["picked"]
    cols = st.columns([2, 3, 1])
    source = cols[0].radio("Image", sources, format_func=spec.IMAGES.get,
                           **view.widget("img"))
    if source == "picked":
        cols[1].caption("Pick the image in the sidebar.")
        choice = image_picker(default_source="Synthetic shape")
        if choice.mask is None:
            return PageImage(choice.name, choice.image, None, (), False)
        return PageImage(choice.name, choice.image, choice.mask[None], (choice.label,), False)
    for key in PICKER_KEYS.values():  # the sidebar's image is not shown: its link neither
        if key != "model":
            st.session_state.pop(key, None)
    key = f"{view.prefix}objs"
    kwargs = view.widget("objs")
    if len(st.session_state.get(key) or ()) > spec.MAX_OBJECTS:
        st.session_state[key] = list(st.session_state[key])[:spec.MAX_OBJECTS]
        view.notices.append(f"a scene holds at most {spec.MAX_OBJECTS} shapes; showing the "
                            "first ones")
    objects = cols[1].multiselect("Shapes in the scene", known, max_selections=spec.MAX_OBJECTS,
                                  **kwargs)
    seed = cols[2].number_input("Scene seed", *spec.SEED_RANGE, step=1, **view.widget("sseed"))
    if not objects:
        objects = list(spec.SCENE)
        cols[1].caption(f"No shape picked: the scene shows the default, {', '.join(objects)}.")
    image, masks = scene_image(tuple(objects), int(seed), tuple(class_names))
    name = f"{' + '.join(objects)} (scene seed {int(seed)})"
    return PageImage(name, image, masks, tuple(objects), True)


def percent(p: float) -> str:
    """A probability as a short text: 34%, 0.4%, <0.1%."""
    return f"{p:.0%}" if p >= 0.01 else f"{p:.1%}" if p >= 0.001 else "<0.1%"


def _where(comparison, i, names, page_image, masks) -> tuple[str, bool | None]:
    """Where map ``i`` peaks, in a few words for its panel, and whether that is right."""
    if masks is None or comparison.status(i).kind == "empty":
        return "", None
    name = names[comparison.classes[i]]
    pointed = classmaps.peak_object(comparison.relu[i], masks)
    words, right = classmaps.where_it_points(name, pointed, page_image.objects)
    if name not in page_image.objects:
        place = "background" if pointed < 0 else f"the {page_image.objects[pointed]}"
        return f"(not in the image)<br>on {place}", None
    return words.split(",")[0] + (" ✓" if right else " ✗"), right


def class_maps_block(question, page_image, img, masks, comparison, names, probs,
                     cls) -> bool:
    """``question`` (a click: where will Grad-CAM look for class ``cls``?) and, once
    answered, the compared classes' maps on one scale with what they show. True once
    revealed."""
    layer = comparison.layer
    target = comparison.relu[comparison.index(cls)]
    pointed = classmaps.peak_object(target, masks) if masks is not None else -1
    if masks is not None and names[cls] in page_image.objects:
        why = (f"at {layer} the map for {names[cls]} peaks "
               f"{classmaps.where_it_points(names[cls], pointed, page_image.objects)[0]}")
    else:
        row, col = questions.peak(target)
        why = f"at {layer} the map for {names[cls]} peaks at row {row}, col {col} of its grid"
    left, right = st.columns([1, 2])
    with left:
        revealed = ask(question, questions.Measured(target, why=why),
                       context=(page_image.name, cls), image=img)
    with right:
        if not revealed:
            top = np.argsort(-probs)[:5]
            st.plotly_chart(probability_figure([names[i] for i in top], probs[top],
                                               title="What the model predicts", span=2 / 3),
                            width="stretch")
            return False
        titles, empty = [], []
        for i, c in enumerate(comparison.classes):
            status = comparison.status(i)
            where = _where(comparison, i, names, page_image, masks)[0]
            strength = status.kind or f"peak {comparison.peaks[i]:.2g}"
            titles.append("<br>".join(t for t in (
                f"<b>{names[c]}</b> · p {percent(probs[c])}", strength, where) if t))
            empty.append(status.kind == "empty")
        st.plotly_chart(attribution_figures.class_maps_figure(
            img, comparison.shared, titles, scale=comparison.scale, empty=empty),
            width="stretch")
        _maps_sentence(page_image, masks, comparison, names, probs)
    return True


def _maps_sentence(page_image, masks, comparison, names, probs) -> None:
    """What the compared maps show, computed from them (thresholds in cnnviz.classmaps)."""
    notes = [f"The map for {names[c]} is {comparison.status(i).kind}: "
             f"{comparison.status(i).reason}." for i, c in enumerate(comparison.classes)
             if comparison.status(i)]
    if masks is not None and len(page_image.objects) > 1:
        pointed = {names[c]: classmaps.peak_object(comparison.relu[i], masks)
                   for i, c in enumerate(comparison.classes)}
        empty = [names[c] for i, c in enumerate(comparison.classes)
                 if comparison.status(i).kind == "empty"]
        explain(classmaps.scene_sentence(page_image.objects, pointed, comparison.layer, empty))
        notes += [classmaps.absent_sentence(c, probs[names.index(c)], j, page_image.objects)
                  for c, j in pointed.items() if c not in page_image.objects and c not in empty]
    elif masks is not None:
        hits = [classmaps.peak_object(comparison.relu[i], masks) == 0
                for i in range(len(comparison.classes)) if not comparison.status(i)]
        explain(classmaps.single_object_sentence(page_image.objects[0], hits))
    for note in notes:
        st.caption(note)


# ------------------------------------------------------------------ the layers


def layers_section(view, name, x, img, masks, page_image, cls, contrast, labels,
                   names) -> None:
    """The same CAM method at several layers: each map scaled to its own peak unless it is
    empty or near-empty (then said, not stretched), where its peak lies when the objects'
    masks are known, and how class-specific each layer is: its map for ``cls`` against
    its map for ``contrast`` (Spearman)."""
    layer_names = view.context["layers"]
    cols = st.columns([1, 3])
    method = cols[0].selectbox("Method", list(cam.CAM_METHODS), format_func=TITLES.get,
                               **view.widget("lm", key="gc_layer_method"))
    chosen = cols[1].multiselect("Layers", layer_names, format_func=labels.get, wrap=True,
                                 **view.widget("lys", key=f"gc_layers_{name}"))
    if not chosen:
        st.info("Pick at least one layer.")
        return
    pictures = st.columns(len(chosen))
    rhos = {}
    for col, layer in zip(pictures, chosen, strict=True):
        signed = layer_map(name, x, cls, layer, method)
        other = layer_map(name, x, contrast, layer, method)
        peak, other_peak = float(signed.max()), float(other.max())
        status = classmaps.map_status(peak, float(np.abs(signed).max()),
                                      max(peak, other_peak))
        rhos[layer] = evaluate.spearman(np.maximum(signed, 0), np.maximum(other, 0))
        if status:
            col.image(img, caption=f"{labels[layer]}: {status.kind}, not stretched",
                      width="stretch")
            col.caption(f"The map is {status.kind}: {status.reason}.")
        else:
            show(img, cam.normalize(signed[None])[0], f"{labels[layer]} · peak {peak:.2g}", col)
        where = ""
        if masks is not None and status.kind != "empty" and names[cls] in page_image.objects:
            words, right = classmaps.where_it_points(
                names[cls], classmaps.peak_object(signed, masks), page_image.objects)
            where = f"Peak {words.split(',')[0]} {'✓' if right else '✗'}. "
        col.caption(f"{where}ρ with {names[contrast]}'s map: {rhos[layer]:.2f} "
                    f"({classmaps.specificity_words(rhos[layer])})")
    st.plotly_chart(maps.colour_legend("Map value (each layer's map scaled to its own peak: "
                                       "layers have different units)",
                                       ticks=attribution_figures.OVERLAY_TICKS),
                    width="stretch", key="gc_key_layers")
    explain(classmaps.layers_sentence(rhos, names[cls], names[contrast]))


def contrast_class(probs, cls: int, page_image, names) -> int:
    """The class whose maps ``cls``'s are compared with along the layers: another object
    of the scene, else the most probable other class."""
    for obj in page_image.objects:
        if obj in names and names.index(obj) != cls:
            return names.index(obj)
    return next(int(c) for c in np.argsort(-probs) if int(c) != cls)



# ------------------------------------------------------------------ the five steps

SIGNS = ("none", "fewer than half", "half or more")
NEGATIVE_SHARES = ("less than a quarter", "a quarter to three quarters",
                   "more than three quarters")


def _sign_answer(weights: np.ndarray) -> str:
    negative = int((weights < 0).sum())
    return SIGNS[0] if negative == 0 else SIGNS[1] if negative < weights.size / 2 else SIGNS[2]


def _negative_share_answer(share: float) -> str:
    return NEGATIVE_SHARES[0] if share < 0.25 else NEGATIVE_SHARES[1] if share <= 0.75 \
        else NEGATIVE_SHARES[2]


def five_steps(view, name, x, img, page_image, masks, cls, names, comparison):
    """Grad-CAM's five steps for class ``cls`` at the comparison's layer, each figure
    behind its question where it has one; returns the steps (``cam.GradCamSteps``)."""
    layer, cname = comparison.layer, names[cls]
    pooling = st.radio("Pool each channel's gradients with", list(spec.POOLINGS),
                       format_func=spec.POOLINGS.get, horizontal=True,
                       **view.widget("pool", key="gc_pooling"))
    s = steps_of(name, x, np.array([cls]), layer, pooling)
    acts, grads, weights, ws = s.activations[0], s.gradients[0], s.weights[0], s.weighted_sum[0]
    h, w, k = acts.shape
    context = (page_image.name, cls, layer, pooling)
    st.subheader("1 · Feed the image forward")
    st.markdown(f"Layer **{layer}** outputs {k} feature maps of {h}×{w}. The logit of "
                f"**{cname}** is {s.logits[0, cls]:.2f}.")
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
    negative = int((weights < 0).sum())
    if ask(questions.choice(
            "gc_signs", f"Each of the {k} channels gets one weight α, the {pooling} of its "
            f"gradients for {cname}. How many of the {k} weights are negative?", SIGNS),
            questions.Measured(_sign_answer(weights), why=(
                f"{negative} of the {k} weights are negative: where those channels fire, "
                f"they lower the score of {cname}")), context=context):
        st.plotly_chart(attribution_figures.channel_weights_figure(weights, pooling=pooling),
                        width="stretch")
    st.subheader("4 · Weighted sum of the channels, then ReLU")
    share = float((ws < 0).mean())
    if ask(questions.choice(
            "gc_relu", f"Σα·A for {cname} is negative where the layer speaks against it. "
            f"At what share of the {h}×{w} positions does ReLU set it to zero?",
            NEGATIVE_SHARES),
            questions.Measured(_negative_share_answer(share), why=(
                f"Σα·A is negative at {share:.0%} of the positions; ReLU keeps only the "
                f"evidence for {cname}")), context=context):
        c4 = st.columns(2)
        c4[0].plotly_chart(maps.map_figure(ws, title="Σ α·A (signed)",
                                           colorscale=theme.DIVERGING, height=360),
                           width="stretch")
        c4[1].plotly_chart(maps.map_figure(s.relu[0], title="ReLU: keep the evidence FOR "
                                           "the class", colorscale=theme.SEQUENTIAL, vmin=0,
                                           height=360), width="stretch")
    _step_five(img, page_image, masks, s, comparison, names, pooling)
    return s


def _step_five(img, page_image, masks, s, comparison, names, pooling) -> None:
    cls, size = int(s.classes[0]), img.shape[0]
    st.subheader("5 · Upsample to the image and superimpose")
    peak = float(s.relu[0].max())
    shared = pooling == "mean"
    top = comparison.scale if shared else (peak if peak > 0 else 1.0)
    c5 = st.columns(3)
    c5[0].image(img, caption="image", width="stretch")
    c5[1].plotly_chart(maps.map_figure(
        images.resize_map(s.relu[0], size), title=f"Map upsampled {s.relu.shape[1]}→{size}",
        colorscale=theme.SEQUENTIAL, vmin=0, vmax=top, colorbar_title="ReLU(Σα·A)",
        span=1 / 3), width="stretch")
    show(img, s.relu[0] / top, f"Grad-CAM for '{names[cls]}'", c5[2])
    st.caption("On the scale of the maps at the top (their largest peak)." if shared else
               "Scaled to its own peak: max pooling changes the units.")
    status = classmaps.map_status(peak, float(np.abs(s.weighted_sum[0]).max()),
                                  float(comparison.peaks.max()) if shared else None)
    if status:
        st.info(f"The map for {names[cls]} is {status.kind}: {status.reason}. It is drawn "
                "as it is, not stretched to full colour.")
    if masks is not None and names[cls] in page_image.objects:
        j = page_image.objects.index(names[cls])
        where = classmaps.where_it_points(names[cls], classmaps.peak_object(s.cam[0], masks),
                                          page_image.objects)[0]
        st.caption(f"Ground truth: the map's peak is **{where}**; "
                   f"{evaluate.energy_inside(s.cam, masks[j][None])[0]:.0%} of the map's mass "
                   f"lies on the {names[cls]}, which covers {masks[j].mean():.0%} of the image.")
    if pooling == "max":
        mean_map = steps_of_mean(s, comparison)
        rho = evaluate.spearman(mean_map, s.cam[0])
        agree = ("here the two rank the positions alike" if rho >= classmaps.SAME_RANKING
                 else "here they differ")
        st.warning(f"Max pooling lets one extreme pixel decide a channel's weight; the mean "
                   f"measures how much the *whole* channel matters. Rank correlation with "
                   f"the mean map: {rho:.2f}: {agree} (ρ ≥ {classmaps.SAME_RANKING:g} counts "
                   "as alike).")


def steps_of_mean(s, comparison) -> np.ndarray:
    """The mean-pooled (true Grad-CAM) map of the steps' class, from the comparison."""
    return np.maximum(comparison.signed[comparison.index(int(s.classes[0]))], 0)
