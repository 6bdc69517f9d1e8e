"""cnnviz.models: the contract other modules rely on, the trained built-in model,
ImageNet loading through a fake cache, fast offline failure, safe user models."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from cnnviz import models, online
from cnnviz.data import SOURCE_CLASSES, make_shapes
from cnnviz.errors import ImageError, ModelError
from cnnviz.models import builtin, imagenet

FRESH_TEST_SEED = 20261125  # never used by train_builtin (seeds 0-3)


# --- import cost --------------------------------------------------------------

def test_import_and_listing_do_not_import_tensorflow():
    code = (
        "import sys, cnnviz, cnnviz.models as m\n"
        "infos = m.available_models(check_online=False)\n"
        "assert infos and infos[0].name == 'shapes_cnn'\n"
        "heavy = [k for k in ('tensorflow', 'keras', 'streamlit') if k in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- listing ------------------------------------------------------------------

def test_available_models_offline_says_why(empty_keras_home):
    start = time.monotonic()
    infos = {info.name: info for info in models.available_models()}
    assert time.monotonic() - start < 5
    shapes = infos["shapes_cnn"]
    assert shapes.kind == "builtin" and shapes.usable and shapes.input_size == 64
    assert "accuracy" in shapes.reason
    mobilenet = infos["mobilenet_v2"]
    assert mobilenet.kind == "imagenet" and mobilenet.input_size == 224
    assert not mobilenet.usable
    assert str(empty_keras_home / "models") in mobilenet.reason
    assert "online" in mobilenet.reason


def test_available_models_with_cached_weights(fake_imagenet_home):
    infos = {info.name: info for info in models.available_models(check_online=False)}
    assert infos["mobilenet_v2"].usable
    assert "cached" in infos["mobilenet_v2"].reason
    assert not infos["resnet50"].usable  # its weights are not in the fake cache


def test_unknown_model_name():
    for call in (models.load_model, models.class_names, models.input_size):
        with pytest.raises(ModelError, match="shapes_cnn"):
            call("no_such_model")


# --- the built-in model -------------------------------------------------------

def test_shapes_cnn_architecture_matches_the_contract():
    import keras

    model = models.load_model("shapes_cnn")
    names = [layer.name for layer in model.layers]
    expected = ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1",
                "block2_conv2", "block2_pool", "block3_conv1", "block3_conv2", "logits"]
    assert [n for n in names if n in expected] == expected
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)  # flat
    assert tuple(model.inputs[0].shape) == (None, 64, 64, 3)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs[-1].name == "block3_conv2"
    assert tuple(convs[-1].output.shape) == (None, 16, 16, builtin.FILTERS[-1])
    assert model.get_layer("logits").get_config()["activation"] == "linear"
    assert tuple(model.outputs[0].shape) == (None, len(SOURCE_CLASSES))
    # an intermediate-output model builds (what the probing pages do)
    keras.Model(model.inputs[0], [model.get_layer("block2_pool").output, model.outputs[0]])
    assert models.class_names("shapes_cnn") == list(SOURCE_CLASSES)


def test_load_model_builds_a_fresh_model_each_call():
    first = models.load_model("shapes_cnn")
    second = models.load_model("shapes_cnn")
    assert first is not second
    kernel = first.get_layer("logits").kernel
    kernel.assign(np.zeros(kernel.shape, dtype="float32"))
    assert np.abs(second.get_layer("logits").get_weights()[0]).sum() > 0


@pytest.fixture(scope="module")
def fresh_shapes():
    return make_shapes(400, seed=FRESH_TEST_SEED, classes=SOURCE_CLASSES)


def test_committed_weights_reach_the_stated_accuracy(fresh_shapes):
    info = builtin.trained_info()
    assert builtin.WEIGHTS_PATH.is_file() and info is not None, "trained weights not committed"
    assert builtin.WEIGHTS_PATH.stat().st_size < 3 * 1024 * 1024
    assert info["seeds"]["test"] != FRESH_TEST_SEED
    model = models.load_model("shapes_cnn")
    x = models.preprocess("shapes_cnn", fresh_shapes.images)
    np.testing.assert_array_equal(x, fresh_shapes.images)  # no preprocessing beyond [0, 1]
    logits = np.asarray(model(x, training=False))
    accuracy = float((logits.argmax(axis=1) == fresh_shapes.labels).mean())
    assert accuracy >= 0.9
    assert accuracy >= info["test_accuracy"] - 0.04, (accuracy, info["test_accuracy"])


def test_builtin_model_looks_at_the_object(fresh_shapes):
    """The class activation map peaks on the object: Grad-CAM has something true to show."""
    from cnnviz.models.train_builtin import cam_localisation

    model = models.load_model("shapes_cnn")
    s = fresh_shapes
    pointing, energy, area = cam_localisation(model, s.images, s.masks, s.labels)
    info = builtin.trained_info()
    assert pointing >= 0.8
    assert pointing >= info["cam_pointing_accuracy"] - 0.06
    assert energy > 2 * area  # far more of the map on the object than chance


# --- preprocess / decode ------------------------------------------------------

def test_preprocess_accepts_uint8_float_single_and_grayscale():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (100, 150, 3), dtype=np.uint8)
    x = models.preprocess("shapes_cnn", photo)
    assert x.shape == (1, 64, 64, 3) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    flat = np.full((2, 30, 30, 3), 200, dtype=np.uint8)
    np.testing.assert_allclose(models.preprocess("shapes_cnn", flat), 200 / 255, atol=1e-5)
    gray = models.preprocess("shapes_cnn", np.zeros((64, 64), dtype=np.uint8))
    assert gray.shape == (1, 64, 64, 3)
    rgba = models.preprocess("shapes_cnn", np.zeros((64, 64, 4), dtype=np.float32))
    assert rgba.shape == (1, 64, 64, 3)


def test_preprocess_mobilenet_maps_to_minus_one_one():
    images = np.zeros((2, 50, 60, 3), dtype=np.uint8)
    images[1] = 255
    x = models.preprocess("mobilenet_v2", images)
    assert x.shape == (2, 224, 224, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], -1.0, atol=1e-5)
    np.testing.assert_allclose(x[1], 1.0, atol=1e-5)
    caffe = models.preprocess("resnet50", images[:1])
    np.testing.assert_allclose(caffe[0, 0, 0], [-103.939, -116.779, -123.68], atol=1e-3)


@pytest.mark.parametrize("bad", [
    np.full((8, 8, 3), 2.0, dtype=np.float32),  # float outside [0, 1]
    np.full((8, 8, 3), np.nan, dtype=np.float32),
    np.zeros((2, 3, 8, 8, 3), dtype=np.uint8),  # 5-D
    np.zeros((8, 8, 5), dtype=np.uint8),  # 5 channels
    np.zeros((0, 8, 3), dtype=np.uint8),  # empty
    np.array([["a"]]),
])
def test_preprocess_rejects_bad_images(bad):
    with pytest.raises(ImageError):
        models.preprocess("shapes_cnn", bad)


# --- prepare: the one way a picked image reaches a model ------------------------

def test_prepare_shows_exactly_the_pixels_the_builtin_model_gets():
    from cnnviz import images

    photo = np.random.default_rng(0).integers(0, 256, (100, 150, 3), dtype=np.uint8)
    picked = models.prepare("shapes_cnn", photo)
    assert picked.x.shape == (1, 64, 64, 3) and picked.x.dtype == np.float32
    assert picked.display.shape == (64, 64, 3) and picked.display.dtype == np.uint8
    assert picked.size == (64, 64) and picked.mask is None
    np.testing.assert_array_equal(picked.x[0], picked.display.astype(np.float32) / 255)
    np.testing.assert_array_equal(picked.display, images.resize(photo, 64))  # one resize path
    floats = models.prepare("shapes_cnn", photo.astype(np.float32) / 255)
    assert np.abs(floats.display.astype(int) - picked.display).max() <= 1


def test_prepare_resizes_the_mask_with_the_image():
    mask = np.zeros((90, 120), dtype=bool)
    mask[10:50, 20:100] = True  # a bright object on a black image, exactly where the mask is
    photo = np.repeat(mask[..., None] * np.uint8(255), 3, axis=2)
    picked = models.prepare("shapes_cnn", photo, mask=mask)
    assert picked.mask.shape == (64, 64) and picked.mask.dtype == bool
    bright = picked.display[..., 0]
    assert picked.mask[bright >= 130].all() and not picked.mask[bright <= 125].any()
    shape = make_shapes(1, size=96, seed=3)
    picked = models.prepare("shapes_cnn", shape.images[0], mask=shape.masks[0])
    assert abs(picked.mask.mean() - shape.masks[0].mean()) < 0.02
    with pytest.raises(ImageError, match="same size"):
        models.prepare("shapes_cnn", photo, mask=mask[:10])


def test_prepare_applies_the_imagenet_preprocessing_to_the_display(fake_imagenet_home):
    photo = np.random.default_rng(1).integers(0, 256, (180, 240, 3), dtype=np.uint8)
    picked = models.prepare("mobilenet_v2", photo)
    assert picked.x.shape == (1, 224, 224, 3) and picked.display.shape == (224, 224, 3)
    np.testing.assert_allclose(picked.x[0], picked.display / 127.5 - 1.0, atol=1e-5)
    model = models.load_model("mobilenet_v2")
    assert np.asarray(model(picked.x, training=False)).shape == (1, 1000)
    caffe = models.prepare("resnet50", photo)  # BGR, ImageNet means subtracted
    np.testing.assert_allclose(
        caffe.x[0], caffe.display[..., ::-1] - np.array([103.939, 116.779, 123.68]), atol=1e-3)


def test_probabilities_softmax_and_the_single_logit_case():
    logits = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    probs = models.probabilities(logits)
    assert np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[1], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-6)
    np.testing.assert_allclose(np.exp(models.log_probabilities(logits, np.float64)), probs,
                               rtol=1e-6)
    sigmoid = models.probabilities(np.array([[0.0], [2.0]]))
    np.testing.assert_allclose(sigmoid, [[0.5, 0.5], [1 - 1 / (1 + np.exp(-2)),
                                                      1 / (1 + np.exp(-2))]], rtol=1e-6)
    assert not hasattr(models, "softmax")  # one function for probabilities


def test_copy_model_is_independent_with_the_same_weights():
    original = _small_cnn()
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    copy = models.copy_model(original)
    assert copy is not original
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(original(x)), atol=1e-6)
    kernel = copy.get_layer("conv").kernel
    kernel.assign(np.zeros(kernel.shape, dtype="float32"))
    assert np.abs(original.get_layer("conv").get_weights()[0]).sum() > 0
    fresh = models.copy_model(original, keep_weights=False)  # same layers, new initial weights
    assert [w.shape for w in fresh.get_weights()] == [w.shape for w in original.get_weights()]
    assert not np.allclose(fresh.get_layer("conv").get_weights()[0],
                           original.get_layer("conv").get_weights()[0])


def test_decode_gives_sorted_probabilities():
    logits = np.array([[0.0, 3.0, 1.0, -2.0, 0.5], [5.0, 0.0, 0.0, 0.0, 0.0]])
    decoded = models.decode("shapes_cnn", logits, top=3)
    assert len(decoded) == 2 and all(len(row) == 3 for row in decoded)
    assert [name for name, _ in decoded[0]] == ["square", "triangle", "cross"]
    assert decoded[1][0][0] == "circle"
    probs = [p for _, p in decoded[0]]
    assert probs == sorted(probs, reverse=True)
    expected = np.exp(3.0) / np.exp(logits[0]).sum()
    assert probs[0] == pytest.approx(expected, rel=1e-5)
    everything = models.decode("shapes_cnn", logits[0], top=99)  # 1-D, top clipped
    assert len(everything) == 1 and len(everything[0]) == 5
    assert sum(p for _, p in everything[0]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ModelError):
        models.decode("shapes_cnn", np.zeros((1, 7)))


# --- ImageNet -----------------------------------------------------------------

def test_mobilenet_from_the_keras_cache(fake_imagenet_home):
    import keras

    model = models.load_model("mobilenet_v2")
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)
    assert tuple(model.inputs[0].shape) == (None, 224, 224, 3)
    assert tuple(model.outputs[0].shape) == (None, 1000)
    assert model.layers[-1].get_config()["activation"] == "linear"  # logits
    photo = np.random.default_rng(0).integers(0, 256, (1, 160, 200, 3), dtype=np.uint8)
    x = models.preprocess("mobilenet_v2", photo)
    logits = np.asarray(model(x, training=False))
    assert logits.shape == (1, 1000)
    names = models.class_names("mobilenet_v2")
    assert len(names) == 1000 and names[7] == "fake class 7"
    top = models.decode("mobilenet_v2", logits, top=5)[0]
    assert top[0][0] == names[int(logits[0].argmax())]
    assert sum(p for _, p in top) <= 1.0 + 1e-6


def test_offline_imagenet_fails_fast_and_clearly(empty_keras_home):
    start = time.monotonic()
    with pytest.raises(ModelError, match="offline") as error:
        models.load_model("mobilenet_v2")
    assert time.monotonic() - start < 10
    assert str(empty_keras_home / "models") in str(error.value)
    with pytest.raises(ModelError, match="offline"):
        models.class_names("mobilenet_v2")


def test_network_probe_gives_up_after_a_few_seconds(empty_keras_home, monkeypatch):
    """A hanging DNS lookup or connect must not hang the app."""
    def hang(*args, **kwargs):
        time.sleep(30)
        raise OSError("timed out")  # as a connect does in the end, long after the test

    monkeypatch.setattr(online, "_connect", hang)
    start = time.monotonic()
    with pytest.raises(ModelError, match="offline"):
        models.load_model("mobilenet_v2")
    assert time.monotonic() - start < 5


def test_damaged_cache_files_raise_model_error(empty_keras_home):
    cache = empty_keras_home / "models"
    cache.mkdir()
    (cache / imagenet.SPECS["mobilenet_v2"].weights_file).write_bytes(b"not an hdf5 file")
    (cache / imagenet.CLASS_INDEX_FILE).write_text("{broken json")
    with pytest.raises(ModelError, match="Delete it"):
        models.load_model("mobilenet_v2")
    with pytest.raises(ModelError, match="damaged"):
        models.class_names("mobilenet_v2")


def test_keras_home_is_respected(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert imagenet.weights_path("mobilenet_v2").parent == tmp_path / "models"
    assert imagenet.class_index_path() == tmp_path / "models" / "imagenet_class_index.json"


# --- a user's own model ---------------------------------------------------------

def _save(model, path):
    model.save(path)
    return path


def _small_cnn(channels=3):
    import keras

    return keras.Sequential([
        keras.Input((32, 32, channels)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax", name="probs"),
    ])


def test_user_cnn_is_accepted_and_outputs_logits(tmp_path):
    import keras

    original = _small_cnn()
    path = _save(original, tmp_path / "good.keras")
    model = models.load_user_model(path)
    assert isinstance(model, keras.Model) and not isinstance(model, keras.Sequential)
    assert model.get_layer("conv") is not None
    x = models.preprocess(model, np.zeros((40, 50, 3), dtype=np.uint8) + 100)
    assert x.shape == (1, 32, 32, 3)
    logits = np.asarray(model(x))
    np.testing.assert_allclose(models.probabilities(logits), np.asarray(original(x)), atol=1e-5)
    assert [n for n, _ in models.decode(model, logits, top=3)[0]][0].startswith("class ")
    # the same file as bytes and as a file object
    assert models.load_user_model(path.read_bytes()).outputs[0].shape[-1] == 3
    with open(path, "rb") as f:
        assert models.load_user_model(f).inputs[0].shape[1] == 32


def test_user_grayscale_cnn_gets_one_channel(tmp_path):
    model = models.load_user_model(_save(_small_cnn(channels=1), tmp_path / "gray.keras"))
    assert models.preprocess(model, np.zeros((8, 8, 3), dtype=np.uint8)).shape == (1, 32, 32, 1)
    photo = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    picked = models.prepare(model, photo)
    assert picked.x.shape == (1, 32, 32, 1) and picked.display.shape == (32, 32, 3)
    np.testing.assert_allclose(picked.x[0, ..., 0], picked.display.mean(axis=-1) / 255,
                               atol=1e-6)


def test_user_model_with_lambda_is_refused_not_run(tmp_path):
    import keras

    marker = tmp_path / "ran.txt"
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(2, 3)(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0)(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    path = _save(keras.Model(inputs, outputs), tmp_path / "lambda.keras")
    with pytest.raises(ModelError, match="Lambda"):
        models.load_user_model(path)
    assert not marker.exists()


def _refused(tmp_path, model, match):
    path = _save(model, tmp_path / "m.keras")
    with pytest.raises(ModelError, match=match):
        models.load_user_model(path)


def test_user_models_that_are_not_image_cnns_are_refused(tmp_path):
    import keras

    dense = keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)])
    _refused(tmp_path, dense, "input")
    no_conv = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                keras.layers.Dense(10)])
    _refused(tmp_path, no_conv, "convolution")
    seg_in = keras.Input((32, 32, 3))
    segmenter = keras.Model(seg_in, keras.layers.Conv2D(2, 1)(seg_in))
    _refused(tmp_path, segmenter, "output")


def _uploaded_kinds():
    """What students save: a base nested in the middle, a classifier nested as the last
    layer after a Rescaling (the shape of ``Sequential([Rescaling, MobileNetV2(...)])``),
    a Sequential with a Rescaling, and one-unit sigmoid heads (flat and nested)."""
    import keras
    from keras import layers

    def classifier(units=3, activation="softmax", name="classifier"):
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
        x = layers.MaxPooling2D(name="p1")(x)
        x = layers.Conv2D(6, 3, activation="relu", name="c2")(x)
        x = layers.GlobalAveragePooling2D(name="gap")(x)
        return keras.Model(inputs, layers.Dense(units, activation=activation, name="probs")(x),
                           name=name)

    keras.utils.set_random_seed(5)
    base = keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(4, 3, name="b1"),
                             layers.ReLU(name="b1_relu")], name="base")
    inputs = keras.Input((32, 32, 3))
    features = layers.GlobalAveragePooling2D()(base(layers.Rescaling(2.0, -1.0)(inputs)))
    nested_base = keras.Model(inputs, layers.Dense(3, activation="softmax")(features))
    rescale = [keras.Input((32, 32, 3)), layers.Rescaling(1 / 255)]
    return {
        "nested_base": nested_base,
        "nested_last": keras.Sequential([*rescale, classifier()], name="wrapped"),
        "sequential_rescaling": keras.Sequential([
            *rescale, layers.Conv2D(4, 3, activation="relu", name="c1"),
            layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")]),
        "sigmoid": classifier(1, "sigmoid"),
        "nested_last_sigmoid": keras.Sequential([*rescale, classifier(1, "sigmoid")]),
    }


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory):
    """Each kind saved as a .keras file, as uploaded: (original, loaded) by kind."""
    folder = tmp_path_factory.mktemp("uploads")
    return {kind: (original, models.load_user_model(_save(original, folder / f"{kind}.keras")))
            for kind, original in _uploaded_kinds().items()}


def test_nested_and_sigmoid_user_models_are_accepted_and_output_logits(uploaded):
    import keras

    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    for kind, (original, model) in uploaded.items():
        assert not isinstance(model, keras.Sequential), kind
        logits = np.asarray(model(x))
        expected = np.asarray(original(x))  # probabilities
        if kind.endswith("sigmoid"):
            assert logits.shape == (2, 1), kind
            expected = np.concatenate([1 - expected, expected], axis=1)
        np.testing.assert_allclose(models.probabilities(logits), expected, atol=1e-5,
                                   err_msg=kind)
        assert np.abs(logits).max() > 0 and not np.allclose(logits, expected), kind
        nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
        assert nested == {"nested_base": ["base"], "nested_last": ["classifier"],
                          "nested_last_sigmoid": ["classifier"]}.get(kind, []), kind
        assert models.input_size(model) == (32, 32, 3)
        assert models.class_names(model) == (["class 0", "class 1"] if kind.endswith("sigmoid")
                                             else ["class 0", "class 1", "class 2"])


@pytest.mark.slow  # every probing page's computation on five uploaded models
def test_every_probing_page_works_with_nested_and_sigmoid_user_models(uploaded):
    from cnnviz import activations, cam, filters, probe, receptive
    from cnnviz.figures import diagram

    photo = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    for kind, (_, stored) in uploaded.items():
        model = models.copy_model(stored)  # what load_model gives a page
        picked = models.prepare(model, photo)
        assert picked.x.shape == (1, 32, 32, 3) and picked.display.shape == (32, 32, 3)
        logits = np.asarray(model(picked.x))
        decoded = models.decode(model, logits, top=2)[0]
        assert [name for name, _ in decoded][0].startswith("class ")
        infos = probe.feature_layers(model)
        names = [info.name for info in infos]
        assert {"c1"} <= set(names) or "b1" in names, (kind, names)
        maps = activations.extract(model, picked.x, names)
        assert all(maps[n].shape[1:] == info.shape for n, info in zip(names, infos))
        images = filters.visualize(model, names[0], [0, 1], size=32, steps=1)
        assert images.shape == (2, 32, 32, 3)
        for method in cam.CAM_METHODS:
            for class_index in (0, 1):
                out = cam.attribution(method, model, picked.x, class_index=class_index,
                                      **({"top_k": 2} if method == "scorecam" else {}))
                assert out.ndim == 3 and np.isfinite(out).all() and out.max() <= 1, kind
        np.testing.assert_allclose(cam.predict_logits(model, picked.x),
                                   probe.class_scores(logits), atol=1e-5)
        fields = receptive.receptive_fields(model)
        assert set(names) <= {f.name for f in fields} and fields[-1].size >= 3, kind
        fig = diagram.model_diagram(model)
        assert len(fig.layout.shapes) >= len([i for i in infos if i.kind == "conv"]) + 1
        summary = diagram.model_summary(model)
        assert sum(row["parameters"] for row in summary) == model.count_params(), kind
        assert {row["layer"] for row in summary} >= set(names)


def test_a_sigmoid_models_two_classes_are_explained_with_opposite_evidence(uploaded):
    from cnnviz import cam

    model = uploaded["sigmoid"][1]
    x = np.random.default_rng(2).random((2, 32, 32, 3)).astype(np.float32)
    steps = [cam.gradcam_steps(model, x, class_index=c, layer="c2") for c in (0, 1)]
    assert steps[0].logits.shape == (2, 2)  # the two class scores (-z/2, z/2)
    np.testing.assert_allclose(steps[0].weighted_sum, -steps[1].weighted_sum, atol=1e-6)
    z = np.asarray(model(x))[:, 0]
    np.testing.assert_array_equal(cam.resolve_classes(model, x), (z > 0).astype(int))


def test_corrupt_empty_and_oversized_user_files_are_refused(tmp_path):
    good = _save(_small_cnn(), tmp_path / "good.keras").read_bytes()
    no_config = tmp_path / "no_config.keras"
    with zipfile.ZipFile(no_config, "w") as archive:
        archive.writestr("hello.txt", "hi")
    cases = {
        "empty": b"",
        "random bytes": np.random.default_rng(0).bytes(2000),
        "text": b"model = keras.Sequential()",
        "truncated": good[: len(good) // 2],
        "zip without config": no_config.read_bytes(),
        "bad config": _with_config(good, b"{not json"),
        "unknown layer": _with_config(good, json.dumps({
            "class_name": "EvilLayer", "config": {}, "module": "evil"}).encode()),
    }
    for label, data in cases.items():
        with pytest.raises(ModelError):
            models.load_user_model(data)
            pytest.fail(label)
    with pytest.raises(ModelError, match="limit"):
        models.load_user_model(good, max_bytes=1000)
    with pytest.raises(ModelError, match="no model file"):
        models.load_user_model(tmp_path / "missing.keras")


def _with_config(keras_zip: bytes, config: bytes) -> bytes:
    import io

    src = zipfile.ZipFile(io.BytesIO(keras_zip))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = config if info.filename == "config.json" else src.read(info.filename)
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_online_first_use_downloads_through_keras_into_the_cache(
        empty_keras_home, _fake_imagenet_cache, monkeypatch):
    """Online and not cached: usable ("download on first use"); Keras' get_file fetches."""
    import shutil

    import keras

    calls = []

    def fake_get_file(fname, origin, *, cache_subdir, cache_dir):
        calls.append((fname, origin, cache_subdir, cache_dir))
        target = empty_keras_home / cache_subdir / fname
        target.parent.mkdir(exist_ok=True)
        shutil.copy(_fake_imagenet_cache / "models" / fname, target)
        return str(target)

    monkeypatch.setattr(online, "_connect", lambda host, port, timeout: None)  # online
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    info = {i.name: i for i in models.available_models()}["mobilenet_v2"]
    assert info.usable and "first use" in info.reason
    assert models.class_names("mobilenet_v2")[3] == "fake class 3"
    model = models.load_model("mobilenet_v2")
    assert tuple(model.outputs[0].shape) == (None, 1000)
    assert [c[0] for c in calls] == [imagenet.CLASS_INDEX_FILE,
                                     imagenet.SPECS["mobilenet_v2"].weights_file]
    assert all(c[2] == "models" and c[3] == str(empty_keras_home) for c in calls)
    assert all(c[1].startswith("https://storage.googleapis.com/") for c in calls)
    models.load_model("mobilenet_v2")  # now cached: no second download
    assert len(calls) == 2


@pytest.mark.slow  # trains
def test_training_script_runs_and_records_its_settings(tmp_path):
    """The script that made the committed weights still runs (tiny settings here)."""
    from cnnviz.models import train_builtin

    out = tmp_path / "tiny.weights.h5"
    info = train_builtin.main(["--train", "64", "--val", "16", "--test", "32", "--epochs", "1",
                               "--batch-size", "32", "--out", str(out)])
    assert out.is_file()
    saved = json.loads((tmp_path / "tiny.json").read_text())
    assert saved["settings"]["train_images"] == 64 and saved["test_size"] == 32
    assert saved["seeds"] == info["seeds"]
    assert 0.0 <= saved["test_accuracy"] <= 1.0
    model = builtin.build_shapes_cnn()
    model.load_weights(str(out))  # the weights file matches the architecture


def test_registered_user_models_are_named_by_content_and_bounded():
    from badinput import good_model_file

    data = good_model_file()
    name = models.register_user_model(data, filename="mine.keras")
    assert name.startswith("user:") and name.endswith(":mine.keras")
    assert models.register_user_model(data, filename="mine.keras") == name
    assert models.input_size(name) == (32, 32, 3)
    assert models.class_names(name) == ["class 0", "class 1", "class 2"]
    x = models.preprocess(name, np.zeros((8, 8, 3), np.uint8))
    fresh = models.load_model(name)
    assert name in models.user_model_names()
    assert fresh is not models._USER_MODELS.get(name)
    assert models.decode(name, np.asarray(fresh(x)))[0][0][0].startswith("class ")
    models._USER_MODELS.clear()
    with pytest.raises(ModelError, match="upload the file again"):
        models.load_model(name)


def test_bad_model_files_are_refused_with_model_error():
    from badinput import bad_model_files

    for case in bad_model_files():
        with pytest.raises(ModelError):
            models.register_user_model(case.data, filename=f"{case.name}.keras")
    assert not [n for n in models.user_model_names() if "model_" in n]
