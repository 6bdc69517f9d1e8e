"""cnnviz.cam: each correctness point on models whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import cam
from cnnviz.errors import ModelError
from cnnviz.probe import gradient_probe

keras = pytest.importorskip("keras")

SIZE = 8


def _linear_model(activation=None, *, softmax_layer=False, sequential=False):
    """conv channel 0 = red, channel 1 = green; logit0 = mean(R) - mean(G),
    logit1 = -mean(G): Grad-CAM of class 0 must be ReLU(R - G), of class 1 zero."""
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")
    gap = keras.layers.GlobalAveragePooling2D(name="gap")
    dense = keras.layers.Dense(2, use_bias=False, activation=activation, name="logits")
    stack = [conv, gap, dense] + ([keras.layers.Activation("softmax")] if softmax_layer else [])
    if sequential:
        model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), *stack])
    else:
        x = inputs = keras.Input((SIZE, SIZE, 3))
        for layer in stack:
            x = layer(x)
        model = keras.Model(inputs, x)
    kernel = np.zeros((1, 1, 3, 2), np.float32)
    kernel[0, 0, 0, 0] = 1.0  # channel 0 reads red
    kernel[0, 0, 1, 1] = 1.0  # channel 1 reads green
    conv.set_weights([kernel])
    dense.set_weights([np.array([[1.0, 0.0], [-1.0, -1.0]], np.float32)])
    return model


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return rng.random((4, SIZE, SIZE, 3)).astype(np.float32)


def _expected_class0(images):
    raw = np.maximum(images[..., 0] - images[..., 1], 0)
    return raw / raw.reshape(len(raw), -1).max(axis=1)[:, None, None]


def test_signed_mean_weights_then_relu(images):
    model = _linear_model()
    steps = cam.gradcam_steps(model, images, class_index=0, layer="conv")
    # mean gradient = dense weight / (h*w), signed: red +, green -
    np.testing.assert_allclose(steps.weights[0], [1 / SIZE**2, -1 / SIZE**2], rtol=1e-5)
    np.testing.assert_allclose(steps.relu, np.maximum(steps.weighted_sum, 0))
    np.testing.assert_allclose(cam.gradcam(model, images, class_index=0, layer="conv"),
                               _expected_class0(images), atol=1e-5)


def test_all_negative_map_is_zeros_not_nan(images):
    maps = cam.gradcam(_linear_model(), images, class_index=1, layer="conv")
    assert maps.dtype == np.float32 and maps.shape == (len(images), SIZE, SIZE)
    assert np.isfinite(maps).all() and (maps == 0).all()


def test_signed_map_is_the_weighted_sum_before_relu(images):
    """Class 1's map is all negative (-G / Z): signed_map keeps it, the CAM zeroes it."""
    signed = cam.signed_map("gradcam", _linear_model(), images, class_index=1, layer="conv")
    np.testing.assert_allclose(signed, -images[..., 1] / SIZE**2, rtol=1e-5)
    class0 = cam.signed_map("gradcam", _linear_model(), images, class_index=0, layer="conv")
    np.testing.assert_allclose(cam.normalize(class0), _expected_class0(images), atol=1e-5)


def test_normalise_by_max_plus_tiny_eps():
    maps = np.zeros((3, 2, 2), np.float32)
    maps[0] = [[1e-13, 5e-14], [0, -1]]  # an untrained deep net's map is this small
    maps[1] = [[-2, -1], [-3, -4]]  # all negative
    maps[2] = [[4, 2], [1, 0]]
    out = cam.normalize(maps)
    np.testing.assert_allclose(out[0], [[1, 0.5], [0, 0]], rtol=1e-6)
    assert (out[1] == 0).all()
    np.testing.assert_allclose(out[2], [[1, 0.5], [0.25, 0]])


@pytest.mark.parametrize("variant", ["dense_softmax", "softmax_layer"])
def test_softmax_model_explains_the_logit(images, variant):
    model = (_linear_model("softmax") if variant == "dense_softmax"
             else _linear_model(softmax_layer=True))
    _, acts, grads, _ = cam.activations_and_gradients(model, images, class_index=0,
                                                      layer="conv")
    # gradient of the logit, not of the (saturating) probability
    np.testing.assert_allclose(grads[..., 0], 1 / SIZE**2, rtol=1e-5)
    np.testing.assert_allclose(cam.gradcam(model, images, class_index=0, layer="conv"),
                               _expected_class0(images), atol=1e-5)


def test_sequential_and_default_layer(images):
    model = _linear_model(sequential=True)
    assert cam.conv_layers(model) == ["conv"]
    assert cam.default_layer(model) == "conv"
    np.testing.assert_allclose(cam.gradcam(model, images, class_index=0),
                               _expected_class0(images), atol=1e-5)


def test_default_layer_is_last_4d_output():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, name="c1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    assert cam.default_layer(model) == "pool"
    assert cam.gradcam(model, np.zeros((1, 16, 16, 3))).shape == (1, 7, 7)


def _nested_and_flat():
    keras.utils.set_random_seed(1)
    base = keras.Sequential([keras.Input((16, 16, 3)),
                             keras.layers.Conv2D(6, 3, activation="relu", name="b1"),
                             keras.layers.Conv2D(5, 3, activation="relu", name="b2")],
                            name="base")
    scale = keras.layers.Rescaling(2.0, offset=-1.0, name="pre")
    gap = keras.layers.GlobalAveragePooling2D()
    head = keras.layers.Dense(3, name="logits")
    inputs = keras.Input((16, 16, 3))
    nested = keras.Model(inputs, head(gap(base(scale(inputs)))))
    x = inputs = keras.Input((16, 16, 3))
    x = scale(x)
    for layer in base.layers:
        x = layer(x)
    flat = keras.Model(inputs, head(gap(x)))
    return nested, flat


def test_nested_base_model_matches_flat_model():
    nested, flat = _nested_and_flat()
    x = np.random.default_rng(2).random((3, 16, 16, 3)).astype(np.float32)
    assert cam.conv_layers(nested) == ["pre", "b1", "b2"]
    assert cam.default_layer(nested) == "b2"
    for layer in ("b1", "b2"):
        for method in ("gradcam", "layercam"):
            a = cam.attribution(method, nested, x, class_index=[0, 1, 2], layer=layer)
            b = cam.attribution(method, flat, x, class_index=[0, 1, 2], layer=layer)
            np.testing.assert_allclose(a, b, atol=1e-5)
            assert a.max() > 0.99


@pytest.mark.parametrize("rescale", [None, 0.5])
def test_nested_model_as_last_layer_matches_the_model_itself(rescale):
    """``Sequential([Input, (Rescaling,) classifier])``, as students wrap MobileNetV2:
    every method gives the classifier's own maps (on the rescaled images)."""
    _, flat = _nested_and_flat()
    stack = [keras.Input((16, 16, 3))] + ([keras.layers.Rescaling(rescale)] if rescale else [])
    wrapped = keras.Sequential([*stack, flat])
    x = np.random.default_rng(7).random((3, 16, 16, 3)).astype(np.float32)
    seen = x * rescale if rescale else x
    assert cam.default_layer(wrapped) == "b2"
    options = {"scorecam": {"top_k": 3}, "smoothgrad": {"samples": 4},
               "integrated_gradients": {"steps": 8}}
    for method in cam.METHODS:
        for layer in ("b1", None):
            kwargs = dict(class_index=[0, 1, 2], layer=layer, **options.get(method, {}))
            a = cam.attribution(method, wrapped, x, **kwargs)
            b = cam.attribution(method, flat, seen, **kwargs)
            np.testing.assert_allclose(a, b, atol=1e-5, err_msg=method)
            assert a.max() > 0.99


def test_each_image_independent_of_the_batch():
    nested, _ = _nested_and_flat()
    x = np.random.default_rng(3).random((5, 16, 16, 3)).astype(np.float32)
    for method in ("gradcam", "gradcam_plus_plus", "saliency"):
        together = cam.attribution(method, nested, x, class_index=1)
        alone = np.concatenate([cam.attribution(method, nested, x[i:i + 1], class_index=1)
                                for i in range(len(x))])
        np.testing.assert_allclose(together, alone, atol=1e-5)


def test_no_retracing_for_new_images_classes_or_batch_sizes():
    nested, _ = _nested_and_flat()
    rng = np.random.default_rng(4)
    probe = gradient_probe(nested, "b2")
    for n, c in [(1, 0), (3, 2), (2, None), (5, [0, 1, 2, 0, 1]), (1, 1)]:
        cam.gradcam(nested, rng.random((n, 16, 16, 3)), class_index=c, layer="b2")
    assert gradient_probe(nested, "b2") is probe  # built once, cached
    assert probe.act_grad.experimental_get_tracing_count() == 1


def test_class_index_none_is_each_images_top_class(images):
    model = _linear_model()
    steps = cam.gradcam_steps(model, images, layer="conv")
    np.testing.assert_array_equal(steps.classes, steps.logits.argmax(axis=1))


def test_bad_arguments_raise_model_errors(images):
    model = _linear_model()
    with pytest.raises(ModelError):
        cam.gradcam(model, images, class_index=7)
    with pytest.raises(ModelError):
        cam.gradcam(model, images, class_index=[0, 1])
    with pytest.raises(ModelError):
        cam.gradcam(model, images, layer="no_such_layer")
    with pytest.raises(ModelError):
        cam.gradcam(model, images[..., :2])
    with pytest.raises(ModelError):
        cam.gradcam_steps(model, images, pooling="median")


def test_max_pooling_option_changes_the_weights():
    nested, _ = _nested_and_flat()
    x = np.random.default_rng(5).random((2, 16, 16, 3)).astype(np.float32)
    # right before global average pooling every position gets the same gradient...
    last = cam.gradcam_steps(nested, x, class_index=0, layer="b2", pooling="max")
    np.testing.assert_allclose(last.gradients, np.broadcast_to(last.gradients[:, :1, :1],
                               last.gradients.shape), rtol=1e-4, atol=1e-9)
    # ...one layer earlier they differ, and max pooling gives other weights
    mean = cam.gradcam_steps(nested, x, class_index=0, layer="b1")
    peak = cam.gradcam_steps(nested, x, class_index=0, layer="b1", pooling="max")
    np.testing.assert_allclose(peak.weights, peak.gradients.max(axis=(1, 2)))
    np.testing.assert_allclose(mean.weights, mean.gradients.mean(axis=(1, 2)), rtol=1e-5)
    assert not np.allclose(mean.weights, peak.weights)


def test_integrated_gradients_completeness():
    nested, _ = _nested_and_flat()
    x = np.random.default_rng(6).random((2, 16, 16, 3)).astype(np.float32)
    attributions = cam.integrated_gradients_attributions(nested, x, class_index=1, steps=64,
                                                         baseline=0.0)
    logits = cam.predict_logits(nested, np.concatenate([x, np.zeros_like(x[:1])]))
    gain = logits[:2, 1] - logits[2, 1]
    np.testing.assert_allclose(attributions.sum(axis=(1, 2, 3)), gain, rtol=0.03, atol=1e-3)


def test_input_maps_find_the_relevant_pixels():
    """Class 0's logit is mean(R) - mean(G): a red square on black must light up."""
    model = _linear_model()
    x = np.zeros((1, SIZE, SIZE, 3), np.float32)
    x[0, 1:4, 4:7, 0] = 1.0
    inside = np.zeros((SIZE, SIZE), bool)
    inside[1:4, 4:7] = True
    occ = cam.occlusion(model, x, class_index=0, patch=2, stride=1, baseline=0.0)[0]
    assert occ.shape == (SIZE, SIZE) and inside[np.unravel_index(occ.argmax(), occ.shape)]
    assert occ[~inside].max() < occ[inside].max()
    ig = cam.integrated_gradients(model, x, class_index=0)[0]
    np.testing.assert_allclose(ig, inside.astype(np.float32), atol=1e-5)
    # saliency of a linear model is flat: the gradient does not depend on the pixel
    sal = cam.saliency(model, x, class_index=0)[0]
    np.testing.assert_allclose(sal, 1.0, atol=1e-5)


# --------------------------------------------------------------------------- built-in model


@pytest.fixture(scope="module")
def shapes():
    from cnnviz.data import make_shapes

    return make_shapes(24, seed=123)


# minimum share of images whose map peak is on the object; chance (the object's
# area share) is ~0.1. Raw input gradients are noisy (the reason SmoothGrad
# exists): saliency alone is held to 3x chance, not to "most images".
POINTING_MIN = {
    "gradcam": 0.8, "gradcam_plus_plus": 0.8, "hirescam": 0.8, "layercam": 0.8,
    "scorecam": 0.7, "saliency": 0.35, "smoothgrad": 0.7, "integrated_gradients": 0.8,
    "occlusion": 0.6,
}
OPTIONS = {"scorecam": {"top_k": 16}, "smoothgrad": {"samples": 8},
           "integrated_gradients": {"steps": 16}, "occlusion": {"patch": 12, "stride": 6}}


@pytest.mark.parametrize("method", list(cam.METHODS))
def test_each_method_points_at_the_shape(shapes_model, shapes, method):
    from cnnviz.evaluate import energy_inside, pointing_game

    maps = cam.attribution(method, shapes_model, shapes.images, class_index=shapes.labels,
                           **OPTIONS.get(method, {}))
    assert maps.dtype == np.float32 and np.isfinite(maps).all()
    assert maps.min() >= 0 and maps.max() <= 1
    resolution = 16 if method in cam.CAM_METHODS else 64
    assert maps.shape == (len(shapes), resolution, resolution)
    assert pointing_game(maps, shapes.masks).mean() >= POINTING_MIN[method]
    chance = shapes.masks.mean()
    assert energy_inside(maps, shapes.masks).mean() > 2.5 * chance


def test_builtin_model_layers(shapes_model):
    layers = cam.conv_layers(shapes_model)
    assert layers[0] == "block1_conv1" and "block3_conv2" in layers
    assert cam.default_layer(shapes_model) == "block3_conv2"
