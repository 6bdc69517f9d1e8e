"""The Convolution page in AppTest: matching across images, every kernel source, the
knobs, the pixel explained step by step, its questions, bad combinations."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from apppredict import CHECK, question_text, skip_questions
from PIL import Image
from streamlit.testing.v1 import AppTest
from viewpages import numbers

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/1_Convolution.py"


def _open() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


@pytest.fixture
def page():
    """The page with every question skipped: each result is on show."""
    return skip_questions(_open())


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.code]
                     + [i.value for i in at.info] + [c.value for c in at.caption])


def _titles(at) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def _slider(at, label):
    return next(s for s in at.slider if s.label == label)


def _button(at, label: str, index: int = 0):
    return [b for b in at.button if b.label == label][index]


def _use_shape(at):
    """Switch the shared picker to a 64x64 synthetic shape (small and fast)."""
    at.radio(key="image_source").set_value("Synthetic shape").run()
    assert not at.exception


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def test_the_default_cuts_a_circle_from_one_scene_and_finds_both_in_another(page):
    at = page
    assert at.radio(key="conv_kernel").value == "patch"
    assert at.selectbox(key="conv_pair").value == "shapes"
    shown = numbers(at)
    assert len(shown["matches"]) == 3 and len(shown["object_scores"]) == 3
    circles, square = shown["object_scores"][:2], shown["object_scores"][2]
    assert min(circles) >= 0.5 and min(circles) - square >= 0.2
    text = _text(at)
    assert (f"The two circles (top left, bottom left) score {max(circles):.2f} and "
            f"{min(circles):.2f}, the square (centre) {square:.2f}".replace("-", "−") in text)
    assert "finds the circle's pattern in another image and tells it from the square" in text
    # the two best matches are the two circles, not the place the kernel was cut from
    assert [m[2] >= 0.5 for m in shown["matches"]] == [True, True, False]
    assert "The raw weighted sum peaks at the square (centre) instead" in text
    assert "The 3 best matches in scene 2" in _titles(at)


def test_searched_in_itself_the_patch_finds_itself_and_the_page_says_that_is_circular(page):
    at = page
    at.selectbox(key="conv_pair").set_value("picked").run()
    top, left = at.slider(key="conv_top").value, at.slider(key="conv_left").value
    # the normalised cross-correlation finds the patch exactly where it was cut
    assert f"It finds itself: row {top}, col {left}, score 1.00" in _text(at)
    assert "that proves nothing" in _text(at)
    at.slider(key="conv_top").set_value(top + 7).run()
    assert f"It finds itself: row {top + 7}, col {left}, score 1.00" in _text(at)


def test_the_stereo_photos_find_the_wheel_shifted(page):
    at = page
    at.selectbox(key="conv_pair").set_value("motorcycle").run()
    assert not at.exception
    best = numbers(at)["matches"][0]
    text = _text(at)
    assert re.search(rf"Best match at row {best[0]}, col {best[1]} \(score {best[2]:.2f}\), "
                     r"\d+ columns left of where it was cut in the left camera's photo", text)
    assert "one clear match" in text


def test_window_products_sum_to_the_map_value(page):
    at = page
    text = _text(at)
    match = re.search(r"Sum of all (\d+) products = \*\*(-?[\d.]+)\*\*, the value in the map: "
                      r"(-?\d+\.\d+)", text)
    assert match and match.group(2) == match.group(3)
    _slider(at, "Output row").set_value(3).run()
    _slider(at, "Output column").set_value(5).run()
    assert "Output pixel (row 3, col 5)" in _text(at)


def test_a_click_on_the_map_moves_the_sliders(page):
    at = page
    at.session_state["conv_map"] = {"selection": {"points": [{"x": 9, "y": 4}]}}
    at.run()
    assert _slider(at, "Output row").value == 4 and _slider(at, "Output column").value == 9
    assert "Output pixel (row 4, col 9)" in _text(at)
    _slider(at, "Output column").set_value(11).run()  # the old click does not win again
    assert "Output pixel (row 4, col 11)" in _text(at)


def test_a_picked_pixel_stays_on_the_same_place_of_the_image_when_the_knobs_change(page):
    at = page
    _use_shape(at)  # 64x64
    at.radio(key="conv_kernel").set_value("classic").run()
    assert "It follows the map's peak" in _text(at)
    _slider(at, "Output row").set_value(10).run()
    _slider(at, "Output column").set_value(20).run()
    assert "It follows the map's peak" not in _text(at)
    at.slider(key="conv_stride").set_value(2).run()
    # the 3x3 window of (10, 20) is centred on input (11, 21); with stride 2 the window
    # centred nearest to it is output (5, 10)
    assert "Output pixel (row 5, col 10) reads input rows 10…12 and columns 20…22" in _text(at)
    assert ("your pixel (row 10, col 20) is now row 5, col 10, the window nearest the same "
            "place of the image (row 11, col 21)" in _text(at))
    at.selectbox(key="conv_pad").set_value("number").run()  # 1 pixel of padding on each side
    # output (r, c) is now centred on input (2r, 2c): (11, 21) is nearest to (6, 11)'s centre
    assert "Output pixel (row 6, col 11) reads input rows 11…13 and columns 21…23" in _text(at)
    at.selectbox(key="image_shape").set_value("star").run()  # another image: the peak again
    assert numbers(at)["pixel"] == numbers(at)["peak"]
    assert "Another image: the pixel follows the peak again" in _text(at)


def test_knobs_update_the_formula_and_output(page):
    at = page
    _use_shape(at)  # 64x64
    at.radio(key="conv_kernel").set_value("classic").run()
    at.selectbox(key="conv_classic").set_value("Sobel x").run()
    at.slider(key="conv_stride").set_value(2).run()
    at.slider(key="conv_dil").set_value(2).run()
    at.selectbox(key="conv_pad").set_value("number").run()
    at.number_input(key="conv_padn").set_value(3).run()
    assert not at.exception
    # floor((64 + 6 - 2*(3-1) - 1) / 2) + 1 = floor(65 / 2) + 1 = 33
    assert "floor((64 + 6 - 2*(3-1) - 1) / 2) + 1 = floor(65 / 2) + 1 = 33" in _text(at)
    assert "output **33x33**" in _text(at)
    at.selectbox(key="conv_pad").set_value("same").run()
    assert "output **32x32**" in _text(at)


def test_the_output_size_question_hides_the_formula_until_answered():
    at = _open()
    _use_shape(at)
    at.radio(key="conv_kernel").set_value("classic").run()
    at.slider(key="conv_stride").set_value(2).run()
    assert ("The image is 64 pixels wide and the kernel 3; stride 2, padding none ('valid'), "
            "dilation 1. How many pixels wide is the response map?" in question_text(at))
    assert "output **31x31**" not in _text(at)
    at.text_input(key="q_conv_size_0").input("32")
    _button(at, CHECK, 1).click().run()  # the first Check belongs to the click question
    assert ("You said 32 pixels, 1 more than the measured 31 pixels: floor((64 + 0 - "
            "1*(3-1) - 1) / 2) + 1 = floor(61 / 2) + 1 = 31" in question_text(at))
    assert "output **31x31**" in _text(at)


def test_the_click_question_is_scored_against_the_best_match():
    at = _open()
    assert "Where in scene 2 will it match best? Click there." in question_text(at)
    assert not any(t.startswith("The 3 best matches") for t in _titles(at))
    at.session_state["q_conv_peak_0"] = {"selection": {"points": [{"x": 30, "y": 23}]}}
    at.run()
    _button(at, CHECK).click().run()
    verdict = question_text(at)
    # the best window is centred on row 23, col 30: the top-left circle
    assert "You clicked row 23, col 30, inside the hot region, 0 pixels from the measured " \
           "peak (row 23, col 30)" in verdict
    assert "normalised cross-correlation is highest (0.84) for the window centred on row " \
           "23, col 30, on a circle" in verdict
    assert "The 3 best matches in scene 2" in _titles(at)
    _button(at, "Ask me again").click().run()
    at.session_state["q_conv_peak_1"] = {"selection": {"points": [{"x": 110, "y": 40}]}}
    at.run()
    _button(at, CHECK).click().run()
    assert "You clicked row 40, col 110, outside the hot region" in question_text(at)


def test_bad_combination_shows_a_message_not_a_traceback(page):
    at = page
    _use_shape(at)
    at.radio(key="conv_kernel").set_value("classic").run()
    at.selectbox(key="conv_classic").set_value("Gabor").run()
    at.slider(key="conv_ksize").set_value(15).run()
    at.slider(key="conv_dil").set_value(8).run()  # spans 8*14+1 = 113 > 64 pixels
    assert not at.exception
    assert any("no position where it fits" in e.value for e in at.error)
    at.slider(key="conv_dil").set_value(1).run()
    assert not at.error


def test_own_kernel_and_colour_channels(page):
    at = page
    at.radio(key="conv_colour").set_value("rgb").run()
    at.radio(key="conv_kernel").set_value("own").run()
    assert not at.exception
    text = _text(at)
    assert "The same k×k kernel is used for each of the three channels" in text
    num = r"(-?\d+\.\d+)"
    match = re.search(rf"Per channel: R {num} \+ G {num} \+ B {num} = {num}", text)
    assert match
    r, g, b, total = map(float, match.groups())
    assert r + g + b == pytest.approx(total, abs=2e-4)
    assert "Colour: one kernel slice per channel, summed" in [h.value for h in at.header]
    # a vertical-edge detector's weights sum to 0: the sentence says flat regions give 0
    assert "The weights sum to 0, so flat regions give 0" in text


def test_uploaded_image_works(page):
    at = page
    rng = np.random.default_rng(0)
    at.radio(key="image_source").set_value("Upload").run()
    uploads = at.get("file_uploader")
    uploads[0].set_value(("noise.png", _png(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)),
                          "image/png")).run()
    assert not at.exception
    assert "120x90 pixels" in _text(at)
    assert "which this pair does not use" in _text(at)  # the default pair is two scenes


def test_a_one_pixel_upload_is_named_as_the_cause_not_a_template_nobody_chose(page):
    at = page
    at.radio(key="image_source").set_value("Upload").run()
    at.get("file_uploader")[0].set_value(
        ("dot.png", _png(np.full((1, 1, 3), 200, np.uint8)), "image/png")).run()
    at.selectbox(key="conv_pair").set_value("picked").run()
    assert not at.exception and not at.error
    text = _text(at)
    assert "dot.png is one flat colour everywhere (a tiny upload scaled up gives this)" in text
    assert "The template is flat" not in text
    at.radio(key="conv_kernel").set_value("classic").run()  # a classic kernel still works
    assert not at.exception and "output" in _text(at)


def test_the_course_steps_open_the_demo_and_ask_the_pages_questions():
    from viewpages import open_app, show

    from cnnviz import lessons

    course = lessons.load_lesson(ROOT / "lessons" / "course.toml")

    def step(number: int) -> dict:  # the link the lesson bar opens a step with
        return {**course.step(number).state, "lesson": "course", "step": str(number)}

    at = show(open_app(), "convolution", step(1))
    assert "Lesson question, step 1" in question_text(at)
    assert "Where in scene 2 will it match best?" in question_text(at)
    at = show(at, "convolution", step(2))
    assert "Lesson question, step 2" in question_text(at)
    assert "The image is 64 pixels wide and the kernel 3; stride 2" in question_text(at)
    at.text_input(key="q_conv_size_0").input("31")
    _button(at, CHECK, 1).click().run()
    assert any(s.value.startswith("You said 31 pixels, exactly the measured 31 pixels")
               for s in at.success)
