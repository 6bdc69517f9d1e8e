"""Augmentation pipelines: identity at inference, random in training, specs checked."""

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
    at_inference, in_training = augment.inference_difference(_strong(key), images, seed=1)
    assert at_inference == 0.0
    assert in_training > 1e-3  # the layer really does something while training


def test_whole_default_pipeline_identity_at_inference_keeps_shape(images):
    pipeline = augment.build_pipeline(augment.DEFAULT_SPEC + _strong("crop"), seed=0)
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
    code = augment.keras_code(augment.DEFAULT_SPEC + [["erasing", {}]])
    assert "keras.layers.RandomTranslation(0.1, 0.1)" in code
    assert "RandomErasing(0.5, scale=(0.02, 0.2), value_range=(0, 1))" in code


def test_thumbnail_square_uint8():
    thumb = augment.thumbnail(np.zeros((30, 50, 3), np.uint8), 16)
    assert thumb.shape == (16, 16, 3) and thumb.dtype == np.uint8
