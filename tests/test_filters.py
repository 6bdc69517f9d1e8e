"""cnnviz.filters: batched gradient ascent equals one-at-a-time, traced once, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz import filters  # noqa: E402
from cnnviz.errors import ModelError  # noqa: E402


@pytest.fixture(scope="module")
def model():
    from cnnviz.models.builtin import build_shapes_cnn

    return build_shapes_cnn(seed=2)


def test_batched_equals_one_filter_at_a_time_without_regularisers(model):
    chosen = [3, 0, 7, 12]
    batch = filters.visualize_with_history(model, "block2_conv1", chosen, size=64, steps=6,
                                           seed=4)
    for i, f in enumerate(chosen):
        alone = filters.visualize_with_history(model, "block2_conv1", [f], size=64, steps=6,
                                               seed=4)
        np.testing.assert_allclose(batch.params[i], alone.params[0], atol=2e-4)
        np.testing.assert_allclose(batch.history[:, i], alone.history[:, 0], rtol=1e-3,
                                   atol=1e-4)
        assert np.abs(batch.images[i].astype(int) - alone.images[0]).max() <= 2


def test_batched_equals_alone_with_regularisers_too(model):
    regs = filters.with_regularizers(filters.RECOMMENDED)
    batch = filters.visualize(model, "block1_conv2", [1, 5], size=64, steps=5, seed=1, **regs)
    alone = filters.visualize(model, "block1_conv2", [5], size=64, steps=5, seed=1, **regs)
    assert np.abs(batch[1].astype(int) - alone[0]).max() <= 2


def test_traced_once_for_any_filters_batch_size_and_settings(model):
    step = filters.step_function(model, "block2_conv2", 64, 64, False, "none")
    before = step.experimental_get_tracing_count()
    filters.visualize(model, "block2_conv2", [0, 1, 2], size=64, steps=2)
    filters.visualize(model, "block2_conv2", [9, 4], size=64, steps=3, learning_rate=3.0,
                      seed=5, jitter=3, tv=0.1, l2=0.2, blur_every=2, rotate=10.0)
    filters.visualize(model, "block2_conv2", list(range(10, 20)), size=64, steps=2, seed=9)
    assert step.experimental_get_tracing_count() - before <= 1
    assert step.experimental_get_tracing_count() == 1


def test_nested_model_as_last_layer_gives_the_same_images(model):
    """``Sequential([Input, Rescaling, model])`` (an identity Rescaling here, so the
    model sees the same pixels) optimises to the model's own images."""
    wrapped = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Rescaling(1.0), model])
    kwargs = dict(size=64, steps=4, seed=3, **filters.with_regularizers())
    got = filters.visualize_with_history(wrapped, "block2_conv1", [0, 5], **kwargs)
    expected = filters.visualize_with_history(model, "block2_conv1", [0, 5], **kwargs)
    np.testing.assert_allclose(got.params, expected.params, atol=1e-5)
    np.testing.assert_allclose(got.history, expected.history, rtol=1e-5, atol=1e-6)
    assert np.array_equal(got.images, expected.images)


def test_deterministic_per_seed_and_seed_matters(model):
    kwargs = dict(size=64, steps=4, **filters.with_regularizers())
    a = filters.visualize(model, "block3_conv1", [2, 3], seed=7, **kwargs)
    b = filters.visualize(model, "block3_conv1", [2, 3], seed=7, **kwargs)
    c = filters.visualize(model, "block3_conv1", [2, 3], seed=8, **kwargs)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_activation_rises_and_output_contract(model):
    result = filters.visualize_with_history(model, "block3_conv2", [0, 1, 2, 3], size=96,
                                            steps=12, **filters.with_regularizers())
    assert result.images.shape == (4, 96, 96, 3) and result.images.dtype == np.uint8
    assert result.history.shape == (12, 4)
    alive = result.history[0] > 0
    assert alive.any()
    assert np.all(result.history[-1][alive] > result.history[0][alive])
    assert result.images.std() > 5  # a pattern, not a flat grey


def test_fourier_parameterisation_and_continue(model):
    kwargs = dict(size=64, seed=3, fourier=True, jitter=2, scale=0.05, rotate=5.0)
    first = filters.visualize_with_history(model, "block2_conv2", [4, 6], steps=5, **kwargs)
    assert first.params.shape == (2, 3, 64, 33, 2)
    more = filters.visualize_with_history(model, "block2_conv2", [4, 6], steps=5,
                                          start=first, **kwargs)
    once = filters.visualize_with_history(model, "block2_conv2", [4, 6], steps=10, **kwargs)
    assert more.steps_done == 10 and more.history.shape == (10, 2)
    np.testing.assert_allclose(more.params, once.params, atol=1e-4)
    with pytest.raises(ModelError, match="same layer"):
        filters.visualize_with_history(model, "block2_conv2", [4], steps=1, start=first,
                                       **kwargs)


def test_fixed_input_models_are_optimised_at_their_size(model):
    assert filters.optimisation_size(model, 128) == (64, 64)
    result = filters.visualize_with_history(model, "block1_conv1", [0], size=128, steps=1)
    assert result.params.shape == (1, 64, 64, 3) and result.images.shape == (1, 128, 128, 3)


def test_works_on_an_imagenet_architecture_at_a_deep_layer():
    keras.utils.set_random_seed(0)
    net = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3),
                                         include_top=False, alpha=0.35)
    result = filters.visualize_with_history(net, "block_13_expand_relu", [0, 5], steps=3,
                                            preprocess="tf", jitter=2)
    assert result.images.shape == (2, 128, 128, 3)
    assert np.isfinite(result.history).all()


def test_readable_errors(model):
    with pytest.raises(ModelError, match="no filter 16"):
        filters.visualize(model, "block1_conv1", [16], steps=1)
    with pytest.raises(ModelError, match="no layer named"):
        filters.visualize(model, "nope", [0], steps=1)
    with pytest.raises(ModelError, match="does not output feature maps"):
        filters.visualize(model, "logits", [0], steps=1)
    with pytest.raises(ModelError, match="Unknown regulariser"):
        filters.visualize(model, "block1_conv1", [0], steps=1, wobble=3)


def test_first_layer_kernels_and_most_active(model):
    name, kernels = filters.first_layer_kernels(model)
    assert name == "block1_conv1" and kernels.shape == (16, 3, 3, 3)
    w = model.get_layer("block1_conv1").get_weights()[0][..., 0]
    expected = 0.5 + 0.5 * w / np.abs(w).max()
    np.testing.assert_allclose(kernels[0] / 255.0, expected, atol=1 / 255)
    from cnnviz.data import make_shapes

    image = make_shapes(1, seed=0).images
    top = filters.most_active_filters(model, "block2_conv1", image, 5)
    maps = model.get_layer("block2_conv1").output
    sub = keras.Model(model.inputs, maps)
    means = np.asarray(sub(image)).mean(axis=(0, 1, 2))
    assert top == list(np.argsort(-means, kind="stable")[:5])


def test_colour_correlation_is_computed_from_natural_photos():
    from skimage import data

    photos = [data.astronaut()[::2, ::2], data.chelsea()[::2, ::2], data.coffee()[::2, ::2],
              data.rocket()[::2, ::2]]
    got = filters.colour_correlation(photos)
    signs = np.sign(got[0]) * np.sign(filters.COLOUR_CORRELATION[0])
    np.testing.assert_allclose(got * signs, filters.COLOUR_CORRELATION, atol=1e-3)


def test_sub_batches_give_the_same_images_with_one_trace(model, monkeypatch):
    whole = filters.visualize_with_history(model, "block2_pool", list(range(7)), size=64,
                                           steps=4, seed=2)
    step = filters.step_function(model, "block2_pool", 64, 64, False, "none")
    traces = step.experimental_get_tracing_count()
    monkeypatch.setattr(filters, "_PIXELS_PER_BATCH", 3 * 64 * 64)  # chunks of 3, 3, 1
    split = filters.visualize_with_history(model, "block2_pool", list(range(7)), size=64,
                                           steps=4, seed=2)
    np.testing.assert_allclose(split.params, whole.params, atol=2e-4)
    np.testing.assert_allclose(split.history, whole.history, rtol=1e-3, atol=1e-4)
    assert step.experimental_get_tracing_count() == traces == 1


def test_the_ascent_sentences_follow_the_curves():
    steps = np.arange(40, dtype=float)[:, None]
    rising = np.hstack([0.1 + steps, 0.2 + 2 * steps, np.zeros_like(steps)])  # 3rd never fires
    summary = filters.summarise_ascent(rising, [4, 5, 6])
    assert summary.trend == "it rises" and summary.rose == (4, 5) and summary.never_fired == (6,)
    assert summary.still_rising
    text = filters.describe_ascent(summary, 3)
    assert text.startswith("2 of 3 filters responded more and more") and "still rising" in text
    levelled = np.minimum(steps, 10) + 1.0
    summary = filters.summarise_ascent(levelled, [0])
    assert not summary.still_rising and "levelled off" in filters.describe_ascent(summary, 1)
    falling = filters.summarise_ascent(5.0 - 0.1 * steps, [0])
    assert falling.trend == "it falls" and "did not rise" in filters.describe_ascent(falling, 1)
    flat = filters.summarise_ascent(np.full((10, 2), 2.0), [0, 1])
    assert flat.trend == "it stays about the same" and flat.rose == ()
