"""Lesson files: the shipped course, and one clear message per bad field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from cnnviz import lessons, questions
from cnnviz.errors import LessonError

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"Convolution", "Pooling_and_Receptive_Fields", "Architecture", "Augmentation",
         "Transfer_Learning", "Activations", "Filters", "Grad-CAM", "Lessons"}

GOOD = '''
title = "Two steps"

[[steps]]
page = "Pooling_and_Receptive_Fields"
state = { pool_size = 3, fast = true }
notice = "A third as wide."

[steps.question]
id = "pool_width"
kind = "number"
prompt = "How wide?"
tolerance = 1
unit = "pixels"

[[steps]]
page = "Activations"
notice = "Zeros grow."

[steps.question]
kind = "choice"
prompt = "Zeros?"
options = ["grow", "shrink"]
'''


def test_a_good_lesson_reads_into_steps():
    lesson = lessons.parse_lesson(GOOD, name="two", pages=PAGES)
    assert lesson.title == "Two steps" and len(lesson.steps) == 2
    first, second = lesson.steps
    assert first.page == "Pooling_and_Receptive_Fields"
    assert first.state == {"pool_size": "3", "fast": "true"}  # query parameters are text
    assert first.question.id == "pool_width" and first.question.tolerance == 1
    assert second.question.options == ("grow", "shrink") and second.question.id is None
    assert lesson.step(0) is first and lesson.step(99) is second  # clamped


def _problems(text: str) -> list[str]:
    with pytest.raises(LessonError) as caught:
        lessons.parse_lesson(text, name="bad", pages=PAGES)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def _only(text: str) -> str:
    problems = _problems(text)
    assert len(problems) == 1, problems
    return problems[0]


BAD_FIELDS = {
    "title": (('title = "Two steps"', 'title = ""'), "bad.toml, title: expected a short text"),
    "unknown top field": (('title = "Two steps"', 'title = "Two steps"\nstpes = 1'),
                          "bad.toml: unknown field 'stpes'"),
    "page": (('page = "Activations"', 'page = "Activation"'),
             "bad.toml, step 2, page: expected one of Activations, Architecture"),
    "notice": (('notice = "Zeros grow."', 'notice = 3'),
               "bad.toml, step 2, notice: expected what to notice, a text, got 3."),
    "state table": (('state = { pool_size = 3, fast = true }', 'state = "pool_size=3"'),
                    "bad.toml, step 1, state: expected a table of query parameters"),
    "state name": (('state = { pool_size = 3, fast = true }', 'state = { "Pool Size" = 3 }'),
                   "bad.toml, step 1, state.Pool Size: expected a short name"),
    "state reserved": (('state = { pool_size = 3, fast = true }', 'state = { step = 3 }'),
                       "bad.toml, step 1, state.step: expected a name the lesson does not use"),
    "state value": (('state = { pool_size = 3, fast = true }', 'state = { pool_size = [3] }'),
                    "bad.toml, step 1, state.pool_size: expected a text, number or true/false"),
    "unknown step field": (('notice = "Zeros grow."', 'notice = "Zeros grow."\nnotes = "x"'),
                           "bad.toml, step 2: unknown field 'notes'"),
    "kind": (('kind = "choice"', 'kind = "multiple"'),
             "bad.toml, step 2, question.kind: expected choice, number or click, "
             'got "multiple".'),
    "prompt": (('prompt = "Zeros?"', 'prompt = ""'),
               "bad.toml, step 2, question.prompt: expected the question, a text"),
    "options": (('options = ["grow", "shrink"]', 'options = ["grow"]'),
                "bad.toml, step 2, question.options: expected a list of at least two "
                'different texts for a choice question, got ["grow"].'),
    "options on a number": (('unit = "pixels"', 'unit = "pixels"\noptions = ["a", "b"]'),
                            "bad.toml, step 1, question.options: expected no options for a "
                            "number question"),
    "tolerance": (('tolerance = 1', 'tolerance = -1'),
                  "bad.toml, step 1, question.tolerance: expected a number >= 0"),
    "id": (('id = "pool_width"', 'id = "Pool width"'),
           "bad.toml, step 1, question.id: expected a page question's id"),
    "unit": (('unit = "pixels"', 'unit = 7'), "bad.toml, step 1, question.unit: expected a text"),
    "unknown question field": (('prompt = "Zeros?"', 'prompt = "Zeros?"\nanswer = "grow"'),
                               "bad.toml, step 2, question: unknown field 'answer'"),
}


@pytest.mark.parametrize("field", list(BAD_FIELDS))
def test_each_bad_field_gets_its_own_message(field):
    (old, new), expected = BAD_FIELDS[field]
    assert GOOD.count(old) == 1, old
    message = _only(GOOD.replace(old, new))
    assert message.startswith(expected), message


def test_a_click_question_needs_the_page_that_measures_it():
    text = GOOD.replace('kind = "choice"\nprompt = "Zeros?"\noptions = ["grow", "shrink"]',
                        'kind = "click"\nprompt = "Where?"')
    assert _only(text).startswith("bad.toml, step 2, question.id: expected the id of the "
                                  "page's click question")


def test_several_bad_fields_are_all_listed():
    text = GOOD.replace('page = "Activations"', 'page = 5').replace('kind = "choice"',
                                                                    'kind = "poll"')
    problems = _problems(text)
    assert len(problems) == 2
    assert problems[0].startswith("bad.toml, step 2, page:")
    assert problems[1].startswith("bad.toml, step 2, question.kind:")


def test_no_steps_and_broken_toml():
    assert _only('title = "Empty"').startswith("bad.toml, steps: expected at least one")
    assert _only('title = "Broken').startswith("bad.toml: not valid TOML")


def test_a_lesson_file_name_becomes_part_of_links():
    with pytest.raises(LessonError, match="file name must be lower-case"):
        lessons.parse_lesson(GOOD, name="My Lesson", pages=PAGES)


def test_the_shipped_course_walks_every_concept_in_order():
    files = lessons.lesson_files(ROOT / "lessons")
    course = lessons.load_lesson(files["course"], pages=PAGES)
    pages = [step.page for step in course.steps]
    order = ["Convolution", "Pooling_and_Receptive_Fields", "Architecture", "Augmentation",
             "Transfer_Learning", "Activations", "Filters", "Grad-CAM"]
    assert [p for i, p in enumerate(pages) if i == 0 or pages[i - 1] != p] == order
    titles = " ".join(step.title.lower() for step in course.steps)
    for concept in ("template matching", "receptive field", "pooling", "filters and depth",
                    "1x1", "inception", "residual", "augmentation", "transfer", "activations",
                    "filter visualisation", "grad-cam"):
        assert concept in titles, concept
    assert all(step.question is not None and step.notice for step in course.steps)
    # the questions the pages measure themselves
    assert {s.question.id for s in course.steps if s.question.id} == {
        "conv_peak", "conv_size", "rf_size", "erf_peak", "pool_width", "pool_shift",
        "act_best", "flt_rf", "gc_where", "aug_gain", "arch_params", "pw_params",
        "inc_saving", "res_plain_gradient", "tr_gain"}


def test_a_saved_view_is_a_step_that_reads_back():
    question = questions.choice("act_zeros", 'Zeros "deep"?', ["grow", "shrink"])
    text = lessons.step_toml("Activations", {"layer": "block2_conv2", "step": "4",
                                             "k": "3"}, question=question, title="Zeros")
    raw = tomllib.loads(text)["steps"][0]
    assert raw["state"] == {"layer": "block2_conv2", "k": "3"}  # lesson params left out
    lesson = lessons.parse_lesson(f'title = "Saved"\n{text}', name="saved", pages=PAGES)
    step = lesson.steps[0]
    assert step.page == "Activations" and step.title == "Zeros"
    assert step.question.prompt == 'Zeros "deep"?' and step.question.id == "act_zeros"
    assert step.question.options == ("grow", "shrink")


def test_every_course_question_with_an_id_is_asked_by_its_page_with_the_same_kind():
    course = lessons.load_lesson(ROOT / "lessons" / "course.toml", pages=PAGES)
    page_files = {re.sub(r"^\d+_", "", p.stem): p for p in (ROOT / "pages").glob("*.py")}
    for step in course.steps:
        if step.question.id is None:
            continue
        source = page_files[step.page].read_text()
        parts = re.findall(r"^from cnnviz\.ui(?: import (\w+) as \w+|\.(\w+) import .+)$",
                           source, re.M)
        for helper in {a or b for a, b in parts}:
            source += (ROOT / "cnnviz" / "ui" / f"{helper}.py").read_text()  # page's parts
        declared = re.findall(r'questions\.(choice|number|click)\(\s*"([a-z0-9_]+)"', source)
        assert (step.question.kind, step.question.id) in declared, (step.number, declared)
