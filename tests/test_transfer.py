"""Transfer learning: freezing, BatchNorm in inference mode, the shared base untouched,
and transfer beating training from scratch on a similar target."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from cnnviz import models
from cnnviz.figures import training as training_figures
from cnnviz.training import loop
from cnnviz.training import transfer as train

TINY = train.TransferSettings(n_train=3, n_val=4, head_epochs=1, fine_tune_epochs=1,
                              batch_size=8, scratch=False)


@pytest.fixture(scope="module")
def base():
    return train.load_base("shapes_cnn")


@pytest.fixture(scope="module")
def pristine(base):
    """The shared base's weights and trainable flags before any run touched anything."""
    return ([np.array(w) for w in base.get_weights()],
            [layer.trainable for layer in base.layers])


@pytest.fixture(scope="module")
def split():
    return train.transfer_split(TINY)


@pytest.fixture(scope="module")
def reported() -> list[dict]:
    """What the run below reported while it trained."""
    return []


@pytest.fixture(scope="module")
def run(base, pristine, split, reported):
    """One tiny standard run that unfreezes deep enough to have BN between trained convs,
    at a high rate so that the weights visibly move."""
    settings = dataclasses.replace(TINY, unfreeze=6, fine_tune_lr=1e-2)
    return train.run_transfer(base, split, settings, progress=loop.Progress(reported.append))


def _bn_layers(model):
    import keras

    return [layer for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization)]


def test_builtin_base_has_batchnorm(base):
    assert len(_bn_layers(base)) >= 2  # so the BN tests below test something


def test_phases_freeze_then_unfreeze_top_layers(base):
    model = train.add_head(models.copy_model(base), 3)
    assert [layer.name for layer in model.layers][-2:] == ["head_pool", "head_logits"]
    train.freeze_base(model, unfreeze_top=0)
    counts = {row["block"]: row for row in train.parameter_counts(model)}
    assert counts["head"]["frozen"] == 0 and counts["head"]["trainable"] == 64 * 3 + 3
    assert all(row["trainable"] == 0 for name, row in counts.items() if name != "head")
    train.freeze_base(model, unfreeze_top=2)
    counts = {row["block"]: row for row in train.parameter_counts(model)}
    conv3 = sum(int(np.prod(w.shape)) for n in ("block3_conv1", "block3_conv2")
                for w in model.get_layer(n).weights)
    assert counts["block3"]["trainable"] == conv3
    assert counts["block1"]["trainable"] == counts["block2"]["trainable"] == 0
    assert not any(layer.trainable for layer in _bn_layers(model))
    train.unfreeze_all(model)
    assert not any(layer.trainable for layer in _bn_layers(model))
    assert model.get_layer("block1_conv1").trainable


@pytest.mark.slow  # uses the trained run
def test_batchnorm_statistics_frozen_in_fine_tuning(run):
    assert [p.number for p in run.phases] == [1, 2, 3]
    assert run.phase(1).trainable > run.phase(3).trainable > run.phase(2).trainable
    assert run.batchnorm_change == 0.0
    assert max(run.weight_change.values()) > 0  # the convs did train


@pytest.mark.slow  # trains
def test_batchnorm_would_move_if_left_trainable(base, split):
    """The control: the check above can fail — a trainable BN layer updates its stats."""
    model = train.add_head(models.copy_model(base), split.n_classes)
    train.unfreeze_all(model)
    for layer in _bn_layers(model):
        layer.trainable = True
    loop.compile_model(model, 1e-3)
    before = train.batchnorm_state(model)
    loop.fit(model, split, epochs=1, batch_size=8, label="bn", history={})
    assert train.batchnorm_change(before, train.batchnorm_state(model)) > 1e-4


@pytest.mark.slow  # trains
def test_two_runs_leave_the_shared_base_unchanged(base, pristine, split, run):
    weights, flags = pristine
    assert max(run.weight_change.values()) > 0.01  # the first run changed its copy
    settings = dataclasses.replace(TINY, recipe="no_freeze", head_epochs=1,
                                   fine_tune_epochs=0)
    second = train.run_transfer(base, split, settings)
    assert max(second.weight_change.values()) > 0.01
    for before, after in zip(weights, base.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert [layer.trainable for layer in base.layers] == flags


@pytest.mark.slow  # trains
def test_progress_and_stop(base, split):
    seen = []
    settings = dataclasses.replace(TINY, head_epochs=3)
    run = train.run_transfer(base, split, settings, progress=loop.Progress(seen.append),
                             should_stop=lambda: any(p["epoch"] for p in seen))
    epochs = [(p["run"], p["phase"][:1], p["epoch"]) for p in seen if p["epoch"]]
    assert run.stopped and epochs == [("transfer", "2", 1)]
    assert [p.number for p in run.phases] == [1, 2]  # phase 3 never started
    assert [name[:1] for _, name in seen[-1]["runs"]["transfer"]["phases"]] == ["1", "2"]


def test_phase_boundaries_are_reported_as_they_happen(run, reported):
    starts = [(p["epoch"], [s for s, _ in p["runs"]["transfer"]["phases"]]) for p in reported]
    # phase 3 starts after the one epoch of phase 2 and is known before its first epoch
    assert starts[-3:] == [(1, [0, 0]), (1, [0, 0, 1]), (2, [0, 0, 1])]


def test_rebuilt_model_has_the_trained_weights(base, split, run):
    from cnnviz.training.transfer import TransferResult

    result = TransferResult(TINY, split.description, split.class_names, {"transfer": run})
    model = train.rebuild_model(result)
    assert model is not base and len(model.get_weights()) == len(run.weights)
    for rebuilt, kept in zip(model.get_weights(), run.weights, strict=True):
        np.testing.assert_array_equal(rebuilt, kept)
    x = split.x_val[:4]
    assert np.asarray(model(x, training=False)).shape == (4, split.n_classes)


def test_mobilenet_style_base_keeps_batchnorm_frozen():
    import keras

    base = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35,
                                          include_top=False)
    model = train.add_head(base, 2)
    train.freeze_base(model, unfreeze_top=5)
    assert not any(layer.trainable for layer in _bn_layers(model))
    counts = train.parameter_counts(model)
    trainable_blocks = [row["block"] for row in counts if row["trainable"]]
    assert trainable_blocks[-1] == "head" and len(trainable_blocks) <= 4
    assert counts[0]["trainable"] == 0


@pytest.mark.slow  # uses the trained run
def test_figures_have_phase_boundaries(run):
    fig = training_figures.history_figure({"transfer": run.history},
                               boundaries={"transfer": [run.phase(3).start_epoch]})
    assert len(fig.data) == 2 and fig.layout.shapes[0].x0 == 1.5
    bars = training_figures.parameter_figure(run.phases)
    assert {trace.name for trace in bars.data} == {"trainable", "frozen"}


@pytest.mark.slow
def test_transfer_beats_scratch_on_similar_target_with_defaults(base):
    settings = train.TransferSettings()
    result = train.run(settings)
    transfer, scratch = result.transfer, result.scratch
    assert transfer.final_val_accuracy > scratch.final_val_accuracy + 0.2
    assert transfer.final_val_accuracy > 0.75
    assert transfer.batchnorm_change == 0.0


@pytest.mark.slow
def test_mobilenet_v2_base_three_phases(fake_imagenet_home):
    """The ImageNet base through the same code path (random weights from the fake cache)."""
    settings = dataclasses.replace(TINY, base="mobilenet_v2", n_train=2, n_val=2, unfreeze=3)
    base = train.load_base("mobilenet_v2")
    before = [np.array(w) for w in base.get_weights()[:4]]
    run = train.run_transfer(base, train.transfer_split(settings), settings)
    assert run.batchnorm_change == 0.0
    assert run.phase(3).trainable > run.phase(2).trainable
    assert run.phase(2).counts[-1]["block"] == "head"
    for a, b in zip(before, base.get_weights()[:4], strict=True):
        np.testing.assert_array_equal(a, b)


def test_scratch_trains_every_layer_batchnorm_included(base):
    model = train.add_head(models.copy_model(base), 3)
    train.train_everything(model)
    assert all(layer.trainable for layer in _bn_layers(model))
    assert all(layer.trainable for layer in model.layers)
    moving = sum(int(np.prod(w.shape)) for layer in _bn_layers(model)
                 for w in (layer.moving_mean, layer.moving_variance))
    # what stays "frozen" is only BatchNorm's moving statistics, which fit updates itself
    assert sum(row["frozen"] for row in train.parameter_counts(model)) == moving


def test_scratch_batchnorm_statistics_keep_up_with_a_short_run(base, split):
    """A run here is 50 to 300 steps: the moving statistics must reach the batches' own
    within a few dozen steps. At Keras' default momentum (0.99) they had covered a quarter
    of the way after 30 steps, and the scratch net predicted one class at inference."""
    model = train.add_head(models.copy_model(base), 3)
    train.train_everything(model)
    first_bn = _bn_layers(model)[0]
    batch = split.x_train[:8]
    feeding = keras.Model(model.inputs[0], first_bn.input)
    target = np.asarray(feeding(batch, training=True)).mean(axis=(0, 1, 2))
    start = np.array(first_bn.moving_mean)
    for _ in range(30):
        model(batch, training=True)
    moved = (np.array(first_bn.moving_mean) - start) / (target - start)
    assert np.all(moved > 0.9), moved.min()


@pytest.mark.slow  # trains twice at tiny settings (~25 CPU s)
def test_the_pages_keras_code_reproduces_the_run():
    """The code shown on the page (plain Keras, nested base) gives the app's numbers, at
    non-default settings (the no_freeze recipe's code is checked as text below)."""
    from cnnviz.notebooks import transfer as code

    settings = dataclasses.replace(TINY, scratch=True, unfreeze=3, fine_tune_lr=1e-3)
    result = train.run(settings)
    scope: dict = {}
    exec(compile(code.code(settings), "<transfer code>", "exec"), scope)
    np.testing.assert_allclose(scope["history"]["loss"], result.transfer.history["loss"],
                               rtol=1e-5)
    np.testing.assert_allclose(scope["scratch_history"]["loss"],
                               result.scratch.history["loss"], rtol=1e-5)
    for name, value in code.numbers(result).items():
        assert scope["numbers"][name] == pytest.approx(value, abs=1e-9)


def test_code_maths_and_notebook_follow_the_view():
    from cnnviz import notebooks, views

    view, notices = views.parse("transfer", "task=textures&n=24&recipe=high_lr&top=3",
                                {"bases": ["shapes_cnn"]})
    assert notices == []
    source = notebooks.code(view)
    assert "target='textures', n_train=24" in source
    assert "layer.trainable = layer in weighted[-3:]" in source
    assert "compile_for(model, 0.01)\nfit(model, split, epochs=10, initial_epoch=15" in source
    maths = notebooks.maths(view, {"transfer_val_accuracy": 0.9, "scratch_val_accuracy": 0.4,
                                   "gain": 0.5})
    assert "0.900 - 0.400 = +0.500" in maths[0] and r"0.01\ \text{(phase 3)}" in maths[1]
    notebook = notebooks.notebook(view)
    assert any("base.trainable = False" in cell.source for cell in notebook.cells)
    no_freeze, _ = views.parse("transfer", "recipe=no_freeze", {"bases": ["shapes_cnn"]})
    assert "base.trainable = False" not in notebooks.code(no_freeze)
