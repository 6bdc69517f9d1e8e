"""Streamlit helpers of the Activations page: cached forward passes and probes, the
second image of the side-by-side comparison, and clicks on map tiles."""

from __future__ import annotations

import streamlit as st

from cnnviz import activations, hierarchy, views
from cnnviz.ui import state
from cnnviz.ui.pickers import ImageChoice, image_picker
from cnnviz.ui.resources import get_model

#: the second picker's widget keys (cnnviz.ui.pickers with key "image_b"), by parameter
SECOND_KEYS = {"src2": "image_b_source", "sample2": "image_b_sample",
               "shape2": "image_b_shape", "seed2": "image_b_shape_seed"}


@st.cache_data(max_entries=32, show_spinner="Running the model…")
def acts_of(model_name: str, x, layer_names: tuple[str, ...]):
    return activations.extract(get_model(model_name), x, layer_names)


@st.cache_data(max_entries=8, show_spinner=False)
def statistics(model_name: str, x, listed: tuple[str, ...], depths: dict) -> list[dict]:
    """Size, channels and zeros (after each non-linearity) of the listed layers."""
    model = get_model(model_name)
    zeros_at = activations.nonlinearity_layers(model, listed)
    needed = tuple(dict.fromkeys([*listed, *(v for v in zeros_at.values() if v)]))
    maps = activations.extract(model, x, needed)
    return activations.layer_statistics(maps, depths, zeros_at=zeros_at, layers=listed)


@st.cache_data(max_entries=8, show_spinner="Probing every layer with a linear classifier…")
def feature_hierarchy(model_name: str, listed: tuple[str, ...], depths: dict, n: int,
                      seed: int) -> hierarchy.Hierarchy:
    x, labels, _ = hierarchy.probe_images(model_name, n, seed)
    return hierarchy.measure(get_model(model_name), x, labels, listed, depths)


def second_image_picker(view) -> ImageChoice:
    """The sidebar's "Second image" picker, its choice part of the view (src2...)."""
    for name, key in SECOND_KEYS.items():
        value = view.linked(name)
        if value is not None:
            state.choose(key, views.SOURCES[value] if name == "src2" else value)
    choice = image_picker(key="image_b", label="Second image (side by side)",
                          default_source="Synthetic shape", default_shape="square")
    tokens = {label: token for token, label in views.SOURCES.items()}
    source = tokens.get(st.session_state.get(SECOND_KEYS["src2"]))
    if source is None:  # an upload cannot travel: the link opens on the default
        view.set("src2", None)
        st.sidebar.caption("The link to this view opens on a square as the second image.")
        return choice
    view.set("src2", source)
    for name in (("sample2",) if source == "sample" else ("shape2", "seed2")):
        view.set(name, st.session_state.get(SECOND_KEYS[name]))
    return choice


def take_click(chart_key: str, layer_key: str, channel_key: str) -> None:
    """A tile clicked in chart ``chart_key`` (label "layer:channel") becomes the enlarged
    map: written to the view's keys before they are checked."""
    event = st.session_state.get(chart_key) or {}
    picked = [p.get("customdata") for p in event.get("selection", {}).get("points", [])]
    if picked and st.session_state.get(f"_seen_{chart_key}") != picked:
        st.session_state[f"_seen_{chart_key}"] = picked  # a new click, on this chart
        layer, channel = str(picked[-1]).rsplit(":", 1)
        st.session_state[layer_key], st.session_state[channel_key] = layer, int(channel)


def pair_figures(model_name: str, x, x2, layer: str, name_a: str, name_b: str, k: int):
    """Maps of ``layer`` for two images on one scale: (maps a, maps b, the figure of the
    ``k`` channels stronger for each image, shown for both)."""
    import numpy as np

    from cnnviz.figures import activations as activation_figures

    a = acts_of(model_name, x, (layer,))[layer][0]
    b = acts_of(model_name, x2, (layer,))[layer][0]
    diff = activations.channel_strength(a) - activations.channel_strength(b)
    for_a = list(np.argsort(-diff, kind="stable")[:k])
    for_b = list(np.argsort(diff, kind="stable")[:k])
    pair = np.concatenate([a, b], axis=0)  # one scale for both images
    both = activations.scale_for_display(pair, mode="layer")
    scaled_a, scaled_b = both[:, :a.shape[0]], both[:, a.shape[0]:]

    def row(title, scaled, top):
        return title, scaled[top], [f"{layer}:{c}" for c in top]

    rows = [row(f"{name_a}: the channels stronger for it", scaled_a, for_a),
            row(f"{name_b}: the same channels", scaled_b, for_a),
            row(f"{name_b}: the channels stronger for it", scaled_b, for_b),
            row(f"{name_a}: the same channels", scaled_a, for_b)]
    figure = activation_figures.map_rows_figure(
        rows, cols=k, vmin=float(pair.min()), vmax=float(pair.max()),
        colorbar_title="activation")
    return a, b, figure
