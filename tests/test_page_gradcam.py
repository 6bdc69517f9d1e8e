"""The Grad-CAM page in AppTest: steps, class and layer choice, pooling toggle, trust tabs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/8_Grad-CAM.py"


@pytest.fixture(scope="module")
def page():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    at.radio(key="image_source").set_value("Synthetic shape").run()  # a circle, seed 0
    assert not at.exception
    return at


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [i.value for i in at.info]
                     + [w.value for w in at.warning] + [c.value for c in at.caption])


def test_five_steps_for_the_top_class(page):
    at = page
    assert [h.value for h in at.header][:2] == ["What does the model predict?",
                                                "Grad-CAM in five steps"]
    assert [s.value for s in at.subheader][0] == "1 · Feed the image forward"
    assert len(at.subheader) == 5
    # the built-in model recognises the circle and explains that class by default
    assert at.selectbox(key="gc_class_shapes_cnn_circle (seed 0)").value == 0
    assert "The logit of **circle**" in _text(at)
    assert at.selectbox(key="gc_layer_shapes_cnn").value == "block3_conv2"
    # at the last conv layer (before global average pooling) the gradients are constant
    assert "every position of a channel gets the *same* gradient" in _text(at)
    assert "the map's peak is **on** the object" in _text(at)
    assert not at.error


@pytest.mark.slow  # reruns the page six times
def test_other_class_other_layer_and_max_pooling(page):
    at = page
    at.selectbox(key="gc_class_shapes_cnn_circle (seed 0)").set_value(3).run()
    assert "The logit of **star**" in _text(at)
    at.selectbox(key="gc_layer_shapes_cnn").set_value("block2_conv2").run()
    assert "outputs 32 feature maps of 32×32" in _text(at)
    assert "same* gradient" not in _text(at)
    at.radio(key="gc_pooling").set_value("max").run()
    assert not at.exception
    assert "Rank correlation with the mean map" in _text(at)
    at.radio(key="gc_pooling").set_value("mean").run()
    at.selectbox(key="gc_layer_shapes_cnn").set_value("block3_conv2").run()
    at.selectbox(key="gc_class_shapes_cnn_circle (seed 0)").set_value(0).run()
    assert not at.exception


@pytest.mark.slow  # randomises the model and scores the methods
def test_trust_checks_run_from_their_forms(page):
    at = page
    waiting = "Press the button to run the check"
    assert waiting in _text(at)  # heavy work waits for the button
    at.button[1].click().run()  # "Run the randomisation check" (the first is "Compute")
    assert not at.exception
    assert at.session_state["gc_sanity_done"][0] == "shapes_cnn"
    assert waiting not in _text(at)
    at.slider[0].set_value(20)
    at.button[2].click().run()  # "Score the methods"
    assert not at.exception
    table = at.dataframe[0].value
    gradcam = table.set_index("method").loc["Grad-CAM"]
    assert gradcam["pointing game"] >= 0.7 and gradcam["energy inside"] > 2 * gradcam["chance"]
    auc = at.dataframe[1].value  # deletion / insertion for this image
    assert list(auc["map"]) == ["Grad-CAM", "random"]


@pytest.mark.slow  # builds and saves a MobileNetV2 for the fake cache, then loads it
def test_mobilenet_v2_with_cached_weights(fake_imagenet_home):
    """ImageNet model (random weights from the fake Keras cache): 1000 classes, 7x7 maps."""
    import streamlit as st

    st.cache_resource.clear()  # the model list is cached; it must see the fake cache
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page(PAGE).run()
    at.selectbox(key="model").set_value("mobilenet_v2").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="gc_layer_mobilenet_v2").value == "out_relu"
    assert "outputs 1280 feature maps of 7×7" in _text(at)
    st.cache_resource.clear()
