"""The Architecture lab's residual tab: the form that submits the plain-vs-residual job,
the question asked before its result, and the result in numbers, words and maths."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnviz import questions, residual, residual_text
from cnnviz.figures import residual as residual_figures
from cnnviz.ui import jobs as ui_jobs
from cnnviz.ui.layout import explain
from cnnviz.ui.predict import ask
from cnnviz.ui.setup import guard

SLOT = "residual"
#: the question's options, in the order of residual_text.profile's words
GRADIENT_OPTIONS = {"vanishes": "much smaller", "stays": "about the same",
                    "explodes": "much larger"}


def _form(view) -> None:
    with st.form("res_form"):
        f1, f2, f3, f4 = st.columns([3, 2, 2, 3], vertical_alignment="bottom")
        depth = f1.slider("Depth (conv layers)", 10, residual.MAX_DEPTH,
                          **view.widget("depth", key="res_depth"))
        act = f2.selectbox("Activation", residual.ACTIVATIONS,
                           **view.widget("act", key="res_act"))
        bn = f3.checkbox("Batch norm", help="BN before each activation, as in ResNets "
                         "(pre-activation).", **view.widget("bn", key="res_bn"))
        steps = f4.slider("Training steps", 10, 120, step=10,
                          **view.widget("steps", key="res_steps"))
        chosen = residual.Settings(depth=depth, activation=act, batchnorm=bn, steps=steps)
        took = ui_jobs.expected(SLOT, chosen) or (
            f"about {ui_jobs.duration(residual.benchmark_seconds(chosen))} of CPU in the "
            "benchmark, longer on a busy server")
        # a fixed label: a label that changed with the settings would lose the click
        b1, b2 = st.columns([1, 2], vertical_alignment="center")
        run_it = b1.form_submit_button("Measure both networks", type="primary")
        b2.caption(f"Depth {chosen.depth}, {chosen.steps} steps: {took}.")
    if run_it:
        with guard("the residual experiment"):
            ui_jobs.submit(SLOT, SLOT, chosen)


def gradient_question(question: questions.Question, result: dict
                      ) -> tuple[questions.Question, questions.Measured]:
    """``question`` (options: GRADIENT_OPTIONS' values) asked of this run's plain net:
    how does the first layer's gradient compare with the last's?"""
    c = result["settings"]
    ratio = residual_text.signal_summary(result, "plain")["first_over_last"]
    question = question.adapted(prompt=(
        f"A plain {c['depth']}-layer net ({c['activation']}, "
        f"{'with' if c['batchnorm'] else 'no'} batch norm), at initialisation: how does the "
        "gradient reaching its first layer compare with its last layer's?"))
    measured = questions.Measured(
        GRADIENT_OPTIONS[residual_text.profile(ratio)],
        why=f"measured ‖∂L/∂x₁‖ / ‖∂L/∂x_L‖ = {ratio:.2g} (beyond "
            f"{residual_text.GRADIENT_FACTOR:g}x either way counts as much smaller/larger)")
    return question, measured


def residual_tab(view, question: questions.Question) -> None:
    """The form, the job in flight, then the newest result (after ``question``, see
    :func:`gradient_question`)."""
    explain("Two networks with **the same layers and the same initial weights**; one adds "
            "each layer's input to its output (an identity shortcut). We measure the "
            "gradient that reaches each layer, and train both.")
    _form(view)
    ui_jobs.follow(SLOT, draw=lambda status: ui_jobs.draw_curves(status, ("loss",)))
    run = ui_jobs.latest(SLOT)
    if run is None:
        if not ui_jobs.in_flight(SLOT):
            st.info("Choose the settings and press **Measure both networks**.")
        return
    result = run.result
    question, measured = gradient_question(question, result)
    if not ask(question, measured, context=tuple(sorted(result["settings"].items()))):
        return
    s = residual.summary(result)
    plain = residual_text.signal_summary(result, "plain")
    res = residual_text.signal_summary(result, "residual")
    g = st.columns(4)
    g[0].metric("Plain: first / last layer gradient", f"{plain['first_over_last']:.2g}")
    g[1].metric("Residual: first / last", f"{res['first_over_last']:.2g}")
    for column, name in ((g[2], "plain"), (g[3], "residual")):
        loss = s[f"{name}_loss"]
        column.metric(f"Training loss, {name}", f"{loss['end']:.2g}",
                      f"{loss['end'] - loss['start']:+.2f}", delta_color="inverse")
    for sentence in residual_text.conclusions(result):
        st.markdown(f"- {sentence}")
    st.latex(residual_text.formula(result))
    st.plotly_chart(residual_figures.gradient_figure(result), width="stretch")
    st.plotly_chart(residual_figures.loss_figure(result), width="stretch")
    records = residual.table_records(result)
    st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.2e")
                                for c in records[0] if "layer," in c})
    st.caption(residual_text.describe(result))
