"""Training library: data splits, the shared loop (progress, stop, seeded batches), the
augmentation experiment."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from cnnviz.augment import DEFAULT_SPEC
from cnnviz.errors import DatasetError
from cnnviz.training import augmentation, loop
from cnnviz.training import data as training_data

TINY = augmentation.AugmentSettings(n_train=3, n_val=4, size=32, epochs=2, batch_size=8,
                                    seeds=1)


@pytest.fixture(scope="module")
def split():
    return training_data.load_split("shapes", n_train=TINY.n_train, n_val=TINY.n_val, size=32)


def test_shapes_split_is_balanced_and_held_out(split):
    assert split.x_train.shape == (9, 32, 32, 3) and split.x_val.shape == (12, 32, 32, 3)
    assert np.bincount(split.y_train).tolist() == [3, 3, 3]
    assert split.class_names == ("circle", "square", "triangle")
    # validation images are drawn with another seed: none equals a training image
    flat_train = split.x_train.reshape(len(split.x_train), -1)
    for image in split.x_val.reshape(len(split.x_val), -1):
        assert np.abs(flat_train - image).max(axis=1).min() > 0.1


def test_textures_and_faces_splits():
    textures = training_data.load_split("textures", n_train=4, n_val=3, size=32, seed=1)
    assert textures.x_train.shape == (12, 32, 32, 3) and len(textures.y_val) == 9
    faces = training_data.load_split("faces", n_train=5, n_val=5, size=24)
    assert faces.n_classes == 2 and faces.x_val.shape == (10, 24, 24, 3)
    assert 0.0 <= faces.x_train.min() and faces.x_train.max() <= 1.0


def test_split_errors_are_readable():
    with pytest.raises(DatasetError, match="Unknown dataset"):
        training_data.load_split("imagenet", n_train=1, n_val=1)
    images = np.zeros((5, 8, 8, 3), np.float32)
    with pytest.raises(DatasetError, match="needs at least 4"):
        training_data.split_per_class(images, np.array([0, 0, 1, 1, 1]), ("a", "b"), n_train=3,
                              n_val=1, size=8)


def test_download_dataset_fails_fast_offline(monkeypatch, tmp_path):
    from cnnviz import online

    def refused(host, port, timeout):
        raise ConnectionRefusedError("offline in tests")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(online, "_cache", {})
    monkeypatch.setattr(online, "_connect", refused)
    start = time.perf_counter()
    with pytest.raises(DatasetError):
        training_data.load_split("mnist", n_train=2, n_val=2)
    assert time.perf_counter() - start < 15


def test_augmentation_is_identity_inside_the_model_at_inference(split):
    plain = augmentation.small_cnn((32, 32, 3), 3, seed=0)
    augmented = augmentation.small_cnn((32, 32, 3), 3, augmentation_spec=DEFAULT_SPEC, seed=0)
    augmented.set_weights(plain.get_weights())  # augmentation layers have no weights
    x = split.x_val
    np.testing.assert_allclose(np.asarray(augmented(x, training=False)),
                               np.asarray(plain(x, training=False)), atol=1e-6)
    assert not np.allclose(np.asarray(augmented(x, training=True)),
                           np.asarray(plain(x, training=True)), atol=1e-3)


@pytest.mark.slow  # trains twice
def test_tiny_experiment_records_every_epoch(split):
    seen = []
    result = augmentation.augmentation_experiment(split, TINY, progress=loop.Progress(
        seen.append))
    assert result.complete
    epochs = [(p["run"], p["epoch"]) for p in seen if p["message"].startswith(p["run"] + ": ep")]
    assert epochs == [("without augmentation", 1), ("without augmentation", 2),
                      ("with augmentation", 1), ("with augmentation", 2)]
    assert seen[-1]["fraction"] == 1.0
    assert seen[-1]["runs"]["with augmentation"]["history"]["loss"] == \
        result.runs["with augmentation"].history["loss"]
    run = result.runs["with augmentation"]
    assert set(run.history) == set(loop.METRICS) and run.epochs == 2
    assert run.gap == pytest.approx(run.history["accuracy"][-1] - run.history["val_accuracy"][-1])
    assert "RandomFlip" in result.description and result.seconds > 0


def test_stop_ends_the_experiment_after_the_current_epoch(split):
    seen = []
    result = augmentation.augmentation_experiment(
        split, dataclasses.replace(TINY, epochs=5), progress=loop.Progress(seen.append),
        should_stop=lambda: any(p["epoch"] for p in seen))
    assert list(result.runs) == ["without augmentation"]
    assert result.runs["without augmentation"].epochs == 1
    assert result.runs["without augmentation"].stopped and not result.complete


def test_settings_name_one_pipeline_however_it_is_spelled():
    from cnnviz.jobs import settings_key

    a = augmentation.AugmentSettings(spec=DEFAULT_SPEC)
    assert a == augmentation.AugmentSettings(spec=[list(item) for item in DEFAULT_SPEC])
    assert a == augmentation.AugmentSettings()  # the default pipeline
    assert settings_key("augmentation", a) != settings_key(
        "augmentation", augmentation.AugmentSettings(seed=1))
    assert a != augmentation.AugmentSettings(spec=DEFAULT_SPEC[:1])


def test_seeded_batches_depend_on_seed_and_epoch_only():
    recorder, stop, batches_cls = loop._keras_classes()
    x, y = np.arange(10, dtype=np.float32)[:, None], np.arange(10)
    batches = batches_cls(x, y, batch_size=4, epochs=3, first_epoch=0, seed=5)
    assert len(batches) == 9  # 3 batches of 4, 4, 2 per epoch
    epoch = [batches[i][1] for i in range(3)]
    assert sorted(np.concatenate(epoch)) == list(range(10))  # each image once per epoch
    assert [len(b) for b in epoch] == [4, 4, 2]
    np.testing.assert_array_equal(batches[4][1], batches[4][1])  # asked twice, same answer
    later = batches_cls(x, y, batch_size=4, epochs=1, first_epoch=1, seed=5)
    np.testing.assert_array_equal(later[0][1], batches[3][1])  # epoch 1 is epoch 1
    assert not np.array_equal(batches[0][1], batches[3][1])  # a new order every epoch


@pytest.mark.slow  # the default experiment at its first seed: ~35 CPU s
def test_default_augmentation_shrinks_the_gap_and_raises_validation_accuracy():
    settings = dataclasses.replace(augmentation.AugmentSettings(), seeds=1)
    result = augmentation.augmentation_experiment(settings.split(), settings)
    (without,), (with_aug,) = result.arm(augmentation.LABELS[0]), result.arm(
        augmentation.LABELS[1])
    assert without.gap > 0.4  # the plain network memorises
    assert with_aug.gap < without.gap - 0.2
    assert with_aug.last("val_loss") < without.last("val_loss")
    assert with_aug.last("val_accuracy") >= without.last("val_accuracy") + 0.1


def _made_up(val_without, val_with, train=(1.0, 0.95), n_val=150):
    """An augmentation result with these last-epoch accuracies, one pair per seed."""
    settings = augmentation.AugmentSettings(seeds=len(val_with))
    runs = {}
    for seed, (o, w) in enumerate(zip(val_without, val_with)):
        for arm, val, acc in zip(augmentation.LABELS, (o, w), train):
            label = augmentation.run_label(arm, seed, settings.seeds)
            runs[label] = loop.Run(label, {"accuracy": [acc], "val_accuracy": [val]})
    return augmentation.AugmentResult(settings, "made up", runs, n_val_images=n_val)


def test_conclusions_follow_the_numbers_and_name_their_threshold():
    helped = augmentation.conclusions(augmentation.compare(_made_up((0.4, 0.42), (0.6, 0.58))))
    assert "**helped**" in helped["verdict"] and "40% → 59%" not in helped["verdict"]
    assert "41% → 59%" in helped["verdict"] and "+20 points, +16 points" in helped["verdict"]
    assert "shrank" in helped["gap"] and "disagrees" not in helped
    assert "8 points" in helped["noise"]  # 1.96·√(0.5/300)
    hurt = augmentation.conclusions(augmentation.compare(_made_up((0.6, 0.6), (0.4, 0.42))))
    assert "**hurt**" in hurt["verdict"] and "textbook" in hurt["disagrees"]
    same = augmentation.conclusions(augmentation.compare(
        _made_up((0.5, 0.5), (0.53, 0.52), train=(0.55, 0.5))))
    assert "**Within noise**" in same["verdict"]
    assert "no change larger" in same["gap"]
    assert "only 50% training accuracy" in same["disagrees"]
    assert "barely overfits" in same["disagrees"]


def test_a_large_spread_over_seeds_makes_a_large_mean_gain_noise():
    c = augmentation.compare(_made_up((0.4, 0.4), (0.75, 0.35)))
    assert c.gain == pytest.approx(0.15) and c.spread == pytest.approx(0.4)
    assert c.threshold == pytest.approx(0.4)
    assert "**Within noise**" in augmentation.conclusions(c)["verdict"]


def test_one_seed_says_it_shows_no_spread():
    c = augmentation.compare(_made_up((0.4,), (0.6,)))
    assert c.seeds == 1 and c.spread == 0
    text = augmentation.conclusions(c)
    assert "one seed" in text["verdict"] and "one seed shows no spread" in text["noise"]
    assert c.threshold == pytest.approx(1.96 * np.sqrt(0.5 / 150))


def test_label_risks_name_the_transformations_that_change_the_class():
    from cnnviz import augment

    assert augment.label_risks(augment.DEFAULT_SPEC, "shapes") == []  # shapes turn freely
    assert augment.label_risks(augment.DEFAULT_SPEC, "textures") == []
    photos = augment.label_risks(augment.DEFAULT_SPEC, "faces")
    assert len(photos) == 2 and "upside-down upright photo" in photos[0]
    assert "±180°" in photos[1]
    safe = [["flip", {"mode": "horizontal"}], ["rotation", {"factor": 0.05}]]
    assert augment.label_risks(safe, "cats_vs_dogs") == []
    digits = augment.label_risks(safe + [["rotation", {"factor": 0.5}]], "mnist")
    assert "flipped 2" in digits[0] and "6 becomes a 9" in digits[1]


@pytest.mark.slow  # four one-epoch runs: ~10 s on a loaded machine
def test_two_seeds_train_both_arms_per_seed_and_compare_them(split):
    settings = dataclasses.replace(TINY, epochs=1, seeds=2, seed=3)
    result = augmentation.augmentation_experiment(split, settings)
    assert list(result.runs) == [f"{arm} · seed {seed}" for seed in (3, 4)
                                 for arm in augmentation.LABELS]
    assert result.complete and result.n_val_images == len(split.y_val)
    comparison = augmentation.compare(result)
    assert comparison.seeds == 2 and comparison.n_val == len(split.y_val)
