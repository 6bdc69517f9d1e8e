"""The Grad-CAM page's cached computations and its "Should I trust it?" checks.

The computations are cached on explicit values (model name, image array, class,
layer, method), shared by every session: a class that opens one link computes
each map once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import cam, classmaps, evaluate, images, models
from cnnviz.data import make_shapes
from cnnviz.figures import attribution as attribution_figures
from cnnviz.figures import maps, theme
from cnnviz.ui.resources import get_model
from cnnviz.views.gradcam import FAST, SHAPES_MODEL

TITLES = cam.METHOD_TITLES
#: settings of the methods that run the model many times (a few seconds each)
SLOW = {"scorecam": {"top_k": 32}, "smoothgrad": {"samples": 16},
        "integrated_gradients": {"steps": 32}, "occlusion": {}}
POINTING_SEED = 1234


@st.cache_data(max_entries=32, show_spinner=False)
def steps_of(name, x, cls, layer, pooling):
    return cam.gradcam_steps(get_model(name), x, class_index=cls, layer=layer, pooling=pooling)


@st.cache_data(max_entries=16, show_spinner=False)
def comparison_of(name, x, classes, layer):
    """Grad-CAM of several classes of one image, on one scale (``classmaps``)."""
    return classmaps.compare_classes(get_model(name), x, classes, layer=layer)


@st.cache_data(max_entries=64, show_spinner=False)
def layer_map(name, x, cls, layer, method):
    """A CAM method's Σ weight·A for class ``cls`` at ``layer``, before ReLU and scaling."""
    return cam.signed_map(method, get_model(name), x, class_index=np.array([cls]),
                          layer=layer, **SLOW.get(method, {}))[0]


@st.cache_data(max_entries=64, show_spinner=False)
def method_map(name, x, cls, layer, method):
    return cam.attribution(method, get_model(name), x, class_index=cls,
                           layer=layer if method in cam.CAM_METHODS else None,
                           **SLOW.get(method, {}))[0]


@st.cache_data(max_entries=8, show_spinner="Re-initialising layers of a copy of the model…")
def sanity(name, x, cls, layer, method):
    return evaluate.randomization_check(get_model(name), x, method=method,
                                        class_index=cls, layer=layer)


@st.cache_data(max_entries=8, show_spinner="Scoring every method on the shapes…")
def localisation(name, n, seed, methods, layer):
    return evaluate.localisation_scores(get_model(name), make_shapes(n, seed=seed),
                                        (*methods, evaluate.RANDOM), layer=layer,
                                        options=SLOW, curve_steps=16)


@st.cache_data(max_entries=8, show_spinner="Explaining every object of every scene…")
def scene_scores(name, n, objects, seed, methods, layer):
    scenes = classmaps.make_scenes(n, objects=objects, seed=seed,
                                   class_names=tuple(models.class_names(name)))
    return classmaps.scene_pointing(get_model(name), scenes, (*methods, evaluate.RANDOM),
                                    layer=layer, options=SLOW)


@st.cache_data(max_entries=16, show_spinner="Deleting and inserting pixels…")
def curves(name, x, cls, heat, seed):
    return [evaluate.deletion_insertion(get_model(name), x, m, class_index=cls, steps=32)
            for m in (heat[None], evaluate.random_maps(heat[None].shape, seed=seed))]


def show(img, heat, caption, col):
    """A map laid over the image, on the maps' fixed [0, 1] colour scale."""
    col.image(images.overlay(img, heat, alpha=0.45, colormap=theme.SEQUENTIAL, vmin=0, vmax=1),
              caption=caption, width="stretch")


def overlay_key(key):
    """The colour key of the overlays above it (maps scaled to [0, 1])."""
    st.plotly_chart(maps.colour_legend("Map value (each map scaled to [0, 1])",
                                       ticks=attribution_figures.OVERLAY_TICKS),
                    width="stretch", key=key)


def _ran(view, name: str, button: bool, wanted: tuple) -> bool:
    """Whether a check's result is shown: its button was pressed for these settings, or
    the link that opened the page showed it. Recorded in the view as ``name``."""
    done = f"gc_{name}_done"
    if button or view.linked(name):
        st.session_state[done] = wanted
    shown = st.session_state.get(done) == wanted
    view.set(name, shown)
    return shown


def trust_checks(view, name, x, cls, layer, img, class_name, image_name):
    """The tabs of "Should I trust it?": the pointing game per class on scenes and on
    single shapes, randomising the model, deletion and insertion curves; each with a
    sentence computed from its numbers."""
    cls_arr = np.array([cls])
    tabs = st.tabs(["Each class on its own object (scenes)", "Pointing game (single shapes)",
                    "Sanity check: randomise the model", "Deletion / insertion"])
    with tabs[0]:
        if name != SHAPES_MODEL:
            st.info("Scenes of shapes need the built-in shapes model.")
        else:
            _scene_pointing(view, name, layer)
    with tabs[1]:
        if name != SHAPES_MODEL:
            st.info("The pointing game needs images whose object masks are known: pick the "
                    "built-in shapes model.")
        else:
            _pointing_game(view, name, layer)
    with tabs[2]:
        _sanity(view, name, x, cls_arr, layer, img, image_name)
    with tabs[3]:
        _deletion(view, name, x, cls_arr, layer, class_name)


def _scene_pointing(view, name, layer):
    st.markdown("Scenes of two or three shapes of different classes, each with its mask. "
                "For each object, explain **its** class: does the map peak on that object, "
                "on another one, or on the background? A random map scores the object's area.")
    with st.form("gc_scenes"):
        fc = st.columns([1, 1, 2])
        n = fc[0].slider("Scenes", 20, 400, step=20, **view.widget("sn"))
        k = fc[1].slider("Shapes per scene", 2, 3, **view.widget("sk"))
        methods = fc[2].multiselect("Methods", list(cam.METHODS), format_func=TITLES.get,
                                    wrap=True, **view.widget("sp"))
        run = st.form_submit_button("Score the methods on scenes")
    if not _ran(view, "sg", run, (n, k, tuple(methods), layer)):
        return
    scores = scene_scores(name, n, k, POINTING_SEED, tuple(methods), layer)
    st.plotly_chart(attribution_figures.scene_pointing_figure(
        [TITLES.get(s.method, "random map") for s in scores],
        [s.own for s in scores], [s.other for s in scores], scores[0].chance),
        width="stretch")
    for score in scores:
        if score.method != evaluate.RANDOM:
            st.markdown("- " + classmaps.pointing_sentence(score, TITLES[score.method]))
    classes = list(scores[0].per_class)
    st.dataframe(pd.DataFrame([
        {"method": TITLES.get(s.method, "random map"), "on its own object": s.own,
         "on another object": s.other, "chance": s.chance,
         **{c: s.per_class[c][0] for c in classes}, "seconds": s.seconds}
        for s in scores]).round(3), hide_index=True)
    st.caption(f"{n} scenes of {k} shapes from classmaps.make_scenes(seed={POINTING_SEED}), "
               f"target layer {layer}; {scores[0].maps} maps per method. Per-class columns: "
               "the share of that class's maps that peak on its own object.")


def _sanity(view, name, x, cls_arr, layer, img, image_name):
    st.markdown("If the map explains what the network *learned*, destroying the learned "
                "weights must change it. We re-initialise the layers of a **copy** of the "
                "model from the output down, and compare each map with the original by "
                "Spearman rank correlation (1 = same ranking).")
    with st.form("gc_sanity"):
        smethod = st.selectbox("Method", FAST, format_func=TITLES.get, **view.widget("sm"))
        run = st.form_submit_button("Run the randomisation check")
    if not _ran(view, "sanity", run, (name, image_name, int(cls_arr[0]), layer, smethod)):
        st.caption("Press the button to run the check for this image, class and layer.")
        return
    r = sanity(name, x, cls_arr, layer, smethod)
    cols = st.columns(len(r.steps))
    for col, step, m, rho in zip(cols, r.steps, r.maps, r.correlations[:, 0], strict=True):
        show(img, m[0], f"{step.replace('down to ', '↓ ')}: ρ = {rho:.2f}", col)
    overlay_key("gc_key_sanity")
    st.plotly_chart(attribution_figures.sanity_figure(r.steps, r.correlations[:, 0]),
                    width="stretch")
    st.markdown(evaluate.randomization_sentence(r, TITLES[smethod]))


def _deletion(view, name, x, cls_arr, layer, class_name):
    st.markdown("Remove the pixels the map ranks highest first (replaced by the image's "
                "mean colour): a faithful map makes the class probability **fall fast** "
                "(small area under the deletion curve). Insert them first into a blank "
                "image: it should **rise fast** (large area). A random map is the reference.")
    dmethod = st.selectbox("Method", FAST, format_func=TITLES.get,
                           **view.widget("dm", key="gc_del_method"))
    real, rand = curves(name, x, cls_arr, method_map(name, x, cls_arr, layer, dmethod), 0)
    st.plotly_chart(attribution_figures.deletion_insertion_figure(
        real.fractions,
        {TITLES[dmethod]: real.deletion[0], "random map": rand.deletion[0]},
        {TITLES[dmethod]: real.insertion[0], "random map": rand.insertion[0]},
        ylabel=f"p({class_name})"), width="stretch")
    st.dataframe(pd.DataFrame({
        "map": [TITLES[dmethod], "random"],
        "deletion AUC (lower is better)": [real.deletion_auc[0], rand.deletion_auc[0]],
        "insertion AUC (higher is better)": [real.insertion_auc[0], rand.insertion_auc[0]],
    }).round(3), hide_index=True)
    st.markdown(evaluate.curves_sentence(TITLES[dmethod], real.deletion_auc[0],
                                         real.insertion_auc[0], rand.deletion_auc[0],
                                         rand.insertion_auc[0]))


def _pointing_game(view, name, layer):
    st.markdown("On synthetic shapes the object mask is the ground truth. **Pointing "
                "game**: is the map's peak on the object? **Energy inside**: what share "
                "of the map lies on it? A random map scores the object's area share "
                "(*chance*). Each map explains the image's true class.")
    with st.form("gc_pointing"):
        fc = st.columns(2)
        n = fc[0].slider("Shape images", 20, 200, step=20, **view.widget("pn"))
        pmethods = fc[1].multiselect("Methods", list(cam.METHODS), format_func=TITLES.get,
                                     wrap=True, **view.widget("pm"))
        go_point = st.form_submit_button("Score the methods")
    if _ran(view, "pg", go_point, (n, tuple(pmethods), layer)):
        scores = localisation(name, n, POINTING_SEED, tuple(pmethods), layer)
        table = pd.DataFrame([{"method": TITLES.get(s.method, "random map"),
                               "pointing game": s.pointing, "energy inside": s.energy,
                               "chance": s.chance, "deletion AUC ↓": s.deletion_auc,
                               "insertion AUC ↑": s.insertion_auc, "seconds": s.seconds}
                              for s in scores])
        st.plotly_chart(attribution_figures.localisation_figure(
            table["method"], {k: table[k] for k in ("pointing game", "energy inside")},
            float(table["chance"].iloc[0])), width="stretch")
        st.markdown(evaluate.localisation_sentence(scores, TITLES))
        st.dataframe(table.round(3), hide_index=True)
        st.caption(f"{n} images from make_shapes(seed={POINTING_SEED}), target layer {layer}; "
                   "deletion/insertion areas from 16-step curves, averaged.")
