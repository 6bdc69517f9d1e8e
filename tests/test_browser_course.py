"""The shipped course (``lessons/course.toml``), every step, in a real browser.

A lecturer in the presenter view and three students, each in a browser context of
their own (separate sessions, separate voter ids), walk all fifteen steps at the
course's own settings (four steps train networks; where a page waits for its button,
the test presses it, as the lecturer would). The lecturer starts a
class on the Lessons page and opens step 1; the students open the student link the
lecturer's bar shows, then follow with their own Next. On every step each student
answers the page's question (number: typed; choice: an option picked; click: a click
on the figure), the lecturer's live tally counts three answers, the reveal shows the
measured answer and the class sentence, and no page shows an exception.

Expensive (about 15 pages x 4 browsers plus the trainings): marked ``course``, which
the default run leaves out; run it with ``bash scripts/test.sh -m course``.
Screenshots at 1280x720 land in ``shots/`` (or ``$CNNVIZ_SHOTS``).
"""

from __future__ import annotations

import os
import re
import time
import tomllib
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from appdriver import EXCEPTION, app_server, browser, require_chromium, wait_until_done
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS", ROOT / "shots"))
VIEWPORT = {"width": 1280, "height": 720}
COURSE = tomllib.loads((ROOT / "lessons" / "course.toml").read_text())["steps"]
#: Steps whose screens are saved, before and after the reveal.
SHOT_STEPS = {1, 6, 10, 15}
#: The first step walked (``CNNVIZ_COURSE_FROM``, to rerun the end of the course).
FIRST = int(os.environ.get("CNNVIZ_COURSE_FROM", "1"))
#: A page that trains when opened may take this long on a busy machine.
SETTLE_MS = 900_000

require_chromium()

pytestmark = [pytest.mark.course, pytest.mark.browser, pytest.mark.slow]


def _settle(page, timeout_ms: int = SETTLE_MS) -> None:
    page.wait_for_timeout(500)  # let the rerun a click asked for start
    wait_until_done(page, timeout_ms=timeout_ms)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _lesson_part(url: str) -> dict[str, str]:
    """The lesson's own parameters in a link (a page may rewrite its view's)."""
    return {k: v for k, v in _query(url).items() if k in ("lesson", "step", "class")}


def _open_step(page, step: dict, number: int) -> None:
    """Wait until ``page`` shows step ``number``: its page, its step in the URL and in the
    bar (after a Next to the same page the old step stays drawn until the rerun starts)."""
    page.wait_for_url(re.compile(
        rf".*/{re.escape(step['page'])}\?(.*&)?step={number}(&.*)?$"))
    page.locator(".st-key-lesson_bar", has_text=f"step {number} of {len(COURSE)}").wait_for(
        timeout=SETTLE_MS)
    _settle(page)


def _question_box(page, qid: str):
    """The step's question on the page, in view (a lesson step opens the tab asking it).
    A page that trains first draws its question only once the run is done."""
    box = page.locator(f".st-key-question_{qid}")
    try:
        box.wait_for(state="attached", timeout=20_000)
    except PlaywrightTimeout:  # the page waits for its experiment: press its button
        start = page.get_by_role("button", name=re.compile("^(.*Measure both networks|"
                                                           ".*Train both|.*Run)$"))
        assert start.count(), f"no question {qid} and no button to start its experiment"
        start.first.click()
        _settle(page)
        box.wait_for(state="attached", timeout=SETTLE_MS)
    assert box.is_visible(), f"the step's question {qid} is hidden (in a closed tab?)"
    box.scroll_into_view_if_needed()
    return box


def _answer(page, step: dict, n: int) -> None:
    """Student ``n`` answers the step's question, differently from the others."""
    question = step["question"]
    box = _question_box(page, question["id"])
    assert f"Lesson question, step {COURSE.index(step) + 1}" in box.inner_text()
    if question["kind"] == "number":
        box.get_by_role("textbox").fill(str([3, 3, 40][n]))
        box.get_by_role("button", name="Check my answer").click()
    elif question["kind"] == "choice":
        options = question.get("options")
        labels = box.get_by_role("radiogroup").locator("label")
        count = labels.count()
        assert count >= 2 and (options is None or count == len(options))
        labels.nth([0, 0, 1][n]).click()
        box.get_by_role("button", name="Check my answer").click()
    else:  # click: on the image, top left for two students, bottom right for one
        plot = box.locator(".nsewdrag").first
        area = plot.bounding_box()
        where = [(0.2, 0.2), (0.2, 0.2), (0.8, 0.8)][n]
        check = box.get_by_role("button", name="Check my answer")
        for _ in range(3):  # a click landing while the chart redraws may be lost
            plot.click(position={"x": area["width"] * where[0],
                                 "y": area["height"] * where[1]}, force=True)
            _settle(page)
            if check.is_enabled():
                break
        check.click()
    _settle(page)
    box = _question_box(page, question["id"])
    box.get_by_role("button", name="Ask me again").wait_for(timeout=60_000)
    assert "What to notice" in page.locator(".st-key-lesson_bar").inner_text()


def test_the_course_end_to_end_with_a_class():
    SHOTS.mkdir(parents=True, exist_ok=True)
    total = len(COURSE)
    times: dict[int, float] = {}
    with app_server(env={"CNNVIZ_REDIS_URL": ""},
                    log_path=SHOTS / "course-server.log") as (base, _), browser() as chromium:
        lecturer = chromium.new_context(viewport=VIEWPORT).new_page()
        lecturer.goto(f"{base}/Lessons")
        _settle(lecturer)
        lecturer.get_by_role("button", name="Start a new class").click()
        _settle(lecturer)
        code = lecturer.get_by_label("Class code", exact=True).input_value()
        assert re.fullmatch(r"[A-Z0-9]{4}", code), code
        link = lecturer.locator("a").filter(has_text=f"Step {FIRST}: ").first  # folded away
        lecturer.goto(f"{base}/{link.get_attribute('href')}&present=1")  # the projector's screen
        students = [chromium.new_context(viewport=VIEWPORT).new_page() for _ in range(3)]

        for number, step in enumerate(COURSE[FIRST - 1:], FIRST):
            started = time.monotonic()
            _open_step(lecturer, step, number)
            at = _query(lecturer.url)
            assert (at["step"], at["class"], at["teach"], at["present"]) == \
                (str(number), code, "1", "1"), lecturer.url
            bar = lecturer.locator(".st-key-lesson_bar")
            assert f"step {number} of {total}" in bar.inner_text()
            student_url = bar.locator("[data-testid='stCode']").inner_text().strip()
            assert _lesson_part(student_url) == _lesson_part(lecturer.url), student_url
            assert not {"teach", "present"} & set(_query(student_url)), student_url
            qid = step["question"]["id"]
            box = _question_box(lecturer, qid)
            assert f"Class question, step {number}" in box.inner_text()

            for n, student in enumerate(students):
                if number == FIRST:
                    student.goto(student_url)
                else:  # the student follows with the bar's own Next
                    student.locator(".st-key-lesson_bar").get_by_role(
                        "button", name="Next").click()
                _open_step(student, step, number)
                assert _lesson_part(student.url) == _lesson_part(student_url), student.url
                assert not {"teach", "present"} & set(_query(student.url)), student.url
                assert f"step {number} of {total}" in student.locator(
                    ".st-key-lesson_bar").inner_text()
                _answer(student, step, n)
                if n == 0 and number in SHOT_STEPS:
                    student.screenshot(path=str(SHOTS / f"course-{number:02d}-student.png"))

            tally = box.get_by_text(re.compile(rf"Class {code}: 3 answers so far — "))
            tally.wait_for(timeout=30_000)  # the histogram refreshes itself every 2 s
            bars = tally.inner_text().split(" — ", 1)[1].split(" · ")
            assert len(bars) == 2, tally.inner_text()  # the students answered two ways
            if number in SHOT_STEPS:
                box.scroll_into_view_if_needed()
                lecturer.screenshot(path=str(SHOTS / f"course-{number:02d}-before-reveal.png"))
            box.get_by_role("button", name="Reveal the measured answer").click()
            _settle(lecturer)
            box = _question_box(lecturer, qid)
            assert box.locator("[data-testid='stMetric']").filter(has_text="Measured").count()
            box.get_by_text(re.compile(r"of 3 answers \(\d+%\) match the measured")).wait_for(
                timeout=30_000)
            if number in SHOT_STEPS:
                lecturer.screenshot(path=str(SHOTS / f"course-{number:02d}-after-reveal.png"))
            times[number] = time.monotonic() - started
            print(f"step {number:2d} ({step['page']}, {qid}): {times[number]:.0f} s")
            if number < total:
                bar.get_by_role("button", name="Next").click()
        assert sorted(times) == list(range(FIRST, total + 1))
