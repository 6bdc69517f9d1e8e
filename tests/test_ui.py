"""cnnviz.ui: guards, remembered pickers."""

from __future__ import annotations

from pathlib import Path

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
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/1_Convolution.py").run()
    at.sidebar.radio(key="image_source").set_value("Synthetic shape").run()
    at.sidebar.selectbox(key="image_shape").set_value("star").run()
    at.sidebar.number_input(key="image_shape_seed").set_value(7).run()
    for page in ("pages/2_Pooling_and_Receptive_Fields.py", "pages/6_Activations.py"):
        at.query_params = {}  # the sidebar's links carry no query string
        at.switch_page(page).run()
        assert not at.exception
        assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
        assert at.sidebar.selectbox(key="image_shape").value == "star"
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("streamlit_app.py").run()  # the home page has no picker
    assert not at.sidebar.radio
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/1_Convolution.py").run()
    assert not at.exception
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    assert at.sidebar.selectbox(key="image_shape").value == "star"
    assert at.sidebar.number_input(key="image_shape_seed").value == 7
    # the page computed with the carried image in its first run, not only the widgets
    assert any(caption.value.startswith("**star (seed 7)**") for caption in at.caption)


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
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/7_Filters.py").run()  # its default is a synthetic shape
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/1_Convolution.py").run()  # untouched: each page has its default
    assert at.sidebar.radio(key="image_source").value == "Sample photo"
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/7_Filters.py").run()
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    at.sidebar.radio(key="image_source").set_value("Sample photo").run()
    at.sidebar.radio(key="image_source").set_value("Synthetic shape").run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("streamlit_app.py").run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/1_Convolution.py").run()  # its default is a sample photo
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"


@pytest.mark.slow  # renders three pages
def test_a_shape_chosen_under_a_pages_default_source_follows_the_student():
    at = AppTest.from_file("../streamlit_app.py", default_timeout=180).run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/7_Filters.py").run()  # its default source is a synthetic shape
    at.sidebar.selectbox(key="image_shape").set_value("hexagon").run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/1_Convolution.py").run()  # its default is a sample photo
    assert at.sidebar.radio(key="image_source").value == "Synthetic shape"
    assert at.sidebar.selectbox(key="image_shape").value == "hexagon"


def test_streamlit_persist_state_reaches_another_page_one_run_late(tmp_path: Path):
    # Why cnnviz.ui.state carries the pickers' choices itself: with the same key on two
    # pages, Streamlit 1.67's persist_state="session" hands the new page its own default
    # in the first run and fixes the widget only afterwards. If this test fails,
    # Streamlit carries the value in time and the pickers could rely on it.
    widget = ('import streamlit as st\n'
              'value = st.radio("Source", ["photo", "shape"], index={index}, key="source", '
              'persist_state="session")\n'
              'st.write(f"ran with {{value}}")\n')
    (tmp_path / "pages").mkdir()
    (tmp_path / "home.py").write_text('import streamlit as st\nst.write("home")\n')
    (tmp_path / "pages" / "a.py").write_text(widget.format(index=0))
    (tmp_path / "pages" / "b.py").write_text(widget.format(index=0))
    at = AppTest.from_file(str(tmp_path / "home.py"), default_timeout=30).run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/a.py").run()
    at.radio(key="source").set_value("shape").run()
    assert at.markdown[-1].value == "ran with shape"
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/b.py").run()
    assert at.markdown[-1].value == "ran with photo"  # the script saw b's default...
    assert at.radio(key="source").value == "shape"  # ...the widget was set after it ran


def test_the_network_builder_survives_a_visit_to_another_page():
    at = AppTest.from_file("../streamlit_app.py", default_timeout=120).run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/3_Architecture.py").run()
    at.selectbox(key="arch_preset").set_value("LeNet-5")
    at.button(key="arch_load").click().run()
    at.number_input(key="arch_h").set_value(48).run()
    layers = len(at.data_editor[0].value)
    parameters = at.metric[0].value
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("streamlit_app.py").run()
    at.query_params = {}  # the sidebar's links carry no query string
    at.switch_page("pages/3_Architecture.py").run()
    assert not at.exception
    assert at.selectbox(key="arch_preset").value == "LeNet-5"
    assert at.number_input(key="arch_h").value == 48
    assert len(at.data_editor[0].value) == layers
    assert at.metric[0].value == parameters  # computed with the kept shape in the first run


def test_an_upload_is_decoded_once_per_session(monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    import cnnviz.images

    decoded = []
    real_load_image = cnnviz.images.load_image
    monkeypatch.setattr(cnnviz.images, "load_image",
                        lambda data: decoded.append(len(data)) or real_load_image(data))
    buffer = io.BytesIO()
    Image.fromarray(np.full((90, 120, 3), 200, np.uint8)).save(buffer, "PNG")
    at = AppTest.from_function(_picker_page, default_timeout=60).run()
    at.sidebar.radio(key="image_source").set_value("Upload").run()
    at.sidebar.file_uploader(key="image_upload_widget").set_value(
        ("grey.png", buffer.getvalue(), "image/png")).run()
    at.sidebar.radio(key="image_source").set_value("Synthetic shape").run()
    at.sidebar.radio(key="image_source").set_value("Upload").run()
    at.run()
    assert not at.exception
    name, shape, *_ = _result(at)
    assert (name, shape) == ("grey.png", "(90, 120, 3)")
    assert len(decoded) == 1


def _live_training_page():
    import dataclasses

    from cnnviz.jobs.interface import JobStatus, State
    from cnnviz.ui import jobs as ui_jobs

    history = {"accuracy": [0.4, 0.6], "val_accuracy": [0.3, 0.9],
               "loss": [1.2, 0.8], "val_loss": [1.3, 0.5]}
    status = JobStatus(id="live", kind="transfer", state=State.RUNNING, progress={
        "runs": {"transfer": {"history": history, "phases": [(0, 1)], "epochs": 4}}})
    ui_jobs.draw_training_curves(status)
    ui_jobs.draw_curves(dataclasses.replace(status, id="full"), metrics=("accuracy",))


def test_live_curves_can_hide_what_a_question_asks():
    """While a run trains, the Transfer page draws training-set curves only: the
    validation accuracy would answer its gain question before the student predicts."""
    import json

    at = AppTest.from_function(_live_training_page, default_timeout=30).run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    names = [[trace["name"] for trace in chart["data"]] for chart in charts]
    assert names[:2] == [["transfer · train"], ["transfer · train"]]  # accuracy, loss
    assert names[2] == ["transfer · train", "transfer · val"]  # the full figure
    assert "after your prediction" in at.caption[0].value
