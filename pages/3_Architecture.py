"""Architecture lab: what each choice of layers costs, and what it buys."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import archdemo, architecture, buildercheck, questions, ui
from cnnviz.figures import architecture as arch_figures
from cnnviz.figures import diagram
from cnnviz.models import prepare
from cnnviz.notebooks.architecture import numbers as page_numbers
from cnnviz.ui.builder import layer_builder
from cnnviz.ui.inception import inception_tab
from cnnviz.ui.lesson import step_tabs
from cnnviz.ui.residual import GRADIENT_OPTIONS, residual_tab
from cnnviz.ui.resources import model_infos
from cnnviz.views import architecture as arch_view

ui.page_setup("Architecture lab")

#: tab label (short enough for four in a row at 1280 px) -> the course question it answers
TABS = {"What does a layer cost?": "How many parameters does a layer cost?",
        "What does a 1x1 conv do?": "What does a 1x1 convolution do?",
        "Why inception's branches?": "Why inception's parallel branches?",
        "Why residual connections?": "Why do residual connections help deep nets?"}
#: tab label -> the ids of the questions asked in it (a lesson step opens its tab)
TAB_QUESTIONS = dict(zip(TABS, [("arch_params",), ("pw_params",), ("inc_scale", "inc_saving"),
                                ("res_plain_gradient",)]))


@st.cache_data(show_spinner=False, max_entries=16)
def _feature_map(model_name: str, layer: str, image: np.ndarray) -> np.ndarray:
    x = prepare(model_name, image).x
    return archdemo.feature_map(ui.get_model(model_name), x, layer)[0]


view = ui.page_view("architecture", prefix="arch_")


choice = ui.image_picker()
view.settle(**arch_view.facts(ui.get_model(arch_view.DEMO_MODEL)))
layers = view.context["layers"]
page = ui.page_layout(
    "What does each layer cost, and what does it buy?",
    "Build a CNN layer by layer and see its parameters, multiply-adds and receptive "
    "fields (pure arithmetic, checked against real Keras models); then the three ideas "
    "that made deep networks cheap and trainable.")
with page.figure:
    view.bar()
    tab_build, tab_1x1, tab_inc, tab_res = st.tabs(
        list(TABS), **step_tabs(TAB_QUESTIONS))

# ---------------------------------------------------------------- builder
with tab_build:
    st.subheader(TABS["What does a layer cost?"])
    figure, controls = st.container(), st.container()
    with controls:
        spec, input_shape = layer_builder(view)
    rows = architecture.analyze(spec, input_shape)
    total = architecture.totals(rows)
    notes = buildercheck.row_warnings(spec, rows, input_shape)
    with figure:
        k1, k2, k3, k4 = st.columns(4)
        k1.metric("Parameters", f"{total['params']:,}")
        k2.metric("Multiply-adds (MACs)", architecture.human(total["macs"]),
                  help="FLOPs ≈ 2 x MACs")
        k3.metric("Activation memory / image", f"{total['memory'] / 1024:,.1f} KB")
        out_shape = total["output"] if spec else input_shape
        k4.metric("Output", " x ".join(map(str, out_shape)) if out_shape else "invalid")
        too_small = buildercheck.input_problem(input_shape)
        if too_small:
            st.warning(too_small, icon=":material/warning:")
        for row in rows:
            if row.error and not row.error.startswith("Not computed"):
                kind = architecture.KINDS.get(row.kind, row.kind)
                st.error(f"Layer {row.index} ({kind}): {row.error}", icon=":material/error:")
        if notes:
            first = min(notes)
            st.warning(f"Layer {first}: {notes[first]}"
                       + (f" ({len(notes) - 1} more layers flagged in the table.)"
                          if len(notes) > 1 else ""), icon=":material/warning:")
        st.plotly_chart(diagram.spec_diagram(spec, input_shape), width="stretch")
    records = [{k: "—" if v is None else f"{v:,}" if k in ("parameters", "MACs") else v
                for k, v in r.items()} for r in architecture.table_records(rows)]
    for record in records:
        record["problem"] = record["problem"] or notes.get(record["#"], "")
    table = pd.DataFrame(records)
    if len(table) and not table["problem"].any():
        table = table.drop(columns="problem")
    convs = [(r, prev) for r, prev in zip(rows, [None, *rows]) if r.ok and r.kind == "conv"]
    if convs:
        row, prev = convs[0]
        layer = spec[row.index - 1]
        c_in = prev.shape[-1] if prev is not None else input_shape[-1]
        asked = ui.ask(
            questions.number("arch_params", f"Layer {row.index} is a {layer.kernel}x"
                             f"{layer.kernel} convolution from {c_in} to {layer.filters} "
                             "channels. How many parameters does it have?"),
            questions.Measured(row.params, why=(
                f"{layer.kernel}·{layer.kernel}·{c_in}·{layer.filters} weights + "
                f"{layer.filters} biases: each filter spans every input channel")))
    else:
        asked = True
    if asked:
        st.table(table, hide_index=True)  # wraps its cells: every column stays in view
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown("**Check against Keras:** build the real model and compare its "
                  "`count_params()` and every layer's output shape with the table.")
    if right.button("Build it with Keras", key="arch_check", disabled=not total["valid"]):
        with ui.guard("building the model"):
            same, message = architecture.check_with_keras(spec, input_shape)
            (st.success if same else st.error)(message)
    with st.expander("The same network in Keras", icon=":material/code:"):
        st.code(architecture.keras_code(spec, input_shape), language="python",
                wrap_lines=True)

# ---------------------------------------------------------------- 1x1 convolution
with tab_1x1, ui.guard("the 1x1 demo"):
    st.subheader(TABS["What does a 1x1 conv do?"])
    ui.explain("A **1x1 convolution** looks at one pixel at a time: it takes the pixel's "
               "vector of C channel values and makes K weighted sums of it, one per output "
               "channel. The image size stays; only the channel depth changes.")
    figure, controls = st.container(), st.container()
    with controls:
        p1, p2, p3, p4 = st.columns(4)
        layer = p1.selectbox("Feature map of the built-in model", layers,
                             **view.widget("pwl", key="pw_layer"))
        fmap = _feature_map(arch_view.DEMO_MODEL, layer, choice.image)
        fh, fw, fc = fmap.shape
        k_out = p2.slider("Output channels K", 1, 64, **view.widget("k", key="pw_k"))
        row = p3.slider("Pixel row", 0, fh - 1, **view.widget("row", key="pw_row"))
        colm = p4.slider("Pixel column", 0, fw - 1, **view.widget("col", key="pw_col"))
    pw = archdemo.pointwise(fmap, k_out, row, colm, seed=0)
    with figure:
        st.markdown(f"`{layer}` gives a **{fh}x{fw}x{fc}** map for *{choice.name}*; a 1x1 "
                    f"conv with {k_out} filters turns it into **{fh}x{fw}x{k_out}**.")
        if ui.ask(questions.number("pw_params", f"How many parameters does a 1x1 convolution "
                                   f"from {fc} to {k_out} channels have?"),
                  questions.Measured(fc * k_out + k_out, why=(
                      f"{fc}x{k_out} weights (one per input channel per filter) + {k_out} "
                      "biases; the kernel has no width or height to multiply by"))):
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
    hh = b[0].number_input("H", 1, 512, **view.widget("bh", key="bn_h"))
    ww = b[1].number_input("W", 1, 512, **view.widget("bw", key="bn_w"))
    ci = b[2].number_input("C_in", 1, 4096, **view.widget("bcin", key="bn_cin"))
    co = b[3].number_input("C_out", 1, 4096, **view.widget("bcout", key="bn_cout"))
    kk = b[4].selectbox("kernel", arch_view.KERNELS, **view.widget("bk", key="bn_k"))
    kb = b[5].number_input("bottleneck channels", 1, 4096, **view.widget("bb", key="bn_b"))
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
            language=None, wrap_lines=True)

# ---------------------------------------------------------------- inception
with tab_inc, ui.guard("the inception demo"):
    st.subheader(TABS["Why inception's branches?"])
    trained, inc_cost = inception_tab(view, choice)

# ---------------------------------------------------------------- residual vs plain
with tab_res:
    st.subheader(TABS["Why residual connections?"])
    residual_tab(view, questions.choice(
        "res_plain_gradient", "In a deep plain net, how does the gradient reaching the first "
        "layer compare with the last layer's?", GRADIENT_OPTIONS.values()))

# ---------------------------------------------------------------- real models' diagrams
with tab_build:
    st.subheader("What do real models look like?")
    titles = {i.name: i.title for i in model_infos()}
    usable = {name: titles[name] for name in view.context["models"]}  # the view's models
    name = st.selectbox("Model", list(usable), format_func=usable.get,
                        **view.widget("model", key="arch_model"))
    if len(usable) == 1:
        st.caption("ImageNet models (MobileNetV2) appear here once their weights are cached.")
    with ui.guard("drawing the model"):
        model = ui.get_model(name)
        st.plotly_chart(diagram.model_diagram(model, usable[name]), width="stretch")
        st.caption("Boxes: conv / pool / dense / merge layers in order (batch norm and "
                   "activations folded into the box before them); dotted arcs: shortcuts.")
        st.metric("Parameters", f"{model.count_params():,}")
        st.dataframe(pd.DataFrame(diagram.model_summary(model)), hide_index=True,
                     width="stretch", height=420)

view.publish()
with ui.guard("the code of this view"):
    view.take_home(page_numbers(pw, cost, trained, inc_cost, rows), {
        "feature_map_1x1_input": pw.inputs, "feature_map_1x1_output": pw.outputs,
        "weights_1x1": pw.weights, "inception_concat": trained.concat,
        "inception_fields": np.stack([b.erf for b in trained.branches.values()])})
