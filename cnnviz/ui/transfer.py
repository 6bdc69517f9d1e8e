"""Streamlit pieces of the transfer-learning page: short option labels, the headline
of a result, the phase details with their computed sentences, the experiments over
tasks, seeds and data sizes, and the runs table."""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from cnnviz import questions
from cnnviz.figures import training as training_figures
from cnnviz.figures import transfer as transfer_figures
from cnnviz.training import transfer_claims as claims
from cnnviz.training.transfer import (
    HEADS,
    RECIPES,
    SCRATCH_BATCHNORM_MOMENTUM,
    TransferSettings,
)
from cnnviz.views.transfer import SPEC

#: the new tasks, labelled short enough for a selectbox at 1280 px
TARGETS = {"new_shapes": "Similar: new shapes", "textures": "Dissimilar: textures",
           "faces": "Faces vs non-faces (easy)", "mnist": "MNIST digits",
           "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
           "cats_vs_dogs": "Cats vs dogs", "zip": "Your zip of classes",
           "camera": "Your camera photos"}
TARGET_HELP = ("**Similar**: ring, hexagon, crescent, drawn like the base's five shapes. "
               "**Dissimilar**: brick, grass, gravel photos; easy too: scratch alone scored "
               "99 % with 8 images per class in the benchmark. **Faces vs non-faces** is "
               "easy: scratch alone scored 97 % in an earlier benchmark, so it shows little about "
               "similarity. "
               "The last four download on first use.")
HEAD_NAMES = {"linear": "Pool → Dense", "dropout": "Pool → Dropout → Dense",
              "hidden": "Pool → Dense 64 → Dense"}
#: the pair the "similar vs dissimilar" comparison trains, and its seeds
SIMILAR, DISSIMILAR = "new_shapes", "textures"
SEEDS = (0, 1)
#: training images per class of the data-size sweep
SIZES = (8, 24, 64)


GAIN_ANSWERS = ("yes, by more", "no")


def gain_of(result) -> float | None:
    """Transfer minus scratch final validation accuracy (None without scratch)."""
    if result.scratch is None or result.transfer is None:
        return None
    return result.transfer.final_val_accuracy - result.scratch.final_val_accuracy


def measured_gain(result) -> questions.Measured:
    gain = gain_of(result)
    return questions.Measured(
        GAIN_ANSWERS[0] if gain > claims.GAIN_THRESHOLD else GAIN_ANSWERS[1],
        why=f"transfer {result.transfer.final_val_accuracy:.0%}, scratch "
            f"{result.scratch.final_val_accuracy:.0%}: a gain of {claims.points(gain)} "
            f"against the {100 * claims.GAIN_THRESHOLD:.0f}-point threshold")


def measured_phase2(result) -> questions.Measured:
    phase = result.transfer.phase(2)
    frozen = result.settings.recipe != "no_freeze"
    return questions.Measured(phase.trainable, why=(
        f"only the new head trains; the {phase.frozen:,} parameters of the base are frozen"
        if frozen else "with no freezing every parameter trains, except BatchNorm's"))


def link_arrived(notices) -> bool:
    """True when a session opens this page with settings in its address (a link) that
    were all valid (``notices`` empty): the page then runs them; identical settings reuse
    the stored result at once. A link that had to be corrected waits for **Run**."""
    if "tr_opened" in st.session_state:
        return False
    st.session_state["tr_opened"] = True
    return bool(set(st.query_params) & set(SPEC.names)) and not notices


def curves(result) -> dict:
    """The figures' data of a result: each run's learning curves, the phase-3 start."""
    out = {f"{label}_{metric}": np.asarray(values) for label, run in result.runs.items()
           for metric, values in run.history.items()}
    phase3 = result.transfer.phase(3)
    out["phase3_start_epoch"] = np.asarray(phase3.start_epoch if phase3 else -1)
    return out


def head_help() -> str:
    return " ".join(f"**{HEAD_NAMES[k]}**: {v}." for k, v in HEADS.items())


def compare_settings(settings: TransferSettings) -> list[TransferSettings]:
    """The similar and the dissimilar task, seeds 0 and 1, transfer and scratch each."""
    return [dataclasses.replace(settings, target=target, seed=seed, scratch=True, data=None)
            for target in (SIMILAR, DISSIMILAR) for seed in SEEDS]


def sweep_settings(settings: TransferSettings) -> list[TransferSettings]:
    """The current task at each size of :data:`SIZES`, seeds 0 and 1, with scratch."""
    return [dataclasses.replace(settings, n_train=n, seed=seed, scratch=True)
            for n in SIZES for seed in SEEDS]


def _same_but(a: TransferSettings, b: TransferSettings, *names: str) -> bool:
    """Whether ``a`` and ``b`` agree on every setting except ``names`` (and the data)."""
    ignore = {"data", *names}
    return all(getattr(a, f.name) == getattr(b, f.name)
               for f in dataclasses.fields(a) if f.name not in ignore)


def headline(result) -> None:
    """The figures of one result: metrics, accuracy curves, the gain sentence."""
    transfer, scratch = result.transfer, result.scratch
    cols = st.columns(4)
    cols[0].metric("Transfer", f"{transfer.final_val_accuracy:.0%}",
                   help="Final validation accuracy of the transfer run.")
    if scratch is not None:
        gain = transfer.final_val_accuracy - scratch.final_val_accuracy
        cols[1].metric("Scratch", f"{scratch.final_val_accuracy:.0%}",
                       help="Final validation accuracy of the same network from random "
                       "weights, every layer trainable (BatchNorm too).")
        cols[2].metric("Gain", f"{100 * gain:+.0f} pts",
                       help="Transfer minus scratch, in percentage points.")
    drop = transfer.phase_drop()
    cols[3].metric("Phase-3 drop", f"{100 * drop:.0f} pts" if drop == drop else "–",
                   help="Validation accuracy at the end of phase 2 minus the lowest in the "
                   "first 2 epochs of phase 3.")
    histories = {run.label: run.history for run in result.runs.values()}
    bounds = {"transfer": [p.start_epoch for p in transfer.phases if p.number == 3]}
    st.plotly_chart(training_figures.history_figure(histories, "accuracy", boundaries=bounds),
                    width="stretch", key="tr_accuracy")
    if scratch is not None:
        st.markdown(claims.gain_sentence(
            [transfer.final_val_accuracy - scratch.final_val_accuracy]))


def settings_caption(result) -> str:
    s = result.settings
    lr3 = s.high_lr if s.recipe == "high_lr" else s.fine_tune_lr
    return (f"Data: {result.description}, {s.n_train} training and {s.n_val} validation "
            f"images per class, seed {s.seed}. Transfer: phase 2 {s.head_epochs} epochs at "
            f"learning rate {s.head_lr:g}" + (", nothing frozen" if s.recipe == "no_freeze"
                                               else "")
            + f"; phase 3 {s.fine_tune_epochs} epochs at {lr3:g}"
            + ("" if s.recipe == "no_freeze" else f", top {s.unfreeze} layers")
            + f". Scratch: {s.head_epochs + s.fine_tune_epochs} epochs at {s.scratch_lr:g}, "
            f"every layer trainable, BatchNorm momentum {SCRATCH_BATCHNORM_MOMENTUM:g}. "
            f"Adam, batch {s.batch_size}. Each arm's learning rate is "
            "the best of the same grid on validation (benchmarks/bench_transfer.py)."
            + (f" {result.seconds:.0f} s." if result.seconds else ""))


def phase_details(result, base_label: str) -> None:
    """Phase 1's head, the trainable parameters per phase, and what phase 3 did."""
    s, transfer = result.settings, result.transfer
    st.markdown(f"**Phase 1 · new head** on *{base_label}* for {len(result.class_names)} "
                f"classes ({', '.join(result.class_names)}): {HEADS[s.head]}. With its "
                f"random weights it scores {transfer.initial_val_accuracy:.0%}.")
    st.plotly_chart(training_figures.parameter_figure(transfer.phases), width="stretch")
    st.caption("Green = trainable, grey = frozen, per block of the network.")
    lr3 = s.high_lr if s.recipe == "high_lr" else s.fine_tune_lr
    st.markdown(claims.drop_sentence(transfer.phase_drop(), lr3))
    st.markdown(claims.batchnorm_sentence(transfer.batchnorm_change))
    if transfer.weight_change:
        st.plotly_chart(training_figures.weight_change_figure(
            {"transfer": transfer.weight_change}), width="stretch")
        st.caption("‖W_after − W_pretrained‖ / ‖W_pretrained‖ per layer: how far the "
                   "pretrained weights moved.")


def complete_results(statuses) -> list:
    """The complete results of finished runs, each job once, oldest first."""
    return list({status.id: status.result for status in statuses
                 if status.result is not None and status.result.complete}.values())


def similarity(history, settings: TransferSettings) -> tuple[list, list, list]:
    """Gains on the similar and the dissimilar task, and scratch's accuracies on the
    dissimilar one, among runs that differ from ``settings`` only in the task and the seed."""
    gains: dict[str, list[float]] = {SIMILAR: [], DISSIMILAR: []}
    dissimilar_scratch = []
    for r in claims_ready(history):
        if r.settings.target in gains and _same_but(r.settings, settings, "target", "seed",
                                                     "scratch"):
            gains[r.settings.target].append(
                r.transfer.final_val_accuracy - r.scratch.final_val_accuracy)
            if r.settings.target == DISSIMILAR:
                dissimilar_scratch.append(r.scratch.final_val_accuracy)
    return gains[SIMILAR], gains[DISSIMILAR], dissimilar_scratch


def claims_ready(history) -> list:
    return [r for r in history if r.scratch is not None]


def sweep(history, settings: TransferSettings) -> dict[str, dict[int, list[float]]]:
    """Gains per target and size among runs that differ from ``settings`` only in the
    task, the size and the seed."""
    return claims.gains_by_size(r for r in claims_ready(history)
                                if _same_but(r.settings, settings, "target", "n_train",
                                             "seed", "scratch"))


def sweep_figure(gains) -> None:
    st.plotly_chart(transfer_figures.gain_by_size_figure(gains, TARGETS), width="stretch")
    st.caption("Gain = transfer − scratch final validation accuracy. Points: the mean over "
               "the seeds run; bars: lowest to highest seed. Every other setting as in the "
               "run above; the dotted line is the 10-point threshold of the sentences.")
    for target, by_size in gains.items():
        sentence = claims.catch_up_sentence(by_size)
        if sentence:
            st.markdown(f"**{TARGETS.get(target, target)}**: {sentence}")


def runs_table(history) -> None:
    rows = [{"task": TARGETS.get(r.settings.target, r.settings.target),
             "recipe": RECIPES.get(r.settings.recipe), "n": r.settings.n_train,
             "seed": r.settings.seed, "transfer": r.transfer.final_val_accuracy,
             "scratch": r.scratch.final_val_accuracy if r.scratch else None,
             "gain": (r.transfer.final_val_accuracy - r.scratch.final_val_accuracy
                      if r.scratch else None),
             "phase-3 drop": r.transfer.phase_drop()} for r in history]
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "n": st.column_config.NumberColumn("n", help="training images per class"),
        "transfer": percent, "scratch": percent, "gain": percent, "phase-3 drop": percent})


@st.cache_data(show_spinner=False, max_entries=4)
def task_images(target: str, n_val: int, seed: int, size: int) -> tuple[np.ndarray, tuple]:
    """The new task's validation images (float [0, 1]) and their labels' names."""
    from cnnviz.training.data import load_split

    split = load_split(target, n_train=1, n_val=min(n_val, 4), seed=seed, size=size)
    return split.x_val, tuple(split.class_names[i] for i in split.y_val)
