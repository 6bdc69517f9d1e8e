"""Pooling, the pyramid and receptive fields (C3), and a shift-invariance probe (C4)."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import conv, models, pooling, questions, receptive, ui
from cnnviz.figures import maps, theme
from cnnviz.figures import receptive as receptive_figures
from cnnviz.images import overlay
from cnnviz.training import pair
from cnnviz.ui import jobs as ui_jobs
from cnnviz.ui.picks import resolve_pick

ui.page_setup("Pooling & receptive fields")

MODEL = "shapes_cnn"


@st.cache_resource(max_entries=4, show_spinner=False)
def _pair_models(job_id: str, _result) -> dict:
    """The trained pooled/plain pair of a finished job, rebuilt from its weights once and
    shared read-only (only probed, never trained)."""
    return pair.rebuild_pair(_result)


@st.cache_data(max_entries=256, show_spinner=False)
def _unit(x, layer: str, row: int, col: int):
    """The layer's activations and one unit's |gradient| map (cached per unit)."""
    model = ui.get_model(MODEL)
    return (receptive.layer_activation(model, layer, x),
            receptive.effective_rf(model, layer, x, row, col))


@st.cache_data(max_entries=32, show_spinner=False)
def _shift_probe(x, max_shift: int):
    return pooling.shift_probe(ui.get_model(MODEL), x, range(max_shift + 1))


@st.cache_data(max_entries=32, show_spinner=False)
def _pair_probe(job_id: str, _result, max_shift: int):
    val_x, _ = pair.validation_images(_result.settings)
    return {n: pooling.shift_probe(m, val_x[:60], range(max_shift + 1))
            for n, m in _pair_models(job_id, _result).items()}


choice = ui.image_picker()
st.title("Pooling, pyramids and receptive fields")

# ------------------------------------------------------------------ 1. pooling
st.header("1 · Pooling: downsampling without weights")
pc = st.columns(3)
mode = pc[0].radio("Pooling", ["max", "average"], horizontal=True, key="pool_mode")
size = pc[1].select_slider("Window", [2, 3, 4], value=2, key="pool_size")
stride = pc[2].select_slider("Stride", [1, 2, 3, 4], value=size, key="pool_stride")
gray = conv.to_gray(conv.shrink(choice.image, 96))
fmap = np.maximum(conv.convolve(gray, conv.classic_kernel("Sobel x")), 0)  # no padding edge
with ui.guard("pooling"):
    pooled = pooling.pool2d(fmap, size, stride, mode)
    fc = st.columns(2)
    fc[0].plotly_chart(maps.map_figure(fmap, title=f"Edge map {fmap.shape[0]}x"
                                       f"{fmap.shape[1]} (ReLU of Sobel x)",
                                       colorscale=theme.SEQUENTIAL, height=380),
                       width="stretch")
    width = fmap.shape[1]
    with fc[1]:
        pool_revealed = ui.ask(
            questions.number("pool_width", f"The edge map is {width} pixels wide. After "
                             f"{mode} pooling with a {size}x{size} window and stride {stride}, "
                             "how many pixels wide is it?", unit="pixels"),
            questions.Measured(pooled.shape[1], why=(
                f"windows start every {stride} pixels and must fit inside the map, so "
                f"({width} − {size}) // {stride} + 1 = {pooled.shape[1]} of them fit across"
                + (f"; the last {(width - size) % stride} column(s) are left out"
                   if (width - size) % stride else ""))))
    if pool_revealed:
        fc[1].plotly_chart(maps.map_figure(pooled, title=f"After {mode} pooling: "
                                           f"{pooled.shape[0]}x{pooled.shape[1]}",
                                           colorscale=theme.SEQUENTIAL, height=380),
                           width="stretch")
        before = pooling.conv_macs(*fmap.shape, 3, 64, 64)
        after = pooling.conv_macs(*pooled.shape, 3, 64, 64)
        st.info(
            f"**Pooling has no parameters**: it keeps the {mode} of each {size}x{size} "
            f"window. It cuts the map from {fmap.size:,} to {pooled.size:,} positions, so "
            f"*every later layer* pays less: a 3x3 conv with 64 → 64 channels here costs "
            f"{before / 1e6:,.1f} M multiply-adds before pooling and {after / 1e6:,.1f} M "
            f"after ({before / max(after, 1):.1f}x fewer). Edges survive max pooling; "
            "average pooling blurs them.", icon=":material/compress:")

# ------------------------------------------------------- 2. receptive-field table
st.header("2 · The pyramid: receptive fields grow with depth")
st.markdown(
    "A unit's **receptive field** is the set of input pixels that can change it. Each "
    "k×k layer widens it by (k−1)×jump pixels, where the **jump** (product of all strides so "
    "far) is the distance between neighbouring units in input pixels. Pooling and stride "
    "multiply the jump, so later 3×3 layers add many more pixels: a deep unit sees a large "
    "part of the image with few weights.")
model = ui.get_model(MODEL)
rfs = [r for r in receptive.receptive_fields(model) if "x" in r.kind]  # conv and pooling
table = pd.DataFrame([{"layer": r.name, "operation": r.kind,
                       "output": f"{r.output_hw[0]}x{r.output_hw[1]}", "jump": r.jump,
                       "receptive field": f"{r.size}x{r.size}", "first centre": r.start}
                      for r in rfs])
tc = st.columns([3, 2])
tc[0].markdown(f"**The built-in `{MODEL}`** (64x64 input)")
deepest = [r for r in rfs if r.kind.startswith("Conv")][-1]
with tc[0]:
    rf_revealed = ui.ask(
        questions.number("rf_size", f"One unit of {deepest.name}, the last convolution, sees a "
                         "square of the 64x64 input. How many pixels wide is that square?",
                         unit="pixels"),
        questions.Measured(deepest.size, why=(
            f"the field grows layer by layer, {receptive.size_chain(rfs, deepest.name)}: each "
            f"k×k layer adds (k − 1) × the jump, and the poolings raised the jump to "
            f"{deepest.jump}")))
if rf_revealed:
    tc[0].table(table, hide_index=True)  # a small table: wraps, never hides a column
with tc[1]:
    st.markdown("**Build your own stack**")
    options = {"conv 3x3": (3, 1, 1), "conv 5x5": (5, 1, 1), "conv 3x3 stride 2": (3, 2, 1),
               "conv 3x3 dilation 2": (3, 1, 2), "max pool 2": (2, 2, 1), "conv 1x1": (1, 1, 1)}
    start = ["conv 3x3", "conv 3x3", "max pool 2", "conv 3x3", "conv 3x3", "max pool 2",
             "conv 3x3"]
    edited = st.data_editor(
        pd.DataFrame({"layer": start}), num_rows="dynamic", key="rf_builder",
        column_config={"layer": st.column_config.SelectboxColumn(
            "layer", options=list(options), required=True)}, width="stretch")
    in_size = st.number_input("Input size", 8, 1024, 224, key="rf_input")
with ui.guard("the layer builder"):
    specs = [receptive.LayerSpec(f"{i + 1}. {name}", *options[name],
                                 padding="valid" if name.startswith("max") else "same",
                                 kind="pool" if name.startswith("max") else "conv")
             for i, name in enumerate(edited["layer"].dropna()) if name in options]
    built = receptive.receptive_fields_of_specs(specs, int(in_size))
    if built:
        tc[1].plotly_chart(receptive_figures.receptive_growth_figure(
            [r.name for r in built], [r.size for r in built], [r.jump for r in built]),
            width="stretch")

# ------------------------------------------- 3. click a unit: theoretical vs effective
st.header("3 · One unit: theoretical and effective receptive field")
names = [r.name for r in rfs]
layer = st.selectbox("Layer of the shapes CNN", names, index=names.index("block2_conv2"),
                     key="rf_layer")
rf = rfs[names.index(layer)]
oh, ow = rf.output_hw
row, col, pick_ver = resolve_pick("rf", st.session_state.get("rf_map"), (oh, ow),
                                  (oh // 2, ow // 2))
sc = st.columns(2)
row = sc[0].slider("Unit row", 0, oh - 1, row, key=f"rf_row_{pick_ver}")
col = sc[1].slider("Unit column", 0, ow - 1, col, key=f"rf_col_{pick_ver}")
x = None
with ui.guard("the receptive field of this unit"):
    prepared = models.prepare(MODEL, choice.image)
    x, image64 = prepared.x[0], prepared.display
    acts, erf = _unit(x, layer, row, col)
    top, left, bottom, right = rf.box(row, col, (64, 64))
    box = [(top, left, bottom, right, "yellow")]
    centre = (rf.start_hw[0] + row * rf.jump_hw[0], rf.start_hw[1] + col * rf.jump_hw[1])
    uc = st.columns(3)
    erf_revealed = erf.max() == 0  # nothing to predict when the unit is switched off
    if not erf_revealed:
        peak = questions.peak(erf)
        with uc[1]:
            erf_revealed = ui.ask(
                questions.click("erf_peak", f"Unit ({row}, {col}) of {layer} sees a "
                                f"{rf.size}x{rf.size} square of the image. Which pixel moves it "
                                "most? Click it.", tolerance=4),
                questions.Measured(erf, why=(
                    f"the unit's gradient peaks at row {peak[0]}, col {peak[1]}, "
                    f"{questions.pixels(np.hypot(peak[0] - centre[0], peak[1] - centre[1]))} "
                    f"from the centre of its field (row {centre[0]:g}, col {centre[1]:g}): "
                    "central pixels reach a unit along many more paths than pixels at the "
                    "edge")),
                context=(choice.name,), image=image64)
    uc[0].plotly_chart(maps.map_figure(acts.mean(axis=-1),
                                       title=f"{layer} ({oh}x{ow}): click a unit",
                                       colorscale=theme.SEQUENTIAL, pick=(row, col),
                                       height=380, span=1 / 3),
                       width="stretch", on_select="rerun", selection_mode=("points",),
                       key="rf_map")
    shown = (overlay(image64, erf, alpha=0.55, colormap=theme.SEQUENTIAL) if erf.max() > 0
             else image64)
    if erf_revealed:
        uc[1].plotly_chart(maps.map_figure(shown, title="Theoretical RF (box), effective RF",
                                           boxes=box, height=380, span=1 / 3),
                           width="stretch")
        uc[2].plotly_chart(maps.map_figure(erf, title="Effective RF |∂unit/∂pixel|",
                                           colorscale=theme.SEQUENTIAL, boxes=box, height=380,
                                           span=1 / 3), width="stretch")
    if erf.max() == 0:
        st.warning("Every channel of this unit is switched off (ReLU = 0) for this image, "
                   "so no pixel changes it right now: pick another unit or image.")
    elif erf_revealed:
        half = receptive.mass_radius(erf, centre, 0.5)
        st.info(
            f"Unit ({row}, {col}) of **{layer}** can see a **{rf.size}x{rf.size}** square of "
            f"the input (yellow, clipped at the border) — its theoretical receptive field. The "
            f"gradient shows how much each pixel *actually* moves it: the **effective** "
            f"receptive field. Half of it lies within a {2 * half + 1}x{2 * half + 1} square "
            "around the centre: central pixels reach the unit along many more paths than "
            "pixels at the edge.", icon=":material/center_focus_strong:")

# ------------------------------------------------------- 4. shift invariance probe
st.header("4 · Shift the image: how much does each layer change?")
st.markdown(
    "Convolution moves *with* the input: shift the image and every feature map shifts too, "
    "so compared position by position it changes. Max pooling keeps only the strongest "
    "response in each window, so a feature that moves by less than a window often stays in "
    "the same pooled cell: a *little* shift invariance, not a guarantee (a shift across a "
    "window border still changes the output). First the built-in shapes CNN on your image, "
    "then a controlled experiment with and without pooling.")
max_shift = st.slider("Shift the image right by up to (pixels)", 1, 16, 8, key="shift_max")
shifts = list(range(max_shift + 1))
with ui.guard("the shift probe"):
    if x is None:
        st.stop()
    probe = _shift_probe(x, max_shift)
    classes = models.class_names(MODEL)
    pred = [classes[i] for i in probe.predicted[0]]
    ch = st.columns([1.2, 2, 2])
    moved = pooling.shift_image(image64, max_shift)
    ch[0].plotly_chart(maps.map_figure(moved, title=f"Shifted by {max_shift} px", height=300,
                                       span=0.2), width="stretch")
    ch[0].caption("The strip that opens on the left repeats the edge pixels.")
    ch = ch[1:]
    shown = sorted({1, 2, 4, max_shift} & set(shifts[1:]))
    ch[0].plotly_chart(receptive_figures.shift_change_figure(
        probe.change[shown], shown, probe.layers), width="stretch")
    flips = [p if i == 0 or p != pred[0] else "" for i, p in enumerate(pred)]
    ch[1].plotly_chart(receptive_figures.shift_probability_figure(
        shifts, probe.prob_original, flips, pred[0]), width="stretch")
    st.caption("The shapes CNN ends with global average pooling, which discards position "
               "altogether, so its prediction usually moves much less than its feature maps. "
               "It only knows five shapes: on a photo it still has to pick one of them.")

st.subheader("With pooling vs without")
st.markdown(
    "Two small CNNs with the same three 3x3 conv layers and a Flatten + Dense head, one with "
    "a 2x2 max pool after each conv, one without, trained the same way on 32x32 shape "
    "silhouettes. The results are shared by everyone who trains with the same settings.")
pair_run = ui_jobs.latest("pooled_vs_plain")
asked = pair_run.settings if pair_run is not None else pair.PairSettings()
with st.form("pair_form"):
    fc = st.columns(2)
    n_train = fc[0].select_slider("Training images", [500, 1000, 1500, 3000], asked.n_train,
                                  key="pair_n_train")
    epochs = fc[1].slider("Epochs", 1, 15, asked.epochs, key="pair_epochs")
    took = ui_jobs.expected("pooled_vs_plain", pair.PairSettings(n_train, epochs))
    if took:  # not in the button's label: a label that changes loses the click
        st.caption(f"{n_train} images and {epochs} epochs: {took}.")
    trained = st.form_submit_button("Train both")
if trained:
    with ui.guard("training"):
        ui_jobs.submit("pooled_vs_plain", "pooled_vs_plain",
                       pair.PairSettings(n_train=int(n_train), epochs=int(epochs)))
ui_jobs.follow("pooled_vs_plain", draw=ui_jobs.draw_curves)
pair_run = ui_jobs.latest("pooled_vs_plain")
if pair_run is not None and pair_run.result.complete:
    accuracy = pair_run.result.accuracy
    results = _pair_probe(pair_run.id, pair_run.result, max_shift)
    pcs = st.columns(2)
    pcs[0].plotly_chart(receptive_figures.same_prediction_figure(
        shifts, {f"{n} ({accuracy[n]:.0%} val. accuracy)": r.same_prediction
                 for n, r in results.items()}, 60), width="stretch")
    depth = ["conv1", "conv2", "conv3", "head input"]
    rows = {n: list(r.change[1, [r.layers.index(c) for c in depth[:3]]])
            + [r.change[1, -1]] for n, r in results.items()}
    pcs[1].plotly_chart(receptive_figures.layer_change_figure(depth, rows), width="stretch")
    st.info(
        f"Measured: after a 1-pixel shift the pooled model keeps "
        f"{results['pooled'].same_prediction[1]:.0%} of its predictions, the plain one "
        f"{results['plain'].same_prediction[1]:.0%}; the plain model's head input changes "
        f"{rows['plain'][-1]:.2f} vs {rows['pooled'][-1]:.2f}. Without pooling the Dense "
        "head must learn each position separately, which also hurts its accuracy on new "
        "images. (Global average pooling, as in the shapes CNN, removes position too.)",
        icon=":material/swap_horiz:")
elif pair_run is not None and not ui_jobs.in_flight("pooled_vs_plain"):
    st.warning("The training was stopped before both models finished: train them again to "
               "compare them.", icon=":material/pause_circle:")
elif not ui_jobs.in_flight("pooled_vs_plain"):
    st.caption("Press the button to train the pair; nothing is shown until it is measured.")
