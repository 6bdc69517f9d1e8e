"""The Architecture lab's inception tab: a trained inception block on the student's
image, each branch's response, what it can see and what actually moves it (asked
before it is shown), and what the 1x1 bottlenecks save."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import archdemo, questions
from cnnviz.figures import architecture as arch_figures
from cnnviz.models import inception as inception_net
from cnnviz.models import prepare
from cnnviz.ui.layout import explain
from cnnviz.ui.predict import ask
from cnnviz.views import architecture as arch_view


@st.cache_data(show_spinner=False, max_entries=16)
def _trained_block(block: str, image: np.ndarray):
    x = prepare(arch_view.DEMO_MODEL, image).x[0]  # the same 64x64 [0, 1] input
    return archdemo.trained_block(inception_net.load_shapes_inception(), x, block)


def inception_tab(view, choice) -> tuple[archdemo.TrainedBlock, dict]:
    """Draw the tab for the picked image ``choice``; returns the measured block and the
    bottleneck cost (the page's take-home numbers)."""
    explain("An **inception block** looks at the same input at several scales at once "
               "(1x1, 3x3, 5x5 and pooling) and stacks the results along the channels. "
               "The 1x1 convs before the 3x3 and 5x5 (and after the pool) keep it cheap.")
    q1, q2 = st.columns([1, 2], vertical_alignment="bottom")
    block_name = q1.selectbox("Trained block", inception_net.BLOCKS,
                              format_func=arch_view.BLOCK_LABELS.get,
                              **view.widget("incb", key="inc_block"))
    trained = _trained_block(block_name, choice.image)
    info = inception_net.trained_info() or {}
    q2.markdown(f"A small inception net trained here on shapes (test accuracy "
                f"**{info.get('test_accuracy', 0):.1%}** on {info.get('test_size', 0)} fresh "
                f"images). The block's input `{trained.input_layer}` is "
                f"**{' x '.join(map(str, trained.input_shape))}** for *{choice.name}*.")
    fraction, wider = archdemo.MASS_FRACTIONS
    cols = st.columns(4)
    for column, (branch, scale) in zip(cols, trained.branches.items()):
        h, w, k = scale.maps.shape
        column.markdown(f"**{branch}**  \n{h}x{w}x**{k}**, sees **{scale.field} px**")
        column.plotly_chart(arch_figures.channel_tiles_figure(
            scale.maps, 4, cols=2, title="first 4 channels", span=0.25),
            width="stretch")
    sides = {b: s.side(fraction) for b, s in trained.branches.items()}
    widest = archdemo.widest_branch(sides)
    if ask(questions.choice(
            "inc_scale", "Which branch's centre unit is moved by the widest area of the "
            "image (the square holding half of its gradient)?", archdemo.BRANCHES),
            questions.Measured(widest, why=(
                f"its {fraction:.0%} square is {sides[widest]} px wide; "
                + ", ".join(f"{b}: {s} px" for b, s in sides.items() if b != widest))),
            context=(choice.name, block_name)):
        cols = st.columns(4)
        for column, (branch, scale) in zip(cols, trained.branches.items()):
            column.markdown(f"**{branch}**: moved by **{scale.side(fraction)} px** "
                            f"({wider:.0%}: {scale.side(wider)} px)")
            column.plotly_chart(arch_figures.branch_field_figure(trained, branch, fraction),
                                width="stretch")
        st.caption(f"|∂unit/∂pixel| of each branch's centre unit, near that unit; yellow: "
                   f"what the unit can see, white: the square holding {fraction:.0%} of the "
                   "gradient (what moves it).")
        st.markdown(archdemo.scale_sentence(sides, fraction))
    with st.expander("How the scales are measured", icon=":material/straighten:"):
        st.markdown(archdemo.scale_method(trained))
        st.latex(rf"\text{{sees}} = {trained.input_field} + (k-1)\cdot{trained.input_jump}"
                 r"\qquad E(p) = \sum_c \left|\frac{\partial\, \sum_j y_j(u)}"
                 r"{\partial x_c(p)}\right|")
    st.plotly_chart(arch_figures.concat_figure(
        {k: v.maps.shape[-1] for k, v in trained.branches.items()}), width="stretch")
    st.caption(f"Concatenated: {' x '.join(map(str, trained.concat.shape))} — the same "
               "pixels, the branches' channels side by side (checked against the real "
               "Keras `Concatenate` output).")
    fh, fw, fc = trained.input_shape
    filters = trained.branches[archdemo.BRANCHES[0]].maps.shape[-1]  # the 1x1 branch: F
    inc_cost = archdemo.inception_cost(fh, fw, fc, filters)
    saving = inc_cost["saving"]
    if ask(questions.number(
            "inc_saving", f"This block gets a {fh}x{fw}x{fc} input and F = {filters}. How many "
            "times fewer multiply-adds does the block with 1x1 bottlenecks need than the naive "
            "one (3x3 and 5x5 straight on the input)?", tolerance=round(0.25 * saving, 1)),
            questions.Measured(round(saving, 1), why=(
                f"the 3x3 and 5x5 convs read {fc} channels in the naive block, only the "
                "few made by the 1x1 convs in the bottleneck block (within 25%)"))):
        st.table(pd.DataFrame(archdemo.inception_cost_records(
            [("this block", fh, fw, fc, filters), ("GoogLeNet block 3a", 28, 28, 192, 64)])),
            hide_index=True)
        st.caption("Naive: the 3x3 and 5x5 convs work directly on all input channels and "
                   "the pool branch passes every input channel on (no 1x1 convs).")
    return trained, inc_cost
