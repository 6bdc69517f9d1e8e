"""cnnviz.ui: guards, remembered pickers, the training slot."""

from __future__ import annotations

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest


def _guarded_errors():
    import streamlit as st

    from cnnviz import ui
    from cnnviz.errors import ImageError

    with ui.guard("loading"):
        raise ImageError("That file is not an image.")
    with ui.guard("the demo"):
        raise ValueError("internal detail that must not be shown")
    st.write("still running")


def test_guard_shows_messages_not_tracebacks():
    at = AppTest.from_function(_guarded_errors, default_timeout=30).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors[0] == "That file is not an image."
    assert "Something went wrong in the demo" in errors[1]
    assert "internal detail" not in " ".join(errors)
    assert at.markdown[-1].value == "still running"


def _picker_page():
    import streamlit as st

    from cnnviz import ui

    choice = ui.image_picker()
    st.write(f"{choice.name}|{choice.image.shape}|{choice.image.dtype}|{choice.label}|"
             f"{None if choice.mask is None else int(choice.mask.sum())}")


def _result(at) -> list[str]:
    return at.main.markdown[-1].value.split("|")


def test_image_picker_gives_a_sample_photo_by_default():
    at = AppTest.from_function(_picker_page, default_timeout=60).run()
    assert not at.exception
    name, shape, dtype, label, mask = _result(at)
    assert dtype == "uint8" and shape.endswith(", 3)")
    assert label == "None" and mask == "None"


def test_image_picker_shape_is_remembered_when_widgets_are_forgotten():
    at = AppTest.from_function(_picker_page, default_timeout=60).run()
    at.sidebar.radio(key="image_source").set_value("Synthetic shape").run()
    at.sidebar.selectbox(key="image_shape").set_value("star").run()
    at.sidebar.number_input(key="image_shape_seed").set_value(7).run()
    name, shape, _, label, mask = _result(at)
    assert (name, shape, label) == ("star (seed 7)", "(64, 64, 3)", "star")
    assert int(mask) > 50


@pytest.mark.slow  # renders five pages
def test_picker_choice_carries_to_the_next_pages_and_survives_a_page_without_it():
    # Streamlit keeps widget state per page: without the picker's own memory the
    # next page would start again from its default.
    at = AppTest.from_file("../streamlit_app.py", default_timeout=180).run()
    at.switch_page("pages/1_Convolution.py").run()
    at.sidebar.radio(key="image_source").set_value("Synthetic shape").run()
    at.sidebar.selectbox(key="image_shape").set_value("star").run()
    at.sidebar.number_input(key="image_shape_seed").set_value(7).run()
    for page in ("pages/2_Pooling_and_Receptive_Fields.py", "pages/8_Grad-CAM.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
        assert at.sidebar.selectbox(key="image_shape").value == "star"
    at.switch_page("streamlit_app.py").run()  # the home page has no picker
    assert not at.sidebar.radio
    at.switch_page("pages/1_Convolution.py").run()
    assert not at.exception
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    assert at.sidebar.selectbox(key="image_shape").value == "star"
    assert at.sidebar.number_input(key="image_shape_seed").value == 7


def test_training_slot_lets_one_training_run_at_a_time():
    from cnnviz.ui import _TRAINING_SLOTS

    order = []
    assert _TRAINING_SLOTS.acquire(blocking=False)

    def second_training():
        with _TRAINING_SLOTS:
            order.append("second")

    thread = threading.Thread(target=second_training)
    thread.start()
    time.sleep(0.3)
    order.append("first done")
    _TRAINING_SLOTS.release()
    thread.join(5)
    assert order == ["first done", "second"]


def _model_page():
    import streamlit as st

    from cnnviz import ui

    st.write(ui.model_picker())


@pytest.mark.slow  # loads three models
def test_model_picker_offers_usable_models_and_takes_an_upload():
    from badinput import bad_model_files, good_model_file

    at = AppTest.from_function(_model_page, default_timeout=120).run()
    assert not at.exception
    assert at.main.markdown[-1].value == "shapes_cnn"
    uploader = at.sidebar.file_uploader(key="model_upload_widget")
    lambda_case = bad_model_files()[0]
    uploader.set_value(("evil.keras", lambda_case.data, "application/octet-stream")).run()
    assert not at.exception
    assert "evil.keras:" in at.sidebar.error[0].value and "Lambda" in at.sidebar.error[0].value
    assert at.main.markdown[-1].value == "shapes_cnn"
    at.sidebar.file_uploader(key="model_upload_widget").set_value(
        ("mine.keras", good_model_file(), "application/octet-stream")).run()
    assert not at.exception and not at.sidebar.error
    chosen = at.main.markdown[-1].value
    assert chosen.startswith("user:") and chosen.endswith(":mine.keras")
    assert "Your model: mine.keras" in at.sidebar.selectbox(key="model").options


@pytest.mark.slow  # renders three pages
def test_choosing_a_pages_default_source_is_remembered_on_other_pages():
    at = AppTest.from_file("../streamlit_app.py", default_timeout=120).run()
    at.switch_page("pages/7_Filters.py").run()  # its default is a synthetic shape
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    at.sidebar.radio(key="image_source").set_value("Sample photo").run()
    at.sidebar.radio(key="image_source").set_value("Synthetic shape").run()
    at.switch_page("streamlit_app.py").run()
    at.switch_page("pages/1_Convolution.py").run()  # its default is a sample photo
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"


@pytest.mark.slow  # renders three pages
def test_a_shape_chosen_under_a_pages_default_source_follows_the_student():
    at = AppTest.from_file("../streamlit_app.py", default_timeout=180).run()
    at.switch_page("pages/7_Filters.py").run()  # its default source is a synthetic shape
    at.sidebar.selectbox(key="image_shape").set_value("hexagon").run()
    at.switch_page("pages/1_Convolution.py").run()  # its default is a sample photo
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    assert at.sidebar.selectbox(key="image_shape").value == "hexagon"
