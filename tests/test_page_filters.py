"""The Filters page in AppTest: first-layer kernels, a batched run, continue, top-N filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from apppredict import question_text, skip_questions
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/7_Filters.py"


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page(PAGE)
    at.query_params["layer"] = "block1_conv2"
    at.run()
    assert not at.exception
    # the curves wait for the question on them; the receptive-field question too
    assert not at.get("plotly_chart")
    assert "what happens to the median filter's mean activation?" in question_text(at)
    skip_questions(at)
    return at


def _images(at):
    return list(at.get("image"))


def test_default_run_shows_images_curves_and_kernels(page):
    at = page
    assert not at.error
    assert at.selectbox(key="flt_layer_shapes_cnn").value == "block1_conv2"
    assert at.subheader[0].value == "block1_conv2: 16 filters after 40 steps"
    assert any("16 kernels of block1_conv1" in str(el.proto) for el in _images(at))
    assert len(at.get("plotly_chart")) == 1
    # the sentences under the curves come from the measured curves
    text = question_text(at)
    assert "16 of 16 filters responded more and more" in text
    assert "the median activation went from" in text


def test_a_link_carries_the_settings_and_the_continuations():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.query_params = {"layer": "block1_conv1", "n": "3", "first": "5", "steps": "10",
                       "cont": "1", "lr": "3"}
    at.switch_page(PAGE).run()
    assert not at.exception and not at.warning
    assert at.subheader[0].value == "block1_conv1: 3 filters after 20 steps"
    assert any("learning rate 3, seed 0, steps 10 + 10" in c.value for c in at.caption)
    assert at.number_input(key="flt_first").value == 5
    # changing a setting starts again from noise: the continuation does not carry over
    at.number_input(key="flt_first").set_value(6).run()
    assert at.subheader[0].value == "block1_conv1: 3 filters after 10 steps"


def test_fewer_filters_then_continue(page):
    at = page
    at.slider(key="flt_count_shapes_cnn").set_value(4).run()
    assert at.subheader[0].value == "block1_conv2: 4 filters after 40 steps"
    at.button(key="flt_more").click().run()
    assert not at.exception
    assert at.subheader[0].value == "block1_conv2: 4 filters after 80 steps"
    assert any("steps 40 + 40" in c.value for c in at.caption)


def test_most_active_filters_for_the_image(page):
    at = page
    at.radio(key="flt_how").set_value("top").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("on “") for c in at.caption)
    assert at.subheader[0].value == "block1_conv2: 4 filters after 40 steps"


def test_fourier_parameterisation_from_the_form(page):
    at = page
    at.toggle(key="flt_fourier").set_value(True)
    at.slider(key="flt_steps").set_value(10)
    at.button[0].click().run()  # the form's submit button comes first
    assert not at.exception and not at.error
    assert at.subheader[0].value == "block1_conv2: 4 filters after 10 steps"


@pytest.mark.slow  # builds and saves a MobileNetV2 for the fake cache, then optimises at 224
def test_mobilenet_v2_with_cached_weights(fake_imagenet_home):
    import streamlit as st

    st.cache_resource.clear()  # the model list is cached; it must see the fake cache
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    at.switch_page(PAGE).run()
    at.slider(key="flt_steps").set_value(5)
    at.button[0].click().run()
    at.selectbox(key="model").set_value("mobilenet_v2").run()
    assert not at.exception and not at.error
    assert at.slider(key="flt_count_mobilenet_v2").max == 24
    subheader = at.subheader[0].value
    assert subheader.endswith("8 filters after 5 steps")  # 8 by default at 224 pixels
    assert any("32 kernels of Conv1" in str(el.proto) for el in _images(at))
    st.cache_resource.clear()


def test_first_layer_kernels_are_enlarged_block_by_block():
    """Each 3x3 kernel becomes a 60x60 picture of 20x20 blocks, 8 to a row."""
    import numpy as np

    from cnnviz.ui.filters import kernel_picture

    kernels = np.random.default_rng(0).integers(0, 256, (16, 3, 3, 3), dtype=np.uint8)
    picture = kernel_picture(kernels)
    assert picture.shape == (2 * 60 + 6, 8 * 60 + 7 * 6, 3)
    second = picture[:60, 66:126]  # kernel 1, first row
    assert np.array_equal(second[:20, :20], np.broadcast_to(kernels[1][0, 0], (20, 20, 3)))
    assert np.array_equal(second[40:, 40:], np.broadcast_to(kernels[1][2, 2], (20, 20, 3)))
