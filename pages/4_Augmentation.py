"""Data augmentation: compose Keras preprocessing layers, preview them, and measure
what they do to overfitting on a small dataset (concept C13)."""

import streamlit as st

from cnnviz import augment, ui
from cnnviz.data import load_image_zip
from cnnviz.errors import DatasetError
from cnnviz.figures import training as training_figures
from cnnviz.training import data as training_data
from cnnviz.training.augmentation import AugmentSettings
from cnnviz.ui import jobs as ui_jobs

ui.page_setup("Augmentation")


@st.cache_data(show_spinner="Preparing the images…", max_entries=2)
def _preview_batch() -> training_data.Split:
    return training_data.load_split("shapes", n_train=4, n_val=1, size=64, seed=0)


@st.cache_data(show_spinner="Reading your zip…", max_entries=4)
def _zip_images(zip_bytes: bytes):
    return load_image_zip(zip_bytes).data


st.title(":material/auto_awesome_mosaic: Data augmentation")
st.markdown(
    "With few training images a CNN **memorises** them: training accuracy climbs to 100 % "
    "while accuracy on new images stalls. Augmentation shows the network a slightly "
    "different version of every image in every epoch — flipped, turned, shifted — so it "
    "has to learn what stays the same. Build a pipeline, look at it, then **measure** it.")

# ------------------------------------------------------------------ 1. the pipeline
st.header("1 · Build the pipeline")
defaults = dict(augment.DEFAULT_SPEC)
keys = st.multiselect("Augmentation layers, applied in this order",
                      list(augment.AUGMENTATIONS), default=list(defaults),
                      format_func=lambda k: augment.AUGMENTATIONS[k].title, key="aug_layers")
spec = []
columns = st.columns(3)
for i, key in enumerate(keys):
    aug = augment.AUGMENTATIONS[key]
    with columns[i % 3].container(border=True):
        st.markdown(f"**{aug.title}** · `{aug.keras_name}`")
        st.caption(aug.help)
        params = {}
        for p in aug.params:
            value = defaults.get(key, {}).get(p.name, p.default)
            if p.options:
                params[p.name] = st.selectbox(p.label, p.options, key=f"aug_{key}_{p.name}",
                                              index=p.options.index(value))
            else:
                params[p.name] = st.slider(p.label, p.low, p.high, float(value), p.step,
                                           key=f"aug_{key}_{p.name}")
        spec.append([key, params])

with st.expander("The Keras code for this pipeline"):
    st.code(augment.keras_code(spec), language="python")

# ------------------------------------------------------------------ 2. preview
st.header("2 · What the network sees while training")
seed = st.session_state.setdefault("aug_preview_seed", 0)
if st.button("New random draw", icon=":material/casino:"):
    st.session_state["aug_preview_seed"] = seed = seed + 1
choice = ui.image_picker()
with ui.guard("the preview"):
    thumb = augment.thumbnail(choice.image, 128)
    grid = augment.augment_grid(spec, thumb, 12, seed=seed)
    st.markdown(f"**One image, 11 random versions** (seed {seed}); the first is the original.")
    st.image(list(grid), caption=["original"] + [f"#{i}" for i in range(1, len(grid))],
             width=128)
    batch = _preview_batch()
    originals = batch.x_train[:8]
    st.markdown("**A training batch**: the originals (top) and what one epoch feeds the "
                "network (bottom). Every epoch draws new versions.")
    st.image(list(augment.augment(spec, originals, training=False)), width=96)
    st.image(list(augment.augment(spec, originals, seed=seed)), width=96)
    at_inference, in_training = augment.inference_difference(spec, originals, seed=seed)
    left, right = st.columns(2)
    left.metric("Pixel change in training (mean)", f"{in_training:.3f}",
                help="augmentation(images, training=True): random every call")
    right.metric("Pixel change at inference (largest)", f"{at_inference:.3f}",
                 help="augmentation(images, training=False): validation images and your "
                      "photos pass through untouched")
    st.caption("The same layers are the identity at inference, so validation and "
               "prediction always see the real image.")

# ------------------------------------------------------------------ 3. the experiment
st.header("3 · Train with and without it")
st.markdown("The **same** small CNN, the same seed and the same few images are trained "
            "twice: once on the images as they are, once through the pipeline above. "
            "Then we compare training and validation accuracy.")
names = {**training_data.DATASETS, "zip": "Your own zip of class folders"}
shown = ui_jobs.latest("augmentation")
# the form starts from the settings of the result on display, so the two always agree
base = shown.settings if shown is not None else AugmentSettings()
with st.form("aug_experiment"):
    c1, c2, c3 = st.columns([2, 1, 1])  # room for the longest dataset name
    dataset = c1.selectbox("Dataset", list(names), index=list(names).index(base.dataset),
                           format_func=names.get, key="aug_dataset")
    n_train = c2.slider("Training images per class", 5, 200, base.n_train, 5,
                        key="aug_n_train")
    epochs = c3.slider("Epochs", 5, 100, base.epochs, 5, key="aug_epochs")
    c4, c5, c6 = st.columns(3)
    exp_seed = c4.number_input("Seed", 0, 10_000, base.seed, key="aug_seed")
    batch_size = c5.select_slider("Batch size", [8, 16, 32, 64], base.batch_size,
                                  key="aug_batch_size")
    lr = c6.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3], base.learning_rate,
                          key="aug_lr")
    zip_file = st.file_uploader("Your zip (one folder per class), if you chose it", type="zip")
    with ui.guard("the time estimate"):
        planned = AugmentSettings(dataset=dataset, n_train=n_train, epochs=epochs,
                                  seed=int(exp_seed), batch_size=batch_size, learning_rate=lr,
                                  spec=spec)
        took = ui_jobs.expected("augmentation", planned) if dataset != "zip" else ""
        st.caption((f"With {n_train} images per class and {epochs} epochs: {took}. "
                    if took else "") + "The run trains on the server: change the pipeline or "
                   "visit other pages meanwhile; **Stop** keeps the epochs done so far.")
    submitted = st.form_submit_button("Train both", type="primary", icon=":material/play_arrow:")

if submitted:
    with ui.guard("the experiment"):
        if dataset == "zip" and zip_file is None:
            raise DatasetError("Upload a zip of class folders first.")
        own = _zip_images(zip_file.getvalue()) if dataset == "zip" else None
        ui_jobs.submit("augmentation", "augmentation", AugmentSettings(
            dataset=dataset, n_train=n_train, epochs=epochs, seed=int(exp_seed),
            batch_size=batch_size, learning_rate=lr, spec=spec, data=own))
ui_jobs.follow("augmentation", draw=ui_jobs.draw_curves)
shown = ui_jobs.latest("augmentation")

# ------------------------------------------------------------------ results
if shown is None:
    if not ui_jobs.in_flight("augmentation"):
        took = ui_jobs.expected("augmentation", AugmentSettings())
        st.info("Press **Train both** to run the experiment"
                + (f" ({took} with the defaults)." if took else "."))
else:
    result = shown.result
    runs = result.runs
    s = result.settings
    if not result.complete:
        st.warning("Training was stopped; showing the epochs that finished.",
                   icon=":material/pause_circle:")
    cols = st.columns(len(runs) or 1)
    for col, run in zip(cols, runs.values(), strict=False):
        with col.container(border=True):
            st.markdown(f"**{run.label}** ({run.epochs} epochs"
                        + (f", {run.seconds:.0f} s)" if run.seconds else ")"))
            a, b, c = st.columns(3)
            a.metric("train acc", f"{run.last('accuracy'):.0%}")
            b.metric("val acc", f"{run.last('val_accuracy'):.0%}")
            c.metric("gap", f"{run.gap:+.0%}", help="training minus validation accuracy")
    if len(runs) == 2:
        without, with_aug = runs.values()
        st.success(
            f"Augmentation changed the train–validation gap from **{without.gap:+.0%}** to "
            f"**{with_aug.gap:+.0%}** and the validation accuracy from "
            f"**{without.last('val_accuracy'):.0%}** to **{with_aug.last('val_accuracy'):.0%}** "
            f"(validation loss {without.last('val_loss'):.2f} → "
            f"{with_aug.last('val_loss'):.2f}).", icon=":material/insights:")
    histories = {run.label: run.history for run in runs.values()}
    left, right = st.columns(2)
    left.plotly_chart(training_figures.history_figure(histories, "accuracy"), width="stretch")
    right.plotly_chart(training_figures.history_figure(histories, "loss"), width="stretch")
    st.caption(
        f"Data: {result.description}. {s.n_train} training and up to {s.n_val} validation "
        f"images per class at {s.size}×{s.size}; {s.epochs} epochs, batch {s.batch_size}, "
        f"Adam lr {s.learning_rate:g}, seed {s.seed} (the same for both runs)"
        + (f"; {result.seconds:.0f} s in total." if result.seconds else "."))
    with st.expander("What to look for"):
        st.markdown(
            "- **Without** augmentation the training curve (solid) races to 100 % while "
            "validation (dashed) stays low and its loss *rises*: memorising.\n"
            "- **With** augmentation training accuracy rises more slowly — the task is "
            "harder — but the gap to validation is much smaller.\n"
            "- Too strong a pipeline (large rotations, heavy erasing) can make the task too "
            "hard for the epochs you have; too weak changes nothing. Try it.")
