"""Filters: gradient ascent on the input shows what a filter responds to (concept C11)."""

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import filters, models, probe, questions, receptive, ui
from cnnviz.errors import ModelError
from cnnviz.figures import activations as activation_figures
from cnnviz.figures import maps

ui.page_setup("Filters")

SIZE = 128
THUMBNAIL = 180  # px: the smallest optimised image a class can read
R = filters.RECOMMENDED


@st.cache_data(max_entries=8, show_spinner=False)
def layer_list(model_name):
    return probe.feature_layers(ui.get_model(model_name))


@st.cache_data(max_entries=8, show_spinner=False)
def receptive_fields_of(model_name):
    """Receptive fields by layer, or none when the model's input has no fixed size."""
    try:
        return {r.name: r for r in receptive.receptive_fields(ui.get_model(model_name))}
    except ModelError:
        return {}


@st.cache_data(max_entries=8, show_spinner=False)
def kernels_of(model_name):
    return filters.first_layer_kernels(ui.get_model(model_name))


@st.cache_data(max_entries=32, show_spinner=False)
def top_filters(model_name, x, layer, n):
    return filters.most_active_filters(ui.get_model(model_name), layer, x, n)


@st.cache_data(max_entries=12, show_spinner=False)
def optimise(model_name, layer, indices, chunks, lr, seed, regs):
    """Results per explicit settings. ``chunks``: the steps of each run in turn, each
    continuing the previous one (cached too), so a progress bar can move between them
    and "continue" only computes the new steps."""
    start = None
    if len(chunks) > 1:
        start = optimise(model_name, layer, indices, chunks[:-1], lr, seed, regs)
    return filters.visualize_with_history(
        ui.get_model(model_name), layer, list(indices), size=SIZE, steps=chunks[-1],
        learning_rate=lr, seed=seed, preprocess=filters.preprocess_mode(model_name),
        start=start, **dict(regs))


def split(steps):
    """40 -> (10, 10, 10, 10): about four chunks of at least 10 steps."""
    size = max(10, -(-steps // 4))
    return (size,) * (steps // size) + ((steps % size,) if steps % size else ())


def upscale(tiles, side):
    return np.stack([np.asarray(Image.fromarray(t).resize((side, side), Image.NEAREST))
                     for t in tiles])


page = ui.page_layout(
    "What pattern makes a filter fire?",
    "Start from random noise and **change the image** by gradient *ascent*: step after "
    "step, move every pixel in the direction that raises one filter's mean activation. "
    "What appears is the pattern that filter looks for. Many filters are optimised at "
    "once, one image each.")

name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")

with ui.guard("the filter visualisation"):
    infos = layer_list(name)
    kinds = probe.default_kinds(infos)
    listed = [i.name for i in infos if i.kind in kinds]
    by_name = {i.name: i for i in infos}
    wanted = st.query_params.get("layer")  # a shared link can open a layer
    default = listed.index(wanted) if wanted in listed else len(listed) // 2
    with page.controls:
        c1, c2, c3 = st.columns(3)
        layer = c1.selectbox("Layer", listed, index=default,
                             format_func=lambda n: by_name[n].label, key=f"flt_layer_{name}")
        channels = by_name[layer].channels
        how = c2.radio("Filters", ["range", "top"], horizontal=True, key="flt_how",
                       format_func={"range": "a range", "top": "most active on the image"}.get)
        big = max(d or 0 for d in probe.input_shape(ui.get_model(name))[:2]) > 128
        most = min(24 if big else 64, channels)  # 64 images of 224 px: memory and minutes
        count = c3.slider("How many", 1, most, min(8 if big else 16, most), key="flt_count")
        if how == "range":
            first = c2.number_input("First filter", 0, channels - 1, 0,
                                    key=f"flt_first_{layer}")
            indices = tuple(range(int(first), min(channels, int(first) + count)))
        else:
            x = models.prepare(name, choice.image).x
            indices = tuple(top_filters(name, x, layer, count))
            c2.caption(f"on “{choice.name}”: filters {', '.join(map(str, indices))}")

        with st.expander("Gradient ascent settings: steps, learning rate, regularisers",
                         icon=":material/tune:"), st.form("flt_settings", border=False):
            f1, f2, f3, f4 = st.columns(4)
            steps = f1.slider("Steps", 5, 200, 40, step=5, key="flt_steps")
            lr = f1.select_slider("Learning rate", [1.0, 3.0, 10.0, 30.0], 10.0)
            seed = f1.number_input("Seed", 0, 9999, 0)
            fourier = f2.toggle("Fourier image", False, key="flt_fourier",
                                help="Optimise a colour-decorrelated spectrum scaled by "
                                     "1/frequency, in the colour axes of natural photos: "
                                     "smooth, large patterns first.")
            jitter = f2.slider("Jitter (pixels, pad and crop)", 0, 8, R.jitter)
            scale = f3.slider("Random zoom ±", 0.0, 0.2, R.scale, step=0.01)
            rotate = f3.slider("Random rotation ± (degrees)", 0.0, 20.0, R.rotate, step=1.0)
            blur_every = f3.slider("Blur every k steps (0 = never)", 0, 10, R.blur_every)
            blur_sigma = f4.slider("Blur sigma (pixels)", 0.3, 2.0, R.blur_sigma, step=0.1)
            tv = f4.select_slider("Total variation weight", [0.0, 0.1, 0.3, 1.0, 3.0], R.tv)
            l2 = f4.select_slider("L2 decay weight", [0.0, 0.1, 0.3, 1.0, 3.0], R.l2)
            st.form_submit_button("Run gradient ascent", type="primary")
        more = st.button(f"Continue {steps} more steps from these images", key="flt_more")
        fields = receptive_fields_of(name)
        if layer in fields:
            rf = fields[layer]
            if ui.ask(questions.number(
                    "flt_rf", f"A unit of {layer} looks at a square patch of the input, and "
                    "the pattern its filter wants must fit inside it. How many pixels wide is "
                    "that patch?", unit="pixels"),
                    questions.Measured(rf.size, why=(
                        f"the receptive field grows through the layers up to {layer}, "
                        f"{receptive.size_chain(list(fields.values()), layer)}"))):
                st.caption(f"So each image repeats patterns at most {rf.size} pixels wide, "
                           f"one every {rf.jump} pixels (the layer's stride in input pixels).")

    regs = tuple(filters.with_regularizers(
        jitter=jitter, scale=scale, rotate=rotate, tv=tv, l2=l2, blur_every=blur_every,
        blur_sigma=blur_sigma, fourier=fourier).items())
    request = (name, layer, indices, float(lr), int(seed), regs)
    if st.session_state.get("flt_request") != request:
        st.session_state["flt_request"] = request
        st.session_state["flt_schedule"] = (int(steps),)
    if more:
        st.session_state["flt_schedule"] = (*st.session_state["flt_schedule"], int(steps))
    schedule = st.session_state["flt_schedule"]

    chunks = tuple(c for part in schedule for c in split(part))
    with page.figure:
        bar = st.progress(0.0, text="Optimising…")
        for k in range(1, len(chunks) + 1):
            result = optimise(name, layer, indices, chunks[:k], float(lr), int(seed), regs)
            bar.progress(k / len(chunks), text=f"Step {sum(chunks[:k])} of {sum(chunks)} for "
                                               f"{len(indices)} filters")
        bar.empty()
        dead = [f for i, f in enumerate(result.filter_indices)
                if result.history[:, i].max() <= 0]
        st.subheader(f"{layer}: {len(indices)} filters after {result.steps_done} steps")
        cols = ui.grid_columns(THUMBNAIL, len(indices))
        for row in range(0, len(indices), cols):
            for col, i in zip(st.columns(cols), range(row, min(row + cols, len(indices)))):
                f = result.filter_indices[i]
                col.image(result.images[i], width="stretch", output_format="PNG",
                          caption=f"filter {f}" + (" · never fired" if f in dead else ""))
        st.caption(f"Settings: model {name}, layer {layer}, image {result.params.shape[1]}×"
                   f"{result.params.shape[2]} (the model's input size when it is fixed), "
                   f"learning rate {lr}, seed {seed}, steps {' + '.join(map(str, schedule))}.")

    if dead:
        st.info(f"Filters {', '.join(map(str, dead))} never fired: their ReLU output was 0 "
                "on the start image, so the gradient was 0 and nothing changed. Try another "
                "seed, or more jitter.", icon=":material/info:")
    st.plotly_chart(activation_figures.activation_curves_figure(
        result.history, result.filter_indices), width="stretch")
    st.markdown("Early layers want colours and edge orientations, deeper ones textures and "
                "repeated parts.")

with ui.guard("the first layer's kernels"):
    kname, kernels = kernels_of(name)
    st.subheader("The first layer needs no optimisation: its weights are pictures")
    ui.explain(
        f"The first convolution (**{kname}**) works on RGB pixels, so each kernel "
        f"({kernels.shape[1]}×{kernels.shape[2]}×3) *is* a tiny colour image: grey = 0, "
        "brighter = a positive weight for that colour.",
        "Deeper kernels mix dozens of channels and cannot be drawn like this; for them we "
        "use gradient ascent above.")
    per_row = 8 if len(kernels) <= 16 else 16  # big enough to read on a projector
    st.image(maps.tile_grid(upscale(kernels, 60), cols=per_row, pad=6),
             width="stretch" if len(kernels) >= 8 else 66 * len(kernels),
             caption=f"{len(kernels)} kernels of {kname}", output_format="PNG")

with st.expander("The code of one gradient-ascent step", icon=":material/code:"):
    st.code(
        "with tf.GradientTape() as tape:\n"
        "    tape.watch(images)                 # (n, h, w, 3): one image per filter\n"
        "    maps = feature_model(images)       # the chosen layer\n"
        "    act = tf.gather(maps, filter_ids, axis=3, batch_dims=1)  # image i -> filter i\n"
        "    loss = tf.reduce_sum(tf.reduce_mean(act[:, 2:-2, 2:-2], axis=[1, 2]))\n"
        "grads = tf.math.l2_normalize(tape.gradient(loss, images), axis=[1, 2, 3])\n"
        "images += learning_rate * grads        # each image on its own",
        language="python", wrap_lines=True)
    st.caption("Each image's gradient is normalised on its own, so each result is exactly "
               "what optimising that filter alone would give.")
