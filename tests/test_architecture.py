"""The analytic layer table agrees exactly with real Keras models; blocks and demos work."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from figurecheck import assert_follows_template

from cnnviz import architecture as A
from cnnviz import nettext
from cnnviz.errors import CnnvizError
from cnnviz.figures import diagram
from cnnviz.figures import residual as residual_figures
from cnnviz.figures.architecture import channel_tiles_figure

N_RANDOM = 60


def _random_cases():
    rng = random.Random(1234)
    cases = []
    for _ in range(N_RANDOM):
        shape = (rng.randint(6, 20), rng.randint(6, 20), rng.choice((1, 2, 3)))
        cases.append((shape, A.random_spec(rng, shape)))
    return cases


def _assert_matches_keras(spec, shape):
    model = A.build_model(spec, shape)
    rows = A.analyze(spec, shape)
    assert all(r.ok for r in rows)
    assert model.count_params() == A.totals(rows)["params"]
    for row in rows:
        layer = model.get_layer(row.name)
        assert tuple(layer.output.shape[1:]) == row.shape, (row, spec)
    # parameters per row: the sum of the Keras layers that belong to it
    for row in rows:
        owned = [lay for lay in model.layers
                 if lay.name == row.name or lay.name.startswith(row.name + "_")]
        assert sum(lay.count_params() for lay in owned) == row.params, row
    return model


def test_random_architectures_agree_with_keras():
    cases = _random_cases()
    kinds = {layer.kind for _, spec in cases for layer in spec}
    assert kinds == set(A.KINDS)  # every layer type is exercised
    for shape, spec in cases:
        _assert_matches_keras(spec, shape)


@pytest.mark.parametrize("name", list(A.PRESETS))
def test_presets_agree_with_keras_and_generated_code(name):
    shape, spec = A.preset(name)
    model = _assert_matches_keras(spec, shape)
    namespace: dict = {}
    code = A.keras_code(spec, shape).replace("model.summary()", "")
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 - our own code
    generated = namespace["model"]
    assert generated.count_params() == model.count_params()
    assert generated.outputs[0].shape[1:] == model.outputs[0].shape[1:]


def test_generated_code_on_random_architectures():
    for shape, spec in _random_cases()[:15]:
        namespace: dict = {}
        exec(A.keras_code(spec, shape).replace("model.summary()", ""), namespace)  # noqa: S102
        rows = A.analyze(spec, shape)
        assert namespace["model"].count_params() == A.totals(rows)["params"]
        assert tuple(namespace["model"].outputs[0].shape[1:]) == rows[-1].shape


def test_known_numbers():
    # LeNet-5 as usually rebuilt in Keras has 61,706 parameters
    shape, spec = A.preset("LeNet-5")
    rows = A.analyze(spec, shape)
    assert A.totals(rows)["params"] == 61_706
    assert [r.shape for r in rows[:4]] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]
    # MACs of the first conv: 28*28 outputs * 6 filters * 5*5*1 weights
    assert rows[0].macs == 28 * 28 * 6 * 25
    # receptive field: 5 -> pool 6 -> 5x5 conv at jump 2: 14 -> pool 16
    assert [r.rf for r in rows[:4]] == [5, 6, 14, 16]
    assert rows[4].rf is None  # flatten sees the whole input


def test_invalid_rows_are_reported_not_raised():
    spec = [A.LayerSpec("conv", filters=4, kernel=5, padding="valid"),
            A.LayerSpec("maxpool", kernel=2, stride=2),
            A.LayerSpec("conv", filters=4, kernel=3, padding="valid"),
            A.LayerSpec("dense", filters=3)]
    rows = A.analyze(spec, (8, 8, 3))  # 8 -> 4 -> 2 -> 3x3 valid: nothing left
    assert rows[0].ok and rows[1].ok
    assert not rows[2].ok and "smaller" in rows[2].error
    assert not rows[3].ok and "earlier" in rows[3].error
    assert not A.totals(rows)["valid"]
    with pytest.raises(CnnvizError):
        A.build_model(spec, (8, 8, 3))

    rows = A.analyze([A.LayerSpec("conv"), A.LayerSpec("dense", filters=2)], (8, 8, 3))
    assert rows[0].ok and not rows[1].ok and "Flatten" in rows[1].error
    rows = A.analyze([A.LayerSpec("flatten"), A.LayerSpec("conv")], (8, 8, 3))
    assert not rows[1].ok
    rows = A.analyze([A.LayerSpec("conv", filters=0)], (8, 8, 3))
    assert not rows[0].ok
    rows = A.analyze([A.LayerSpec("dropout", rate=1.5)], (8, 8, 3))
    assert not rows[0].ok


def test_spec_round_trips_through_json_and_records():
    shape, spec = A.preset("Tiny ResNet")
    assert A.spec_from_json(A.spec_to_json(spec)) == spec
    records = A.spec_to_dicts(spec)
    records.append({"kind": None})  # an empty editor row is skipped
    records[0]["filters"] = 8.0  # editors give floats
    again = A.spec_from_dicts(records)
    assert len(again) == len(spec) and again[0].filters == 8
    with pytest.raises(CnnvizError):
        A.spec_from_json("{not json")
    with pytest.raises(CnnvizError):
        A.spec_from_json(json.dumps({"kind": "conv"}))


def test_residual_projection_only_when_shapes_change():
    same = A.analyze([A.LayerSpec("residual", filters=8)], (8, 8, 8))[0]
    proj = A.analyze([A.LayerSpec("residual", filters=8, stride=2)], (8, 8, 8))[0]
    assert proj.params - same.params == 8 * 8 + 4 * 8
    assert proj.shape == (4, 4, 8)
    assert np.isclose(same.params, 2 * 9 * 64 + 2 * 4 * 8)


# ---------------------------------------------------------------- residual vs plain


def test_plain_gradients_vanish_residual_stay_flat():
    from cnnviz import residual as R

    result = R.compare(R.Settings(depth=12, steps=8, train_images=64, batch=32,
                                  activation="sigmoid", batchnorm=False))
    s = R.summary(result)
    # plain sigmoid stack: the first layer gets a tiny fraction of the last layer's gradient
    assert s["plain_init"]["first_over_last"] < 1e-4
    # identity shortcuts: the same layers, the same weights, but a flat profile
    assert 0.2 < s["residual_init"]["first_over_last"] < 5
    norms = np.asarray(result["residual"]["init"])
    assert norms.max() / norms.min() < 5
    # the plain net's first layer moves much less in training than the residual's
    assert result["plain"]["moved"][0] < 0.5 * result["residual"]["moved"][0]
    assert len(result["plain"]["loss"]) == 8 and np.isfinite(result["residual"]["loss"]).all()
    assert residual_figures.gradient_figure(result).layout.yaxis.type == "log"
    assert len(residual_figures.loss_figure(result).data) == 2


def test_tf_stack_is_the_keras_stack():
    from cnnviz import residual as R
    from cnnviz.data import make_shapes

    images = make_shapes(4, size=16, seed=3).images
    for settings in (R.Settings(depth=4, activation="tanh", batchnorm=False),
                     R.Settings(depth=4, activation="relu", batchnorm=True)):
        for residual in (False, True):
            model = R.keras_stack(settings, residual=residual)
            expected = np.asarray(model(images, training=True))  # BN on the batch's stats
            np.testing.assert_allclose(R.forward(settings, images, residual=residual),
                                       expected, rtol=1e-4, atol=1e-4)


def test_settings_are_checked():
    from cnnviz import residual as R

    for bad in (R.Settings(activation="elu"), R.Settings(depth=0),
                R.Settings(depth=R.MAX_DEPTH + 1), R.Settings(batch=1)):
        with pytest.raises(CnnvizError):
            R.check(bad)


# ---------------------------------------------------------------- 1x1 and inception demos


def test_pointwise_sums_are_the_keras_layer_output():
    from cnnviz import archdemo

    fmap = np.random.default_rng(0).normal(size=(6, 7, 64)).astype(np.float32)
    pw = archdemo.pointwise(fmap, 15, 2, 5, seed=0)
    assert pw.outputs.shape == (6, 7, 15) and pw.weights.shape == (64, 15)
    np.testing.assert_allclose(pw.sums, pw.outputs[2, 5], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(pw.vector, fmap[2, 5])
    # a 1x1 conv is the same matrix product at every pixel
    np.testing.assert_allclose(fmap @ pw.weights + pw.bias, pw.outputs, rtol=1e-4, atol=1e-4)
    with pytest.raises(CnnvizError):
        archdemo.pointwise(fmap, 3, 6, 0)
    tiles = channel_tiles_figure(pw.outputs, 8, mark=(2, 5))
    assert len(tiles.layout.shapes) == 2 * 8  # the pixel outlined in each of the 8 channels
    assert tiles.layout.xaxis.range[1] > tiles.layout.yaxis.range[0]  # side by side


def test_bottleneck_and_inception_costs():
    from cnnviz import archdemo

    cost = archdemo.bottleneck_cost(28, 28, 192, 32, 5, 16)
    assert cost["direct_macs"] == 120_422_400  # the classic 120 M
    assert cost["bottleneck_macs"] == 2_408_448 + 10_035_200  # about 12.4 M
    inc = archdemo.inception_cost(28, 28, 192, 64)  # GoogLeNet 3a: 64, 96/128, 16/32, 32
    assert inc["bottleneck_channels"] == 256 and inc["naive_channels"] == 64 + 128 + 32 + 192
    assert inc["bottleneck_macs"] == 28 * 28 * (192 * 64 + 192 * 96 + 9 * 96 * 128
                                                 + 192 * 16 + 25 * 16 * 32 + 192 * 32)
    assert inc["saving"] > 2


def test_model_diagrams():
    from cnnviz.models import load_model

    shape, spec = A.preset("Tiny ResNet")
    fig = diagram.spec_diagram(spec, shape)
    arcs = [t for t in fig.data if t.line is not None and t.line.dash == "dot"]
    assert len(arcs) == 4  # one shortcut per residual block
    shape, spec = A.preset("Tiny Inception")
    fig = diagram.spec_diagram(spec, shape)
    nodes = next(t for t in fig.data if t.hovertext is not None)
    assert len({round(y, 2) for y in nodes.y}) == 5  # the main line + 4 parallel branches
    model = load_model("shapes_cnn")
    fig = diagram.model_diagram(model)
    assert len(fig.layout.shapes) == 11  # input, 6 convs, 2 pools, gap, dense
    assert_follows_template(fig)
    summary = diagram.model_summary(model)
    assert sum(r["parameters"] for r in summary) == model.count_params()


def test_a_nested_model_diagram_is_drawn_layer_by_layer():
    import keras

    from cnnviz.models import load_model

    flat = load_model("shapes_cnn")
    wrapped = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Rescaling(1 / 255),
                                flat])
    boxes = [t for t in diagram.model_diagram(flat).data if t.hovertext is not None][0]
    nested = [t for t in diagram.model_diagram(wrapped).data if t.hovertext is not None][0]
    assert nested.hovertext == boxes.hovertext  # the same boxes (Rescaling folded away)
    summary = diagram.model_summary(wrapped)
    assert [r["layer"] for r in summary][2:] == [r["layer"] for r in
                                                diagram.model_summary(flat)][1:]
    assert summary[1]["type"] == "Rescaling"
    assert sum(r["parameters"] for r in summary) == wrapped.count_params()


def test_imagenet_model_diagram_draws_its_shortcuts():
    import keras

    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    fig = diagram.model_diagram(model, "MobileNetV2")
    arcs = [t for t in fig.data if t.line is not None and t.line.dash == "dot"]
    adds = [lay for lay in model.layers if type(lay).__name__ == "Add"]
    assert len(arcs) == len(adds) == 10  # one arc per residual connection


def test_impossible_inputs_and_layers_are_flagged():
    from cnnviz import buildercheck as B

    shape, spec = A.preset("Tiny VGG")
    assert B.input_problem(shape) is None and B.row_warnings(spec, A.analyze(spec, shape),
                                                               shape) == {}
    tiny = (1, 1, 3)
    assert "1x1 input is too small" in B.input_problem(tiny)
    notes = B.row_warnings(spec, A.analyze(spec, tiny), tiny)
    assert notes[1].startswith("Receptive field 3 px is wider than the 1 px input")
    assert notes[3] == "Downsamples a 1x1 map: nothing left to shrink."  # 2x2 pool, stride 2
    assert 10 not in notes  # Flatten: no spatial window
    # a window larger than its input with 'valid' padding stays a hard error
    rows = A.analyze([A.LayerSpec("conv", kernel=5, padding="valid")], (3, 3, 3))
    assert not rows[0].ok and "no pixels" in rows[0].error


def test_branch_receptive_fields_grow_with_the_window():
    from cnnviz import archdemo

    seen = archdemo.branch_receptive_fields(16, 4)
    assert list(seen.values()) == [16, 24, 32, 24]  # 1x1, 3x3, 5x5, 3x3 pool


# ---------------------------------------------------------------- the network in a link
#: one layer of every kind, each setting it uses away from the usual value
EVERY_KIND = [
    A.LayerSpec("conv", filters=12, kernel=5, stride=2, padding="valid", activation="tanh"),
    A.LayerSpec("conv1x1", filters=7, activation="sigmoid"),
    A.LayerSpec("maxpool", kernel=3, stride=1, padding="valid"),
    A.LayerSpec("avgpool", kernel=2, stride=2),
    A.LayerSpec("batchnorm"),
    A.LayerSpec("dropout", rate=0.35),
    A.LayerSpec("inception", filters=8, activation="linear"),
    A.LayerSpec("residual", filters=16, stride=2, activation="tanh"),
    A.LayerSpec("gmp"),
    A.LayerSpec("dense", filters=20, activation="sigmoid"),
    A.LayerSpec("dropout", rate=0.0),
    A.LayerSpec("dense", filters=3, activation="linear"),
]


def test_every_kind_round_trips_through_its_text():
    assert {layer.kind for layer in EVERY_KIND} | {"gap", "flatten"} == set(A.KINDS)
    for spec in (EVERY_KIND, EVERY_KIND[:8] + [A.LayerSpec("gap"), A.LayerSpec("flatten")]):
        text = nettext.net_text(spec, (48, 40, 2))
        assert nettext.parse_net(text) == ((48, 40, 2), spec), text
    assert nettext.net_text(EVERY_KIND[:4], (48, 40, 2)) == \
        "48x40x2,conv-12-k5-s2-valid-tanh,conv1x1-7-sigmoid,maxpool-3-s1-valid,avgpool-2"


@pytest.mark.parametrize("name", list(A.PRESETS))
def test_every_preset_round_trips_through_its_text(name):
    shape, spec = A.preset(name)
    text = nettext.net_text(spec, shape)
    assert nettext.parse_net(text) == (shape, spec)
    assert len(text) < 200 and text.startswith("x".join(map(str, shape)) + ",")


def test_random_networks_round_trip_with_the_same_table():
    for shape, spec in _random_cases():
        again_shape, again = nettext.parse_net(nettext.net_text(spec, shape))
        assert again_shape == shape and again == [nettext.canonical(layer) for layer in spec]
        assert A.analyze(again, shape) == A.analyze(spec, shape)


def test_settings_a_kind_does_not_use_are_not_written():
    pool = A.LayerSpec("maxpool", filters=99, kernel=2, stride=2, activation="tanh", rate=0.9)
    assert nettext.net_text([pool], (8, 8, 1)) == "8x8x1,maxpool-2"
    assert nettext.canonical(pool) == A.LayerSpec("maxpool", kernel=2, stride=2)
    # every setting a kind uses changes its text
    for layer in EVERY_KIND:
        for name in A.USED_FIELDS[layer.kind]:
            value = getattr(layer, name)
            other = value + 1 if name in ("filters", "kernel", "stride") else {
                "padding": "valid" if value == "same" else "same",
                "activation": "tanh" if value == "relu" else "relu",
                "rate": 0.5 if value != 0.5 else 0.25}[name]
            changed = replace(layer, **{name: other})
            assert nettext.net_text([changed], (8, 8, 1)) != \
                nettext.net_text([layer], (8, 8, 1)), changed


def test_a_typed_network_may_use_capitals_spaces_and_glued_numbers():
    assert nettext.parse_net(" 64X64x3, Conv16 ,maxpool2,conv1x18, dense-5-LINEAR") == (
        (64, 64, 3), [A.LayerSpec("conv"), A.LayerSpec("maxpool", kernel=2, stride=2),
                      A.LayerSpec("conv1x1", filters=8),
                      A.LayerSpec("dense", filters=5, activation="linear")])
    assert nettext.parse_net("32x32x1") == ((32, 32, 1), [])  # no layers: just the input


@pytest.mark.parametrize("text,words", [
    ("", "The network's text is empty"),
    ("conv-16,maxpool-2", "The input: it starts with 'conv-16', not the input size"),
    ("64x64x0,conv-16", "The input: input channels 0 is not between 1 and 64"),
    ("999x64x3", "input height 999 is not between 1 and 512"),
    ("64x64x3,pool-2", "Layer 1 'pool-2': 'pool' is not a layer type (one of conv, conv1x1"),
    ("64x64x3,conv", "Layer 1 'conv': conv needs its number of filters right after it"),
    ("64x64x3,dense-x", "dense needs its number of units right after it (e.g. dense-16)"),
    ("64x64x3,conv-16,conv-5000", "Layer 2 'conv-5000': filters 5000 is not between 1 and 2048"),
    ("64x64x3,conv-16-k13", "kernel 13 is not between 1 and 11"),
    ("64x64x3,conv-2.5", "filters 2.5 is not a whole number"),
    ("64x64x3,dropout-0.99", "rate 0.99 is not between 0 and 0.95"),
    ("64x64x3,maxpool-2-k3", "'k3' is not a setting of maxpool (s<stride>, same/valid)"),
    ("64x64x3,gap-tanh", "'tanh' is not a setting of gap (none)"),
    ("64x64x3,conv-16-elu", "'elu' is not a setting of conv (k<kernel>, s<stride>, same/valid, "
                            "relu/tanh/sigmoid/linear)"),
    ("64x64x3," + ",".join(["gap"] * (nettext.MAX_LAYERS + 1)),
     "41 layers; a link holds at most 40"),
    ("64x64x3," + "dense-5-linear" * 200, "characters; a link holds at most 1500"),
    ("1x1x1,a,b,c,d,e", "Layer 1 'a': 'a' is not a layer type"),
])
def test_a_bad_network_text_says_what_is_wrong(text, words):
    with pytest.raises(CnnvizError) as error:
        nettext.parse_net(text)
    assert words in str(error.value)


def test_a_bad_network_names_each_bad_layer_up_to_three():
    with pytest.raises(CnnvizError) as error:
        nettext.parse_net("8x8x1,conv-0,pool,conv-16,dense-1-elu,zz")
    message = str(error.value)
    assert message.startswith("Layer 1 'conv-0': filters 0 is not between 1 and 2048; layer 2 "
                              "'pool': 'pool' is not a layer type")
    assert "layer 4 'dense-1-elu'" in message and message.endswith("(and 1 more).")


def test_the_longest_networks_a_link_holds_fit_its_length():
    widest = A.LayerSpec("conv", filters=2048, kernel=11, stride=8, padding="valid",
                         activation="sigmoid")
    text = nettext.net_text([widest] * nettext.MAX_LAYERS, (512, 512, 64))
    assert len(text) <= nettext.MAX_NET_CHARS
    assert nettext.parse_net(text)[1] == [widest] * nettext.MAX_LAYERS
