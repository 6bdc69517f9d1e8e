"""Questions on a page, the lesson bar and the class poll, in AppTest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from apppredict import CHECK, SKIP, question_text
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
POOLING = "pages/2_Pooling_and_Receptive_Fields.py"
TWO_STEPS = '''
title = "Pooling, then activations"

[[steps]]
page = "Pooling_and_Receptive_Fields"
title = "Pooling"
state = { shift = "3" }
notice = "Each 2x2 window keeps one number."

[steps.question]
id = "pool_width"
kind = "number"
prompt = "How wide is the pooled map?"

[[steps]]
page = "Activations"
state = { layers = "block2_conv2" }
notice = "Deep maps are mostly zero."

[steps.question]
kind = "choice"
prompt = "Deeper layers have ... zeros?"
options = ["more", "fewer"]
'''


@pytest.fixture
def two_steps(tmp_path, monkeypatch):
    """A lessons folder holding the lesson "two" (two steps, pages 2 and 6)."""
    (tmp_path / "two.toml").write_text(TWO_STEPS)
    monkeypatch.setenv("CNNVIZ_LESSONS_DIR", str(tmp_path))
    st.cache_resource.clear()  # a fresh in-process poll store
    yield tmp_path
    st.cache_resource.clear()


def _open(page: str, timeout: float = 180, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout).run()
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _titles(at) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def _button(at, label: str, index: int = 0):
    return [b for b in at.button if b.label == label][index]


def test_a_question_hides_its_result_until_answered_then_shows_both():
    at = _open(POOLING)
    at.radio(key="image_source").set_value("Synthetic shape").run()  # a 62x62 edge map
    assert "The edge map is 62 pixels wide" in question_text(at)
    assert not any(t.startswith("After max pooling") for t in _titles(at))
    assert "961 positions" not in question_text(at)  # the answer is not on the page yet
    at.text_input(key="q_pool_width_0").input("thirty")
    _button(at, CHECK).click().run()
    assert "is not a number" in "\n".join(w.value for w in at.warning)
    assert not any(t.startswith("After max pooling") for t in _titles(at))
    at.text_input(key="q_pool_width_0").input("30")
    _button(at, CHECK).click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Your answer": "30 pixels", "Measured": "31 pixels"}
    sentence = "\n".join(i.value for i in at.info)
    assert ("You said 30 pixels, 1 fewer than the measured 31 pixels: windows start every 2 "
            "pixels and must fit inside the map, so (62 − 2) // 2 + 1 = 31 of them fit across"
            in sentence)
    assert "After max pooling: 31x31" in _titles(at)
    # other settings: the page asks again, with the new numbers
    at.select_slider(key="pool_win").set_value(3).run()
    at.select_slider(key="pool_pstride").set_value(3).run()
    assert "with a 3x3 window and stride 3" in question_text(at)
    assert not any(t.startswith("After max pooling") for t in _titles(at))
    at.text_input(key="q_pool_width_0").input("20")
    _button(at, CHECK).click().run()
    assert any(s.value.startswith("You said 20 pixels, exactly the measured 20 pixels")
               for s in at.success)
    assert "After max pooling: 20x20" in _titles(at)


def test_a_choice_question_on_the_activations_page():
    at = _open("pages/6_Activations.py")
    assert not at.dataframe  # the statistics table waits for the answer
    at.radio(key="q_act_zeros_0").set_value("it shrinks")
    _button(at, CHECK, 1).click().run()  # the first Check belongs to the width question
    verdict = "\n".join(v.value for v in [*at.info, *at.success])
    assert "You chose “it shrinks”" in verdict
    assert "zeros go from" in verdict and "in block1_conv1 to" in verdict
    table = at.dataframe[0].value
    first, last = table["fraction zero"].iloc[0], table["fraction zero"].iloc[-1]
    said_right = "and that is what the page measures" in verdict
    assert said_right == (last - first < -0.05)


def test_show_without_guessing_keeps_the_result_open():
    at = _open(POOLING)
    at.radio(key="image_source").set_value("Synthetic shape").run()
    _button(at, SKIP).click().run()
    assert "After max pooling: 31x31" in _titles(at)
    at.select_slider(key="pool_win").set_value(3).run()
    assert "After max pooling: 30x30" in _titles(at)  # not asked again (stride stays 2)
    _button(at, "Ask me again").click().run()
    assert not any(t.startswith("After max pooling") for t in _titles(at))


def test_save_this_view_prints_a_step_with_the_pages_questions():
    at = _open(POOLING, shift="5")
    code = next(c.value for c in at.sidebar.code)
    assert 'page = "Pooling_and_Receptive_Fields"' in code
    assert 'state = { shift = "5" }' in code
    assert 'id = "pool_width"' in code and "#   rf_size (number)" in code


def test_next_and_back_carry_the_lesson_and_the_steps_state(two_steps):
    at = _open(POOLING, lesson="two", step="1", **{"class": "test"})
    bar = "\n".join(m.value for m in at.markdown)
    assert "**Pooling, then activations** · step 1 of 2: **Pooling**" in bar
    assert "**Question:** How wide is the pooled map?" in bar
    assert "Lesson question, step 1" in question_text(at)  # the page asks it, in its words
    assert at.button(key="lesson_back").disabled
    at.button(key="lesson_next").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "What does each layer see?"
    assert at.query_params == {"lesson": "two", "step": "2", "class": "TEST",
                               "layers": "block2_conv2"}
    bar = "\n".join(m.value for m in at.markdown)
    assert "step 2 of 2: **Activations**" in bar
    assert at.button(key="lesson_next").disabled
    # this step's question has no page measuring it: the bar asks it
    assert [r.options for r in at.radio if r.key == "q_step2_0"] == [["more", "fewer"]]
    assert "What to notice appears once you have answered." in [c.value for c in at.caption]
    at.radio(key="q_step2_0").set_value("more")
    _button(at, CHECK).click().run()
    assert any("Deep maps are mostly zero." in s.value for s in at.success)
    at.button(key="lesson_back").click().run()
    assert at.title[0].value == "What does pooling do, and how far does a deep unit see?"
    assert at.query_params == {"lesson": "two", "step": "1", "class": "TEST",
                               "shift": "3"}


def test_a_bad_lesson_link_gives_a_notice_not_an_exception(two_steps):
    at = _open(POOLING, lesson="two", step="9", **{"class": "no way"})
    warnings = "\n".join(w.value for w in at.warning)
    assert "the link asked for step “9”, so here is step 2" in warnings
    assert "is not a class code" in warnings
    at = _open(POOLING, lesson="nope")
    assert "There is no lesson called “nope”" in at.error[0].value
    (two_steps / "broken.toml").write_text('title = "x"\n[[steps]]\npage = "Nowhere"\n')
    at = _open(POOLING, lesson="broken")
    assert "broken.toml, step 1, page: expected one of" in at.error[0].value


@pytest.mark.slow  # four sessions of a page that runs the model
def test_students_answers_reach_the_lecturers_histogram(two_steps):
    students = []
    for answer in ("31", "31", "30"):
        at = _open(POOLING, lesson="two", step="1", **{"class": "K7Q2"})
        at.radio(key="image_source").set_value("Synthetic shape").run()
        at.text_input(key="q_pool_width_0").input(answer)
        _button(at, CHECK).click().run()
        assert any("Each 2x2 window keeps one number." in s.value for s in at.success)
        students.append(at)
    lecturer = _open(POOLING, lesson="two", step="1", teach="1", present="1",
                     **{"class": "K7Q2"})
    lecturer.radio(key="image_source").set_value("Synthetic shape").run()
    student_link = lecturer.code[0].value  # shown on the projector: not in presenter view
    assert student_link.endswith("?shift=3&lesson=two&step=1&class=K7Q2"), student_link
    assert not [t for t in lecturer.text_input if t.key.startswith("q_pool_width")]  # no form
    captions = [c.value for c in lecturer.caption]
    assert "Class K7Q2: 3 answers so far — 30: 1 · 31: 2" in captions
    assert not any(t.startswith("After max pooling") for t in _titles(lecturer))
    _button(lecturer, "Reveal the measured answer").click().run()
    assert "After max pooling: 31x31" in _titles(lecturer)
    assert "3 answers · measured: 31 (green)" in _titles(lecturer)
    text = question_text(lecturer)
    assert "2 of 3 answers (67%) match the measured 31" in text
    assert "Each 2x2 window keeps one number." in text  # the notice, after the reveal
    _button(lecturer, "Clear the class's answers").click().run()
    assert "Class K7Q2: 0 answers so far." in [c.value for c in lecturer.caption]


def test_the_poll_uses_redis_when_it_is_configured(two_steps, redis_url, monkeypatch):
    from cnnviz import poll

    monkeypatch.setenv("CNNVIZ_REDIS_URL", redis_url)
    st.cache_resource.clear()
    at = _open(POOLING, lesson="two", step="1", **{"class": "R3D1"})
    at.text_input(key="q_pool_width_0").input("12")
    _button(at, CHECK).click().run()
    assert not at.warning, [w.value for w in at.warning]
    assert poll.open_store(redis_url).tally("R3D1", "two/1") == {"12": 1}


def test_the_lessons_page_lists_the_course_and_starts_a_class():
    at = _open("pages/0_Lessons.py", timeout=60)
    assert not at.error
    assert at.selectbox(key="lessons_pick").value == "course"
    steps = at.table[0].value
    assert len(steps) == 15 and list(steps["page"])[:3] == ["Convolution", "Convolution",
                                                            "Pooling & receptive fields"]
    at.button(key="lessons_new").click().run()
    code = at.text_input(key="lessons_class").value
    assert len(code) == 4
    link = next(c.value for c in at.code)
    assert link.endswith(f"&lesson=course&step=1&class={code}")
    assert "/Convolution?kernel=patch&pair=shapes&" in link  # the step's state


def test_a_lesson_step_opens_the_tab_that_asks_its_question():
    from cnnviz.ui import lesson

    course = lesson.read_lesson("course")
    tabs = {"cost": ("arch_params",), "1x1": ("pw_params",), "inception": ("inc_saving",)}
    st.session_state[lesson._PAGE] = lesson.PAGE_PATHS["Architecture"]
    try:
        for number, tab in ((7, "cost"), (8, "1x1"), (9, "inception")):
            st.session_state[lesson._VIEW] = lesson.LessonView(
                course, course.step(number), None, teach=False)
            # a key per step: Next to the same page opens the new step's tab
            assert lesson.step_tabs(tabs) == {"default": tab, "on_change": "rerun",
                                              "key": f"_cnnviz_tabs_course/{number}"}
        st.session_state[lesson._VIEW] = lesson.LessonView(course, course.step(10), None,
                                                           teach=False)
        assert lesson.step_tabs(tabs) == {}  # no tab asks its question
        st.session_state[lesson._PAGE] = lesson.PAGE_PATHS["Activations"]  # not its page
        assert lesson.step_tabs(tabs) == {}
        st.session_state[lesson._VIEW] = None  # not in a lesson
        assert lesson.step_tabs(tabs) == {}
    finally:
        st.session_state.clear()
