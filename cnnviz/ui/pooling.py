"""The Pooling & receptive fields page's Streamlit pieces: the pooling demo, the
receptive-field table and pyramid builder, one unit's fields, the shift probe of the
built-in model, and the pooled-vs-plain pair (its costs, its training jobs, its
measured comparison)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import conv, models, pooling, questions, receptive
from cnnviz.figures import maps, theme
from cnnviz.figures import receptive as receptive_figures
from cnnviz.images import overlay
from cnnviz.training import pair
from cnnviz.ui import jobs as ui_jobs
from cnnviz.ui.layout import explain
from cnnviz.ui.predict import ask
from cnnviz.ui.resources import get_model
from cnnviz.ui.setup import guard
from cnnviz.views import pooling as spec

SLOT = "pooled_vs_plain"
#: the shift the pair's question asks about (or the largest shift, if smaller)
ASKED_SHIFT = 2


# ------------------------------------------------------------------ 1. pooling
def edge_map(image) -> np.ndarray:
    """ReLU of Sobel x on the image shrunk to 96 px: the map the demo pools."""
    gray = conv.to_gray(conv.shrink(image, 96))
    return np.maximum(conv.convolve(gray, conv.classic_kernel("Sobel x")), 0)


def pooling_demo(fmap, mode: str, size: int, stride: int):
    """The edge map, the width question, then the pooled map and what it saved."""
    pooled = pooling.pool2d(fmap, size, stride, mode)
    left, right = st.columns(2)
    left.plotly_chart(maps.map_figure(fmap, title=f"Edge map {fmap.shape[0]}x{fmap.shape[1]}"
                                      " (ReLU of Sobel x)", colorscale=theme.SEQUENTIAL,
                                      height=340), width="stretch")
    width = fmap.shape[1]
    with right:
        revealed = ask(
            questions.number("pool_width", f"The edge map is {width} pixels wide. After "
                             f"{mode} pooling with a {size}x{size} window and stride {stride}, "
                             "how many pixels wide is it?", unit="pixels"),
            questions.Measured(pooled.shape[1], why=(
                f"windows start every {stride} pixels and must fit inside the map, so "
                f"({width} − {size}) // {stride} + 1 = {pooled.shape[1]} of them fit across"
                + (f"; the last {(width - size) % stride} column(s) are left out"
                   if (width - size) % stride else ""))))
        if revealed:
            st.plotly_chart(maps.map_figure(pooled, title=f"After {mode} pooling: "
                                            f"{pooled.shape[0]}x{pooled.shape[1]}",
                                            colorscale=theme.SEQUENTIAL, height=340),
                            width="stretch")
    return pooled, revealed


def pooling_saving(fmap, pooled, mode: str, size: int, stride: int) -> None:
    before = pooling.conv_macs(*fmap.shape, 3, 64, 64)
    after = pooling.conv_macs(*pooled.shape, 3, 64, 64)
    explain(f"**Pooling has no parameters**: it keeps the {mode} of each {size}x{size} window, "
            f"cutting {fmap.size:,} positions to {pooled.size:,}, so a later 3x3 conv "
            f"(64 → 64 channels) costs {before / 1e6:,.1f} M multiply-adds before and "
            f"{after / 1e6:,.1f} M after ({before / max(after, 1):.1f}x fewer).",
            pooling.peak_sentence(fmap, pooled, mode, size, stride))


# ------------------------------------------------------- 2. receptive fields
def rf_table(rfs) -> pd.DataFrame:
    return pd.DataFrame([{"layer": r.name, "operation": r.kind,
                          "output": f"{r.output_hw[0]}x{r.output_hw[1]}", "jump": r.jump,
                          "receptive field": f"{r.size}x{r.size}"} for r in rfs])


def rf_question(rfs) -> bool:
    deepest = [r for r in rfs if r.kind.startswith("Conv")][-1]
    return ask(
        questions.number("rf_size", f"One unit of {deepest.name}, the last convolution of "
                         f"{spec.MODEL}, sees a square of the 64x64 input. How many pixels "
                         "wide is that square?", unit="pixels"),
        questions.Measured(deepest.size, why=(
            f"the field grows layer by layer, {receptive.size_chain(rfs, deepest.name)}: each "
            f"k×k layer adds (k − 1) × the jump, and the poolings raised the jump to "
            f"{deepest.jump}")))


def pyramid_builder(view) -> None:
    """Blocks of convolutions, each ended by a downsampling: its fields, drawn."""
    st.markdown("**Build a pyramid**")
    bc = st.columns(3)
    blocks = bc[0].number_input("Blocks", 1, 6, **view.widget("blocks"))
    convs = bc[1].number_input("Convs per block", 1, 3, **view.widget("convs"))
    ksize = bc[2].selectbox("Kernel", spec.KERNELS, format_func=lambda k: f"{k}x{k}",
                            **view.widget("ksize"))
    dc = st.columns([2, 1])
    down = dc[0].selectbox("Each block ends with", list(spec.DOWNSAMPLING),
                           format_func=spec.DOWNSAMPLING.get, **view.widget("down"))
    in_size = dc[1].number_input("Input (px)", 8, 1024, **view.widget("insize"))
    with guard("the pyramid"):
        built = receptive.receptive_fields_of_specs(
            receptive.pyramid(int(blocks), int(convs), int(ksize), down), int(in_size))
        st.plotly_chart(receptive_figures.receptive_growth_figure(
            [r.name for r in built], [r.size for r in built], [r.jump for r in built],
            span=0.5), width="stretch")


# ------------------------------------------------------- 3. one unit's fields
@st.cache_data(max_entries=256, show_spinner=False)
def _unit(x, layer: str, row: int, col: int):
    """The layer's activations and one unit's |gradient| map (cached per unit)."""
    model = get_model(spec.MODEL)
    return (receptive.layer_activation(model, layer, x),
            receptive.effective_rf(model, layer, x, row, col))


def unit_fields(view, choice, rfs):
    """Pick a unit of a layer; its theoretical box and its effective field (|gradient|).
    Returns the model's input and the 64x64 picture, and the unit's numbers."""
    lc = st.columns([1, 2])
    names = [r.name for r in rfs]
    layer = lc[0].selectbox("Layer of the shapes CNN", names, **view.widget("layer"))
    rf = rfs[names.index(layer)]
    oh, ow = rf.output_hw
    row, col, version = view.pick("rf", st.session_state.get("rf_map"), (oh, ow),
                                  (oh // 2, ow // 2))
    sc = lc[1].columns(2)
    st.session_state[f"rf_row_{version}"], st.session_state[f"rf_col_{version}"] = row, col
    sc[0].slider("Unit row", 0, oh - 1, key=f"rf_row_{version}")
    sc[1].slider("Unit column", 0, ow - 1, key=f"rf_col_{version}")
    prepared = models.prepare(spec.MODEL, choice.image)
    x, image64 = prepared.x[0], prepared.display
    acts, erf = _unit(x, layer, row, col)
    box = [(*rf.box(row, col, (64, 64)), "yellow")]
    centre = (rf.start_hw[0] + row * rf.jump_hw[0], rf.start_hw[1] + col * rf.jump_hw[1])
    uc = st.columns(3)
    uc[0].plotly_chart(maps.map_figure(acts.mean(axis=-1), title=f"{layer} ({oh}x{ow}): "
                                       "click a unit", colorscale=theme.SEQUENTIAL,
                                       pick=(row, col), height=340, span=1 / 3),
                       width="stretch", on_select="rerun", selection_mode=("points",),
                       key="rf_map")
    numbers = {"layer": layer, "unit": (row, col), "rf_size": rf.size, "jump": rf.jump}
    if erf.max() == 0:
        uc[1].plotly_chart(maps.map_figure(image64, title="Theoretical RF (box)", boxes=box,
                                           height=340, span=1 / 3), width="stretch")
        st.warning("Every channel of this unit is switched off (ReLU = 0) for this image, "
                   "so no pixel changes it right now: pick another unit or image.")
        return x, image64, numbers, erf
    peak = questions.peak(erf)
    above = uc[1].container()  # the answer's figure goes above the question's verdict
    with uc[1]:
        revealed = ask(
            questions.click("erf_peak", f"Unit ({row}, {col}) of {layer} sees a "
                            f"{rf.size}x{rf.size} square of the image. Which pixel moves it "
                            "most? Click it.", tolerance=4),
            questions.Measured(erf, why=(
                f"the unit's gradient peaks at row {peak[0]}, col {peak[1]}, "
                f"{questions.pixels(np.hypot(peak[0] - centre[0], peak[1] - centre[1]))} "
                f"from the centre of its field (row {centre[0]:g}, col {centre[1]:g}): "
                "central pixels reach a unit along many more paths than pixels at the edge")),
            context=(choice.name,), image=image64)
    if not revealed:
        return x, image64, numbers, erf
    above.plotly_chart(maps.map_figure(overlay(image64, erf, alpha=0.55,
                                               colormap=theme.SEQUENTIAL),
                                       title="Box: theoretical RF; colour: effective",
                                       boxes=box, height=340, span=1 / 3), width="stretch")
    uc[2].plotly_chart(maps.map_figure(erf, title="Effective RF |∂unit/∂pixel|",
                                       colorscale=theme.SEQUENTIAL, boxes=box, height=340,
                                       span=1 / 3), width="stretch")
    half = receptive.mass_radius(erf, centre, 0.5)
    numbers["erf_half"] = 2 * half + 1
    explain(f"Unit ({row}, {col}) of **{layer}** can see a **{rf.size}x{rf.size}** square "
            f"(yellow, clipped at the border); half of its gradient lies within a "
            f"**{2 * half + 1}x{2 * half + 1}** square around the centre.",
            "The box is the theoretical receptive field: every pixel that *can* change the "
            "unit. The gradient shows how much each pixel *actually* moves it, the effective "
            "receptive field: central pixels reach the unit along many more paths than "
            "pixels at the edge.")
    return x, image64, numbers, erf


# ------------------------------------------------------- 4. the built-in model, shifted
@st.cache_data(max_entries=32, show_spinner=False)
def _shift_probe(x, max_shift: int):
    return pooling.shift_probe(get_model(spec.MODEL), x, range(max_shift + 1))


def shift_section(view, x, image64):
    """How much each layer and the prediction of the shapes CNN change as the image
    shifts right, with what the numbers say."""
    max_shift = st.slider("Shift the image right by up to (pixels)", 1, 16,
                          **view.widget("shift"))
    probe = _shift_probe(x, int(max_shift))
    classes = models.class_names(spec.MODEL)
    pred = [classes[i] for i in probe.predicted[0]]
    shifts = probe.shifts
    ch = st.columns([1.2, 2, 2])
    ch[0].plotly_chart(maps.map_figure(pooling.shift_image(image64, int(max_shift)),
                                       title=f"Shifted by {max_shift} px", height=300,
                                       span=0.2), width="stretch")
    ch[0].caption("The strip that opens on the left repeats the edge pixels.")
    shown = sorted({1, 2, 4, int(max_shift)} & set(shifts[1:]))
    ch[1].plotly_chart(receptive_figures.shift_change_figure(
        probe.change[shown], shown, probe.layers), width="stretch")
    flips = [p if i == 0 or p != pred[0] else "" for i, p in enumerate(pred)]
    ch[2].plotly_chart(receptive_figures.shift_probability_figure(
        shifts, probe.prob_original, flips, pred[0]), width="stretch")
    explain(pooling.prediction_sentence(probe, classes),
            pooling.pooling_layers_sentence(probe, 1))
    return probe


# ------------------------------------------------------- 5. the pooled-vs-plain pair
@st.cache_resource(max_entries=1, show_spinner=False)
def pair_costs() -> dict[str, list[pooling.LayerCost]]:
    """Per-layer costs of the pair, read from freshly built (untrained) models."""
    return {name: pooling.layer_costs(model)
            for name, model in pooling.build_pair(5).items()}


def costs_table(costs) -> pd.DataFrame:
    rows = []
    for name, layer_costs in costs.items():
        for c in layer_costs:
            rows.append({"net": name, "layer": c.name, "output": "x".join(map(str, c.output)),
                         "parameters": f"{c.params:,}", "multiply-adds": f"{c.macs:,}",
                         "part": "head" if c.head else "features"})
    return pd.DataFrame(rows)


def pair_costs_section() -> dict:
    costs = pair_costs()
    st.plotly_chart(receptive_figures.pair_costs_figure(costs), width="stretch")
    explain(pooling.costs_sentence(costs))
    with st.expander("Every layer of both nets"):
        st.table(costs_table(costs), hide_index=True)
    return costs


@st.cache_resource(max_entries=6, show_spinner=False)
def _pair_models(job_id: str, _result) -> dict:
    """The trained pooled/plain pair of a finished job, rebuilt from its weights once and
    shared read-only (only probed, never trained)."""
    return pair.rebuild_pair(_result)


@st.cache_data(max_entries=32, show_spinner=False)
def _pair_probe(job_id: str, _result, max_shift: int):
    val_x, _ = pair.validation_images(_result.settings)
    return {n: pooling.shift_probe(m, val_x[:60], range(max_shift + 1))
            for n, m in _pair_models(job_id, _result).items()}


def _asked(n_train: int, epochs: int, seeds: int) -> list[pair.PairSettings]:
    return [pair.PairSettings(n_train=int(n_train), epochs=int(epochs), seed=s)
            for s in range(int(seeds))]


def _finished(asked) -> dict:
    done = {s.settings: s for s in ui_jobs.finished(SLOT)
            if s.result is not None and s.result.complete}
    return {settings: done[settings] for settings in asked if settings in done}


def pair_training(view) -> list:
    """The form that trains the pair once per seed (jobs); the finished runs of the
    settings in the view, one per seed, or [] until all are there."""
    with st.form("pair_form"):
        fc = st.columns(3)
        n_train = fc[0].select_slider("Training images", spec.TRAINING_IMAGES,
                                      **view.widget("ntrain"))
        epochs = fc[1].slider("Epochs", 1, 15, **view.widget("epochs"))
        seeds = fc[2].slider("Seeds", 1, 3, help="The pair is trained once per seed "
                             "(0, 1, …): the spread shows what is noise.",
                             **view.widget("seeds"))
        asked = _asked(n_train, epochs, seeds)
        took = ui_jobs.expected(SLOT, *asked)
        if took:  # not in the button's label: a label that changes loses the click
            st.caption(f"{n_train} images, {epochs} epochs, {seeds} seed(s): {took}.")
        pressed = st.form_submit_button("Train both")
    linked = view.linked("pair", None)  # a link asks once; a stopped run is not restarted
    wanted = bool(pressed or linked or (linked is None and st.session_state.get("pool_pair_on")))
    st.session_state["pool_pair_on"] = wanted
    view.set("pair", wanted)
    done = _finished(asked)
    if (pressed or linked) and not ui_jobs.in_flight(SLOT):
        with guard("training"):
            for settings in asked:
                if settings not in done:
                    ui_jobs.submit(SLOT, SLOT, settings)
    ui_jobs.follow(SLOT, draw=ui_jobs.draw_curves)
    done = _finished(asked)
    if not wanted:
        st.caption("Press the button to train the pair; nothing is shown until it is "
                   "measured.")
    elif len(done) < len(asked) and not ui_jobs.in_flight(SLOT):
        st.warning("The training was stopped before every run finished: train them again "
                   "to compare them.", icon=":material/pause_circle:")
    return [done[s] for s in asked] if len(done) == len(asked) and wanted else []


def pair_results(runs, max_shift: int) -> None:
    """Accuracy, then the shift question, then the measured shift comparison."""
    settings = runs[0].settings
    accuracy = pooling.compare([r.result.accuracy["pooled"] for r in runs],
                               [r.result.accuracy["plain"] for r in runs], settings.n_val)
    st.caption(f"Measured with {settings.n_train} training images, {settings.epochs} epochs, "
               f"batch {settings.batch_size}, Adam at {settings.learning_rate:g}, seed(s) "
               f"{', '.join(str(r.settings.seed) for r in runs)}; {settings.n_val} validation "
               "images, the first 60 of them shifted.")
    explain(*pooling.accuracy_sentence(accuracy, settings.n_val, pair_costs()))
    probes = [_pair_probe(r.id, r.result, max_shift) for r in runs]
    shift = min(ASKED_SHIFT, max_shift)
    kept = pooling.shift_comparison(probes, shift)
    n_images = probes[0]["pooled"].predicted.shape[0]
    revealed = ask(
        questions.choice("pool_shift", f"Shift {n_images} validation images right by {shift} "
                         "px. Whose predictions change more often?", pooling.SHIFT_ANSWERS),
        questions.Measured(pooling.shift_answer(kept), why=(
            f"the pooled net kept {kept.pooled:.0%} of its predictions and the plain one "
            f"{kept.plain:.0%}; a difference under {100 * kept.noise:.0f} points counts as "
            "the same")),
        context=tuple(str(r.settings) for r in runs))
    if not revealed:
        return
    depth = ["conv1", "conv2", "conv3", "head input"]
    change = {name: np.mean([[p[name].at(1)[p[name].layers.index(c)] for c in depth[:3]]
                             + [p[name].at(1)[-1]] for p in probes], axis=0)
              for name in pair.NAMES}
    same = {f"{n} ({accuracy.pooled if n == 'pooled' else accuracy.plain:.0%} val. "
            "accuracy)": np.mean([p[n].same_prediction for p in probes], axis=0)
            for n in pair.NAMES}
    pcs = st.columns(2)
    pcs[0].plotly_chart(receptive_figures.same_prediction_figure(
        probes[0]["pooled"].shifts, same, n_images), width="stretch")
    pcs[1].plotly_chart(receptive_figures.layer_change_figure(
        depth, {n: list(v) for n, v in change.items()}), width="stretch")
    head_change = {n: float(change[n][-1]) for n in pair.NAMES}
    short, more = pooling.pair_shift_sentence(kept, shift, head_change)
    explain(short, more + " Global average pooling, as at the end of the shapes CNN, removes "
            "position altogether; the pair's Flatten + Dense head keeps it.")
