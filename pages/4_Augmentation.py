"""Data augmentation: compose Keras preprocessing layers, look at what the network sees,
check each layer at inference, and measure what the pipeline does on a small dataset."""

import dataclasses

import streamlit as st

from cnnviz import augment, questions, ui
from cnnviz.data import load_image_zip
from cnnviz.errors import DatasetError
from cnnviz.notebooks.augmentation import numbers as page_numbers
from cnnviz.training import augmentation as experiment
from cnnviz.training import data as training_data
from cnnviz.ui import augmentation as helpers
from cnnviz.ui import jobs as ui_jobs
from cnnviz.views import augmentation as spec_view

ui.page_setup("Augmentation")

THUMBNAIL = 112  # px: one random version in the main figure
BATCH = 8  # training images in the batch preview and the per-layer check

view = ui.page_view("augmentation", prefix="aug_")
choice = ui.image_picker(default_source="Synthetic shape")
view.settle()


@st.cache_data(show_spinner="Preparing the images…", max_entries=2)
def _preview_batch(size: int) -> training_data.Split:
    return training_data.load_split("shapes", n_train=4, n_val=1, size=size, seed=0)


@st.cache_data(show_spinner="Reading your zip…", max_entries=4)
def _zip_images(zip_bytes: bytes):
    return load_image_zip(zip_bytes).data


page = ui.page_layout(
    "Does augmentation help a small network generalise?",
    "With few training images a CNN **memorises** them. Augmentation shows it a new random "
    "version of every image in every epoch (turned, flipped, shifted), so it must learn "
    "what stays the same. Build a pipeline, look at it, then **measure** it.")

with page.controls:
    spec = helpers.pipeline_controls(view.widget)
    draw = st.number_input("Random draw (seed of the versions above)", 0, 10_000,
                           **view.widget("draw"))

with page.figure, ui.guard("the preview"):
    thumb = augment.thumbnail(choice.image, 128)
    grid = augment.augment_grid(spec, thumb, 12, seed=int(draw))
    st.markdown(f"**“{choice.name}” and 11 random versions** (draw {draw}): what the network "
                "sees in 11 epochs.")
    st.image(list(grid), caption=["original"] + [f"#{i}" for i in range(1, len(grid))],
             width=THUMBNAIL)
    if any(key == "crop" for key, _ in spec):
        st.caption("The 11 versions form one batch, and Keras' RandomCrop cuts the same window "
                   "from every image of a batch: each training batch gets a new window.")

# ------------------------------------------------------------------ inference
st.header("Which layers change an image at inference?")
settings_size = experiment.AugmentSettings().size
effects = []
with ui.guard("the check at inference"):
    originals = _preview_batch(settings_size).x_train[:BATCH]
    effects = augment.inference_effects(spec, originals, seed=int(draw))
    st.markdown("A training batch (top) and what one epoch feeds the network (bottom):")
    st.image(list(augment.augment(spec, originals, training=False)), width=80)
    st.image(list(augment.augment(spec, originals, seed=int(draw))), width=80)
    if effects and ui.ask(
            questions.choice("aug_inference", "When the model validates or predicts "
                             "(`training=False`), how many of these layers change the image?",
                             helpers.INFERENCE_ANSWERS),
            questions.Measured(helpers.inference_answer(effects), why=(
                "each layer was run on the batch with training=False and compared with its "
                "input")), context=augment.describe(spec)):
        ui.explain(augment.inference_sentence(effects))
        helpers.effects_table(effects)
    with st.expander("The Keras code for this pipeline (it runs as shown)"):
        st.code(augment.keras_code(spec, (settings_size, settings_size), seed=int(draw)),
                language="python")

# ------------------------------------------------------------------ the experiment
st.header("Does it raise validation accuracy?")
ui.explain("The **same** small CNN, seeds and images train twice: on the images as they are, "
           "then through the pipeline above. A gain counts only above the noise threshold.",
           "A shape keeps its class when turned by any angle, mirrored or moved, so the "
           "default pipeline turns and flips freely. An upright photo or a digit does not: "
           "the page warns when a layer can change what such an image shows.")
names = {**training_data.DATASETS, "zip": "Your own zip of class folders"}
with st.form("aug_experiment"):
    c1, c2, c3 = st.columns([2, 1, 1])  # room for the longest dataset name
    dataset = c1.selectbox("Dataset", list(names), format_func=names.get,
                           **view.widget("ds", key="aug_dataset"))
    n_train = c2.slider("Training images per class", 5, 200, step=5,
                        **view.widget("n", key="aug_n_train"))
    epochs = c3.slider("Epochs", 5, 100, step=5, **view.widget("ep", key="aug_epochs"))
    c4, c5, c6, c7 = st.columns(4)
    exp_seed = c4.number_input("First seed", 0, 10_000, **view.widget("eseed", key="aug_seed"))
    seeds = c5.selectbox("Seeds per arm", spec_view.SEED_COUNTS,
                         **view.widget("seeds", key="aug_seeds"))
    batch_size = c6.select_slider("Batch size", spec_view.BATCH_SIZES,
                                  **view.widget("bs", key="aug_batch_size"))
    lr = c7.select_slider("Learning rate", spec_view.LEARNING_RATES,
                          **view.widget("lr", key="aug_lr"))
    zip_file = st.file_uploader("Your zip (one folder per class), if you chose it", type="zip")
    planned = None
    with ui.guard("the time estimate"):
        planned = experiment.AugmentSettings(
            dataset=dataset, n_train=n_train, epochs=epochs, seed=int(exp_seed),
            seeds=int(seeds), batch_size=batch_size, learning_rate=lr, spec=spec)
        took = ui_jobs.expected("augmentation", planned) if dataset != "zip" else ""
        st.caption((f"{2 * seeds} runs of {epochs} epochs: {took}. " if took else "")
                   + "Change the pipeline or visit other pages meanwhile; **Stop** keeps "
                   "the epochs done so far.")
    submitted = st.form_submit_button("Train both", type="primary", icon=":material/play_arrow:")

for risk in augment.label_risks(spec, dataset):
    st.warning(risk, icon=":material/warning:")

if submitted and planned is not None:
    with ui.guard("the experiment"):
        if dataset == "zip" and zip_file is None:
            raise DatasetError("Upload a zip of class folders first.")
        own = _zip_images(zip_file.getvalue()) if dataset == "zip" else None
        ui_jobs.submit("augmentation", "augmentation",
                       dataclasses.replace(planned, data=own))
ui_jobs.follow("augmentation", draw=ui_jobs.draw_curves)
shown = ui_jobs.latest("augmentation")

view.publish()
if shown is None:
    if not ui_jobs.in_flight("augmentation"):
        took = ui_jobs.expected("augmentation", experiment.AugmentSettings())
        st.info("Press **Train both** to run the experiment"
                + (f" ({took} with the defaults)." if took else "."))
else:
    comparison = experiment.compare(shown.result)
    if comparison is None:
        helpers.show_result(shown.result)
    else:
        sentences = experiment.conclusions(comparison)
        if ui.ask(questions.choice(
                "aug_gain", "With these settings, will augmentation raise validation accuracy, "
                "lower it, or leave it within noise?", ("raise it", "lower it", "within noise")),
                questions.Measured(helpers.verdict_answer(sentences), why=(
                    f"a change counts above {100 * comparison.threshold:.0f} points")),
                context=repr(shown.result.settings)):
            helpers.show_result(shown.result)
view.take_home(page_numbers(spec, effects, shown.result if shown else None), {})
