"""Activations: what each layer of a real CNN sees, and which layers tell the classes apart."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import activations, hierarchy, images, models, probe, questions, ui
from cnnviz.figures import activations as activation_figures
from cnnviz.figures import theme
from cnnviz.figures.maps import map_figure
from cnnviz.notebooks.activations import numbers as page_numbers
from cnnviz.ui import activations as helpers
from cnnviz.views import activations as spec

ui.page_setup("Activations")

STRONGEST = 8  # maps per layer in the overview
TABLE = ("layer", "height", "width", "channels", "fraction zero", "zeros counted at",
         "mean activation")  # the statistics' columns that fit the page

view = ui.page_view("activations", prefix="act_")
name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")
other = helpers.second_image_picker(view)


def size_of(layer, maps):
    return f"{layer} — {maps.shape[0]}×{maps.shape[1]} pixels, {maps.shape[2]} channels"


page = ui.page_layout(
    "What does each layer see?",
    "Every convolution layer turns the image into a stack of **feature maps**, one per "
    "filter. Below: the maps of a few layers, then measured per depth how their size, "
    "zeros and power to tell the shapes apart change.")

with ui.guard("reading the model's layers"):
    model = ui.get_model(name)
    view.settle(**spec.facts(model, name))
    context = view.context
    infos = probe.feature_layers(model)
    labels, depths = {i.name: i.label for i in infos}, {i.name: i.depth for i in infos}
    with page.controls:
        layers_slot = st.empty()  # filled once the kinds below say which layers to list
        c1, c2 = st.columns([3, 2])
        kinds = c2.multiselect("Layer kinds to list", spec.KIND_NAMES, wrap=True,
                               help="In MobileNet/ResNet the convolution is linear and a "
                                    "ReLU layer follows it: look at the activation layers.",
                               **view.widget("kinds", key=f"act_kinds_{name}"))
        listed = spec.listed(context, {"kinds": kinds})
        chosen = layers_slot.multiselect("Layers, early to deep", listed, format_func=labels.get,
                                         **view.widget("layers", key=f"act_layers_{name}"))
        mode = c1.radio("Scale each map by", list(spec.SCALES), format_func=spec.SCALES.get,
                        **view.widget("scale", key="act_scale"))
    chosen = sorted(chosen, key=listed.index)
    prepared = models.prepare(name, choice.image)
    x, shown_image = prepared.x, prepared.display
    acts = helpers.acts_of(name, x, tuple(chosen)) if chosen else {}
    overview_key, grid_key = f"act_overview_{name}", f"act_grid_{name}"
    for chart in (overview_key, grid_key):
        helpers.take_click(chart, "act_ml", "act_mc")
    if chosen:
        view.seed("ml", "act_ml")
        view.seed("mc", "act_mc")

    with page.figure:
        view.bar()
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
                    f"while it grows to {out_channels} channels")))
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
                key=overview_key)
            st.caption(f"The {STRONGEST} strongest maps of each layer (highest mean "
                       "activation first). Click one to see it large, below.")

    enlarged = None
    if chosen:
        layer, channel = st.session_state["act_ml"], st.session_state.get("act_mc")
        if channel is None:
            channel = int(activations.strongest_channels(acts[layer][0])[0])
        enlarged, fmap = (layer, channel), acts[layer][0][..., channel]
    if revealed:
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

    tab_depth, tab_all, tab_pair = st.tabs(
        ["Early vs deep layers", "Every channel of a layer", "Two images side by side"])

    with tab_depth:
        st.subheader("What happens to size, channels and zeros with depth?")
        rows = helpers.statistics(name, x, tuple(listed), depths)
        measured = activations.zero_rows(rows) or rows
        first, last = measured[0], measured[-1]
        trend = activations.zeros_trend(first["fraction zero"], last["fraction zero"])
        stats_shown = ui.ask(
            questions.choice(
                "act_zeros", f"Going deeper, from {first['layer']} to {last['layer']}, what "
                "happens to the share of activations that are exactly zero?",
                activations.TRENDS),
            questions.Measured(trend, why=(
                f"zeros go from {first['fraction zero']:.0%} in {first['layer']} to "
                f"{last['fraction zero']:.0%} in {last['layer']} for this image, counted "
                "after each ReLU")))
        if stats_shown:
            st.plotly_chart(activation_figures.statistics_figure(rows), width="stretch")
            ui.explain(activations.describe_shapes(rows[0], rows[-1]),
                       activations.describe_zeros(rows))
            st.caption("Zeros are counted where the ReLU has acted: a convolution's own ReLU "
                       "output, else the ReLU layer after it. A pooling layer after "
                       "BatchNormalization has signed values: no zeros counted there.")
            st.dataframe(pd.DataFrame(rows)[list(TABLE)], hide_index=True, width="stretch",
                         column_config={"fraction zero": st.column_config.NumberColumn(
                             format="percent")})

        st.subheader("Which layer separates the classes best?")
        pc = st.columns(2)
        n_probe = pc[0].select_slider("Probe images (synthetic shapes)",
                                      list(range(100, 700, 100)),
                                      **view.widget("pn"))
        probe_seed = pc[1].number_input("Their random seed", 0, 10_000, step=1,
                                        **view.widget("pseed"))
        h = helpers.feature_hierarchy(name, tuple(listed), depths, int(n_probe), int(probe_seed))
        options = spec.spread(listed)
        offered = spec.DEPTH_CHOICES[-len(options):]
        scores = {layer: h.accuracy[h.layers.index(layer)] for layer in options}
        best = max(options, key=lambda layer: (scores[layer], -options.index(layer)))
        if len(options) > 1 and ui.ask(
                questions.choice("act_best", "A linear classifier reads the shape (circle, "
                                 "square…) from each layer's averaged activations. Which layer "
                                 "gives it the best accuracy: "
                                 + ", ".join(f"{o.split()[1]} = {layer}"
                                             for o, layer in zip(offered, options)) + "?",
                                 spec.DEPTH_CHOICES),
                questions.Measured(offered[options.index(best)], why=(
                    ", ".join(f"{layer} {scores[layer]:.0%}" for layer in options)
                    + f" on {h.n_test} held-out images (chance {h.chance:.0%})"))):
            st.plotly_chart(activation_figures.hierarchy_figure(h), width="stretch")
            ui.explain(*hierarchy.describe(h))
            st.dataframe(pd.DataFrame({
                "layer": h.layers, "channels": h.channels, "probe accuracy": h.accuracy,
                "± over splits": h.spread, f"with {h.equal_features} features": h.accuracy_equal,
            }), hide_index=True, width="stretch")

    with tab_all:
        st.subheader("How does Keras give us every layer's maps?")
        if chosen:
            c1, c2 = st.columns(2)
            layer = c1.selectbox("Layer to browse", chosen, format_func=labels.get,
                                 **view.widget("all", key="act_all_layer"))
            maps = acts[layer][0]
            if maps.shape[2] > spec.PER_PAGE:
                c2.slider("Show channels from rank", 0, maps.shape[2] - spec.PER_PAGE,
                          step=spec.PER_PAGE // 2, **view.widget("rank"))
            start = st.session_state.get("act_rank", 0) if maps.shape[2] > spec.PER_PAGE else 0
            values = int(np.prod(maps.shape))
            if ui.ask(questions.number(
                    "act_values", f"The probe model returns one array per chosen layer. For "
                    f"one image, how many numbers does it return for {layer}?"),
                    questions.Measured(values, why=(
                        f"{maps.shape[0]}×{maps.shape[1]} positions × {maps.shape[2]} channels, "
                        "one feature map per filter"))):
                order = activations.strongest_channels(maps)
                shown = order[start:start + spec.PER_PAGE]
                scaled = activations.scale_for_display(maps, mode=mode)[shown]
                st.subheader(size_of(layer, maps))
                scale = ({"vmin": float(maps.min()), "vmax": float(maps.max()),
                          "colorbar_title": "activation"} if mode == "layer" else {})
                st.plotly_chart(activation_figures.feature_map_grid_figure(
                    scaled, [f"{layer}:{k}" for k in shown], cols=8, **scale),
                    width="stretch", on_select="rerun", selection_mode=("points",),
                    key=grid_key)
                st.caption(f"Ranks {start + 1}–{start + len(shown)} by mean activation, "
                           "strongest first. Click one to enlarge it above.")
            with st.expander("The Keras code: one model, many outputs", icon=":material/code:"):
                st.code(activations.keras_code(chosen), language="python", wrap_lines=True)

    with tab_pair:
        pair_layer = st.selectbox("Layer to compare", listed, format_func=labels.get,
                                  **view.widget("pair", key="act_pair"))
        a, b, figure = helpers.pair_figures(name, x, models.prepare(name, other.image).x,
                                            pair_layer, choice.name, other.name, STRONGEST)
        pictures = st.columns(4)
        pictures[0].image(images.resize(choice.image, 160), caption=choice.name)
        pictures[1].image(images.resize(other.image, 160), caption=other.name)
        st.plotly_chart(figure, width="stretch")
        st.plotly_chart(activation_figures.channel_strength_figure(
            [(choice.name, activations.channel_strength(a)),
             (other.name, activations.channel_strength(b))]), width="stretch")
        st.caption("Channels that fire for one image and not the other are the features "
                   "that tell them apart. Compare an early and a deep layer.")

    view.publish()
    view.take_home(page_numbers(acts, enlarged, rows, h), {
        "image": shown_image, **({"enlarged_map": fmap} if enlarged else {}),
        **{f"maps_{layer}": acts[layer][0] for layer in chosen},
        "zeros_per_layer": np.array([r["fraction zero"] for r in rows]),
        "probe_accuracy": h.accuracy, "probe_accuracy_equal_features": h.accuracy_equal})
