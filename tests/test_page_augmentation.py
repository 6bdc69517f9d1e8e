"""The augmentation page renders, previews, and runs a (tiny) experiment in AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/4_Augmentation.py"


@pytest.fixture
def app():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _submit(at):
    next(b for b in at.button if b.label == "Train both").click()
    at.run()


def test_page_renders_pipeline_preview_and_identity(app):
    assert app.title[0].value.endswith("Data augmentation")
    assert app.multiselect(key="aug_layers").value == ["flip", "rotation", "translation"]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Pixel change at inference (largest)"] == "0.000"
    assert float(metrics["Pixel change in training (mean)"]) > 0.01
    assert "RandomRotation(0.1)" in app.code[0].value
    assert app.info  # no result yet: the page says how to start


def test_new_draw_and_empty_pipeline(app):
    next(b for b in app.button if b.label == "New random draw").click()
    app.run()
    assert app.session_state["aug_preview_seed"] == 1
    app.multiselect(key="aug_layers").set_value([])
    app.run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Pixel change in training (mean)"] == "0.000"


@pytest.mark.slow  # trains
def test_tiny_experiment_shows_both_runs_and_is_reused(app):
    app.slider(key="aug_n_train").set_value(5)
    app.slider(key="aug_epochs").set_value(5)
    _submit(app)
    assert not app.exception, app.exception
    result = app.session_state["aug_result"]
    assert result.complete and list(result.runs) == ["without augmentation",
                                                     "with augmentation"]
    assert all(run.epochs == 5 for run in result.runs.values())
    assert result.settings.n_train == 5 and result.settings.seed == 0
    assert any("gap" in s.value for s in app.success)
    assert len(app.get("plotly_chart")) == 2
    # the same settings again: the stored result comes back, nothing is retrained
    _submit(app)
    assert app.session_state["aug_result"] is result


def test_zip_without_upload_is_a_polite_error(app):
    app.selectbox(key="aug_dataset").set_value("zip")
    _submit(app)
    assert not app.exception
    assert any("zip" in e.value for e in app.error)


@pytest.mark.slow  # trains
def test_experiment_on_an_uploaded_zip(app):
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, channel in (("red", 0), ("green", 1)):
            for i in range(8):
                image = rng.integers(0, 60, (24, 24, 3)).astype(np.uint8)
                image[..., channel] = 220
                png = io.BytesIO()
                Image.fromarray(image).save(png, format="PNG")
                archive.writestr(f"{name}/{i}.png", png.getvalue())
    app.selectbox(key="aug_dataset").set_value("zip")
    app.slider(key="aug_n_train").set_value(5)
    app.slider(key="aug_epochs").set_value(5)
    app.get("file_uploader")[0].set_value(("colours.zip", buffer.getvalue(), "application/zip"))
    _submit(app)
    assert not app.exception, app.exception
    result = app.session_state["aug_result"]
    assert result.complete and "your images" in result.description
