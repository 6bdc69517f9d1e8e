"""Links in AppTest: a page writes its view into the URL, a new session opened at that URL
shows the same numbers, bad links give notices, uploads name their fallback."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from viewpages import notices, numbers, open_app, show

from cnnviz import views


def _fresh_copy(at, page):
    """Open the URL ``at`` shows in a new session (a student's browser)."""
    return show(open_app(), page, dict(at.query_params))


def test_convolution_view_set_through_the_ui_opens_the_same_in_a_new_session():
    at = show(open_app(), "convolution", {})
    assert at.query_params == {}  # the defaults: a bare URL
    at.radio(key="image_source").set_value("Synthetic shape").run()
    at.selectbox(key="image_shape").set_value("triangle").run()
    at.radio(key="conv_kernel").set_value("classic").run()
    at.selectbox(key="conv_classic").set_value("Gabor").run()
    at.slider(key="conv_angle").set_value(60).run()
    at.slider(key="conv_stride").set_value(2).run()
    at.slider(key="conv_row_0").set_value(3).run()
    assert not at.exception
    assert at.query_params == {"src": "shape", "shape": "triangle", "kernel": "classic",
                               "classic": "gabor", "angle": "60", "stride": "2", "row": "3",
                               "col": str(numbers(at)["peak"][1])}
    copy = _fresh_copy(at, "convolution")
    assert numbers(copy) == numbers(at) and notices(copy) == []
    assert copy.slider(key="conv_angle").value == 60
    assert copy.query_params == at.query_params
    # the link's image is now the student's choice: it stays on the next run
    copy.slider(key="conv_stride").set_value(3).run()
    assert copy.selectbox(key="image_shape").value == "triangle"


def test_the_pick_follows_the_peak_until_the_student_picks():
    at = show(open_app(), "convolution", {})
    first = numbers(at)
    assert first["pixel"] == first["peak"] and "row" not in at.query_params
    at.slider(key="conv_stride").set_value(3).run()
    moved = numbers(at)
    assert moved["pixel"] == moved["peak"] and "row" not in at.query_params


def test_a_typed_kernel_travels_in_the_link():
    at = show(open_app(), "convolution", "kernel=own&n=3&w=0,1,0,1,-4,1,0,1,0")
    assert numbers(at)["kernel_hw"] == [3, 3]
    assert at.query_params["w"] == "0,1,0,1,-4,1,0,1,0"
    copy = _fresh_copy(at, "convolution")
    assert numbers(copy) == numbers(at)


def test_a_bad_convolution_link_gives_notices_and_a_valid_view():
    at = show(open_app(), "convolution",
              "dil=99&kernel=classic&classic=unsharp&size=1000&zoom=2&src=upload")
    assert not at.exception and not at.error
    shown = notices(at)
    assert len(shown) == 1  # one box, one line per notice
    for words in ("dilation 99 is not between 1 and 8; showing 8",
                  "classic kernel 'unsharp' is not one of",
                  "working size '1000' is not one of", "'zoom' is not a setting",
                  "image source 'upload' is not a source a link can carry"):
        assert words in shown[0]
    assert at.query_params == {"kernel": "classic", "dil": "8"}
    at.slider(key="conv_stride").set_value(2).run()  # the notice was for the link only
    assert notices(at) == []


def test_the_presenter_switch_stays_in_the_address_bar_but_not_in_the_link():
    at = show(open_app(), "convolution", "stride=2&present=1")
    assert notices(at) == []
    assert at.query_params == {"stride": "2", "present": "1"}
    at.slider(key="conv_dil").set_value(2).run()
    assert at.query_params == {"stride": "2", "dil": "2", "present": "1"}
    link = next(c.value for c in at.code if c.value.startswith("http"))
    assert link.endswith("/Convolution?stride=2&dil=2")


def test_a_link_in_an_open_session_replaces_the_whole_view():
    at = show(open_app(), "convolution", "stride=4&dil=2")
    show(at, "convolution", "stride=2")
    assert at.slider(key="conv_stride").value == 2 and at.slider(key="conv_dil").value == 1


def test_the_back_button_to_a_bare_address_gives_the_defaults_a_page_switch_does_not():
    at = show(open_app(), "convolution", {})
    at.slider(key="conv_stride").set_value(3).run()
    assert at.query_params == {"stride": "3"}
    at.query_params = {}  # back to the address without a query: the page's defaults
    at.run()
    assert at.slider(key="conv_stride").value == 1 and notices(at) == []
    at.slider(key="conv_stride").set_value(3).run()
    at.query_params = {}
    at.switch_page("streamlit_app.py").run()
    at.switch_page(views.spec("convolution").path).run()  # from the sidebar: kept
    assert at.slider(key="conv_stride").value == 3 and at.query_params == {"stride": "3"}


def test_an_uploaded_image_is_not_in_the_link_and_the_link_names_its_fallback():
    at = show(open_app(), "convolution", "sample=astronaut")
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 120, 3), np.uint8)).save(
        buf, "PNG")
    at.radio(key="image_source").set_value("Upload").run()
    at.get("file_uploader")[0].set_value(("noise.png", buf.getvalue(), "image/png")).run()
    assert not at.exception
    assert any("120x90 pixels" in c.value for c in at.caption)
    assert at.query_params.get("src") is None and at.query_params["sample"] == "astronaut"
    assert any("Your uploaded image isn't in the link" in c.value
               and "sample photo 'astronaut'" in c.value for c in at.caption)


@pytest.mark.slow  # the next page with a picker builds its own demo: ~15 s
def test_a_links_image_follows_the_student_to_the_next_page():
    at = show(open_app(), "convolution", "sample=coffee-cup")
    at.query_params = {}  # the sidebar's page links carry no query string
    at.switch_page("pages/2_Pooling_and_Receptive_Fields.py").run()
    assert not at.exception
    assert at.sidebar.radio(key="image_source").value == "Sample photo"
    assert at.sidebar.selectbox(key="image_sample").value == "coffee cup"


def test_a_link_whose_page_was_not_found_is_offered_on_the_home_page():
    at = open_app()
    at.query_params = {"layer": "block2_conv2", "cls": "3"}
    at.run()
    assert not at.exception
    assert "was not found" in at.warning[0].value
    assert views.spec("gradcam").url_name in [link.proto.page for link in at.get("page_link")
                                     if "with this link's settings" in link.proto.label]


@pytest.fixture(scope="module")
def gradcam():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")
    return show(open_app(), "gradcam", {})


@pytest.mark.slow  # the Grad-CAM page in two sessions
def test_gradcam_view_set_through_the_ui_opens_the_same_in_a_new_session(gradcam):
    at = gradcam
    assert at.query_params == {}  # the page's defaults (a scene, its top class): a bare URL
    at.selectbox(key="gc_class_shapes_cnn_square + star (scene seed 0)").set_value(2).run()
    at.selectbox(key="gc_layer_shapes_cnn").set_value("block2_conv2").run()
    at.radio(key="gc_pooling").set_value("max").run()
    assert not at.exception
    assert at.query_params == {"cls": "2", "layer": "block2_conv2", "pool": "max"}
    copy = _fresh_copy(at, "gradcam")
    assert numbers(copy) == numbers(at) and numbers(copy)["class"] == 2
    assert notices(copy) == []


@pytest.mark.slow
def test_a_bad_gradcam_link_gives_notices_and_a_valid_view(gradcam):
    at = show(gradcam, "gradcam", "model=vgg99&layer=block9_conv&cls=12&lys=block1_conv1,x"
                                  "&sanity=1&sm=layercam")
    assert not at.exception and not at.error
    for words in ("model 'vgg99' is not a model this server can use now",
                  "target layer 'block9_conv' is not a layer of shapes_cnn with a map; "
                  "showing 'block3_conv2'",
                  "class 12 is not a class number of shapes_cnn; showing 3",
                  "layers compared: 'x' is not a layer of shapes_cnn"):
        assert words in notices(at)[0]
    assert numbers(at)["layer"] == "block3_conv2" and numbers(at)["class"] == 3  # the star
    # the sanity check the link showed is shown, for the settings it names
    assert at.session_state["gc_sanity_done"][-1] == "layercam"
    assert at.query_params == {"lys": "block1_conv1", "sm": "layercam", "sanity": "1"}
    assert views.parse("gradcam", at.query_params)[1] == []
