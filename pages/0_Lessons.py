"""Lessons: pick a lesson, start a class, and open its steps as the lecturer."""

import pandas as pd
import streamlit as st

from cnnviz import poll, ui
from cnnviz.errors import LessonError, PollError
from cnnviz.lessons import Lesson
from cnnviz.ui import lesson as lessons_ui
from cnnviz.ui.navigation import page_info

ui.page_setup("Lessons")

page = ui.page_layout(
    "How do I walk the course with a class?",
    "A lesson is a list of steps: a page of this app in a given view, with a question the "
    "page answers by **measuring** it. Students answer first, then see their answer beside "
    "the measured one; with a class code your screen shows the class's answers live.")

found = lessons_ui.all_lessons()
if not found:
    st.info("There are no lesson files in the lessons folder yet.", icon=":material/school:")
    st.stop()

for name, problem in found.items():
    if isinstance(problem, LessonError):
        st.error(f"**{name}.toml** cannot be used:\n\n" + "\n\n".join(problem.problems),
                 icon=":material/error:")
usable = {name: item for name, item in found.items() if isinstance(item, Lesson)}
if not usable:
    st.stop()

names = list(usable)
wanted = st.query_params.get("show")
picked = page.figure.selectbox(
    "Lesson", names, index=names.index(wanted) if wanted in names else
    (names.index("course") if "course" in names else 0),
    format_func=lambda n: usable[n].title, key="lessons_pick")
chosen = usable[picked]
with page.controls:
    st.subheader(f"The steps of “{chosen.title}”")
    if chosen.about:
        st.markdown(chosen.about)
    rows = [{"step": s.number, "page": page_info(lessons_ui.PAGE_PATHS[s.page]).label,
             "title": s.title, "question": s.question.prompt if s.question else "",
             "measured on the page": bool(s.question and s.question.id)}
            for s in chosen.steps]
    st.table(pd.DataFrame(rows), hide_index=True)  # wraps, never hides a column



def _new_class() -> None:
    st.session_state["lessons_class"] = poll.new_class_code()


with page.figure:
    if "lessons_class" not in st.session_state:
        st.session_state["lessons_class"] = st.query_params.get("class") or ""
    cols = st.columns([2, 1], vertical_alignment="bottom")
    typed = cols[0].text_input("Class code", key="lessons_class",
                               help="Students' answers are counted under this code.")
    cols[1].button("Start a new class", icon=":material/add:", key="lessons_new",
                   on_click=_new_class)
    code = None
    if typed:
        try:
            code = poll.class_code(typed)
        except PollError as error:
            st.warning(str(error), icon=":material/edit:")

    first = chosen.steps[0]
    view = lessons_ui.LessonView(chosen, first, code, teach=True)
    if code:
        st.markdown(f"Class code **{code}**. Students open:")
        st.code(lessons_ui.student_link(view, 1), language=None)
    else:
        st.caption("Without a class code the lesson works, but answers are not counted.")
    st.page_link(lessons_ui.PAGE_PATHS[first.page], label="Open step 1 as the lecturer",
                 icon=":material/co_present:", query_params=view.params(1))

with page.controls.expander("Open any step as the lecturer"):
    for s in chosen.steps:
        st.page_link(lessons_ui.PAGE_PATHS[s.page], label=f"Step {s.number}: "
                     f"{s.title or page_info(lessons_ui.PAGE_PATHS[s.page]).label}",
                     query_params=view.params(s.number))
with page.controls.expander("Write your own lesson"):
    st.markdown("Open a page in the view you want and use *Save this view as a lesson step* "
                "in the sidebar; paste the steps into a `.toml` file in `lessons/` "
                "(`lessons/course.toml` shows every field).")
