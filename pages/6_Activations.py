"""Activations: what each layer of a real CNN sees (concepts C9, C10)."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import activations, images, models, probe, questions, ui
from cnnviz.figures import activations as activation_figures
from cnnviz.figures import theme
from cnnviz.figures.maps import map_figure

ui.page_setup("Activations")

STRONGEST = 8  # maps per layer in the overview
PER_PAGE = 32  # maps per page when browsing every channel of a layer
SCALES = {"channel": "its own min–max (see every pattern)",
          "layer": "the layer's range (see which are strong)"}


@st.cache_data(max_entries=8, show_spinner=False)
def layer_list(model_name):
    return probe.feature_layers(ui.get_model(model_name))


@st.cache_data(max_entries=32, show_spinner="Running the model…")
def acts_of(model_name, x, layer_names):
    return activations.extract(ui.get_model(model_name), x, layer_names)


def spread(options, k):
    """k options evenly spread from first to last."""
    if len(options) <= k:
        return list(options)
    return [options[round(i * (len(options) - 1) / (k - 1))] for i in range(k)]


def size_of(layer, maps):
    return f"{layer} — {maps.shape[0]}×{maps.shape[1]} pixels, {maps.shape[2]} channels"


def remember_click(key):
    """The tile a student clicked in chart ``key`` becomes the enlarged map."""
    event = st.session_state.get(key) or {}
    picked = [p.get("customdata") for p in event.get("selection", {}).get("points", [])]
    if picked and st.session_state.get(f"act_seen_{key}") != picked:
        st.session_state[f"act_seen_{key}"] = picked  # a new click, on this chart
        st.session_state["act_clicked"] = picked[-1]


page = ui.page_layout(
    "What does each layer see?",
    "Every convolution layer turns the image into a stack of **feature maps**, one per "
    "filter. Early layers keep the image's size and light up on edges and colours; deep "
    "layers are smaller, with many more channels, each firing on a rarer pattern.")

name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")
other = ui.image_picker(key="image_b", label="Second image (side by side)",
                        default_source="Synthetic shape", default_shape="square")

with ui.guard("reading the model's layers"):
    infos = layer_list(name)
    by_name = {i.name: i for i in infos}
    with page.controls:
        layers_slot = st.empty()  # filled once the kinds below say which layers to list
        c1, c2 = st.columns([3, 2])
        mode = c1.radio("Scale each map by", list(SCALES), format_func=SCALES.get,
                        key="act_scale")
        kinds = c2.multiselect("Layer kinds to list", probe.KINDS,
                               default=list(probe.default_kinds(infos)),
                               key=f"act_kinds_{name}", wrap=True,
                               help="In MobileNet/ResNet the convolution is linear and a "
                                    "ReLU layer follows it: look at the activation layers.")
        listed = [i.name for i in infos if i.kind in kinds] or [i.name for i in infos]
        chosen = layers_slot.multiselect("Layers, early to deep", listed,
                                         default=spread(listed, 3),
                                         format_func=lambda n: by_name[n].label,
                                         key=f"act_layers_{name}")
    chosen = sorted(chosen, key=listed.index)
    prepared = models.prepare(name, choice.image)
    x, shown_image = prepared.x, prepared.display
    acts = acts_of(name, x, tuple(chosen)) if chosen else {}

    with page.figure:
        revealed = False
        if not chosen:
            st.info("Choose at least one layer under the figure.")
        else:
            last, in_width = chosen[-1], x.shape[2]
            out_width, out_channels = acts[last].shape[2:]
            revealed = ui.ask(
                questions.number("act_width", f"The input is {in_width} pixels wide. How many "
                                 f"pixels wide is each feature map of {last}?", unit="pixels"),
                questions.Measured(out_width, why=(
                    f"the strides and poolings before {last} shrink the map "
                    f"{in_width / out_width:g}-fold, from {in_width} to {out_width} pixels, "
                    f"while it grows to {out_channels} channels: space is traded for kinds "
                    "of features")))
        if revealed:
            rows = []
            for layer in chosen:
                maps = acts[layer][0]
                strongest = activations.strongest_channels(maps)[:STRONGEST]
                scaled = activations.scale_for_display(maps, mode=mode)[strongest]
                rows.append((size_of(layer, maps), scaled, [f"{layer}:{k}" for k in strongest]))
            st.plotly_chart(activation_figures.map_rows_figure(
                rows, cols=STRONGEST, scale_labels=(("min", "max") if mode == "channel"
                                                    else ("layer min", "layer max"))),
                width="stretch", on_select="rerun", selection_mode=("points",),
                key=f"act_overview_{name}")
            remember_click(f"act_overview_{name}")
            st.caption(f"The {STRONGEST} strongest maps of each layer (highest mean "
                       "activation first). Click one to see it large, below.")

    clicked = st.session_state.get("act_clicked")
    if revealed and (not isinstance(clicked, str) or clicked.split(":")[0] not in acts):
        clicked = f"{chosen[0]}:{activations.strongest_channels(acts[chosen[0]][0])[0]}"
    if revealed:
        layer, channel = clicked.rsplit(":", 1)
        fmap = acts[layer][0][..., int(channel)]
        st.subheader(f"Enlarged: {layer}, channel {channel}")
        big = st.columns(2)
        big[0].plotly_chart(map_figure(
            images.overlay(shown_image, fmap, alpha=0.5, colormap=theme.SEQUENTIAL),
            title="Over the input image (bilinear upsampling)",
            overlay_scale=(theme.SEQUENTIAL, *theme.value_range(fmap), "activation")),
            width="stretch")
        big[1].plotly_chart(map_figure(
            fmap, title=f"The map itself, {fmap.shape[0]}×{fmap.shape[1]}: max "
                        f"{fmap.max():.3g}, {np.mean(fmap <= 0):.0%} zeros",
            colorbar_title="activation"), width="stretch")

    tab_all, tab_depth, tab_pair = st.tabs(
        ["Every channel of a layer", "Statistics vs depth", "Two images side by side"])

    with tab_all:
        if revealed:
            c1, c2 = st.columns(2)
            layer = c1.selectbox("Layer", chosen, format_func=lambda n: by_name[n].label,
                                 key="act_all_layer")
            maps = acts[layer][0]
            start = 0
            if maps.shape[2] > PER_PAGE:
                start = c2.slider("Show channels from rank", 0, maps.shape[2] - PER_PAGE, 0,
                                  step=PER_PAGE // 2, key=f"act_start_{name}_{layer}")
            order = activations.strongest_channels(maps)
            shown = order[start:start + PER_PAGE]
            scaled = activations.scale_for_display(maps, mode=mode)[shown]
            st.subheader(size_of(layer, maps))
            scale = ({"vmin": float(maps.min()), "vmax": float(maps.max()),
                      "colorbar_title": "activation"} if mode == "layer" else {})
            st.plotly_chart(activation_figures.feature_map_grid_figure(
                scaled, [f"{layer}:{k}" for k in shown], cols=8, **scale),
                width="stretch", on_select="rerun", selection_mode=("points",),
                key=f"act_grid_{name}_{layer}")
            remember_click(f"act_grid_{name}_{layer}")
            st.caption(f"Ranks {start + 1}–{start + len(shown)} by mean activation, "
                       "strongest first.")

    with tab_depth:
        everything = acts_of(name, x, tuple(listed))
        rows = activations.layer_statistics(everything, {n: by_name[n].depth for n in listed})
        first, last = rows[0], rows[-1]
        change = last["fraction zero"] - first["fraction zero"]
        trend = ("it grows" if change > 0.05 else "it shrinks" if change < -0.05
                 else "it stays about the same")
        if ui.ask(questions.choice(
                "act_zeros", f"Going deeper, from {first['layer']} to {last['layer']}, what "
                "happens to the share of activations that are exactly zero?",
                ["it grows", "it shrinks", "it stays about the same"]),
                questions.Measured(trend, why=(
                    f"zeros go from {first['fraction zero']:.0%} in {first['layer']} to "
                    f"{last['fraction zero']:.0%} in {last['layer']} for this image"))):
            st.plotly_chart(activation_figures.statistics_figure(rows), width="stretch")
            ui.explain(
                f"From **{first['layer']}** to **{last['layer']}** the maps shrink from "
                f"{first['height']}×{first['width']} to {last['height']}×{last['width']} pixels "
                f"while channels grow from {first['channels']} to {last['channels']}: space is "
                "traded for kinds of features.",
                f"Zeros go from {first['fraction zero']:.0%} to {last['fraction zero']:.0%}: a "
                "deep channel answers *is my pattern here?* and is silent most of the time.")
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    with tab_pair:
        pair_layer = st.selectbox("Layer", listed, index=len(listed) // 2,
                                  format_func=lambda n: by_name[n].label, key="act_pair")
        x2 = models.prepare(name, other.image).x
        a = acts_of(name, x, (pair_layer,))[pair_layer][0]
        b = acts_of(name, x2, (pair_layer,))[pair_layer][0]
        diff = activations.channel_strength(a) - activations.channel_strength(b)
        for_a = list(np.argsort(-diff, kind="stable")[:STRONGEST])
        for_b = list(np.argsort(diff, kind="stable")[:STRONGEST])
        pair = np.concatenate([a, b], axis=0)  # one scale for both images
        both = activations.scale_for_display(pair, mode="layer")
        scaled_a, scaled_b = both[:, :a.shape[0]], both[:, a.shape[0]:]

        def row(title, scaled, top):
            return title, scaled[top], [f"{pair_layer}:{k}" for k in top]

        rows = [row(f"{choice.name}: the channels stronger for it", scaled_a, for_a),
                row(f"{other.name}: the same channels", scaled_b, for_a),
                row(f"{other.name}: the channels stronger for it", scaled_b, for_b),
                row(f"{choice.name}: the same channels", scaled_a, for_b)]
        pictures = st.columns(4)
        pictures[0].image(images.resize(choice.image, 160), caption=choice.name)
        pictures[1].image(images.resize(other.image, 160), caption=other.name)
        st.plotly_chart(activation_figures.map_rows_figure(
            rows, cols=STRONGEST, vmin=float(pair.min()), vmax=float(pair.max()),
            colorbar_title="activation"),
            width="stretch")
        st.plotly_chart(activation_figures.channel_strength_figure(
            [(choice.name, activations.channel_strength(a)),
             (other.name, activations.channel_strength(b))]), width="stretch")
        st.caption("Channels that fire for one image and not the other are the features "
                   "that tell them apart. Compare an early and a deep layer: where do the "
                   "two images' bars differ most?")

    with st.expander("The Keras code that produced these maps", icon=":material/code:"):
        st.code(activations.keras_code(chosen or ["block1_conv1"]), language="python",
                wrap_lines=True)
        st.caption("One extra model whose outputs are the chosen layers; one forward pass.")
