"""Predict, then reveal: a question a page asks before it shows its result.

A page declares a question in a few lines and draws the result only once
:func:`ask` says so::

    question = questions.number("pool_width", f"... how many pixels wide is the result?",
                                unit="pixels")
    measured = questions.Measured(pooled.shape[1], why=f"{n} windows of {k} fit in {w}")
    if ui.ask(question, measured):
        st.plotly_chart(...)          # the figure that shows the answer

Until the student answers (or chooses to see the result without guessing),
``ask`` shows the question and returns False, so the result is not even sent
to the browser. After the answer it shows the answer beside the measurement
and one sentence on the gap, and returns True. The answer holds for the
question's wording and ``context`` (the settings the measurement depends on):
when they change, the page asks again.

In a lesson whose step names this question (``id``), the lesson's wording is
used and the answer is counted in the class poll; on the lecturer's screen
(``teach=1``) the question shows the class's live histogram instead of a form,
and the result appears when the lecturer reveals it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import questions
from cnnviz.errors import PollError
from cnnviz.questions import Measured, Question
from cnnviz.ui import lesson
from cnnviz.ui.lesson import LessonView

#: Seconds between two refreshes of the lecturer's histogram.
POLL_SECONDS = 2.0
SKIP_LABEL = "Show without guessing"
CHECK_LABEL = "Check my answer"


def ask(question: Question, measured: Measured, *, context=(), image=None) -> bool:
    """Ask ``question`` before its result is shown; True once the page may show it.

    ``measured``: the page's live measurement that answers it. ``context``: the
    settings the measurement depends on beyond the question's wording (e.g. the
    image). ``image``: the uint8 image to click, for a click question (the
    measured heat map is resized to it).
    """
    lesson.declare(question)
    view = lesson.lesson_view()
    step_question = (view.step.question if view is not None and lesson.is_current_page(
        view.step) else None)
    in_lesson = step_question is not None and step_question.id == question.id
    if in_lesson and step_question.kind == question.kind:
        question = step_question.applied_to(question)
    if question.kind == "click":
        if image is None:
            raise ValueError(f"Click question {question.id!r} needs the image to click.")
        heat = np.asarray(measured.value, dtype=np.float32)
        if heat.shape != image.shape[:2]:
            from cnnviz.images import resize_map

            measured = Measured(resize_map(heat, image.shape[:2]), measured.why, measured.text)
    with st.container(border=True, key=f"question_{question.id}"):
        if in_lesson and view.teach:
            return _lecturer(question, measured, view, image)
        return _student(question, measured, repr((question.prompt, tuple(context))), image,
                        view if in_lesson else None)


def ask_in_bar(question: Question, view: LessonView) -> None:
    """A step's question that no page measures: asked in the lesson bar and counted in
    the class poll; the page below shows its answer."""
    if view.teach:
        _lecturer(question, None, view, None)
    else:
        _student(question, None, repr((question.prompt,)), None, view)


# --------------------------------------------------------------------------- student
def _record_key(question: Question, view: LessonView | None) -> str:
    return f"_cnnviz_q_{view.poll_id if view is not None else question.id}"


def _student(question: Question, measured: Measured | None, context: str, image,
             view: LessonView | None) -> bool:
    record = st.session_state.setdefault(_record_key(question, view), {"round": 0})
    tag = (f":material/school: **Lesson question, step {view.step.number}** · "
           if view is not None else ":material/psychology_alt: **Predict first** · ")
    if record.get("skipped"):
        st.markdown(tag + question.prompt)
        st.caption("You chose to see the result without guessing.")
        _again_button(question, record)
        return True
    if record.get("context") == context and "answer" in record:
        st.markdown(tag + question.prompt)
        _show_verdict(question, record["answer"], measured, image)
        if record.get("poll_error"):
            st.warning(record["poll_error"], icon=":material/cloud_off:")
        _again_button(question, record)
        return True
    st.markdown(tag + question.prompt)
    if "answer" in record:
        st.caption("The settings changed since your last answer: predict again.")
    input_key = f"q_{question.id}_{record['round']}"
    args = (question, record, context, input_key, image, view)
    if question.kind == "click":
        # the figure changes with the pick, and with it its selection state: keep the click
        picked = _clicked(st.session_state.get(input_key)) or record.get("click")
        record["click"] = picked
        from cnnviz.figures.questions import click_figure

        st.plotly_chart(click_figure(image, click=picked, title="Click your guess"),
                        key=input_key, on_select="rerun", selection_mode=("points",),
                        width="stretch")
    else:
        with st.form(f"{input_key}_form", border=False):
            if question.kind == "choice":
                st.radio("Your answer", question.options, index=None, key=input_key)
            else:
                st.text_input(f"Your answer{f' ({question.unit})' if question.unit else ''}",
                              key=input_key, placeholder="a number")
            st.form_submit_button(CHECK_LABEL, on_click=_check, args=args, type="primary",
                                  icon=":material/check:")
    with st.container(horizontal=True):
        if question.kind == "click":
            st.button(CHECK_LABEL, key=f"{input_key}_check", on_click=_check, args=args,
                      disabled=picked is None, type="primary", icon=":material/check:")
        if measured is not None:
            st.button(SKIP_LABEL, key=f"{input_key}_skip", on_click=_skip,
                      args=(record, view), icon=":material/visibility:")
    if record.get("error"):
        st.warning(record["error"], icon=":material/edit:")
    if measured is not None:
        st.caption("The result below appears once you have answered.")
    return False


def _clicked(event) -> tuple[int, int] | None:
    points = ((event or {}).get("selection") or {}).get("points") or []
    if points and "x" in points[0] and "y" in points[0]:
        return int(round(points[0]["y"])), int(round(points[0]["x"]))
    return None


def _parse(question: Question, raw) -> tuple[object, str | None]:
    """(answer, None) or (None, what to fix); a click comes as (row, col) or None."""
    if question.kind == "choice":
        return (raw, None) if raw in question.options else (None, "Pick one option first.")
    if question.kind == "click":
        return (raw, None) if raw else (None, "Click the image first.")
    try:
        value = float(str(raw or "").replace(",", "").strip())
    except ValueError:
        return None, f"“{raw}” is not a number: type digits, e.g. 28."
    if not np.isfinite(value):
        return None, "Type a finite number, e.g. 28."
    return value, None


def _check(question: Question, record: dict, context: str, input_key: str, image,
           view: LessonView | None) -> None:
    raw = record.get("click") if question.kind == "click" else st.session_state.get(input_key)
    answer, problem = _parse(question, raw)
    if problem:
        record["error"] = problem
        return
    record.update(answer=answer, context=context, error=None, poll_error=None)
    if view is None:
        return
    lesson.mark_done(view)
    if view.class_code:
        shape = None if image is None else image.shape
        try:
            lesson.poll_store().record(view.class_code, view.poll_id, lesson.voter_id(),
                                       questions.poll_answer(question, answer, shape))
        except PollError as error:
            record["poll_error"] = str(error)


def _skip(record: dict, view: LessonView | None) -> None:
    record.update(skipped=True, error=None)
    if view is not None:
        lesson.mark_done(view)


def _again_button(question: Question, record: dict) -> None:
    def again():
        for key in ("answer", "context", "skipped", "error", "poll_error", "click"):
            record.pop(key, None)
        record["round"] += 1

    st.button("Ask me again", key=f"q_{question.id}_{record['round']}_again", on_click=again,
              icon=":material/replay:", type="tertiary")


def _show_verdict(question: Question, answer, measured: Measured | None, image) -> None:
    if measured is None:
        shown = (questions.format_number(answer) if question.kind == "number" else str(answer))
        st.markdown(f"Your answer: **{shown}**. The page below shows the measured answer; "
                    "compare them.")
        return
    verdict = questions.score(question, answer, measured)
    if question.kind == "choice":  # an option can be a phrase: a metric would cut it short
        cols = st.columns(2)
        cols[0].markdown(f"Your answer  \n**{verdict.answer}**")
        cols[1].markdown(f"Measured  \n**{verdict.measured}**")
    elif question.kind == "number":
        cols = st.columns(2)
        cols[0].metric("Your answer", verdict.answer)
        cols[1].metric("Measured", verdict.measured)
    else:
        from cnnviz.figures.questions import click_figure

        st.plotly_chart(click_figure(image, click=answer, heat=np.asarray(measured.value),
                                     title="Your click (ring), the measured peak (star)"),
                        key=f"q_{question.id}_verdict_figure", width="stretch")
    show = st.success if verdict.correct else st.info
    show(verdict.sentence, icon=":material/check_circle:" if verdict.correct
         else ":material/compare_arrows:")


# -------------------------------------------------------------------------- lecturer
def _toggle_reveal(revealed_key: str, view: LessonView) -> None:
    st.session_state[revealed_key] = not st.session_state.get(revealed_key)
    if st.session_state[revealed_key]:
        lesson.mark_done(view)


def _lecturer(question: Question, measured: Measured | None, view: LessonView,
              image) -> bool:
    revealed_key = f"_cnnviz_revealed_{view.poll_id}"
    revealed = bool(st.session_state.get(revealed_key))
    st.markdown(f":material/school: **Class question, step {view.step.number}** · "
                f"{question.prompt}")
    if question.kind == "choice":
        st.markdown("  \n".join(f"{i}. {o}" for i, o in enumerate(question.options, 1)))
    label = "Hide the answer" if revealed else (
        "Reveal the measured answer" if measured is not None else "Close the question")
    with st.container(horizontal=True):
        st.button(label, key=f"{revealed_key}_button", type="primary",
                  icon=":material/visibility:", on_click=_toggle_reveal,
                  args=(revealed_key, view))
        clear = view.class_code and st.button("Clear the class's answers",
                                              key=f"{revealed_key}_clear",
                                              icon=":material/delete_sweep:")
    if clear:
        try:
            lesson.poll_store().reset(view.class_code, view.poll_id)
        except PollError as error:
            st.warning(str(error), icon=":material/cloud_off:")
    if revealed and measured is not None:
        shown = questions.measured_poll_answer(question, measured)
        if question.kind == "number" and question.unit:
            shown = f"{shown} {question.unit}"
        st.metric("Measured", measured.text or shown)
        if question.kind == "click":
            from cnnviz.figures.questions import click_figure

            st.plotly_chart(click_figure(image, heat=np.asarray(measured.value),
                                         title="The measured map (star: its peak)"),
                            key=f"{revealed_key}_figure", width="stretch")
    if view.class_code:
        _class_tally(question, view.class_code, view.poll_id,
                     measured if revealed else None)
    else:
        st.caption("No class code in this link, so no answers are counted.")
    return revealed


@st.fragment(run_every=POLL_SECONDS)
def _class_tally(question: Question, code: str, poll_id: str,
                 measured: Measured | None) -> None:
    """The class's answers so far, refreshed every few seconds."""
    from cnnviz.figures.questions import poll_figure

    try:
        tally = lesson.poll_store().tally(code, poll_id)
    except PollError as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return
    answers = questions.poll_order(question, tally)
    counts = [tally[a] for a in answers]
    truth = None if measured is None else questions.measured_poll_answer(question, measured)
    st.caption(f"Class {code}: {sum(counts)} answers so far"
               + (" — " + " · ".join(f"{a}: {n}" for a, n in zip(answers, counts))
                  if counts else "."))
    if counts:
        st.plotly_chart(poll_figure(answers, counts, measured=truth),
                        key=f"poll_{poll_id}", width="stretch")
    if measured is not None:
        st.markdown(questions.class_sentence(question, tally, measured))
