"""Architecture lab: filters and depth, 1x1 convs, inception and residual blocks (C5-C8)."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import archdemo, architecture, residual, ui
from cnnviz.figures import architecture as arch_figures
from cnnviz.figures import diagram
from cnnviz.figures import residual as residual_figures
from cnnviz.models import available_models, prepare
from cnnviz.ui import jobs as ui_jobs
from cnnviz.ui.builder import layer_builder

ui.page_setup("Architecture lab")


@st.cache_data(show_spinner=False, max_entries=16)
def _feature_map(model_name: str, layer: str, image: np.ndarray) -> np.ndarray:
    x = prepare(model_name, image).x
    return archdemo.feature_map(ui.get_model(model_name), x, layer)[0]


choice = ui.image_picker()
st.title("Architecture lab")
st.markdown("Build a CNN layer by layer and see what every choice costs: the table is pure "
            "arithmetic, checked against real Keras models.")
tab_build, tab_models, tab_1x1, tab_inc, tab_res = st.tabs(
    ["Builder", "Model diagrams", "1x1 convolution", "Inception block", "Residual vs plain"])

# ---------------------------------------------------------------- builder
with tab_build:
    spec, input_shape = layer_builder()

    rows = architecture.analyze(spec, input_shape)
    total = architecture.totals(rows)
    k1, k2, k3, k4 = st.columns(4)
    k1.metric("Parameters", f"{total['params']:,}")
    k2.metric("Multiply-adds (MACs)", architecture.human(total["macs"]),
              help="FLOPs ≈ 2 x MACs")
    k3.metric("Activation memory / image", f"{total['memory'] / 1024:,.1f} KB")
    out_shape = total["output"] if spec else input_shape
    k4.metric("Output", " x ".join(map(str, out_shape)) if out_shape else "invalid")
    for row in rows:
        if row.error and not row.error.startswith("Not computed"):
            kind = architecture.KINDS.get(row.kind, row.kind)
            st.error(f"Layer {row.index} ({kind}): {row.error}", icon=":material/error:")
    records = [{k: "—" if v is None else f"{v:,}" if k in ("parameters", "MACs") else v
                for k, v in r.items()} for r in architecture.table_records(rows)]
    table = pd.DataFrame(records)
    if len(table) and not table["problem"].any():
        table = table.drop(columns="problem")
    st.table(table, hide_index=True)  # wraps its cells: every column stays in view
    st.plotly_chart(diagram.spec_diagram(spec, input_shape), width="stretch")
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown("**Check against Keras:** build the real model and compare its "
                  "`count_params()` and every layer's output shape with the table.")
    if right.button("Build it with Keras", key="arch_check", disabled=not total["valid"]):
        with ui.guard("building the model"):
            same, message = architecture.check_with_keras(spec, input_shape)
            (st.success if same else st.error)(message)
    st.subheader("The same network in Keras")
    st.code(architecture.keras_code(spec, input_shape), language="python")

# ---------------------------------------------------------------- real models' diagrams
with tab_models:
    usable = {i.name: i.title for i in available_models(check_online=False) if i.usable}
    name = st.selectbox("Model", list(usable), format_func=usable.get, key="arch_model")
    if len(usable) == 1:
        st.caption("ImageNet models (MobileNetV2) appear here once their weights are cached.")
    with ui.guard("drawing the model"):
        model = ui.get_model(name)
        st.plotly_chart(diagram.model_diagram(model, usable[name]), width="stretch")
        st.caption("Boxes: conv / pool / dense / merge layers in order (batch norm and "
                   "activations folded into the box before them); dotted arcs: shortcuts.")
        summary = pd.DataFrame(diagram.model_summary(model))
        st.metric("Parameters", f"{model.count_params():,}")
        st.dataframe(summary, hide_index=True, width="stretch", height=420)

# ---------------------------------------------------------------- 1x1 convolution
with tab_1x1, ui.guard("the 1x1 demo"):
    st.markdown("A **1x1 convolution** looks at one pixel at a time: it takes the pixel's "
                "vector of C channel values and makes K weighted sums of it, one per output "
                "channel. The image size stays; only the channel depth changes.")
    shapes_model = ui.get_model("shapes_cnn")
    layers = archdemo.feature_layers(shapes_model)
    p1, p2, p3, p4 = st.columns(4)
    layer = p1.selectbox("Feature map of the built-in model", layers,
                         index=layers.index("block3_conv1"), key="pw_layer")
    fmap = _feature_map("shapes_cnn", layer, choice.image)
    fh, fw, fc = fmap.shape
    k_out = p2.slider("Output channels K", 1, 64, 15, key="pw_k")
    row = p3.slider("Pixel row", 0, fh - 1, fh // 2, key="pw_row")
    colm = p4.slider("Pixel column", 0, fw - 1, fw // 2, key="pw_col")
    pw = archdemo.pointwise(fmap, k_out, row, colm, seed=0)
    st.markdown(f"`{layer}` gives a **{fh}x{fw}x{fc}** map for *{choice.name}*; a 1x1 conv "
                f"with {k_out} filters turns it into **{fh}x{fw}x{k_out}** "
                f"({fc * k_out + k_out:,} parameters: {fc}x{k_out} weights + {k_out} biases).")
    st.plotly_chart(arch_figures.pointwise_figure(pw), width="stretch")
    gap = float(np.abs(pw.sums - pw.outputs[row, colm]).max())
    st.caption(f"Output j = Σ_c input[c] · w[c, j] + b[j]. The weights are a freshly "
               f"initialised Keras `Conv2D({k_out}, 1)` (He normal, seed 0); the hand-made "
               f"sums equal the layer's own output at ({row}, {colm}) to {gap:.1e}.")
    i1, i2 = st.columns(2)
    i1.plotly_chart(arch_figures.channel_tiles_figure(
        fmap, 8, cols=4, mark=(row, colm), title=f"Input: first 8 of {fc} channels"),
        width="stretch")
    i2.plotly_chart(arch_figures.channel_tiles_figure(
        pw.outputs, 8, cols=4, mark=(row, colm),
        title=f"Output: first 8 of {k_out} channels, same {fh}x{fw} grid"), width="stretch")
    st.caption("The outlined square in every channel is the pixel the 1x1 convolution reads.")

    st.subheader("Bottleneck calculator")
    st.markdown("A k x k conv from C_in to C_out costs H·W·C_out·k²·C_in multiply-adds. "
                "A 1x1 conv down to a few channels first makes the big conv cheap.")
    b = st.columns(6)
    hh = b[0].number_input("H", 1, 512, 28, key="bn_h")
    ww = b[1].number_input("W", 1, 512, 28, key="bn_w")
    ci = b[2].number_input("C_in", 1, 4096, 192, key="bn_cin")
    co = b[3].number_input("C_out", 1, 4096, 32, key="bn_cout")
    kk = b[4].selectbox("kernel", [3, 5, 7], index=1, key="bn_k")
    kb = b[5].number_input("bottleneck channels", 1, 4096, 16, key="bn_b")
    cost = archdemo.bottleneck_cost(hh, ww, ci, co, kk, kb)
    r1, r2, r3 = st.columns(3)
    r1.metric(f"{kk}x{kk} conv directly", architecture.human(cost["direct_macs"]) + " MACs")
    r2.metric(f"1x1 to {kb}, then {kk}x{kk}",
              architecture.human(cost["bottleneck_macs"]) + " MACs")
    r3.metric("Saving", f"{cost['saving']:.1f}x fewer MACs")
    st.code(f"direct:     {hh}·{ww}·{co}·{kk}·{kk}·{ci} = {cost['direct_macs']:,}\n"
            f"bottleneck: {hh}·{ww}·{kb}·{ci} + {hh}·{ww}·{co}·{kk}·{kk}·{kb} = "
            f"{cost['reduce_macs']:,} + {cost['conv_macs']:,} = {cost['bottleneck_macs']:,}\n"
            f"parameters: {cost['direct_params']:,} directly vs "
            f"{cost['bottleneck_params']:,} with the bottleneck",
            language=None)

# ---------------------------------------------------------------- inception
with tab_inc, ui.guard("the inception demo"):
    st.markdown("An **inception block** looks at the same input at several scales at once "
                "(1x1, 3x3, 5x5 and pooling) and stacks the results along the channels. "
                "The 1x1 convs before the 3x3 and 5x5 (and after the pool) keep it cheap.")
    q1, q2 = st.columns(2)
    layers = archdemo.feature_layers(ui.get_model("shapes_cnn"))
    in_layer = q1.selectbox("Input: a real feature map of the built-in model", layers,
                            index=layers.index("block2_pool"), key="inc_layer")
    filters = q2.slider("Block width F (1x1 branch filters)", 2, 64, 8, key="inc_f")
    fmap = _feature_map("shapes_cnn", in_layer, choice.image)
    out = archdemo.inception_outputs(fmap, filters, seed=0)
    st.markdown(f"Input `{in_layer}`: **{' x '.join(map(str, fmap.shape))}** for "
                f"*{choice.name}*.")
    cols = st.columns(4)
    for column, (branch, maps) in zip(cols, out["branches"].items()):
        column.markdown(f"**{branch}** → {maps.shape[0]}x{maps.shape[1]}x**{maps.shape[2]}**")
        column.plotly_chart(arch_figures.channel_tiles_figure(
            maps, 4, cols=2, title="first 4 channels", span=0.25), width="stretch")
    st.plotly_chart(arch_figures.concat_figure(
        {k: v.shape[-1] for k, v in out["branches"].items()}), width="stretch")
    st.caption(f"Concatenated: {' x '.join(map(str, out['concat'].shape))} — the same "
               "pixels, the branches' channels side by side (checked against the real "
               "Keras `Concatenate` output).")
    fh, fw, fc = fmap.shape
    costs = [("this block", fh, fw, fc, filters), ("GoogLeNet block 3a", 28, 28, 192, 64)]
    records = []
    for label, h, w, c, f in costs:
        cost = archdemo.inception_cost(h, w, c, f)
        records.append({"block": label, "input": f"{h}x{w}x{c}", "F": f,
                        "naive MACs": f"{cost['naive_macs']:,}",
                        "naive out ch": cost["naive_channels"],
                        "bottleneck MACs": f"{cost['bottleneck_macs']:,}",
                        "bottleneck out ch": cost["bottleneck_channels"],
                        "saving": f"{cost['saving']:.1f}x"})
    st.table(pd.DataFrame(records), hide_index=True)
    st.caption("Naive: the 3x3 and 5x5 convs work directly on all input channels and the "
               "pool branch passes every input channel on (no 1x1 convs).")

# ---------------------------------------------------------------- residual vs plain
with tab_res:
    st.markdown("Two networks with **the same layers and the same initial weights**; one "
                "adds the input of every layer to its output (an identity shortcut). We "
                "measure the gradient that reaches each layer.")
    res_run = ui_jobs.latest("residual")
    asked = res_run.settings if res_run is not None else residual.Settings()
    with st.form("res_form"):
        f1, f2, f3 = st.columns(3)
        depth = f1.slider("Depth (conv layers)", 10, 50, asked.depth, key="res_depth")
        act = f2.selectbox("Activation", residual.ACTIVATIONS, key="res_act",
                           index=residual.ACTIVATIONS.index(asked.activation))
        steps = f3.slider("Training steps", 10, 120, asked.steps, step=10, key="res_steps")
        took = ui_jobs.expected("residual", residual.Settings(depth=depth, activation=act,
                                                              steps=steps))
        if took:
            st.caption(f"Depth {depth}, {steps} steps: {took}.")
        run = st.form_submit_button("Measure both networks", type="primary")
    if run:
        with ui.guard("the residual experiment"):
            ui_jobs.submit("residual", "residual",
                           residual.Settings(depth=depth, activation=act, steps=steps))
    ui_jobs.follow("residual", draw=lambda status: ui_jobs.draw_curves(status, ("loss",)))
    res_run = ui_jobs.latest("residual")
    if res_run is None:
        if not ui_jobs.in_flight("residual"):
            took = ui_jobs.expected("residual", residual.Settings())
            st.info("Choose a depth and press **Measure both networks**"
                    + (f" ({took} with the defaults)." if took else "."))
    else:
        result = res_run.result
        s = residual.summary(result)
        g = st.columns(4)
        g[0].metric("Plain: first / last layer gradient",
                    f"{s['plain_init']['first_over_last']:.1e}")
        g[1].metric("Residual: first / last", f"{s['residual_init']['first_over_last']:.2f}")
        g[2].metric("Training loss, plain", f"{s['plain_loss']['end']:.2f}",
                    f"{s['plain_loss']['end'] - s['plain_loss']['start']:+.2f}",
                    delta_color="inverse")
        g[3].metric("Training loss, residual", f"{s['residual_loss']['end']:.2f}",
                    f"{s['residual_loss']['end'] - s['residual_loss']['start']:+.2f}",
                    delta_color="inverse")
        st.info(residual.NOTES[result["settings"]["activation"]], icon=":material/lightbulb:")
        st.plotly_chart(residual_figures.gradient_figure(result), width="stretch")
        st.plotly_chart(residual_figures.loss_figure(result), width="stretch")
        steps_col = [c for c in residual.table_records(result)[0] if "layer," in c]
        st.dataframe(pd.DataFrame(residual.table_records(result)), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.2e")
                                    for c in steps_col})
        st.caption(residual.describe(result))
