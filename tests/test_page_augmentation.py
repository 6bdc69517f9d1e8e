"""The augmentation page renders, previews, checks each layer at inference, and runs a
(tiny) experiment as a job in AppTest: live curves while it trains, the result with its
computed verdict, the same result for the same settings."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from apppredict import SKIP, skip_questions
from pagejobs import chart_specs, finish_jobs, job_slot
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/4_Augmentation.py"


@pytest.fixture
def app(job_pool):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.query_params = {}
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [s.value for s in at.success]
                    + [w.value for w in at.warning] + [i.value for i in at.info])


def _finished_result(at, runs: dict, **settings):
    """A made-up finished experiment, put where the page reads its result."""
    from cnnviz.jobs import JobStatus, State
    from cnnviz.training import augmentation

    result = augmentation.AugmentResult(augmentation.AugmentSettings(**settings), "made up",
                                        runs, n_val_images=150)
    status = JobStatus(id="made-up", kind="augmentation", state=State.DONE, result=result)
    job_slot(at, "augmentation")["finished"].append(status)
    return result


def _submit(at):
    next(b for b in at.button if b.label == "Train both").click()
    at.run()


def test_page_renders_pipeline_preview_and_identity(app):
    from cnnviz import augment

    assert app.title[0].value == "Does augmentation help a small network generalise?"
    assert app.multiselect(key="aug_layers").value == [k for k, _ in augment.DEFAULT_SPEC]
    assert "identity at inference" not in _texts(app)  # asked before it is shown
    skip_questions(app)
    table = app.table[0].value
    assert list(table["identity at inference"]) == ["yes"] * len(augment.DEFAULT_SPEC)
    assert "hands the image back unchanged" in _texts(app)
    assert "keras.layers.RandomRotation(" in app.code[0].value
    assert app.info  # no result yet: the page says how to start


def test_the_shown_code_runs_and_crop_is_two_layers(app):
    import numpy as np

    app.multiselect(key="aug_layers").set_value(["crop", "flip"])
    app.run()
    skip_questions(app)
    code = app.code[0].value
    assert "keras.layers.RandomCrop(" in code and "keras.layers.Resizing(" in code
    from cnnviz.training.augmentation import AugmentSettings

    side = AugmentSettings().size  # the code is written for the experiment's images
    images = np.random.default_rng(0).random((2, side, side, 3)).astype("float32")
    namespace = {"images": images}
    exec(code, namespace)  # noqa: S102 - the code a student copies
    assert np.asarray(namespace["train_batch"]).shape == images.shape
    assert list(app.table[0].value.index) == ["RandomCrop", "Resizing", "RandomFlip"]


def test_a_link_to_photos_warns_about_the_flips_and_turns_that_change_them(app):
    assert not any("upright photo" in w.value for w in app.warning)  # shapes turn freely
    app.query_params = {"ds": "faces"}
    app.switch_page(PAGE).run()
    assert app.selectbox(key="aug_dataset").value == "faces"
    risks = [w.value for w in app.warning if "upright photo" in w.value]
    assert len(risks) == 2 and "Flip (horizontal_and_vertical)" in risks[0]


def test_new_draw_and_empty_pipeline(app):
    app.number_input(key="aug_draw").set_value(1)
    app.run()
    assert not app.exception
    app.multiselect(key="aug_layers").set_value([])
    app.run()
    assert not app.exception
    assert not any(b.label == SKIP for b in app.button)  # nothing to ask about


@pytest.mark.slow  # trains
def test_tiny_experiment_shows_both_runs_and_is_reused(app, job_pool):
    app.selectbox(key="aug_seeds").set_value(1)  # one seed per arm: the smallest run
    app.slider(key="aug_n_train").set_value(5)
    app.slider(key="aug_epochs").set_value(5)
    _submit(app)
    assert not app.exception, app.exception
    done = finish_jobs(app, "augmentation")
    result = done.result
    assert result.complete and list(result.runs) == ["without augmentation",
                                                     "with augmentation"]
    assert all(run.epochs == 5 for run in result.runs.values())
    assert result.settings.n_train == 5 and result.settings.seed == 0
    skip_questions(app)
    assert "gap" in _texts(app) and "noise threshold" in _texts(app)
    assert len(app.get("plotly_chart")) == 2
    # the form shows the settings that made the result on display
    assert app.slider(key="aug_n_train").value == 5 and app.number_input(key="aug_seed").value == 0
    # the same settings again: the stored result comes back, nothing is retrained
    _submit(app)
    again = job_slot(app, "augmentation")["finished"][-1]
    assert again.id == done.id and again.result is result
    assert not job_slot(app, "augmentation")["pending"]


def test_curves_are_drawn_while_the_run_trains(app, monkeypatch):
    """A job that has done 2 of its 5 epochs: the page draws those 2 epochs on a 5-epoch
    axis, with a Stop button; once the job ends the page shows the full result."""
    from cnnviz.training import augmentation
    from cnnviz.training.loop import Progress, Run

    release = threading.Event()
    history = {"loss": [1.1, 0.9], "accuracy": [0.4, 0.6], "val_loss": [1.2, 1.0],
               "val_accuracy": [0.3, 0.5]}

    def two_epochs_then_wait(settings, report, should_stop):
        progress = Progress(report)
        for label in augmentation.LABELS:
            progress.plan(label, settings.epochs)
        progress.phase(augmentation.LABELS[0], "training", 0)
        progress.epoch(augmentation.LABELS[0], history)
        release.wait(60)
        runs = {label: Run(label, dict(history)) for label in augmentation.LABELS}
        return augmentation.AugmentResult(settings, "made up", runs)

    monkeypatch.setattr(augmentation, "run", two_epochs_then_wait)
    app.slider(key="aug_epochs").set_value(5)
    _submit(app)
    try:
        for _ in range(100):  # until the job has reported its two epochs
            app.run()
            specs = chart_specs(app)
            if specs:
                break
            threading.Event().wait(0.1)
        accuracy = specs[0]
        assert len(accuracy["data"][0]["x"]) == 2  # 2 epochs drawn…
        assert accuracy["layout"]["xaxis"]["range"] == [0.5, 5.5]  # …of the 5 planned
        assert accuracy["layout"]["xaxis"]["dtick"] == 1  # whole epochs on the axis
        assert any("epoch 2/5" in bar.proto.text for bar in app.get("progress"))
        assert any(b.label == "Stop training" for b in app.button)
        assert job_slot(app, "augmentation")["pending"]
    finally:
        release.set()
    done = finish_jobs(app, "augmentation")
    assert done.result.description == "made up" and not any(
        b.label == "Stop training" for b in app.button)
    skip_questions(app)
    assert "gap" in _texts(app)


def test_stop_ends_the_run_and_keeps_the_epochs_done(app, monkeypatch):
    from cnnviz.training import augmentation
    from cnnviz.training.loop import Progress, Run

    def until_stopped(settings, report, should_stop):
        Progress(report).plan(augmentation.LABELS[0], settings.epochs)
        while not should_stop():
            threading.Event().wait(0.02)
        run = Run(augmentation.LABELS[0], {"loss": [1.0], "accuracy": [0.5],
                                           "val_loss": [1.1], "val_accuracy": [0.4]},
                  stopped=True)
        return augmentation.AugmentResult(settings, "stopped", {run.label: run})

    monkeypatch.setattr(augmentation, "run", until_stopped)
    _submit(app)
    for _ in range(100):  # until the run has started (a queued run shows "Cancel")
        if any(b.label == "Stop training" for b in app.button):
            break
        threading.Event().wait(0.1)
        app.run()
    next(b for b in app.button if b.label == "Stop training").click()
    app.run()
    done = finish_jobs(app, "augmentation")
    assert done.state == "cancelled" and not done.result.complete
    assert any("stopped" in w.value for w in app.warning)


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
    result = finish_jobs(app, "augmentation").result
    assert result.complete and "your images" in result.description


def test_a_failed_run_reads_as_a_sentence(app, monkeypatch):
    from cnnviz.errors import DatasetError
    from cnnviz.training import augmentation

    def refuses(settings, report, should_stop):
        raise DatasetError("Class 'circle' has 2 images; this experiment needs at least 6.")

    monkeypatch.setattr(augmentation, "run", refuses)
    _submit(app)
    assert finish_jobs(app, "augmentation").state == "failed"
    assert any("needs at least 6" in e.value for e in app.error)
    assert not app.exception


def test_run_pressed_again_queues_the_new_settings_behind(app, monkeypatch):
    """A second click with other settings does not discard the run in flight: it waits
    behind it, shown with its place; the same settings again are not queued twice."""
    from cnnviz.training import augmentation
    from cnnviz.training.loop import Progress, Run

    release = threading.Event()

    def waits(settings, report, should_stop):
        Progress(report).plan(augmentation.LABELS[0], settings.epochs)
        release.wait(60)
        run = Run(augmentation.LABELS[0], {"loss": [1.0], "accuracy": [0.5]})
        return augmentation.AugmentResult(settings, f"seed {settings.seed}", {run.label: run})

    monkeypatch.setattr(augmentation, "run", waits)
    try:
        _submit(app)
        _submit(app)  # the same settings: still one run
        assert len(job_slot(app, "augmentation")["pending"]) == 1
        app.number_input(key="aug_seed").set_value(1)
        _submit(app)
        pending = job_slot(app, "augmentation")["pending"]
        assert len(pending) == 2 and pending[0]["id"] != pending[1]["id"]
        assert any("1 run ahead of yours" in i.value for i in app.info)
    finally:
        release.set()
    finish_jobs(app, "augmentation")
    finished = job_slot(app, "augmentation")["finished"]
    assert [s.result.description for s in finished] == ["seed 0", "seed 1"]


def test_the_verdict_follows_the_numbers(app):
    """A result where augmentation helps reads "helped"; one where it hurts reads "hurt",
    with the textbook's disagreement and its causes; both behind the question."""
    from cnnviz.training import augmentation
    from cnnviz.training.loop import Run

    def runs(without, with_aug):
        out = {}
        for seed, (o, w) in enumerate(zip(without, with_aug)):
            for arm, val in zip(augmentation.LABELS, (o, w)):
                label = augmentation.run_label(arm, seed, 2)
                out[label] = Run(label, {"loss": [0.1], "accuracy": [1.0],
                                         "val_loss": [1.0], "val_accuracy": [val]})
        return out

    _finished_result(app, runs((0.4, 0.42), (0.62, 0.6)), seeds=2)
    app.button(key="q_aug_inference_0_skip").click()
    app.run()
    assert "**helped**" not in _texts(app)  # the question comes first
    app.radio(key="q_aug_gain_0").set_value("raise it")
    next(b for b in app.button if b.label == "Check my answer").click()  # the only one left
    app.run()
    assert "**helped**" in _texts(app) and "textbook" not in _texts(app)
    # a choice's verdict shows both options in full (a metric would cut a phrase short)
    assert any(m.value == "Your answer  \n**raise it**" for m in app.markdown)
    assert not [m for m in app.metric if m.label in ("Your answer", "Measured")]
    _finished_result(app, runs((0.6, 0.62), (0.4, 0.42)), seeds=2, epochs=10)
    app.run()
    skip_questions(app)
    assert "**hurt**" in _texts(app) and "textbook" in _texts(app)
