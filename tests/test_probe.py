"""cnnviz.probe and cnnviz.cache: one inspection core for every model structure.

The same layers are wrapped four ways: a flat functional model, a Sequential,
a base nested in the middle (inputs -> Rescaling -> base -> head) and a nested
model as the LAST layer after a Rescaling (the shape of
``Sequential([Rescaling(1 / 255), MobileNetV2(...)])``). Every listing, sub-model
and gradient must agree with the flat model's.
"""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from cnnviz import probe  # noqa: E402
from cnnviz.cache import LRU, ModelCache  # noqa: E402
from cnnviz.errors import ImageError, ModelError  # noqa: E402

SIZE = 20
SCALE, OFFSET = 2.0, -1.0  # the Rescaling of the wrapped models
STRUCTURES = ("flat", "sequential", "nested_base", "nested_last")
NAMES = ["c1", "p1", "c2", "r2"]


def _classifier(name="net"):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    x = layers.MaxPooling2D(name="p1")(x)
    x = layers.Conv2D(6, 3, name="c2")(x)
    x = layers.ReLU(name="r2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, name="logits")(x), name=name)


def _wrap(structure: str, net):
    """``net``'s own layers (shared weights) in one of the four structures."""
    if structure == "flat":
        return net
    convs = [net.get_layer(n) for n in NAMES]
    head = [net.get_layer("gap"), net.get_layer("logits")]
    if structure == "sequential":
        return keras.Sequential([keras.Input((SIZE, SIZE, 3)), *convs, *head])
    rescale = layers.Rescaling(SCALE, offset=OFFSET, name="pre")
    if structure == "nested_last":
        return keras.Sequential([keras.Input((SIZE, SIZE, 3)), rescale, net], name="outer")
    base = keras.Sequential([keras.Input((SIZE, SIZE, 3)), *convs], name="base")
    inputs = keras.Input((SIZE, SIZE, 3))
    x = base(rescale(inputs))
    for layer in head:
        x = layer(x)
    return keras.Model(inputs, x, name="outer")


@pytest.fixture(scope="module")
def net():
    return _classifier()


@pytest.fixture(scope="module")
def models(net):
    return {s: _wrap(s, net) for s in STRUCTURES}


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((3, SIZE, SIZE, 3)).astype(np.float32)


def _net_input(structure, x):
    """What the flat ``net`` sees for input ``x`` of the wrapped model."""
    return x if structure in ("flat", "sequential") else x * SCALE + OFFSET


@pytest.mark.parametrize("structure", STRUCTURES)
def test_listing_is_the_same_for_every_structure(models, structure):
    model = models[structure]
    rescaled = structure in ("nested_base", "nested_last")
    parent = {"nested_base": "base", "nested_last": "net"}.get(structure)
    infos = probe.feature_layers(model)
    assert [(i.name, i.parent) for i in infos] == [(n, parent) for n in NAMES]
    assert [i.shape for i in infos] == [(18, 18, 4), (9, 9, 4), (7, 7, 6), (7, 7, 6)]
    assert probe.spatial_layers(model) == ["pre"] * rescaled + NAMES
    assert probe.last_spatial_layer(model) == "r2"
    assert [layer.name for layer in probe.leaf_layers(model)] == (
        ["pre"] * rescaled + NAMES + ["gap", "logits"])
    layer, path = probe.find_layer(model, "c2")
    assert layer is models["flat"].get_layer("c2")
    assert [p.name for p in path] == ([parent] if parent else [])
    assert probe.input_shape(model) == (SIZE, SIZE, 3)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_layer_calls_chain_across_nested_models(models, structure):
    calls = probe.layer_calls(models[structure])
    names = [layer.name for layer, _, _ in calls]
    assert names[-6:] == [*NAMES, "gap", "logits"]
    assert calls[0][1][0] is models[structure].inputs[0]
    for (_, _, before), (_, after, _) in zip(calls, calls[1:]):
        assert after[0] is before[0]  # each call reads the previous call's output


@pytest.mark.parametrize("structure", STRUCTURES)
def test_sub_models_and_logits_match_the_flat_model(models, net, x, structure):
    model = models[structure]
    reference = keras.Model(net.inputs[0], [net.get_layer(n).output for n in NAMES])
    expected = [np.asarray(t) for t in reference(_net_input(structure, x))]
    got = probe.run(probe.feature_model(model, NAMES), x)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), b, atol=1e-5)
    acts, logits = probe.activations_and_logits(model, x, ["c1"])
    np.testing.assert_allclose(acts[0], expected[0], atol=1e-5)
    np.testing.assert_allclose(logits, np.asarray(net(_net_input(structure, x))), atol=1e-5)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_gradients_match_the_flat_model(models, x, structure):
    classes = np.array([0, 2, -1], np.int32)
    flat = probe.gradient_probe(models["flat"], "c2").run(_net_input(structure, x), classes)
    got = probe.gradient_probe(models[structure], "c2").run(x, classes)
    for a, b in zip(got, flat, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(got[2]).max() > 0  # the gradients reach the layer
    assert probe.gradient_probe(models[structure]).layer == "r2"


@pytest.mark.parametrize("softmax", ["dense", "activation"])
def test_a_softmax_inside_the_last_nested_model_is_removed(net, x, softmax):
    """Logits, not probabilities, even when the softmax sits inside the nested model."""
    features = net.get_layer("gap").output
    if softmax == "dense":
        dense = layers.Dense(3, activation="softmax")
        outputs = dense(features)
        dense.set_weights(net.get_layer("logits").get_weights())
    else:
        outputs = layers.Activation("softmax")(net.outputs[0])
    classifier = keras.Model(net.inputs[0], outputs, name=f"soft_{softmax}")
    outer = keras.Sequential([keras.Input((SIZE, SIZE, 3)), classifier])
    gradients = probe.gradient_probe(outer, "c2")
    np.testing.assert_allclose(gradients.logits(x), np.asarray(net(x)), atol=1e-5)
    logits, _, grads, _ = gradients.run(x, np.zeros(len(x), np.int32))
    flat = probe.gradient_probe(net, "c2").run(x, np.zeros(len(x), np.int32))
    np.testing.assert_allclose(grads, flat[2], atol=1e-5)
    as_logits = probe.logits_model(outer)  # a model that outputs the logits itself
    assert [layer.name for layer in as_logits.layers][-1] == classifier.name
    np.testing.assert_allclose(np.asarray(as_logits(x)), np.asarray(net(x)), atol=1e-5)
    np.testing.assert_allclose(np.asarray(outer(x)).sum(axis=1), 1.0, atol=1e-5)  # unchanged
    assert probe.logits_model(net) is net  # already logits


def test_unknown_layers_and_models_raise_model_errors(models):
    with pytest.raises(ModelError, match="no layer named 'nope'.*c1"):
        probe.feature_model(models["nested_last"], ["nope"])
    with pytest.raises(ModelError):
        probe.feature_model(models["flat"], [])
    with pytest.raises(ModelError):
        probe.feature_layers("not a model")
    dense_only = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ModelError, match="no convolutional layer"):
        probe.last_spatial_layer(dense_only)


def test_as_batch_checks_images_then_the_model(models):
    one = np.zeros((SIZE, SIZE, 3))
    batch = probe.as_batch(one, models["nested_last"])
    assert batch.shape == (1, SIZE, SIZE, 3) and batch.dtype == np.float32
    for bad in (one.astype(np.uint8), np.zeros((0, SIZE, SIZE, 3)), np.zeros((SIZE, SIZE)),
                np.full((SIZE, SIZE, 3), np.nan)):
        with pytest.raises(ImageError):
            probe.as_batch(bad)
    with pytest.raises(ModelError, match="takes 20x20x3 images; these are 20x20x2"):
        probe.as_batch(one[..., :2], models["nested_last"])
    with pytest.raises(ModelError, match="these are 8x20x3"):
        probe.as_batch(one[:8], models["flat"])


# --------------------------------------------------------------------------- the cache


class _Key:
    """A stand-in for a model: weakly referable and hashable by identity."""


def test_model_cache_is_a_bounded_lru_per_model():
    cache = ModelCache(max_per_model=2)
    a, b = _Key(), _Key()
    built = []

    def build(key):
        built.append(key)
        return f"value {key}"

    assert cache.get(a, 1, lambda: build(1)) == "value 1"
    cache.get(a, 2, lambda: build(2))
    assert cache.get(a, 1, lambda: build(1)) == "value 1"  # a hit, now the most recent
    cache.get(a, 3, lambda: build(3))  # evicts 2, the least recently used
    assert cache.keys(a) == [1, 3] and built == [1, 2, 3]
    cache.get(b, 2, lambda: build(2))  # each model has its own bound
    assert cache.keys(a) == [1, 3] and cache.keys(b) == [2]
    cache.forget(a)
    assert cache.keys(a) == []
    with pytest.raises(ValueError):
        ModelCache(max_per_model=0)


def test_lru_is_bounded_and_drops_the_least_recently_used():
    cache = LRU(max_entries=2)
    assert cache.get("a", lambda: 1) == 1
    cache.get("b", lambda: 2)
    assert cache.get("a") == 1  # a hit without a builder, now the most recent
    cache.get("c", lambda: 3)  # evicts b
    assert cache.keys() == ["a", "c"] and "b" not in cache and len(cache) == 2
    assert cache.get("a", lambda: pytest.fail("built again")) == 1
    with pytest.raises(KeyError):
        cache.get("b")
    cache.clear()
    assert cache.keys() == []
    with pytest.raises(ValueError):
        LRU(max_entries=0)


def test_model_cache_builds_once_under_concurrent_use():
    cache = ModelCache(max_per_model=4)
    owner = _Key()
    start = threading.Barrier(8)
    calls, results = [], []

    def slow_build():
        calls.append(1)
        threading.Event().wait(0.05)
        return object()

    def worker():
        start.wait()
        results.append(cache.get(owner, "key", slow_build))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and all(r is results[0] for r in results)


def test_probe_cache_is_bounded_per_model(net):
    first = probe.feature_model(net, ["c1"])
    assert probe.feature_model(net, ("c1",)) is first
    for n in range(16):  # 16 other name tuples push the first one out
        probe.feature_model(net, ["c1"] * (n + 2))
    assert probe.feature_model(net, ["c1"]) is not first


@pytest.mark.parametrize("structure", ["flat", "nested_last"])
def test_caches_do_not_keep_a_model_alive(x, structure):
    from cnnviz import activations, cam, filters

    def probe_a_model():
        model = _wrap(structure, _classifier("temporary"))
        activations.extract(model, x, ["c1", "r2"])
        cam.gradcam(model, x)
        cam.saliency(model, x[:1])
        filters.visualize(model, "c2", [0, 1], size=SIZE, steps=1)
        assert probe._SUB_MODELS.keys(model) and probe._GRADIENT_PROBES.keys(model)
        return weakref.ref(model)

    alive = probe_a_model()
    gc.collect()
    assert alive() is None
