"""Transfer learning: reuse a pretrained CNN on a new, small task, in three phases,
and measure what it buys you against the same network trained from scratch."""

import dataclasses

import streamlit as st

from cnnviz import questions, ui
from cnnviz.augment import thumbnail
from cnnviz.data import load_image_zip
from cnnviz.errors import DatasetError
from cnnviz.figures import training as training_figures
from cnnviz.images import load_image
from cnnviz.models import available_models, input_size
from cnnviz.notebooks import transfer as transfer_code
from cnnviz.training import data as training_data
from cnnviz.training import transfer_claims as claims
from cnnviz.training.transfer import (
    RECIPE_HELP,
    RECIPES,
    TransferSettings,
    predict_probabilities,
    rebuild_model,
)
from cnnviz.ui import jobs as ui_jobs
from cnnviz.ui import transfer as helpers
from cnnviz.views import transfer as view_spec

ui.page_setup("Transfer learning")


@st.cache_data(show_spinner="Reading your zip…", max_entries=4)
def _zip_images(zip_bytes: bytes):
    return load_image_zip(zip_bytes).data


@st.cache_resource(scope="session", max_entries=2, show_spinner="Rebuilding your model…")
def _trained_model(job_id: str, _result):
    """This session's own copy of a trained model, rebuilt from the weights in a result
    (the result is shared; a Keras model never is)."""
    return rebuild_model(_result)


def _user_data(target: str, zip_file):
    """The student's own images for the zip / camera tasks (None for a named dataset)."""
    if target == "zip":
        if zip_file is None:
            raise DatasetError("Upload a zip of class folders first (under More settings).")
        return _zip_images(zip_file.getvalue())
    if target == "camera":
        return training_data.labeled_from_photos(st.session_state.get("tr_photos", {}))
    return None


BASES = {"shapes_cnn": "Shapes CNN (built-in)"}
with ui.guard("the model list"):
    BASES |= {i.name: i.title for i in available_models() if i.name == "mobilenet_v2"
              and i.usable}
view = ui.page_view("transfer", prefix="tr_")
view.settle(bases=list(BASES))
d = TransferSettings()
page = ui.page_layout(
    "Does a pretrained network learn a new task from a few images?",
    "Reuse a network trained on shapes: **1** a new head for the new classes, **2** base "
    "frozen, train the head, **3** unfreeze the top layers and fine-tune slowly. Against "
    "it, the same network trained from scratch on the same images.")


with page.controls:
    with st.form("transfer"):
        c1, c2, c3 = st.columns(3)
        base = c1.selectbox("Pretrained base", list(BASES), format_func=BASES.get,
                            **view.widget("base"))
        target = c2.selectbox("New task", list(helpers.TARGETS),
                              format_func=helpers.TARGETS.get, help=helpers.TARGET_HELP,
                              **view.widget("task", key="tr_target"))
        n_train = c3.slider("Training images per class", 3, 100,
                            **view.widget("n", key="tr_n_train"))
        c4, c5 = st.columns(2)
        head = c4.selectbox("New head", list(helpers.HEAD_NAMES),
                            format_func=helpers.HEAD_NAMES.get, help=helpers.head_help(),
                            **view.widget("head"))
        recipe = c5.selectbox("Recipe", list(RECIPES), format_func=RECIPES.get,
                              help=RECIPE_HELP, **view.widget("recipe"))
        c6, c7, c8, c9 = st.columns(4)
        unfreeze = c6.slider("Phase 3: unfreeze top", 1, 20,
                             help="Layers with weights, counted from the top of the base "
                             "(BatchNorm excluded).", **view.widget("top", key="tr_unfreeze"))
        head_epochs = c7.slider("Phase 2 epochs", 1, 40,
                                **view.widget("ep2", key="tr_head_epochs"))
        ft_epochs = c8.slider("Phase 3 epochs", 0, 40, **view.widget("ep3", key="tr_ft_epochs"))
        ft_lr = c9.select_slider("Phase 3 rate", view_spec.FINE_TUNE_RATES,
                                 **view.widget("lr3", key="tr_ft_lr"),
                                 help=f"Phase 2 uses {d.head_lr:g}; 'fine-tune fast' uses "
                                 f"{d.high_lr:g} in phase 3; scratch {d.scratch_lr:g}.")
        with st.expander("More settings"):
            e1, e2, e3 = st.columns(3)
            n_val = e1.slider("Validation images per class", 10, 100,
                              **view.widget("nval", key="tr_n_val"))
            seed = e2.number_input("Seed", 0, 10_000, **view.widget("tseed", key="tr_seed"))
            scratch = e3.checkbox("Also train the same network from scratch", wrap=True,
                                  **view.widget("scratch"))
            zip_file = st.file_uploader("Your zip (one folder per class)", type="zip")
        settings = TransferSettings(
            base=base, target=target, n_train=n_train, n_val=n_val, head=head, recipe=recipe,
            head_epochs=head_epochs, fine_tune_epochs=ft_epochs, unfreeze=unfreeze,
            fine_tune_lr=ft_lr, seed=int(seed), scratch=scratch)
        own = target in ("zip", "camera")
        took = "" if own else ui_jobs.expected("transfer", settings)
        st.caption((f"With these settings: {took}. " if took else "")
                   + "Trains on the server; **Stop** keeps the epochs done so far.")
        go = st.form_submit_button("Run", type="primary", icon=":material/play_arrow:")

shown = ui_jobs.latest("transfer")
result = shown.result if shown is not None else None
s = result.settings if result is not None else settings
compare_runs, sweep_runs = helpers.compare_settings(s), helpers.sweep_settings(s)
if go or helpers.link_arrived(view.notices):  # a link runs its settings (a finished run is reused)
    with ui.guard("the training"):
        ui_jobs.submit("transfer", "transfer",
                       dataclasses.replace(settings, data=_user_data(target, zip_file)))

with page.figure:
    view.bar()
    ui_jobs.follow("transfer", draw=ui_jobs.draw_training_curves)
    shown = ui_jobs.latest("transfer")
    result = shown.result if shown is not None else None
    if result is not None:
        if not result.complete:
            st.warning("Training was stopped; showing the epochs that finished.",
                       icon=":material/pause_circle:")
        gain = helpers.gain_of(result)
        if gain is None or ui.ask(questions.choice(
                "tr_gain", f"With {result.settings.n_train} training images per class, will "
                f"transfer beat scratch by more than {100 * claims.GAIN_THRESHOLD:.0f} points?",
                helpers.GAIN_ANSWERS), helpers.measured_gain(result),
                context=(result.settings.target, result.settings.seed)):
            helpers.headline(result)
    elif not ui_jobs.in_flight("transfer"):
        took = ui_jobs.expected("transfer", TransferSettings())
        st.info("Press **Run** below to train" + (f" ({took} with the defaults)" if took
                                                    else "") + ".")

if result is not None:
    s = result.settings
    st.header("Why freeze the base first?")
    if ui.ask(questions.number(
            "tr_params", "In phase 2 (base frozen) how many parameters does the model train?",
            unit="parameters"), helpers.measured_phase2(result), context=(s.base, s.head)):
        helpers.phase_details(result, BASES.get(s.base, s.base))
    st.caption(helpers.settings_caption(result))

history = helpers.complete_results(ui_jobs.finished("transfer"))
st.header("Does transfer help more when the new task looks like the old one?")
similar, dissimilar, dissimilar_scratch = helpers.similarity(history, s)
if similar and dissimilar:
    st.markdown(claims.similarity_sentence(similar, dissimilar, dissimilar_scratch))
    st.caption(f"From your runs of both tasks with the settings above ({s.n_train} images per "
               f"class), {len(similar)} and {len(dissimilar)} seeds; threshold "
               f"{100 * claims.SIMILARITY_THRESHOLD:.0f} points.")
if st.button(f"Train {helpers.TARGETS[helpers.SIMILAR].lower()} and "
             f"{helpers.TARGETS[helpers.DISSIMILAR].lower()}, seeds 0 and 1",
             icon=":material/compare_arrows:", key="tr_compare",
             help=ui_jobs.expected("transfer", *compare_runs).capitalize() or None):
    with ui.guard("the training"):
        for asked in compare_runs:
            ui_jobs.submit("transfer", "transfer", asked)
    st.rerun()

st.header("Where does scratch catch up?")
gains = helpers.sweep(history, s)
if any(len(by_size) > 1 for by_size in gains.values()):
    helpers.sweep_figure(gains)
if st.button(f"Train {', '.join(map(str, helpers.SIZES))} images per class, seeds 0 and 1",
             icon=":material/stacked_line_chart:", key="tr_sweep",
             disabled=s.target in ("zip", "camera"),
             help=ui_jobs.expected("transfer", *sweep_runs).capitalize() or None):
    with ui.guard("the training"):
        for asked in sweep_runs:
            ui_jobs.submit("transfer", "transfer", asked)
    st.rerun()

if result is not None and result.complete:
    st.header("Try your new model")
    with ui.guard("the prediction"):
        model = _trained_model(shown.id, result)
        if s.target in ("zip", "camera"):
            choice = ui.image_picker()
            images, names = [choice.image], [choice.name]
        else:
            images, names = helpers.task_images(s.target, s.n_val, s.seed,
                                                input_size(s.base)[0])
        pick = st.radio("Image", range(len(images)), horizontal=True,
                        format_func=lambda i: f"{i + 1}: {names[i]}", key="tr_try")
        probs = predict_probabilities(model, s.base, images[pick])
        left, right = st.columns([1, 3])
        left.image(images[pick], width=160, clamp=True)
        right.plotly_chart(training_figures.probability_figure(result.class_names, probs),
                           width="stretch")
        st.caption(f"The transfer model of the run above ({helpers.TARGETS.get(s.target)}, "
                   f"{RECIPES[s.recipe].lower()}) on new images of its task.")

if history:
    st.header("Your runs, side by side")
    helpers.runs_table(history)

with st.expander("Collect your own classes with the camera (Teachable-Machine style)",
                 icon=":material/photo_camera:"):
    st.markdown("Type a class name, then take photos. Take at least (images per class + 1) "
                "photos of two or more classes, then choose *Your camera photos*.")
    photos = st.session_state.setdefault("tr_photos", {})
    left, right = st.columns(2)
    photo_class = left.text_input("Class of the next photos", "class A", max_chars=40)
    shot = right.camera_input("Photo", key="tr_camera")
    if shot is not None and st.session_state.get("tr_last_shot") != shot.file_id:
        st.session_state["tr_last_shot"] = shot.file_id
        with ui.guard("your photo"):
            photos.setdefault(photo_class.strip() or "unnamed", []).append(
                thumbnail(load_image(shot.getvalue()), 96))
    if photos:
        left.dataframe([{"class": k, "photos": len(v)} for k, v in photos.items()],
                       hide_index=True)
        if left.button("Forget all photos", icon=":material/delete:"):
            photos.clear()
            st.rerun()

view.publish()
if result is not None and result.complete:
    view.take_home(transfer_code.numbers(result), helpers.curves(result))
