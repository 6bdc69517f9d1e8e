"""The Grad-CAM page in AppTest: a scene of two shapes whose classes' maps point at their
own objects (measured, and the opposite when they do not), the question before the maps,
the five steps, near-empty maps, the layers, the trust tabs."""

from __future__ import annotations

from pathlib import Path

import pytest
from apppredict import SKIP, skip_questions
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/8_Grad-CAM.py"


def _trained():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")


def _open(query: dict | None = None, *, skip: bool = True) -> AppTest:
    _trained()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.query_params = dict(query or {})
    at.switch_page(PAGE).run()
    assert not at.exception
    if skip:
        skip_questions(at)
        assert not at.exception
    return at


@pytest.fixture(scope="module")
def page():
    """The default view: a square and a star in one scene, every question skipped."""
    return _open()


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [i.value for i in at.info]
                     + [w.value for w in at.warning] + [c.value for c in at.caption])


def test_the_question_comes_before_the_maps():
    at = _open(skip=False)
    text = _text(at)
    assert "Where will Grad-CAM look for **star**? Click the image." in text
    assert "Each class's map peaks" not in text  # the maps wait for the answer
    assert any(b.label == SKIP for b in at.button)


def test_a_scene_where_each_class_points_at_its_own_object(page):
    at = page
    assert at.title[0].value == "Where does the CNN look for each class?"
    assert at.radio(key="gc_img").value == "scene"
    assert at.multiselect(key="gc_objs").value == ["square", "star"]
    # the built-in model predicts the star and explains it by default
    assert at.selectbox(key="gc_class_shapes_cnn_square + star (scene seed 0)").value == 3
    assert at.selectbox(key="gc_layer_shapes_cnn").value == "block3_conv2"
    text = _text(at)
    assert ("Each class's map peaks on its own object at block3_conv2: Grad-CAM tells the "
            "square and the star apart here") in text
    assert "the map's peak is **on the star**" in text
    assert "How Grad-CAM made the map for star: five steps" in [h.value for h in at.header]
    assert len(at.subheader) == 5
    assert "every position of a channel gets the *same* gradient" in text
    assert not at.error


def test_a_scene_where_one_map_points_at_the_other_object():
    """The opposite: on this scene the model's evidence for 'square' lies on the circle,
    and the page says so instead of claiming the maps tell the shapes apart."""
    at = _open({"objs": "circle,square", "sseed": "0"})
    text = _text(at)
    assert "The map for square peaks on the circle, not on the square" in text
    assert "tells the" not in text


def test_one_shape_from_the_sidebar():
    at = _open({"img": "picked", "src": "shape", "shape": "circle", "cls": "3"})
    assert at.radio(key="image_source").value == "Synthetic shape"
    assert at.selectbox(key="gc_class_shapes_cnn_circle (seed 0)").value == 3
    text = _text(at)
    # the top three classes and the chosen one: cross's map finds its evidence elsewhere
    assert "1 of the 3 compared maps peaks off the circle" in text
    # a weak class on the shared scale: near-empty, said and not stretched
    assert "The map for star is near-empty: its peak" in text
    assert "The logit of **star**" in text


@pytest.mark.slow  # reruns the page several times
def test_other_class_other_layer_and_max_pooling():
    at = _open({"img": "picked", "src": "shape", "shape": "circle"})
    at.selectbox(key="gc_layer_shapes_cnn").set_value("block2_conv2").run()
    skip_questions(at)
    text = _text(at)
    assert "outputs 32 feature maps of 32×32" in text
    assert "same* gradient" not in text
    # at block2_conv2 the circle's own map is (near-)empty: said, not stretched
    assert "The map for circle is" in text and "not stretched" in text
    at.radio(key="gc_pooling").set_value("max").run()
    skip_questions(at)
    assert not at.exception
    assert "Rank correlation with the mean map" in _text(at)
    at.selectbox(key="gc_class_shapes_cnn_circle (seed 0)").set_value(3).run()
    skip_questions(at)
    assert "The logit of **star**" in _text(at)
    assert not at.exception


@pytest.mark.slow  # scores methods on scenes and shapes, randomises the model
def test_trust_checks_run_from_their_forms(page):
    at = page
    waiting = "Press the button to run the check"
    assert waiting in _text(at)  # heavy work waits for the button
    by_label = {b.label: b for b in at.button}
    at.slider(key="gc_sn").set_value(20)
    by_label["Score the methods on scenes"].click().run()
    assert not at.exception
    text = _text(at)
    assert "Grad-CAM: a class's map peaks on that class's object in" in text
    assert "so it tells the objects apart" in text
    scenes = at.dataframe[0].value.set_index("method")
    assert scenes.loc["Grad-CAM", "on its own object"] > 2 * scenes.loc["Grad-CAM", "chance"]
    {b.label: b for b in at.button}["Run the randomisation check"].click().run()
    assert not at.exception and waiting not in _text(at)
    assert "Once every layer is re-initialised the Grad-CAM map" in _text(at)
    at.slider(key="gc_pn").set_value(20)
    {b.label: b for b in at.button}["Score the methods"].click().run()
    assert not at.exception
    table = at.dataframe[1].value
    gradcam = table.set_index("method").loc["Grad-CAM"]
    assert gradcam["pointing game"] >= 0.7 and gradcam["energy inside"] > 2 * gradcam["chance"]
    assert "On 20 shapes the map's peak is on the object for" in _text(at)
    auc = at.dataframe[2].value  # deletion / insertion for this image
    assert list(auc["map"]) == ["Grad-CAM", "random"]
    assert "The Grad-CAM map is" in _text(at)


@pytest.mark.slow  # builds and saves a MobileNetV2 for the fake cache, then loads it
def test_mobilenet_v2_with_cached_weights(fake_imagenet_home):
    """ImageNet model (random weights from the fake Keras cache): 1000 classes, 7x7 maps;
    no scene of shapes for it: the sidebar's image."""
    import streamlit as st

    st.cache_resource.clear()  # the model list is cached; it must see the fake cache
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.switch_page(PAGE).run()
    at.selectbox(key="model").set_value("mobilenet_v2").run()
    skip_questions(at, timeout=240)
    assert not at.exception and not at.error
    assert at.radio(key="gc_img").options == ["The image picked in the sidebar"]
    assert at.selectbox(key="gc_layer_mobilenet_v2").value == "out_relu"
    assert "outputs 1280 feature maps of 7×7" in _text(at)
    st.cache_resource.clear()
