"""A short lesson in a real browser: a lecturer and three students in separate contexts.

The lecturer starts a class on the Lessons page and opens step 1; three students
open the student link, each in a browser context of their own (separate
sessions, separate voter ids), and answer the step's question; the lecturer's
live histogram shows their three answers; the reveal shows the measured answer;
Next carries the lesson to step 2. Screenshots at 1280x720 land in ``shots/``
(or ``$CNNVIZ_SHOTS``): a student before and after answering, the lecturer
before and after the reveal.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from appdriver import EXCEPTION, app_server, browser, require_chromium, wait_until_done

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS", ROOT / "shots"))
VIEWPORT = {"width": 1280, "height": 720}
SHORT = '''
title = "Convolution in class"

[[steps]]
page = "Convolution"
title = "The output size"
state = { src = "shape", kernel = "classic", classic = "sobel-x", stride = 2 }
notice = "Output size = floor((n + p - d(k - 1) - 1) / s) + 1."

[steps.question]
id = "conv_size"
kind = "number"
unit = "pixels"

[[steps]]
page = "Architecture"
title = "The 1x1 convolution"
state = { pwl = "block2_pool", k = "8" }
notice = "A 1x1 convolution mixes the channels at each pixel."

[steps.question]
id = "pw_params"
kind = "number"
unit = "parameters"
'''

require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _settle(page, timeout_ms: int = 240_000) -> None:
    page.wait_for_timeout(500)  # let the rerun a click asked for start
    wait_until_done(page, timeout_ms=timeout_ms)
    assert page.locator(EXCEPTION).count() == 0


def test_a_lecturer_sees_three_students_answers(tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    (tmp_path / "short.toml").write_text(SHORT)
    env = {"CNNVIZ_LESSONS_DIR": str(tmp_path), "CNNVIZ_REDIS_URL": ""}
    with app_server(env=env, log_path=SHOTS / "lesson-server.log") as (base, _), \
            browser() as chromium:
        lecturer = chromium.new_context(viewport=VIEWPORT).new_page()
        lecturer.goto(f"{base}/Lessons")
        _settle(lecturer)
        lecturer.get_by_role("button", name="Start a new class").click()
        _settle(lecturer)
        code = lecturer.get_by_label("Class code", exact=True).input_value()
        assert re.fullmatch(r"[A-Z0-9]{4}", code), code
        lecturer.get_by_role("link", name="Open step 1 as the lecturer").click()
        lecturer.wait_for_url(re.compile(r".*/Convolution\?.*teach=1.*"))
        _settle(lecturer)
        bar = lecturer.locator(".st-key-lesson_bar")
        assert "step 1 of 2" in bar.inner_text()
        student_url = bar.locator("[data-testid='stCode']").inner_text().strip()
        assert student_url.endswith(f"/Convolution?src=shape&kernel=classic&classic=sobel-x"
                                    f"&stride=2&lesson=short&step=1"
                                    f"&class={code}"), student_url
        question = lecturer.locator(".st-key-question_conv_size")
        assert "Class question, step 1" in question.inner_text()
        assert lecturer.get_by_text("The dilated kernel spans").count() == 0

        answers = ["31", "31", "32"]
        for n, answer in enumerate(answers):
            student = chromium.new_context(viewport=VIEWPORT).new_page()
            student.goto(student_url)
            _settle(student)
            box = student.locator(".st-key-question_conv_size")
            assert "Lesson question, step 1" in box.inner_text()
            if n == 0:
                box.scroll_into_view_if_needed()
                _settle(student)
                student.screenshot(path=str(SHOTS / "lesson-student-before.png"))
            box.get_by_label("Your answer (pixels)").fill(answer)
            box.get_by_role("button", name="Check my answer").click()
            student.get_by_text(f"You said {answer} pixels").wait_for(timeout=120_000)
            _settle(student)
            assert f"You said {answer} pixels" in student.locator(
                ".st-key-question_conv_size").inner_text()
            assert "What to notice" in student.locator(".st-key-lesson_bar").inner_text()
            if n == 0:
                student.locator(".st-key-question_conv_size").scroll_into_view_if_needed()
                _settle(student)
                student.screenshot(path=str(SHOTS / "lesson-student-after.png"))
            student.context.close()

        tally = lecturer.get_by_text(f"Class {code}: 3 answers so far — 31: 2 · 32: 1")
        tally.wait_for(timeout=30_000)  # the histogram refreshes itself every 2 s
        question.scroll_into_view_if_needed()
        lecturer.screenshot(path=str(SHOTS / "lesson-lecturer-before-reveal.png"))
        lecturer.get_by_role("button", name="Reveal the measured answer").click()
        _settle(lecturer)
        assert lecturer.get_by_text("The dilated kernel spans").count() >= 1
        text = lecturer.locator(".st-key-question_conv_size").inner_text()
        assert re.search(r"of 3 answers \(\d+%\) match the measured \d+", text), text
        lecturer.locator(".st-key-question_conv_size").scroll_into_view_if_needed()
        lecturer.screenshot(path=str(SHOTS / "lesson-lecturer-after-reveal.png"))

        lecturer.locator(".st-key-lesson_bar").get_by_role("button", name="Next").click()
        lecturer.wait_for_url(re.compile(r".*/Architecture\?.*step=2.*"))
        _settle(lecturer)
        assert f"class={code}" in lecturer.url and "lesson=short" in lecturer.url
        assert "step 2 of 2" in lecturer.locator(".st-key-lesson_bar").inner_text()
