"""Streamlit parts of the Augmentation page: the pipeline's controls, the per-layer
check at inference, and an experiment's result with its computed conclusions."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import augment
from cnnviz.figures import training as training_figures
from cnnviz.training import augmentation as experiment
from cnnviz.ui.layout import explain

#: what the pipeline question offers, and how a measurement answers it
INFERENCE_ANSWERS = ("none of them", "some of them", "all of them")


def pipeline_controls(widget) -> list[list]:
    """The pipeline's multiselect and each chosen layer's knobs; the spec they make.

    ``widget(name, key=...)`` gives a widget's keyword arguments (its key and, for a
    view, its value), so the page decides where each value comes from.
    """
    keys = st.multiselect("Augmentation layers, applied in this order",
                          list(augment.AUGMENTATIONS),
                          format_func=lambda k: augment.AUGMENTATIONS[k].title,
                          **widget("layers", key="aug_layers"))
    spec = []
    columns = st.columns(3)
    for i, key in enumerate(keys):
        aug = augment.AUGMENTATIONS[key]
        params = {}
        with columns[i % 3]:
            for p in aug.params:
                label = f"{aug.title}: {p.label}"
                kwargs = widget(f"{key}_{p.name}", key=f"aug_{key}_{p.name}")
                if p.options:
                    params[p.name] = st.selectbox(label, p.options, help=aug.help, **kwargs)
                else:
                    params[p.name] = st.slider(label, p.low, p.high, step=p.step,
                                               help=aug.help, **kwargs)
        spec.append([key, params])
    return spec


def inference_answer(effects: list[augment.LayerEffect]) -> str:
    """The pipeline question's measured answer: how many layers change an image at
    inference (a crop is two Keras layers; either counts)."""
    changing = sum(not e.identity_at_inference for e in effects)
    if not effects or changing == 0:
        return INFERENCE_ANSWERS[0]
    return INFERENCE_ANSWERS[2] if changing == len(effects) else INFERENCE_ANSWERS[1]


def effects_table(effects: list[augment.LayerEffect]) -> None:
    """One row per Keras layer: what it changes in training and at inference."""
    def change(value: float) -> str:
        return "size changes" if not np.isfinite(value) else f"{value:.3f}"

    import pandas as pd

    st.table(pd.DataFrame({
        "Keras layer": [e.name for e in effects],
        "mean change, training=True": [change(e.in_training) for e in effects],
        "largest change, training=False": [change(e.at_inference) for e in effects],
        "identity at inference": ["yes" if e.identity_at_inference else "no"
                                  for e in effects]}).set_index("Keras layer"))


def verdict_answer(sentences: dict[str, str]) -> str:
    """The experiment question's measured answer, from the computed verdict."""
    verdict = sentences["verdict"]
    return ("raise it" if "**helped**" in verdict else "lower it" if "**hurt**" in verdict
            else "within noise")


def show_result(result: experiment.AugmentResult) -> None:
    """An experiment's numbers (per arm, mean over seeds), its conclusions and curves,
    and the settings that made it."""
    s = result.settings
    if not result.complete:
        st.warning("Training was stopped; showing the runs that finished.",
                   icon=":material/pause_circle:")
    comparison = experiment.compare(result)
    columns = st.columns(2)
    for column, arm in zip(columns, experiment.LABELS):
        runs = [r for r in result.arm(arm) if r.history.get("val_accuracy")]
        if not runs:
            continue
        with column.container(border=True):
            st.markdown(f"**{arm}** ({len(runs)} seed{'s' * (len(runs) > 1)}, "
                        f"{runs[0].epochs} epochs)")
            a, b, c = st.columns(3)
            a.metric("train acc", f"{np.mean([r.last('accuracy') for r in runs]):.0%}")
            b.metric("val acc", f"{np.mean([r.last('val_accuracy') for r in runs]):.0%}")
            c.metric("gap", f"{100 * np.mean([r.gap for r in runs]):+.0f} pts",
                     help="training minus validation accuracy, in points")
    if comparison is not None:
        sentences = experiment.conclusions(comparison)
        box = st.success if "**helped**" in sentences["verdict"] else st.warning
        box(sentences["verdict"], icon=":material/insights:")
        explain(sentences["gap"], sentences["noise"], label="How the threshold is set")
        if "disagrees" in sentences:
            st.info(sentences["disagrees"], icon=":material/help:")
    histories = {run.label: run.history for run in result.runs.values()}
    left, right = st.columns(2)
    left.plotly_chart(training_figures.history_figure(histories, "accuracy"), width="stretch")
    right.plotly_chart(training_figures.history_figure(histories, "loss"), width="stretch")
    seeds = (f"seed {s.seed}" if s.seeds == 1
             else f"seeds {s.seed}–{s.seed + s.seeds - 1}")
    st.caption(
        f"Settings: {result.description}. {s.n_train} training and up to {s.n_val} validation "
        f"images per class at {s.size}×{s.size}; {s.epochs} epochs, batch {s.batch_size}, "
        f"Adam lr {s.learning_rate:g}, {seeds} (the same for both arms)"
        + (f"; {result.seconds:.0f} s in total." if result.seconds else "."))
