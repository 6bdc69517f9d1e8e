"""Lessons in the app: the lesson bar on each step's page, moving between steps,
and "save this view as a step".

A lesson link carries the lesson in its query string, e.g.
``/Pooling_and_Receptive_Fields?lesson=course&step=3&class=K7Q2`` (``teach=1``
for the lecturer). Streamlit clears query parameters on a page switch, so the
bar's Back and Next switch pages *with* the lesson's parameters plus the next
step's ``state`` (the page's own view parameters). :func:`begin_page`, called by
``page_setup``, reads them on every run; the question widgets
(:mod:`cnnviz.ui.predict`) ask :func:`lesson_view` whether they are the step's
question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from cnnviz import config, lessons, poll
from cnnviz.errors import LessonError, PollError
from cnnviz.lessons import Lesson, Step
from cnnviz.questions import Question
from cnnviz.ui.navigation import APP_ROOT, PAGES, page_info

LESSONS_PAGE = "pages/0_Lessons.py"
_VIEW = "_cnnviz_lesson_view"
_PAGE = "_cnnviz_page"
_DONE = "_cnnviz_lesson_done"
_LAST = "_cnnviz_lesson_last"
_SAVE_SLOT = "_cnnviz_save_view_slot"
_DECLARED = "_cnnviz_page_questions"


def page_name(path: str) -> str:
    """The name Streamlit gives a page in its URL: pages/2_Foo_Bar.py -> Foo_Bar."""
    if path == "streamlit_app.py":
        return "Home"
    return re.sub(r"^\d+_", "", Path(path).stem)


#: Page name in a URL (and in lesson files) -> page script.
PAGE_PATHS = {page_name(p.path): p.path for p in PAGES}


@dataclass(frozen=True)
class LessonView:
    """The lesson this page was opened in: which step, which class, whose screen."""

    lesson: Lesson
    step: Step
    class_code: str | None
    teach: bool
    present: str | None = None

    @property
    def poll_id(self) -> str:
        """The step's question in the class poll."""
        return f"{self.lesson.name}/{self.step.number}"

    def params(self, number: int, *, teach: bool | None = None) -> dict[str, str]:
        """Query parameters that open step ``number`` of this lesson for this class."""
        step = self.lesson.step(number)
        params = {"lesson": self.lesson.name, "step": str(step.number)}
        if self.class_code:
            params["class"] = self.class_code
        if self.teach if teach is None else teach:
            params["teach"] = "1"
        if self.present:
            params["present"] = self.present
        return {**step.state, **params}


def read_lesson(name: str) -> Lesson:
    """The lesson ``name`` from the lessons folder; ``LessonError`` if missing or bad."""
    path = lessons.lesson_files(config.lessons_dir()).get(name)
    if path is None:
        raise LessonError([f"There is no lesson called “{name}”. Lessons here: "
                           + (", ".join(lessons.lesson_files(config.lessons_dir())) or "none")
                           + "."])
    return lessons.load_lesson(path, pages=PAGE_PATHS)


def all_lessons() -> dict[str, Lesson | LessonError]:
    """Every lesson file, read and checked: a lesson, or the error listing its bad fields."""
    found: dict[str, Lesson | LessonError] = {}
    for name, path in lessons.lesson_files(config.lessons_dir()).items():
        try:
            found[name] = lessons.load_lesson(path, pages=PAGE_PATHS)
        except LessonError as error:
            found[name] = error
    return found


def current_page() -> str:
    """The running page's script, relative to the app, e.g. "pages/7_Filters.py"."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    info = ctx.pages_manager.get_pages().get(ctx.page_script_hash) if ctx else None
    if not info:
        return "streamlit_app.py"
    return Path(info["script_path"]).resolve().relative_to(APP_ROOT).as_posix()


def lesson_view() -> LessonView | None:
    """The lesson this run of the page belongs to, if its URL opened one."""
    return st.session_state.get(_VIEW)


def is_current_page(step: Step) -> bool:
    return PAGE_PATHS.get(step.page) == st.session_state.get(_PAGE)


def step_tabs(tabs: dict[str, tuple[str, ...]]) -> dict:
    """Arguments for ``st.tabs`` that open the tab asking this lesson step's question
    (``tabs``: tab label -> the ids of the questions asked in it), so a student following
    the lesson lands on it; {} outside a lesson step or when no tab asks its question.

    The tabs get a key of the step's own: unkeyed tabs keep the open tab when Next moves
    to another step on the same page, whatever their ``default``."""
    view = lesson_view()
    if view is None or view.step.question is None or not is_current_page(view.step):
        return {}
    label = next((t for t, ids in tabs.items() if view.step.question.id in ids), None)
    if label is None:
        return {}
    return {"default": label, "key": f"_cnnviz_tabs_{view.poll_id}", "on_change": "rerun"}


def mark_done(view: LessonView) -> None:
    """The student answered (or skipped) the step's question: show what to notice."""
    st.session_state.setdefault(_DONE, set()).add(view.poll_id)


def voter_id() -> str:
    """This session's anonymous voter id."""
    return st.session_state.setdefault("_cnnviz_voter", poll.new_voter_id())


@st.cache_resource(show_spinner=False)
def _store(redis_url: str | None):
    return poll.open_store(redis_url)


def poll_store():
    """The class poll's store: Redis when configured, this process otherwise.

    Raises ``PollError`` when the configured Redis cannot be reached (not cached,
    so the next run tries again).
    """
    from cnnviz.ui.settings import redis_url

    return _store(redis_url())


def _parse_view(params) -> LessonView | None:
    """The lesson view the URL asks for; shows a one-line notice for a bad part."""
    try:
        lesson = read_lesson(params["lesson"])
    except LessonError as error:
        st.error("This lesson link cannot be followed:\n\n" + "\n\n".join(error.problems),
                 icon=":material/school:")
        return None
    raw_step = params.get("step", "1")
    try:
        number = int(raw_step)
    except ValueError:
        number = 1
    if str(number) != raw_step or not 1 <= number <= len(lesson.steps):
        st.warning(f"This lesson has steps 1 to {len(lesson.steps)}; the link asked for "
                   f"step “{raw_step}”, so here is step {lesson.step(number).number}.",
                   icon=":material/school:")
    code = None
    if params.get("class"):
        try:
            code = poll.class_code(params["class"])
        except PollError as error:
            st.warning(f"{error} Answers are not counted for a class.",
                       icon=":material/school:")
    teach = params.get("teach", "") in ("1", "true", "yes")
    return LessonView(lesson, lesson.step(number), code, teach, params.get("present"))


def begin_page() -> None:
    """Read the lesson from the URL and draw its bar (called by ``page_setup``)."""
    st.session_state[_PAGE] = current_page()
    st.session_state[_DECLARED] = []
    view = _parse_view(st.query_params) if "lesson" in st.query_params else None
    st.session_state[_VIEW] = view
    if view is not None:
        st.session_state[_LAST] = view
        _lesson_bar(view)
    with st.sidebar:
        last = st.session_state.get(_LAST)
        if view is None and last is not None:
            st.page_link(PAGE_PATHS[last.step.page], icon=":material/school:",
                         label=f"Back to the lesson, step {last.step.number}",
                         query_params=last.params(last.step.number))
        st.session_state[_SAVE_SLOT] = st.empty()
    _draw_save_view()


def go_to_step(view: LessonView, number: int) -> None:
    """Open step ``number`` of the lesson on its page, in its view, for this class."""
    step = view.lesson.step(number)
    st.switch_page(PAGE_PATHS[step.page], query_params=view.params(step.number))


def app_url() -> str:
    """The app's address as the browser sees it, without the page ("" if unknown)."""
    url = st.context.url or ""
    name = page_name(st.session_state.get(_PAGE, "streamlit_app.py"))
    if name != "Home" and url.rstrip("/").endswith("/" + name):
        url = url.rstrip("/")[: -len(name) - 1]
    return url.rstrip("/")


def student_link(view: LessonView, number: int) -> str:
    """The link students open for step ``number``: the lecturer's, without ``teach`` and
    without the presenter view (a projector's large print is not for a laptop)."""
    step = view.lesson.step(number)
    params = view.params(number, teach=False)
    params.pop("present", None)
    return f"{app_url()}/{step.page}?{urlencode(params)}"


def _lesson_bar(view: LessonView) -> None:
    lesson, step = view.lesson, view.step
    total = len(lesson.steps)
    label = step.title or page_info(PAGE_PATHS[step.page]).label
    with st.container(border=True, key="lesson_bar"):
        top = st.columns([6, 1.4, 1.4], vertical_alignment="center")
        top[0].markdown(f":material/school: **{lesson.title}** · step {step.number} of "
                        f"{total}: **{label}**")
        back = top[1].button("Back", icon=":material/arrow_back:", key="lesson_back",
                             disabled=step.number == 1, width="stretch")
        forward = top[2].button("Next", icon=":material/arrow_forward:", key="lesson_next",
                                disabled=step.number == total, width="stretch",
                                type="primary")
        if not is_current_page(step):
            st.info(f"Step {step.number} is on the page “{label}”.",
                    icon=":material/directions:")
            if st.button(f"Open step {step.number}", key="lesson_here"):
                go_to_step(view, step.number)
        if view.teach:
            _lecturer_line(view)
        _step_question_line(view)
    if back:
        go_to_step(view, step.number - 1)
    if forward:
        go_to_step(view, step.number + 1)


def _lecturer_line(view: LessonView) -> None:
    cols = st.columns([3, 1], vertical_alignment="center")
    if view.class_code:
        cols[0].markdown(f"Class code **{view.class_code}** · students open this step at")
        cols[0].code(student_link(view, view.step.number), language=None)
    else:
        cols[0].caption("No class code: start a class on the Lessons page to count answers.")
    with cols[1]:
        st.page_link(LESSONS_PAGE, label="All steps", icon=":material/list:",
                     query_params={"lesson": view.lesson.name,
                                   **({"class": view.class_code} if view.class_code else {})})


def _step_question_line(view: LessonView) -> None:
    step = view.step
    done = view.poll_id in st.session_state.get(_DONE, set())
    question = step.question
    if question is None:
        done = True
    elif question.id is None:
        from cnnviz.ui.predict import ask_in_bar

        ask_in_bar(question.as_question(f"step{step.number}"), view)
        done = view.poll_id in st.session_state.get(_DONE, set())
    else:
        st.markdown((f"**Question:** {question.prompt}  \n" if question.prompt else "")
                    + ":material/arrow_downward: Answer the lesson question on the page "
                    "below, before its result appears.")
    if done:
        st.success(f"**What to notice:** {step.notice}", icon=":material/visibility:")
    elif view.teach:
        with st.expander("What to notice (shown to students after they answer)"):
            st.markdown(step.notice)
    else:
        st.caption("What to notice appears once you have answered.")


def declare(question: Question) -> None:
    """Note a question the page asks, for "save this view as a step"."""
    declared = st.session_state.setdefault(_DECLARED, [])
    if all(q.id != question.id for q in declared):
        declared.append(question)
        _draw_save_view()


def _draw_save_view() -> None:
    slot = st.session_state.get(_SAVE_SLOT)
    if slot is None:
        return
    page = st.session_state.get(_PAGE, "streamlit_app.py")
    declared = st.session_state.get(_DECLARED, [])
    state = {k: v for k, v in st.query_params.to_dict().items()
             if k not in (*lessons.LESSON_PARAMS, "present")}
    text = lessons.step_toml(page_name(page), state, question=declared[0] if declared else None,
                             title=page_info(page).label if page in PAGE_PATHS.values() else "")
    if len(declared) > 1:
        text += "# other questions this page measures (use one as the id above):\n" + "".join(
            f"#   {q.id} ({q.kind}): {q.prompt}\n" for q in declared[1:])
    with slot.container():
        with st.expander("Save this view as a lesson step", icon=":material/bookmark_add:"):
            st.caption("Paste it into a lesson file in lessons/; the state is this page's "
                       "query parameters.")
            st.code(text, language="toml", wrap_lines=True)
