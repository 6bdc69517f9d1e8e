"""Augmentation pipelines: measured per layer at inference, random in training, specs
checked, and the Keras code the page shows runs and gives the same images."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import augment
from cnnviz.errors import CnnvizError


@pytest.fixture(scope="module")
def images():
    from cnnviz.data import make_shapes

    return make_shapes(4, size=32, seed=3).images


def _strong(key):
    """Every layer with parameters that make it act on every image."""
    aug = augment.AUGMENTATIONS[key]
    params = {p.name: (p.options[-1] if p.options else p.high) for p in aug.params}
    if key == "crop":
        params["fraction"] = 0.6
    return [[key, params]]


@pytest.mark.parametrize("key", list(augment.AUGMENTATIONS))
def test_every_layer_is_identity_at_inference_and_random_in_training(key, images):
    """Measured in Keras 3.15, RandomCrop included: with training=False it returns its
    input whole (transform_images does nothing then), and Resizing to the same size too."""
    at_inference, in_training = augment.inference_difference(_strong(key), images, seed=1)
    assert at_inference == 0.0
    assert in_training > 1e-3  # the layer really does something while training
    effects = augment.inference_effects(_strong(key), images, seed=1)
    assert all(e.identity_at_inference for e in effects)
    assert len(effects) == (2 if key == "crop" else 1)


def test_crop_is_two_keras_layers_that_change_the_size_while_training(images):
    effects = augment.inference_effects(_strong("crop"), images, seed=0)
    assert [e.name for e in effects] == ["RandomCrop", "Resizing"]
    assert effects[0].in_training == float("inf")  # 32 -> 19 pixels while training
    assert effects[0].shape_at_inference == images.shape


def test_inference_sentence_names_the_layers_that_are_not_the_identity(images):
    import keras

    same = augment.inference_sentence(augment.inference_effects(_strong("crop"), images))
    assert "unchanged" in same and "not" not in same
    changing = augment.layer_effects([keras.layers.RandomFlip("horizontal", seed=0),
                                      keras.layers.Rescaling(0.5),
                                      keras.layers.Resizing(16, 16)], images)
    sentence = augment.inference_sentence(changing)
    assert "2 of 3 layers are **not** the identity" in sentence
    assert "Rescaling (pixels change" in sentence and "Resizing (changes the size)" in sentence
    assert "RandomFlip" not in sentence
    assert "No augmentation" in augment.inference_sentence([])


@pytest.mark.parametrize("spec", [augment.DEFAULT_SPEC,
                                  [["crop", {"fraction": 0.6}], ["erasing", {}], ["noise", {}]],
                                  [["shear", {}], ["hue", {}], ["contrast", {}]], []])
def test_the_code_shown_runs_and_gives_the_pipelines_images(spec, images):
    namespace = {"images": images}
    exec(augment.keras_code(spec, images.shape[1:3], seed=4), namespace)  # noqa: S102
    pipeline = augment.build_pipeline(spec, images.shape[1:3], seed=4)
    np.testing.assert_allclose(namespace["train_batch"], pipeline(images, training=True),
                               atol=1e-5)
    np.testing.assert_allclose(namespace["val_batch"], images, atol=1e-6)


def test_whole_default_pipeline_identity_at_inference_keeps_shape(images):
    pipeline = augment.build_pipeline(augment.DEFAULT_SPEC + _strong("crop"),
                                      images.shape[1:3], seed=0)
    out_train = np.asarray(pipeline(images, training=True))
    out_test = np.asarray(pipeline(images, training=False))
    assert out_train.shape == images.shape == out_test.shape
    np.testing.assert_array_equal(out_test, images)


def test_same_seed_same_draw_new_seed_new_draw(images):
    a = augment.augment(augment.DEFAULT_SPEC, images, seed=5)
    b = augment.augment(augment.DEFAULT_SPEC, images, seed=5)
    c = augment.augment(augment.DEFAULT_SPEC, images, seed=6)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 1
    assert a.dtype == np.uint8


def test_grid_starts_with_original_and_versions_differ():
    image = (np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)
    grid = augment.augment_grid([["rotation", {"factor": 0.5}]], image, 6, seed=0)
    assert grid.shape == (6, 40, 40, 3)
    np.testing.assert_array_equal(grid[0], image)
    assert len({g.tobytes() for g in grid[1:]}) == 5


def test_spec_errors_are_readable():
    with pytest.raises(CnnvizError, match="Unknown augmentation"):
        augment.normalize_spec([["warp", {}]])
    with pytest.raises(CnnvizError, match="must be in"):
        augment.normalize_spec([["rotation", {"factor": 3}]])
    with pytest.raises(CnnvizError, match="one of"):
        augment.normalize_spec([["flip", {"mode": "diagonal"}]])
    assert augment.normalize_spec([["zoom", {}]]) == [["zoom", {"factor": 0.2}]]


def test_describe_and_code_name_the_keras_layers():
    assert augment.describe([]) == "no augmentation"
    text = augment.describe(augment.DEFAULT_SPEC)
    assert "RandomFlip(mode=horizontal_and_vertical)" in text and "RandomRotation" in text
    code = augment.keras_code([["translation", {"factor": 0.1}], ["erasing", {}]])
    assert 'keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=0)' in code
    assert "RandomErasing(0.5, scale=(0.02, 0.2), value_range=(0, 1), seed=1)" in code
    crop = augment.keras_code([["crop", {"fraction": 0.8}]], (64, 64)).splitlines()
    assert any(line.strip().startswith("keras.layers.RandomCrop(51, 51, seed=0),")
               for line in crop)
    assert any(line.strip().startswith("keras.layers.Resizing(64, 64),") for line in crop)


def test_thumbnail_square_uint8():
    thumb = augment.thumbnail(np.zeros((30, 50, 3), np.uint8), 16)
    assert thumb.shape == (16, 16, 3) and thumb.dtype == np.uint8
