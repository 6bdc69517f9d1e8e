"""Training library: data splits, the augmentation experiment, stopping, result store."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from cnnviz import train
from cnnviz.augment import DEFAULT_SPEC
from cnnviz.errors import DatasetError

TINY = train.AugmentSettings(n_train=3, n_val=4, size=32, epochs=2, batch_size=8)


@pytest.fixture(scope="module")
def split():
    return train.load_split("shapes", n_train=TINY.n_train, n_val=TINY.n_val, size=32)


def test_shapes_split_is_balanced_and_held_out(split):
    assert split.x_train.shape == (9, 32, 32, 3) and split.x_val.shape == (12, 32, 32, 3)
    assert np.bincount(split.y_train).tolist() == [3, 3, 3]
    assert split.class_names == ("circle", "square", "triangle")
    # validation images are drawn with another seed: none equals a training image
    flat_train = split.x_train.reshape(len(split.x_train), -1)
    for image in split.x_val.reshape(len(split.x_val), -1):
        assert np.abs(flat_train - image).max(axis=1).min() > 0.1


def test_textures_and_faces_splits():
    textures = train.load_split("textures", n_train=4, n_val=3, size=32, seed=1)
    assert textures.x_train.shape == (12, 32, 32, 3) and len(textures.y_val) == 9
    faces = train.load_split("faces", n_train=5, n_val=5, size=24)
    assert faces.n_classes == 2 and faces.x_val.shape == (10, 24, 24, 3)
    assert 0.0 <= faces.x_train.min() and faces.x_train.max() <= 1.0


def test_split_errors_are_readable():
    with pytest.raises(DatasetError, match="Unknown dataset"):
        train.load_split("imagenet", n_train=1, n_val=1)
    images = np.zeros((5, 8, 8, 3), np.float32)
    with pytest.raises(DatasetError, match="needs at least 4"):
        train.split_per_class(images, np.array([0, 0, 1, 1, 1]), ("a", "b"), n_train=3,
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
        train.load_split("mnist", n_train=2, n_val=2)
    assert time.perf_counter() - start < 15


def test_augmentation_is_identity_inside_the_model_at_inference(split):
    plain = train.small_cnn((32, 32, 3), 3, seed=0)
    augmented = train.small_cnn((32, 32, 3), 3, augmentation_spec=DEFAULT_SPEC, seed=0)
    augmented.set_weights(plain.get_weights())  # augmentation layers have no weights
    x = split.x_val
    np.testing.assert_allclose(np.asarray(augmented(x, training=False)),
                               np.asarray(plain(x, training=False)), atol=1e-6)
    assert not np.allclose(np.asarray(augmented(x, training=True)),
                           np.asarray(plain(x, training=True)), atol=1e-3)


@pytest.mark.slow  # trains twice
def test_tiny_experiment_records_every_epoch(split):
    seen = []
    result = train.augmentation_experiment(
        split, DEFAULT_SPEC, TINY, on_epoch=lambda label, h: seen.append((label, len(h["loss"]))))
    assert result.complete
    assert seen == [("without augmentation", 1), ("without augmentation", 2),
                    ("with augmentation", 1), ("with augmentation", 2)]
    run = result.runs["with augmentation"]
    assert set(run.history) == set(train.METRICS) and run.epochs == 2
    assert run.gap == pytest.approx(run.history["accuracy"][-1] - run.history["val_accuracy"][-1])
    assert "RandomFlip" in result.description and result.seconds > 0


def test_stop_ends_the_experiment_after_the_current_epoch(split):
    seen = []
    result = train.augmentation_experiment(
        split, DEFAULT_SPEC, dataclasses.replace(TINY, epochs=5),
        on_epoch=lambda label, h: seen.append(label), should_stop=lambda: bool(seen))
    assert list(result.runs) == ["without augmentation"]
    assert result.runs["without augmentation"].epochs == 1
    assert result.runs["without augmentation"].stopped and not result.complete


def test_settings_key_tracks_spec_and_settings():
    a = train.AugmentSettings().key(DEFAULT_SPEC)
    assert a == train.AugmentSettings().key([list(item) for item in DEFAULT_SPEC])
    assert a != train.AugmentSettings(seed=1).key(DEFAULT_SPEC)
    assert a != train.AugmentSettings().key(DEFAULT_SPEC[:1])


def test_result_store_is_a_bounded_lru():
    store = train.ResultStore(max_entries=2)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # "a" is now the most recent
    store.put("c", 3)
    assert store.get("b") is None and store.get("a") == 1 and store.get("c") == 3


@pytest.mark.slow
def test_default_augmentation_shrinks_the_gap():
    settings = train.AugmentSettings()
    data = train.load_split(settings.dataset, n_train=settings.n_train, n_val=settings.n_val,
                            size=settings.size, seed=settings.seed)
    result = train.augmentation_experiment(data, DEFAULT_SPEC, settings)
    without, with_aug = result.runs["without augmentation"], result.runs["with augmentation"]
    assert without.gap > 0.4  # the plain network memorises
    assert with_aug.gap < without.gap - 0.2
    assert with_aug.last("val_loss") < without.last("val_loss")
    assert with_aug.last("val_accuracy") >= without.last("val_accuracy")
