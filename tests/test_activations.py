"""cnnviz.probe and cnnviz.activations: one forward pass, any model structure."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from cnnviz import activations, probe  # noqa: E402
from cnnviz.errors import ImageError, ModelError  # noqa: E402
from cnnviz.figures import activations as activation_figures  # noqa: E402
from cnnviz.figures.colour import colorize  # noqa: E402
from cnnviz.figures.maps import tile_grid  # noqa: E402


@pytest.fixture(scope="module")
def shapes_model():
    from cnnviz.models.builtin import build_shapes_cnn

    return build_shapes_cnn(seed=1)


@pytest.fixture(scope="module")
def images():
    from cnnviz.data import make_shapes

    return make_shapes(3, size=64, seed=5).images


def _small_base(name="base"):
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((24, 24, 3)),
        layers.Conv2D(4, 3, activation="relu", name=f"{name}_c1"),
        layers.MaxPooling2D(name=f"{name}_p1"),
        layers.Conv2D(6, 3, name=f"{name}_c2"),
        layers.ReLU(name=f"{name}_r2"),
    ], name=name)


def test_extract_equals_a_hand_built_multi_output_model(shapes_model, images):
    names = ["block1_conv1", "block2_pool", "block3_conv2"]
    got = activations.extract(shapes_model, images, names)
    assert list(got) == names
    hand = keras.Model(shapes_model.inputs, [shapes_model.get_layer(n).output for n in names])
    for name, expected in zip(names, hand(images, training=False)):
        assert got[name].shape == tuple(expected.shape)
        np.testing.assert_allclose(got[name], np.asarray(expected), rtol=1e-5, atol=1e-5)
    assert got["block1_conv1"].shape == (3, 64, 64, 16)
    assert got["block3_conv2"].shape == (3, 16, 16, 64)


def test_extract_runs_one_forward_pass_and_caches_the_sub_model(shapes_model, images,
                                                               monkeypatch):
    names = ("block1_conv2", "block2_conv1")
    sub = probe.feature_model(shapes_model, names)
    assert probe.feature_model(shapes_model, list(names)) is sub  # cached
    calls = []
    original = type(sub).__call__

    def counting(self, *args, **kwargs):
        if self is sub:
            calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(sub), "__call__", counting)
    activations.extract(shapes_model, images, names)
    assert len(calls) == 1


def test_sequential_model_works():
    model = _small_base("seq")
    x = np.random.default_rng(0).random((2, 24, 24, 3), dtype=np.float32)
    got = activations.extract(model, x, ["seq_c1", "seq_r2"])
    expected = model.get_layer("seq_c1")(x)
    np.testing.assert_allclose(got["seq_c1"], expected, atol=1e-6)
    np.testing.assert_allclose(got["seq_r2"], np.asarray(model(x)), atol=1e-6)


def test_nested_base_model_works_and_matches_running_the_base():
    base = _small_base("inner")
    inputs = keras.Input((24, 24, 3))
    x = layers.Rescaling(2.0, offset=-1.0, name="pre")(inputs)
    x = base(x)
    x = layers.Conv2D(5, 1, activation="relu", name="head_conv")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outer = keras.Model(inputs, layers.Dense(2)(x))
    # the pitfall this module exists for:
    with pytest.raises(ValueError):
        keras.Model(outer.inputs, base.get_layer("inner_c1").output)

    listed = [(i.name, i.parent) for i in probe.feature_layers(outer)]
    assert listed[:2] == [("inner_c1", "inner"), ("inner_p1", "inner")]
    assert ("head_conv", None) in listed

    x = np.random.default_rng(1).random((2, 24, 24, 3), dtype=np.float32)
    got = activations.extract(outer, x, ["inner_c1", "head_conv", "inner_r2"])
    np.testing.assert_allclose(got["inner_c1"], base.get_layer("inner_c1")(x * 2 - 1),
                               atol=1e-5)
    np.testing.assert_allclose(got["inner_r2"], np.asarray(base(x * 2 - 1)), atol=1e-5)
    head = keras.Model(outer.inputs, outer.get_layer("head_conv").output)
    np.testing.assert_allclose(got["head_conv"], np.asarray(head(x)), atol=1e-5)


def test_nested_model_as_last_layer_after_rescaling_matches_the_model_itself():
    """``Sequential([Input, Rescaling, classifier])``, as students wrap MobileNetV2."""
    base = _small_base("last")
    wrapped = keras.Sequential([keras.Input((24, 24, 3)), layers.Rescaling(2.0, offset=-1.0),
                                base])
    x = np.random.default_rng(4).random((2, 24, 24, 3), dtype=np.float32)
    names = ["last_c1", "last_p1", "last_r2"]
    got = activations.extract(wrapped, x, names)
    expected = activations.extract(base, x * 2 - 1, names)
    assert list(got) == names
    for name in names:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5)
    assert [i.parent for i in probe.feature_layers(wrapped)] == ["last"] * 4


def test_a_base_reused_in_two_models_is_probed_in_the_right_graph():
    base = _small_base("shared")
    first = keras.Sequential([keras.Input((24, 24, 3)), layers.Rescaling(0.0), base])
    second = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(3)])
    x = np.random.default_rng(2).random((1, 24, 24, 3), dtype=np.float32)
    second(x)
    assert first is not None
    got = activations.extract(second, x, "shared_c1")["shared_c1"]
    np.testing.assert_allclose(got, base.get_layer("shared_c1")(x), atol=1e-6)
    assert np.abs(got).max() > 0  # not the zeros the first model's Rescaling(0) gives


def test_feature_layers_lists_shapes_in_order(shapes_model):
    infos = probe.feature_layers(shapes_model)
    names = [i.name for i in infos]
    assert names[0] == "block1_conv1" and "block3_conv2" in names
    assert names.index("block1_pool") < names.index("block2_conv1")
    assert [i.depth for i in infos] == list(range(len(infos)))
    last = infos[names.index("block3_conv2")]
    assert last.shape == (16, 16, 64) and last.kind == "conv" and last.activation == "relu"
    assert probe.default_kinds(infos) == ("conv", "pool")
    assert probe.feature_layers(shapes_model, kinds=("pool",))[0].name == "block1_pool"


def test_unknown_layer_and_bad_images_raise_readable_errors(shapes_model, images):
    with pytest.raises(ModelError, match="no layer named 'nope'"):
        activations.extract(shapes_model, images, ["nope"])
    with pytest.raises(ImageError):
        activations.extract(shapes_model, (images * 255).astype(np.uint8), ["block1_conv1"])
    with pytest.raises(ModelError):
        activations.extract(shapes_model, np.zeros((1, 32, 32, 3), np.float32),
                            ["block1_conv1"])


def test_statistics_show_the_hierarchy(shapes_model, images):
    names = [i.name for i in probe.feature_layers(shapes_model)]
    acts = activations.extract(shapes_model, images, names)
    rows = activations.layer_statistics(acts)
    assert [r["layer"] for r in rows] == names
    assert rows[0]["height"] == 64 and rows[-1]["height"] == 16
    assert rows[0]["channels"] == 16 and rows[-1]["channels"] == 64
    for row, a in zip(rows, acts.values()):
        assert row["fraction zero"] == pytest.approx(float(np.mean(a <= 0)))
        assert 0.0 <= row["fraction zero"] <= 1.0
    fig = activation_figures.statistics_figure(rows)
    assert len(fig.data) == 4


def test_display_helpers():
    maps = np.zeros((4, 5, 3), np.float32)
    maps[..., 0] = np.arange(20).reshape(4, 5)  # strong, varying
    maps[..., 1] = 0.5  # constant
    maps[0, 0, 2] = 1000.0  # strongest mean
    assert list(activations.strongest_channels(maps)) == [2, 0, 1]
    per_channel = activations.scale_for_display(maps, mode="channel")
    assert per_channel.shape == (3, 4, 5)
    assert per_channel[0].min() == 0 and per_channel[0].max() == 1
    assert np.all(per_channel[1] == 0)  # constant: no division by zero
    per_layer = activations.scale_for_display(maps, mode="layer")
    assert per_layer.max() == 1 and per_layer[0].max() < 0.2
    rgb = colorize(per_channel, vmin=0, vmax=1)
    assert rgb.shape == (3, 4, 5, 3) and rgb.dtype == np.uint8
    tiled = tile_grid(rgb, cols=2, pad=1)
    assert tiled.shape == (2 * 4 + 1, 2 * 5 + 1, 3)
    assert np.array_equal(tiled[5:9, 0:5], rgb[2])


def test_keras_code_names_the_layers():
    code = activations.keras_code(["block1_conv1", "block3_conv2"])
    assert "keras.Model(" in code and "model.inputs" in code
    assert "model.get_layer('block3_conv2').output" in code
    compile(code, "<snippet>", "exec")


# ------------------------------------------------- zeros after the non-linearity
def _bn_model():
    """conv(ReLU) -> BN -> pool, and a linear conv -> BN -> ReLU -> pool: MobileNet's way."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.MaxPooling2D(name="p1")(x)
    x = layers.Conv2D(4, 3, padding="same", name="c2")(x)
    x = layers.BatchNormalization(name="bn2")(x)
    x = layers.ReLU(name="r2")(x)
    x = layers.MaxPooling2D(name="p2")(x)
    model = keras.Model(inputs, layers.Dense(2)(layers.GlobalAveragePooling2D()(x)))
    bn = model.get_layer("bn1")  # a shift that makes half of BN's outputs negative
    bn.set_weights([w if i != 1 else np.full_like(w, -0.5) for i, w in
                    enumerate(bn.get_weights())])
    return model


def test_zeros_are_counted_after_the_nonlinearity():
    model = _bn_model()
    names = ["c1", "p1", "c2", "r2", "p2"]
    at = activations.nonlinearity_layers(model, names)
    assert at == {"c1": "c1", "p1": None, "c2": "r2", "r2": "r2", "p2": "p2"}
    x = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
    maps = activations.extract(model, x, names)
    rows = activations.layer_statistics(maps, zeros_at=at, layers=names)
    by = {r["layer"]: r for r in rows}
    assert np.isnan(by["p1"]["fraction zero"]) and by["p1"]["zeros counted at"] == \
        "no non-linearity"
    assert by["c2"]["fraction zero"] == pytest.approx(float(np.mean(maps["r2"] <= 0)))
    # counting the signed pool output as zeros is what made the curve zigzag
    assert np.mean(maps["p1"] <= 0) > 0.1 and np.mean(maps["c1"] < 0) == 0


def _row(layer, zeros, size=16, channels=16):
    return {"layer": layer, "height": size, "width": size, "channels": channels,
            "fraction zero": zeros}


def test_the_zeros_sentence_follows_the_numbers():
    grows = activations.describe_zeros([_row("a", 0.4), _row("p", float("nan")),
                                        _row("b", 0.7)])
    assert "go from 40% in a to 70% in b: it grows" in grows
    assert "Over 50% of b's values are zero" in grows
    shrinks = activations.describe_zeros([_row("a", 0.7), _row("b", 0.3)])
    assert "it shrinks" in shrinks and "disagrees" in shrinks and "Over 50%" not in shrinks
    same = activations.describe_zeros([_row("a", 0.33), _row("b", 0.35)])
    assert "it stays about the same" in same and "is not silent most of the time" in same
    assert "no trend" in activations.describe_zeros([_row("a", 0.5), _row("p", float("nan"))])
    assert activations.zeros_trend(0.5, 0.56) == "it grows"
    assert activations.zeros_trend(0.5, 0.54) == "it stays about the same"


def test_the_shapes_sentence_follows_the_numbers():
    traded = activations.describe_shapes(_row("a", 0, 64, 16), _row("b", 0, 16, 64))
    assert "the maps shrink from 64×64 to 16×16" in traded and "space is traded" in traded
    flat = activations.describe_shapes(_row("a", 0, 16, 64), _row("b", 0, 16, 64))
    assert "keep their size" in flat and "channels stay" in flat and "traded" not in flat
