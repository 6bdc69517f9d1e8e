"""Transfer learning: reuse a pretrained CNN on a new, small task, in three phases,
and measure what it buys you (concepts C14 and C15)."""

import dataclasses

import streamlit as st

from cnnviz import ui
from cnnviz.augment import thumbnail
from cnnviz.data import load_image_zip
from cnnviz.errors import DatasetError
from cnnviz.figures import training as training_figures
from cnnviz.images import load_image
from cnnviz.models import available_models
from cnnviz.training import data as training_data
from cnnviz.training.transfer import (
    HEADS,
    RECIPE_HELP,
    RECIPES,
    TransferSettings,
    predict_probabilities,
    rebuild_model,
)
from cnnviz.ui import jobs as ui_jobs

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


st.title(":material/swap_horiz: Transfer learning")
st.markdown(
    "A network trained on one task has learnt features — edges, corners, curves, parts — "
    "that are useful for others. With **few images** of a new task, start from those "
    "features instead of from random weights:\n"
    "1. **New head**: cut the pretrained network before its classifier, add a new one "
    "for the new classes.\n"
    "2. **Freeze the base, train the head**: only the new layers learn, so their random "
    "start cannot damage the pretrained features.\n"
    "3. **Fine-tune**: unfreeze the top layers of the base and train on at a *much lower* "
    "learning rate. BatchNorm layers stay frozen (inference mode) throughout.")

BASES = {"shapes_cnn": "Shapes CNN (built-in, 5 shapes)"}
with ui.guard("the model list"):
    BASES |= {i.name: i.title for i in available_models() if i.name == "mobilenet_v2"
              and i.usable}
TARGETS = {"new_shapes": "Similar: ring, hexagon, crescent",
           "textures": "Dissimilar: brick, grass, gravel",
           "faces": "Dissimilar: faces vs non-faces",
           **{k: training_data.DATASETS[k] for k in ("mnist", "fashion_mnist", "cifar10",
                                                       "cats_vs_dogs")},
           "zip": "Your own zip of class folders",
           "camera": "Your camera photos (see below)"}
shown = ui_jobs.latest("transfer")
# the form starts from the settings of the result on display, so the two always agree
d = shown.settings if shown is not None else TransferSettings()


def _index(options, value) -> int:
    return list(options).index(value) if value in options else 0


st.header("Run the three phases")
with st.form("transfer"):
    c1, c2, c3 = st.columns(3)
    base = c1.selectbox("Pretrained base", list(BASES), index=_index(BASES, d.base),
                        format_func=BASES.get, key="tr_base")
    target = c2.selectbox("New task", list(TARGETS), index=_index(TARGETS, d.target),
                          format_func=TARGETS.get, key="tr_target")
    n_train = c3.slider("Training images per class", 3, 100, d.n_train, key="tr_n_train")
    c4, c5 = st.columns([3, 2])  # room for the longest head and recipe names
    head = c4.selectbox("New head", list(HEADS), index=_index(HEADS, d.head),
                        format_func=HEADS.get, key="tr_head")
    recipe = c5.selectbox("Recipe", list(RECIPES),
                          index=_index(RECIPES, d.recipe),
                          format_func=RECIPES.get, key="tr_recipe",
                          help=RECIPE_HELP)
    c6, c7, c8, c9 = st.columns(4)
    unfreeze = c6.slider("Phase 3: unfreeze the top … layers", 1, 20, d.unfreeze,
                         key="tr_unfreeze",
                         help="Counted among the layers with weights (BatchNorm excluded).")
    head_epochs = c7.slider("Phase 2 epochs (head)", 1, 40, d.head_epochs, key="tr_head_epochs")
    ft_epochs = c8.slider("Phase 3 epochs (fine-tune)", 0, 40, d.fine_tune_epochs,
                          key="tr_ft_epochs")
    ft_lr = c9.select_slider("Phase 3 learning rate", [1e-5, 3e-5, 1e-4, 3e-4, 1e-3],
                             d.fine_tune_lr, key="tr_ft_lr",
                             help=f"Phase 2 uses {d.head_lr:g}; the 'high learning rate' "
                             f"recipe fine-tunes at {d.high_lr:g}.")
    with st.expander("More settings"):
        e1, e2, e3 = st.columns(3)
        n_val = e1.slider("Validation images per class", 10, 100, d.n_val, key="tr_n_val")
        seed = e2.number_input("Seed", 0, 10_000, d.seed, key="tr_seed")
        scratch = e3.checkbox("Also train the same network from scratch", d.scratch,
                              key="tr_scratch", wrap=True)
        zip_file = st.file_uploader("Your zip (one folder per class)", type="zip")
    settings = TransferSettings(
        base=base, target=target, n_train=n_train, n_val=n_val, head=head, recipe=recipe,
        head_epochs=head_epochs, fine_tune_epochs=ft_epochs, unfreeze=unfreeze,
        fine_tune_lr=ft_lr, seed=int(seed), scratch=scratch)
    took = ui_jobs.expected("transfer", settings) if target not in ("zip", "camera") else ""
    st.caption((f"With these settings: {took}. " if took else "")
               + "The run trains on the server: you can look at other pages meanwhile; "
               "**Stop** keeps the epochs done so far.")
    go = st.form_submit_button("Run", type="primary", icon=":material/play_arrow:")
similar_and_dissimilar = [dataclasses.replace(settings, target=name, scratch=True)
                          for name in ("new_shapes", "textures")]
compare = st.button("Compare a similar and a dissimilar task (transfer and scratch on each)",
                    icon=":material/compare_arrows:", key="tr_compare",
                    help=ui_jobs.expected("transfer", *similar_and_dissimilar).capitalize()
                    or None)

with st.expander("Collect your own classes with the camera (Teachable-Machine style)",
                 icon=":material/photo_camera:"):
    st.markdown("Type a class name, then take photos: each new photo is added to that "
                "class. Take at least (images per class + 1) photos of two or more classes, "
                "then choose *Your camera photos* as the new task.")
    photos = st.session_state.setdefault("tr_photos", {})
    left, right = st.columns(2)
    photo_class = left.text_input("Class of the next photos", "class A", max_chars=40)
    shot = right.camera_input("Photo", key="tr_camera")
    if shot is not None and st.session_state.get("tr_last_shot") != shot.file_id:
        st.session_state["tr_last_shot"] = shot.file_id
        with ui.guard("your photo"):
            image = thumbnail(load_image(shot.getvalue()), 96)
            photos.setdefault(photo_class.strip() or "unnamed", []).append(image)
    if photos:
        left.dataframe([{"class": k, "photos": len(v)} for k, v in photos.items()],
                       hide_index=True)
        if left.button("Forget all photos", icon=":material/delete:"):
            photos.clear()
            st.rerun()

if go or compare:
    with ui.guard("the training"):
        for asked in (similar_and_dissimilar if compare else
                      [dataclasses.replace(settings, data=_user_data(target, zip_file))]):
            ui_jobs.submit("transfer", "transfer", asked)
ui_jobs.follow("transfer", draw=ui_jobs.draw_curves)
shown = ui_jobs.latest("transfer")

# ------------------------------------------------------------------ one result
result = shown.result if shown is not None else None
if result is not None:
    s = result.settings
    transfer, scratch_run = result.transfer, result.scratch
    st.header("Phases, parameters and curves")
    if not result.complete:
        st.warning("Training was stopped; showing the epochs that finished.",
                   icon=":material/pause_circle:")
    cols = st.columns(4)
    if transfer is not None:
        cols[0].metric("Transfer: val accuracy", f"{transfer.final_val_accuracy:.0%}")
    if scratch_run is not None:
        cols[1].metric("From scratch: val accuracy", f"{scratch_run.final_val_accuracy:.0%}")
        if transfer is not None:
            gain = transfer.final_val_accuracy - scratch_run.final_val_accuracy
            cols[2].metric("Gain of transfer", f"{gain:+.0%}")
    if transfer is not None and transfer.phases:
        cols[3].metric("Val accuracy drop when phase 3 starts", f"{transfer.phase_drop():.0%}"
                       if transfer.phase_drop() == transfer.phase_drop() else "–")
        st.markdown(f"**Phase 1 · new head** on *{BASES.get(s.base, s.base)}* for "
                    f"{len(result.class_names)} classes ({', '.join(result.class_names)}): "
                    f"{HEADS[s.head]}. With its random weights it scores "
                    f"{transfer.initial_val_accuracy:.0%} on validation.")
        st.plotly_chart(training_figures.parameter_figure(transfer.phases), width="stretch")
        bn = ("BatchNorm moving statistics unchanged (largest change "
              f"{transfer.batchnorm_change:.1g})" if transfer.batchnorm_change == 0
              else f"BatchNorm statistics moved by up to {transfer.batchnorm_change:.3g}")
        st.caption(f"Green = trainable, grey = frozen, per block of the network. {bn}.")
    histories = {run.label: run.history for run in result.runs.values()}
    bounds = {"transfer": [p.start_epoch for p in transfer.phases if p.number == 3]
              } if transfer else {}
    left, right = st.columns(2)
    left.plotly_chart(training_figures.history_figure(histories, "accuracy",
                                                      boundaries=bounds), width="stretch")
    right.plotly_chart(training_figures.history_figure(histories, "loss", boundaries=bounds),
                       width="stretch")
    if transfer is not None and transfer.weight_change:
        st.subheader("How far the pretrained weights moved")
        st.plotly_chart(training_figures.weight_change_figure(
            {"transfer": transfer.weight_change}), width="stretch")
        st.caption("‖W_after − W_pretrained‖ / ‖W_pretrained‖ per layer. With freezing and a "
                   "low rate the base barely moves; without freezing or at a high rate the "
                   "features the base learnt are overwritten.")
    st.caption(
        f"Data: {result.description}, {s.n_train} training and {s.n_val} validation images "
        f"per class. Phase 2: {s.head_epochs} epochs at lr {s.head_lr:g}"
        + ("" if s.recipe != "no_freeze" else " with nothing frozen")
        + f"; phase 3: {s.fine_tune_epochs} epochs, top {s.unfreeze} layers, lr "
        f"{s.high_lr if s.recipe == 'high_lr' else s.fine_tune_lr:g}. Scratch: "
        f"{s.head_epochs + s.fine_tune_epochs} epochs at lr {s.scratch_lr:g}. Adam, batch "
        f"{s.batch_size}, seed {s.seed}."
        + (f" {result.seconds:.0f} s in total." if result.seconds else ""))

# ------------------------------------------------------------------ try the new model
if result is not None and result.complete:
    st.header("Try your new model")
    choice = ui.image_picker()
    with ui.guard("the prediction"):
        model = _trained_model(shown.id, result)
        probs = predict_probabilities(model, s.base, choice.image)
        st.markdown(f"The model of the run above "
                    f"({TARGETS.get(s.target, s.target)}, "
                    f"{RECIPES[s.recipe].lower()}) on the sidebar image "
                    f"*{choice.name}*. Pick a *Synthetic shape* such as a ring in the sidebar "
                    f"to test the new shape classes.")
        left, right = st.columns([1, 3])
        left.image(choice.image, width=160)
        right.plotly_chart(training_figures.probability_figure(result.class_names, probs),
                           width="stretch")

# ------------------------------------------------------------------ all runs so far
history = list({status.id: status.result for status in ui_jobs.finished("transfer")
                if status.result is not None and status.result.complete}.values())
if history:
    st.header("Your runs, side by side")
    rows = []
    for r in history:
        t, sc = r.transfer, r.scratch
        rows.append({
            "task": TARGETS.get(r.settings.target, r.settings.target),
            "recipe": RECIPES.get(r.settings.recipe), "images/class": r.settings.n_train,
            "transfer val acc": round(t.final_val_accuracy, 3),
            "scratch val acc": round(sc.final_val_accuracy, 3) if sc else None,
            "gain": round(t.final_val_accuracy - sc.final_val_accuracy, 3) if sc else None,
            "phase-3 drop": round(t.phase_drop(), 3),
            "max weight change": round(max(t.weight_change.values(), default=0.0), 3),
            "seed": r.settings.seed, "seconds": round(r.seconds)})
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Transfer helps most when the new task looks like the old one (shapes → new "
               "shapes) and less for a dissimilar one (shapes → textures or faces).")
elif result is None and not ui_jobs.in_flight("transfer"):
    took = ui_jobs.expected("transfer", TransferSettings())
    st.info("Press **Run** to train" + (f" ({took} with the defaults)" if took else "")
            + ", or compare a similar and a dissimilar task.")
