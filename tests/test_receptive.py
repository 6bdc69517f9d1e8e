"""Receptive fields against VGG16's published values and a brute-force gradient test."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import receptive
from cnnviz.errors import CnnvizError, ModelError

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
layers = keras.layers

# Published receptive fields of VGG16 (e.g. Araujo, Norris & Sim, "Computing Receptive
# Fields of Convolutional Neural Networks", Distill 2019): size and jump (stride product).
VGG16_RF = {
    "block1_conv1": (3, 1), "block1_conv2": (5, 1), "block1_pool": (6, 2),
    "block2_conv1": (10, 2), "block2_conv2": (14, 2), "block2_pool": (16, 4),
    "block3_conv1": (24, 4), "block3_conv2": (32, 4), "block3_conv3": (40, 4),
    "block3_pool": (44, 8),
    "block4_conv1": (60, 8), "block4_conv2": (76, 8), "block4_conv3": (92, 8),
    "block4_pool": (100, 16),
    "block5_conv1": (132, 16), "block5_conv2": (164, 16), "block5_conv3": (196, 16),
    "block5_pool": (212, 32),
}


def test_vgg16_published_receptive_fields():
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    rfs = {r.name: r for r in receptive.receptive_fields(vgg)}
    assert set(VGG16_RF) == set(rfs)
    for name, (size, jump) in VGG16_RF.items():
        assert (rfs[name].size, rfs[name].jump) == (size, jump), name
    assert rfs["block5_pool"].output_hw == (7, 7)
    # 2x2 pools with stride 2 move the first unit's centre by half their window
    assert rfs["block5_pool"].start == pytest.approx(15.5)
    assert rfs["block1_conv1"].start == 0


def _positive_linear(model):
    """Weights = 1 and no ReLU: every path adds, so the gradient support is the exact RF."""
    for w in model.weights:
        w.assign(np.ones(w.shape, dtype="float32") / np.prod(w.shape[:-1] or [1]))
    return model


def _brute_force_box(model, layer_name, row, col):
    probe = keras.Model(model.inputs, model.get_layer(layer_name).output)
    x = tf.convert_to_tensor(np.random.default_rng(0).random((1, *model.inputs[0].shape[1:]),
                                                               dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        unit = probe(x)[0, row, col, 0]
    support = np.abs(tape.gradient(unit, x).numpy()[0]).sum(-1) > 0
    rr, cc = np.nonzero(support)
    if rr.size == 0:
        return None  # a unit that sees only padding
    return rr.min(), cc.min(), rr.max(), cc.max()


def _odd_model():
    """Every kind of geometry: dilation, even kernels, same/valid, padding, pooling, a merge."""
    inp = keras.Input((61, 54, 2))
    x = layers.Conv2D(2, 3, dilation_rate=2, padding="same", name="dilated")(inp)
    x = layers.Conv2D(2, 4, strides=2, padding="same", name="even_s2_same")(x)
    x = layers.AveragePooling2D(3, strides=2, name="pool3_s2")(x)
    x = layers.ZeroPadding2D(((1, 2), (0, 1)), name="zeropad")(x)
    x = layers.DepthwiseConv2D((3, 2), name="depthwise_3x2")(x)
    y = layers.Conv2D(2, 5, padding="same", name="branch_5x5")(x)
    x = layers.Add(name="add")([x, y])
    x = layers.Conv2D(2, 1, name="pointwise")(x)
    x = layers.MaxPooling2D(2, padding="same", name="maxpool_same")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, layers.Dense(3, name="logits")(x))


def test_matches_brute_force_gradient_support():
    model = _positive_linear(_odd_model())
    rfs = receptive.receptive_fields(model)
    names = [r.name for r in rfs]
    assert names == ["dilated", "even_s2_same", "pool3_s2", "zeropad", "depthwise_3x2",
                     "branch_5x5", "add", "pointwise", "maxpool_same"]
    for r in rfs:
        if r.name == "maxpool_same":
            continue  # max-pool gradients flow to one pixel only; geometry is the avg-pool's
        h, w = r.output_hw
        probe_shape = model.get_layer(r.name).output.shape
        assert (h, w) == tuple(probe_shape[1:3]), r.name
        units = [(0, 0), (h // 2, w // 2), (h - 1, w - 1), (h // 3, w - 1)]
        if r.name == "zeropad":  # the added rows/columns are zeros, not units that see pixels
            units = [(1, 0), (h // 2, w // 2), (h - 3, w - 2)]
        for row, col in units:
            expected = r.box(row, col, image_hw=(61, 54))
            if expected[0] > expected[2] or expected[1] > expected[3]:
                expected = None
            assert _brute_force_box(model, r.name, row, col) == expected, (r.name, row, col)


def test_sequential_model_and_specs_agree():
    seq = keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 3, strides=2, padding="valid"),
        layers.Conv2D(4, 3, dilation_rate=3, padding="same"),
        layers.Flatten(),
        layers.Dense(2),
    ])
    rfs = receptive.receptive_fields(seq)
    assert len(rfs) == 5  # Flatten and Dense see the whole image: left out
    spec = receptive.receptive_fields_of_specs([
        receptive.LayerSpec("c1", 3), receptive.LayerSpec("p1", 2, 2, padding="valid"),
        receptive.LayerSpec("c2", 3, 2, padding="valid"), receptive.LayerSpec("c3", 3, 1, 3),
    ], 32)
    keep = [rfs[0], rfs[2], rfs[3], rfs[4]]  # BatchNormalization does not change anything
    assert rfs[1].size_hw == rfs[0].size_hw
    for a, b in zip(keep, spec):
        assert (a.size_hw, a.jump_hw, a.start_hw, a.output_hw) == (
            b.size_hw, b.jump_hw, b.start_hw, b.output_hw)
    # 3 -> 4 (pool) -> 4 + 2*2 = 8 (stride-2 conv) -> 8 + 6*4 = 32 (dilation 3)
    assert [r.size for r in spec] == [3, 4, 8, 32]


def test_builtin_shapes_cnn_receptive_fields():
    from cnnviz.models.builtin import build_shapes_cnn

    rfs = {r.name: r for r in receptive.receptive_fields(build_shapes_cnn())}
    assert rfs["block3_conv2"].size == 32 and rfs["block3_conv2"].jump == 4
    assert rfs["block3_conv2"].output_hw == (16, 16)
    assert "logits" not in rfs


def test_effective_rf_is_inside_the_theoretical_one():
    from cnnviz.models.builtin import build_shapes_cnn

    model = build_shapes_cnn(seed=1)
    rf = {r.name: r for r in receptive.receptive_fields(model)}["block2_conv2"]
    image = np.random.default_rng(1).random((64, 64, 3)).astype("float32")
    erf = receptive.effective_rf(model, "block2_conv2", image, 16, 16)
    assert erf.shape == (64, 64) and erf.max() > 0
    top, left, bottom, right = rf.box(16, 16, (64, 64))
    outside = erf.copy()
    outside[top : bottom + 1, left : right + 1] = 0
    assert outside.max() == 0
    with pytest.raises(ModelError):
        receptive.effective_rf(model, "block2_conv2", image, 40, 0)
    with pytest.raises(ModelError):
        receptive.effective_rf(model, "nope", image, 0, 0)


def test_unsupported_and_bad_inputs_raise_cnnviz_errors():
    up = keras.Sequential([keras.Input((8, 8, 1)), layers.UpSampling2D()])
    with pytest.raises(CnnvizError):
        receptive.receptive_fields(up)
    with pytest.raises(CnnvizError):
        receptive.receptive_fields_of_specs([receptive.LayerSpec("big", 9, padding="valid")], 5)
    with pytest.raises(CnnvizError):
        receptive.receptive_fields_of_specs([receptive.LayerSpec("s0", 3, stride=0)], 5)
    free = keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(1, 3)])
    with pytest.raises(ModelError):
        receptive.receptive_fields(free)
    assert receptive.receptive_fields(free, input_size=10)[0].output_hw == (8, 8)


# ------------------------------------------------------------------ pooling helpers
def test_pool2d_matches_keras_pooling():
    from cnnviz import pooling

    rng = np.random.default_rng(3)
    fmap = rng.normal(size=(13, 10, 4)).astype("float32")
    for size, stride in [(2, None), (3, 2), (2, 1), (4, 3)]:
        s = stride or size
        for mode, layer in (("max", layers.MaxPooling2D), ("average", layers.AveragePooling2D)):
            ref = np.asarray(layer(size, strides=s)(fmap[None]))[0]
            ours = pooling.pool2d(fmap, size, stride, mode)
            np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    assert pooling.pool2d(fmap[..., 0], 2).shape == (6, 5)
    with pytest.raises(CnnvizError):
        pooling.pool2d(fmap, 14)
    with pytest.raises(CnnvizError):
        pooling.pool2d(fmap, 2, 0)
    with pytest.raises(CnnvizError):
        pooling.pool2d(fmap, 2, mode="median")


def test_shift_image_and_costs():
    from cnnviz import pooling

    image = np.arange(30).reshape(5, 6)
    moved = pooling.shift_image(image, 2)
    np.testing.assert_array_equal(moved[:, 2:], image[:, :-2])
    np.testing.assert_array_equal(moved[:, :2], image[:, :1].repeat(2, axis=1))  # edge copied
    np.testing.assert_array_equal(pooling.shift_image(image, -1, 1)[1:, :-1], image[:-1, 1:])
    with pytest.raises(CnnvizError):
        pooling.shift_image(image, 6)
    assert pooling.conv_macs(32, 32, 3, 64, 64) == 4 * pooling.conv_macs(16, 16, 3, 64, 64)


def test_shift_probe_on_a_known_model():
    """Global pooling of a conv map is shift invariant on a flat background: the
    conv layer changes, the prediction does not."""
    from cnnviz import pooling

    inp = keras.Input((24, 24, 1))
    conv = layers.Conv2D(2, 3, padding="same", name="conv")(inp)
    out = layers.Dense(2, name="logits")(layers.GlobalMaxPooling2D(name="gmp")(conv))
    model = keras.Model(inp, out)
    image = np.zeros((24, 24, 1), dtype="float32")
    image[8:12, 6:10] = 1.0  # a square far from the borders
    probe = pooling.shift_probe(model, image, [0, 1, 3])
    assert probe.layers == ["conv"]
    assert probe.change[0, 0] == 0 and probe.change[1, 0] > 0.1
    np.testing.assert_allclose(probe.prob_original, probe.prob_original[0], atol=1e-5)
    assert probe.same_prediction.tolist() == [1.0, 1.0, 1.0]
    batch = pooling.shift_probe(model, np.stack([image, image]), [1, 2])
    assert batch.shifts == [0, 1, 2] and batch.predicted.shape == (2, 3)


def test_mass_radius():
    erf = np.zeros((11, 11))
    erf[5, 5] = 1.0
    assert receptive.mass_radius(erf, (5, 5)) == 0
    erf[5, 8] = 3.0  # three quarters of the mass 3 pixels away
    assert receptive.mass_radius(erf, (5, 5), 0.5) == 3
    assert receptive.mass_radius(np.zeros((4, 4)), (1, 1)) == 0


def test_pair_costs_from_the_models():
    """The pair's per-layer parameters and multiply-adds, read from the Keras models:
    pooling leaves the convolutions' weights alone and shrinks the Dense head 64x."""
    from cnnviz import pooling

    models = pooling.build_pair(5)
    costs = {name: pooling.layer_costs(model) for name, model in models.items()}
    for name, model in models.items():
        assert sum(c.params for c in costs[name]) == model.count_params()
    assert pooling.head_params(costs["pooled"]) == 4 * 4 * 16 * 5 + 5 == 1285
    assert pooling.head_params(costs["plain"]) == 32 * 32 * 16 * 5 + 5 == 81925
    plain = {c.name: c for c in costs["plain"]}
    assert plain["conv2"].macs == pooling.conv_macs(32, 32, 3, 8, 16)
    assert plain["logits"].macs == 16384 * 5 and not plain["conv3"].head
    assert [c.name for c in costs["pooled"] if c.head] == ["flatten", "logits"]
    sentence = pooling.costs_sentence(costs)
    assert "**81,925** of its 85,637 parameters (96%)" in sentence
    assert "**1,285** of 4,997 (26%): 64x fewer" in sentence
    assert "after 3 poolings" in sentence


def test_pair_comparisons_follow_the_numbers():
    """Each outcome sentence of the pooled-vs-plain pair says what was measured: the
    opposite result, or one within noise or with disagreeing seeds, changes it."""
    from cnnviz import pooling

    assert pooling.difference_noise(0.5, 0.5, 100) == pytest.approx(2 * np.sqrt(0.5 / 100))
    better = pooling.compare([0.95, 0.93], [0.80, 0.78], 300)
    worse = pooling.compare([0.80, 0.78], [0.95, 0.93], 300)
    close = pooling.compare([0.90, 0.91], [0.89, 0.90], 300)
    split = pooling.compare([0.95, 0.70], [0.80, 0.85], 300)  # +15 and -15 points
    assert (better.verdict, worse.verdict, close.verdict, split.verdict) == \
        ("higher", "lower", "same", "same")
    assert "2 seeds, differences from +15 to +15 points" in better.spread()
    assert "one seed" in pooling.compare([0.9], [0.5], 300).spread()
    def head(params: int) -> list:  # a net's costs whose Dense head holds ``params``
        return [pooling.LayerCost("conv1", "Conv2D", (8, 8, 4), 40, 1000, False),
                pooling.LayerCost("logits", "Dense", (5,), params, params, True)]

    costs = {"pooled": head(1285), "plain": head(81925)}
    sentences = {name: " ".join(pooling.accuracy_sentence(c, 300, costs))
                 for name, c in [("better", better), ("worse", worse), ("close", close),
                                 ("split", split)]}
    assert "the plain head's 64x more weights" in sentences["better"]
    smaller = {"pooled": head(1000), "plain": head(4000)}  # the ratio is read, not assumed
    assert "the plain head's 4x more weights" in " ".join(
        pooling.accuracy_sentence(better, 300, smaller))
    assert "**The pooled net generalises better.**" in sentences["better"]
    assert "**Here the plain net generalises better**" in sentences["worse"]
    assert "within noise" in sentences["close"]
    assert "the seeds disagree" in sentences["split"]
    assert f"above {100 * better.noise:.0f} points" in sentences["better"]
    head = {"pooled": 0.2, "plain": 0.6}
    shifted = {name: pooling.pair_shift_sentence(c, 2, head)
               for name, c in [("better", better), ("worse", worse), ("close", close)]}
    assert "**Pooling made the prediction steadier.**" in shifted["better"][0]
    assert "**Here the plain net was steadier**" in shifted["worse"][0]
    assert "**No measurable difference.**" in shifted["close"][0]
    assert "changes by 20% (pooled) and 60% (plain)" in shifted["close"][1]
    # what a student reads on the projector stays short (cnnviz.ui.layout's rule)
    for short, _ in [*shifted.values(), *(pooling.accuracy_sentence(c, 300, costs)
                                          for c in (better, worse, close, split))]:
        assert len(short.split()) <= 30, short
    assert [pooling.shift_answer(c) for c in (better, close, worse)] == \
        list(pooling.SHIFT_ANSWERS)


def _probe(predicted, prob, change, layers=("conv1", "pool1", "conv2", "pool2")):
    from cnnviz import pooling

    predicted = np.asarray(predicted)
    return pooling.ShiftProbe(list(range(predicted.shape[1])), list(layers),
                              np.asarray(change, float), predicted, np.asarray(prob, float))


def test_shift_probe_sentences_follow_the_numbers():
    """The built-in model's shift sentences: a steady, a wavering and a flipping
    prediction; pooling layers that cut the change, and ones that add to it."""
    from cnnviz import pooling

    names = ["circle", "square", "triangle"]
    change = [[0, 0, 0, 0], [0.5, 0.3, 0.6, 0.4], [0.8, 0.6, 0.9, 0.7]]
    steady = _probe([[0, 0, 0]], [0.9, 0.88, 0.86], change)
    wavers = _probe([[0, 0, 0]], [0.9, 0.7, 0.6], change)
    flips = _probe([[0, 0, 1]], [0.9, 0.7, 0.3], change)
    assert "stays **circle**" in pooling.prediction_sentence(steady, names)
    assert "under our 10" in pooling.prediction_sentence(steady, names)
    assert "moves by 30 points (≥ 10)" in pooling.prediction_sentence(wavers, names)
    assert "**changes** from circle to square" in pooling.prediction_sentence(flips, names)
    assert "**every pooling layer cut the change**" in pooling.pooling_layers_sentence(steady)
    added = _probe([[0, 0, 0]], [0.9] * 3, [[0] * 4, [0.3, 0.5, 0.4, 0.6], [0] * 4])
    assert "**every pooling layer added to the change**" in \
        pooling.pooling_layers_sentence(added)
    mixed = _probe([[0, 0, 0]], [0.9] * 3, [[0] * 4, [0.5, 0.3, 0.4, 0.6], [0] * 4])
    assert "**some pooling layers cut the change" in pooling.pooling_layers_sentence(mixed)
    none = _probe([[0, 0, 0]], [0.9] * 3, [[0] * 2, [0.5, 0.6], [0] * 2], ("conv1", "conv2"))
    assert "no pooling layer" in pooling.pooling_layers_sentence(none)


def test_peak_sentence_follows_the_numbers():
    from cnnviz import pooling

    fmap = np.zeros((6, 6))
    fmap[2, 2] = 1.0
    assert "keeps **100%**" in pooling.peak_sentence(fmap, pooling.pool2d(fmap, 2), "max", 2, 2)
    skipped = pooling.pool2d(fmap, 2, 3)  # windows at 0 and 3: the peak at 2 falls between
    assert "drops to **0%**" in pooling.peak_sentence(fmap, skipped, "max", 2, 3)
    assert "blur" in pooling.peak_sentence(fmap, pooling.pool2d(fmap, 2, mode="average"),
                                           "average", 2, 2)


def test_the_course_offers_the_shift_questions_answers():
    """The lesson's poll counts the answers the page scores."""
    import tomllib
    from pathlib import Path

    from cnnviz import pooling

    course = tomllib.loads((Path(__file__).resolve().parents[1] / "lessons" / "course.toml")
                           .read_text())
    step = next(s for s in course["steps"] if s["question"].get("id") == "pool_shift")
    assert tuple(step["question"]["options"]) == pooling.SHIFT_ANSWERS
