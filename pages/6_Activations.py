"""Activations: what each layer of a real CNN sees (concepts C9, C10)."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import activations, images, models, probe, questions, ui
from cnnviz.figures import activations as activation_figures
from cnnviz.figures import theme
from cnnviz.figures.maps import map_figure

ui.page_setup("Activations")

PER_PAGE = 32
COLS = 8

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


def page_of_maps(maps, order, start, mode):
    shown = order[start:start + PER_PAGE]
    return activations.scale_for_display(maps, mode=mode)[shown], shown


st.title("Activations: what each layer sees")
st.markdown(
    "Every convolution layer turns the image into a stack of **feature maps**, one per "
    "filter. Early layers keep the image's size and light up on edges and colours; deeper "
    "layers are smaller, have many more channels, and each channel fires on a rarer, more "
    "complex pattern. Below: the real maps of the model you picked, for your image.")

name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")
other = ui.image_picker(key="image_b", label="Second image (side by side)",
                        default_source="Synthetic shape", default_shape="square")

with ui.guard("reading the model's layers"):
    infos = layer_list(name)
    by_name = {i.name: i for i in infos}
    kinds = st.multiselect("Layer kinds to list", probe.KINDS,
                           default=list(probe.default_kinds(infos)), key=f"act_kinds_{name}",
                           help="In MobileNet/ResNet the convolution is linear and a ReLU "
                                "layer follows it: look at the activation layers there.")
    listed = [i.name for i in infos if i.kind in kinds] or [i.name for i in infos]
    chosen = st.multiselect("Layers to show", listed, default=spread(listed, 3),
                            format_func=lambda n: by_name[n].label, key=f"act_layers_{name}")
    c1, c2 = st.columns(2)
    mode = c1.radio("Scale each map", ["channel", "layer"], horizontal=True,
                    format_func={"channel": "by its own min–max (see every pattern)",
                                 "layer": "by the layer's max (see which are strong)"}.get)
    prepared = models.prepare(name, choice.image)
    x, shown_image = prepared.x, prepared.display

    tab_maps, tab_depth, tab_pair = st.tabs(
        ["Feature maps", "Statistics vs depth", "Two images side by side"])

    with tab_maps:
        if not chosen:
            st.info("Choose at least one layer above.")
        acts = acts_of(name, x, tuple(chosen)) if chosen else {}
        st.code(activations.keras_code(chosen or ["block1_conv1"]), language="python")
        st.caption("This is the code that produced the maps below: one extra model whose "
                   "outputs are the chosen layers, one forward pass.")
        revealed = not chosen
        if chosen:
            last, in_width = chosen[-1], x.shape[2]
            out_height, out_width, out_channels = acts[last].shape[1:]
            revealed = ui.ask(
                questions.number("act_width", f"The input is {in_width} pixels wide. How many "
                                 f"pixels wide is each feature map that this code returns for "
                                 f"{last}?", unit="pixels"),
                questions.Measured(out_width, why=(
                    f"the strides and poolings before {last} shrink the map "
                    f"{in_width / out_width:g}-fold, from {in_width} to {out_width} pixels, "
                    f"while it grows to {out_channels} channels: space is traded for kinds "
                    "of features")))
        shown_layers = chosen if revealed else []
        for layer in shown_layers:
            maps = acts[layer][0]
            order = activations.strongest_channels(maps)
            info = by_name[layer]
            st.subheader(f"{layer} — {maps.shape[0]}×{maps.shape[1]} pixels, "
                         f"{maps.shape[2]} channels")
            start = 0
            if maps.shape[2] > PER_PAGE:
                start = c2.slider(f"{layer}: show channels from rank", 0,
                                  maps.shape[2] - PER_PAGE, 0, step=PER_PAGE // 2,
                                  key=f"act_start_{name}_{layer}")
            scaled, shown = page_of_maps(maps, order, start, mode)
            labels = [f"{layer}:{k}" for k in shown]
            st.caption(f"Strongest first (ranks {start + 1}–{start + len(shown)} by mean "
                       "activation). Click a map to see it large over the image.")
            scale = ({"vmin": float(maps.min()), "vmax": float(maps.max()),
                      "colorbar_title": "activation"} if mode == "layer" else {})
            st.plotly_chart(activation_figures.feature_map_grid_figure(scaled, labels, cols=COLS,
                                                                       **scale),
                            width="stretch", on_select="rerun", selection_mode=("points",),
                            key=f"act_grid_{name}_{layer}")
            event = st.session_state.get(f"act_grid_{name}_{layer}") or {}
            picked = [p.get("customdata") for p in event.get("selection", {}).get("points", [])]
            if picked and st.session_state.get(f"act_seen_{layer}") != picked:
                st.session_state[f"act_seen_{layer}"] = picked  # a new click, on this grid
                st.session_state["act_clicked"] = picked[-1]
        clicked = st.session_state.get("act_clicked")
        if shown_layers and (not isinstance(clicked, str)
                             or clicked.split(":")[0] not in acts):
            first = chosen[0]
            clicked = f"{first}:{activations.strongest_channels(acts[first][0])[0]}"
        if shown_layers:
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
            st.markdown(
                f"From **{first['layer']}** to **{last['layer']}** the maps shrink from "
                f"{first['height']}×{first['width']} to {last['height']}×{last['width']} "
                f"pixels while channels grow from {first['channels']} to "
                f"{last['channels']}: space is traded for kinds of features. Zeros go from "
                f"{first['fraction zero']:.0%} to {last['fraction zero']:.0%}: a deep channel "
                "answers *is my pattern here?* and is silent most of the time.")
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    with tab_pair:
        pair_layer = st.selectbox("Layer", listed, index=len(listed) // 2,
                                  format_func=lambda n: by_name[n].label, key="act_pair")
        x2 = models.prepare(name, other.image).x
        a = acts_of(name, x, (pair_layer,))[pair_layer][0]
        b = acts_of(name, x2, (pair_layer,))[pair_layer][0]
        diff = activations.channel_strength(a) - activations.channel_strength(b)
        top = list(np.argsort(-diff, kind="stable")[:8]) + list(np.argsort(diff,
                                                                          kind="stable")[:8])
        pair = np.concatenate([a[..., top], b[..., top]], 0)
        both = activations.scale_for_display(pair, mode="layer")
        h = a.shape[0]
        cols = st.columns(2)
        for col, img, part, caption in ((cols[0], choice, both[:, :h], choice.name),
                                        (cols[1], other, both[:, h:], other.name)):
            col.image(images.resize(img.image, 160), caption=caption)
            col.plotly_chart(activation_figures.feature_map_grid_figure(
                part, [f"channel {k}" for k in top], cols=4, vmin=float(pair.min()),
                vmax=float(pair.max()), colorbar_title="activation", span=0.5),
                width="stretch")
            col.caption("top two rows: channels stronger for the LEFT image; bottom two "
                        "rows: stronger for the RIGHT image (same scale for both)")
        st.plotly_chart(activation_figures.channel_strength_figure(
            [(choice.name, activations.channel_strength(a)),
             (other.name, activations.channel_strength(b))]), width="stretch")
        st.caption("Channels that fire for one image and not the other are the features "
                   "that tell them apart. Compare an early and a deep layer: where do the "
                   "two images' bars differ most?")
