"""The Convolution page in AppTest: every kernel source, the knobs, bad combinations."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/1_Convolution.py"


@pytest.fixture
def page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.code]
                     + [i.value for i in at.info] + [c.value for c in at.caption])


def _slider(at, label):
    return next(s for s in at.slider if s.label == label)


def _use_shape(at):
    """Switch the shared picker to a 64x64 synthetic shape (small and fast)."""
    at.radio(key="image_source").set_value("Synthetic shape").run()
    assert not at.exception


def test_default_patch_is_found_where_it_was_cut(page):
    at = page
    assert at.radio(key="conv_kernel").value == "patch"
    top, left = at.slider(key="conv_top").value, at.slider(key="conv_left").value
    # the normalised cross-correlation finds the patch exactly where it was cut
    assert f"is found by normalised cross-correlation at row {top}, col {left}" in _text(at)
    at.slider(key="conv_top").set_value(top + 7).run()
    assert f"at row {top + 7}, col {left}" in _text(at)
    assert "score 1.00" in _text(at)


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
    assert "5 · Colour: one kernel slice per channel, summed" in [h.value for h in at.header]


def test_uploaded_image_works(page):
    import io

    from PIL import Image

    at = page
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(buf, "PNG")
    at.radio(key="image_source").set_value("Upload").run()
    uploads = at.get("file_uploader")
    if not uploads:
        pytest.skip("this Streamlit's AppTest cannot set a file_uploader")
    uploads[0].set_value(("noise.png", buf.getvalue(), "image/png")).run()
    assert not at.exception
    assert "120x90 pixels" in _text(at)
