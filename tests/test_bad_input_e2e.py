"""Bad input through the real UI: every file of the generated corpus is uploaded
where a student would upload it; the page shows a clear message, no traceback,
and keeps working afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from badinput import bad_images, bad_model_files, bad_zips, good_model_file, odd_images
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
IMAGE_PAGE = "pages/1_Convolution.py"  # a light page with the shared image picker

# about 80 uploads, a page rerun each; the quick tier has the same corpus in
# test_images.py, test_data.py and test_models.py
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def upload_page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page(IMAGE_PAGE).run()
    at.sidebar.radio(key="image_source").set_value("Upload").run()
    assert not at.exception
    return at


def _messages(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.parametrize("case", bad_images(), ids=lambda case: case.name)
def test_bad_image_upload_gives_a_message_and_the_page_recovers(upload_page, case):
    at = upload_page
    at.sidebar.file_uploader(key="image_upload_widget").set_value(
        (f"{case.name}.png", case.data, "image/png")).run()
    assert not at.exception
    message = _messages(at)
    assert f"{case.name}.png:" in message
    assert "Traceback" not in message and "Something went wrong" not in message
    # the page still works: a sample photo is used until a good image arrives
    assert at.main.markdown or at.main.plotly_chart


@pytest.mark.parametrize("case", odd_images(), ids=lambda case: case.name)
def test_odd_but_valid_images_are_used(upload_page, case):
    at = upload_page
    at.sidebar.file_uploader(key="image_upload_widget").set_value(
        (f"{case.name}.img", case.data, "application/octet-stream")).run()
    assert not at.exception
    assert f"{case.name}.img:" not in _messages(at)  # accepted, not refused
    assert "Something went wrong" not in _messages(at)


@pytest.fixture(scope="module")
def zip_page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("pages/4_Augmentation.py").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("case", bad_zips(), ids=lambda case: case.name)
def test_bad_zip_upload_gives_a_message_and_trains_nothing(zip_page, case):
    at = zip_page
    at.selectbox(key="aug_dataset").set_value("zip")  # widgets in a form: set, then submit
    zip_uploader = next(u for u in at.main.file_uploader if "zip" in u.label.lower())
    zip_uploader.set_value((f"{case.name}.zip", case.data, "application/zip"))
    next(b for b in at.button if b.label == "Train both").click()
    at.run()
    assert not at.exception
    message = _messages(at)
    assert message and "Something went wrong" not in message and "Traceback" not in message
    assert "Upload a zip" not in message  # the file itself was read and refused
    assert "aug_result" not in at.session_state or at.session_state["aug_result"] is None


@pytest.fixture(scope="module")
def gradcam_page():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page("pages/8_Grad-CAM.py").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("case", bad_model_files(), ids=lambda case: case.name)
def test_bad_model_upload_is_refused_and_the_page_keeps_its_model(gradcam_page, case):
    at = gradcam_page
    at.sidebar.file_uploader(key="model_upload_widget").set_value(
        (f"{case.name}.keras", case.data, "application/octet-stream")).run()
    assert not at.exception
    assert f"{case.name}.keras:" in _messages(at)
    assert at.sidebar.selectbox(key="model").value == "shapes_cnn"
    assert "Something went wrong" not in _messages(at)


def test_an_uploaded_model_drives_the_gradcam_page(gradcam_page):
    at = gradcam_page
    at.sidebar.file_uploader(key="model_upload_widget").set_value(
        ("mine.keras", good_model_file(), "application/octet-stream")).run()
    assert not at.exception
    assert at.sidebar.selectbox(key="model").value.endswith(":mine.keras")
    assert "Something went wrong" not in _messages(at)
