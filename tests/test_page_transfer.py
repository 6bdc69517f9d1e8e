"""The transfer-learning page renders and runs tiny three-phase trainings as jobs in
AppTest; the same settings give the same job and result."""

from __future__ import annotations

from pathlib import Path

import pytest
from apppredict import question_text, skip_questions
from pagejobs import finish_jobs, job_slot
from streamlit.testing.v1 import AppTest

from cnnviz.training import transfer_claims as claims

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/5_Transfer_Learning.py"


@pytest.fixture
def app(job_pool):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _tiny(at):
    at.slider(key="tr_n_train").set_value(3)
    at.slider(key="tr_head_epochs").set_value(1)
    at.slider(key="tr_ft_epochs").set_value(1)
    at.slider(key="tr_n_val").set_value(10)


def _click(at, label):
    next(b for b in at.button if b.label.startswith(label)).click()
    at.run()
    assert not at.exception, at.exception
    done = finish_jobs(at, "transfer")
    skip_questions(at)
    return done


def _history(at) -> list:
    """The complete results of the runs table, oldest first, each job once."""
    return list({s.id: s.result for s in job_slot(at, "transfer")["finished"]
                 if s.result is not None and s.result.complete}.values())


def test_page_renders_with_the_builtin_base(app):
    assert app.title[0].value == "Does a pretrained network learn a new task from a few images?"
    headers = [h.value for h in app.header]
    assert "Does transfer help more when the new task looks like the old one?" in headers
    assert app.selectbox(key="tr_base").value == "shapes_cnn"
    assert app.info  # nothing trained yet: the page says how to start


#: tiny settings, as a link carries them
TINY_LINK = {"n": "3", "ep2": "1", "ep3": "1", "nval": "10"}


@pytest.mark.slow  # trains
def test_a_link_runs_its_tiny_settings_shows_phases_and_is_reused(job_pool):
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    app.query_params = dict(TINY_LINK)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    done = finish_jobs(app, "transfer")  # the link started the run by itself
    # predict, then reveal: the gain question comes before the numbers that answer it
    assert not app.metric and "will transfer beat scratch" in question_text(app)
    skip_questions(app)
    result = done.result
    assert result.complete and list(result.runs) == ["transfer", "from scratch"]
    transfer = result.transfer
    assert [p.epochs for p in transfer.phases] == [0, 1, 1]
    assert transfer.phase(2).trainable < transfer.phase(3).trainable < transfer.phase(1).trainable
    assert transfer.batchnorm_change == 0.0
    assert [m.label for m in app.metric] == ["Transfer", "Scratch", "Gain", "Phase-3 drop"]
    gain = transfer.final_val_accuracy - result.scratch.final_val_accuracy
    assert app.metric[2].value == f"{100 * gain:+.0f} pts"
    text = " ".join(m.value for m in app.markdown)
    assert claims.gain_sentence([gain]) in text
    assert claims.batchnorm_sentence(0.0) in text
    assert claims.drop_sentence(transfer.phase_drop(), result.settings.fine_tune_lr) in text
    # accuracy, parameters, weight change, and the new model's probabilities
    assert len(app.get("plotly_chart")) == 4
    # the Keras code of this run, with its settings
    assert any("base.trainable = False" in c.value and "n_train=3" in c.value
               for c in app.code)
    # the new model is tried on an image of its new task, not on the sidebar's cat
    assert any(app.radio(key="tr_try").options[0].endswith(c) for c in result.class_names)
    assert len(app.dataframe) == 1
    assert result.class_names == ("ring", "hexagon", "crescent")
    assert result.settings.n_train == 3 and transfer.weights is not None
    assert any(h.value == "Try your new model" for h in app.header)
    assert app.slider(key="tr_n_train").value == 3  # the form shows the link's settings
    # "Link to this view" carries the same settings
    assert any("Transfer_Learning?" in c.value and "n=3" in c.value and "ep2=1" in c.value
               for c in app.code)
    again = _click(app, "Run")  # same settings: the stored result, no retraining
    assert again.id == done.id and again.result is result
    assert len(_history(app)) == 1


@pytest.mark.slow  # trains
def test_compare_similar_and_dissimilar(app):
    _tiny(app)
    _click(app, "Run")  # commits the tiny settings of the form
    _click(app, "Train similar")
    history = _history(app)
    # the first run (seed 0 on new shapes) is reused; three more jobs
    assert sorted((r.settings.target, r.settings.seed) for r in history) == [
        ("new_shapes", 0), ("new_shapes", 1), ("textures", 0), ("textures", 1)]
    assert all(r.scratch is not None for r in history)
    assert app.dataframe[0].value.shape[0] == 4
    gains = {t: [r.transfer.final_val_accuracy - r.scratch.final_val_accuracy
                 for r in history if r.settings.target == t] for t in ("new_shapes", "textures")}
    scratch = [r.scratch.final_val_accuracy for r in history if r.settings.target == "textures"]
    sentence = claims.similarity_sentence(gains["new_shapes"], gains["textures"], scratch)
    assert sentence in " ".join(m.value for m in app.markdown)


def test_zip_without_upload_is_a_polite_error(app):
    app.selectbox(key="tr_target").set_value("zip")
    _click(app, "Run")
    assert any("zip" in e.value for e in app.error)


@pytest.mark.slow  # trains
def test_camera_photos_as_the_new_task(app):
    import numpy as np

    rng = np.random.default_rng(0)
    red = np.zeros((80, 80, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((80, 80, 3), np.uint8)
    blue[..., 2] = 200
    app.session_state["tr_photos"] = {
        "red": [np.clip(red + rng.integers(0, 40, red.shape), 0, 255).astype(np.uint8)
                for _ in range(5)],
        "blue": [np.clip(blue + rng.integers(0, 40, blue.shape), 0, 255).astype(np.uint8)
                 for _ in range(5)]}
    _tiny(app)
    app.selectbox(key="tr_target").set_value("camera")
    result = _click(app, "Run").result
    assert result.complete and result.class_names == ("red", "blue")
    assert result.description == "your images"


def test_camera_task_without_photos_is_a_polite_error(app):
    app.selectbox(key="tr_target").set_value("camera")
    _click(app, "Run")
    assert any("two classes" in e.value for e in app.error)
