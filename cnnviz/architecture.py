"""Design a small CNN as a list of layers and see what each choice costs.

A network is a ``list[LayerSpec]`` (plain dataclasses, JSON-able through
``spec_to_dicts`` / ``spec_from_dicts``) on an input of ``(height, width,
channels)``. ``analyze`` walks it in pure Python, without TensorFlow, and gives
one ``Row`` per layer: output shape, parameters, multiply-accumulates,
receptive field and activation memory. A layer that cannot work (the image
shrinks below one pixel, a dense layer on a 4-D tensor) is reported on its row
with a message instead of raising. ``build_model`` makes the real Keras
functional model of the same spec and ``keras_code`` writes the Keras code a
student can copy; the tests check that all three agree exactly.

Counting conventions (the same as ``keras.Model.count_params``):

* conv k x k, C_in -> F:  k*k*C_in*F weights + F biases;
  MACs = H_out * W_out * F * k*k*C_in (one multiply-add per weight per output
  pixel; FLOPs are about 2 x MACs).
* dense n -> m: n*m + m parameters, n*m MACs.
* batch norm over C channels: 4*C parameters (gamma, beta and the moving mean
  and variance, the last two not trained).
* pooling, dropout, flatten: no parameters; their few comparisons/additions
  are not counted as MACs.
* inception block (filters F, proportions of GoogLeNet's block 3a):
  1x1 -> F | 1x1 -> 1.5F then 3x3 -> 2F | 1x1 -> F/4 then 5x5 -> F/2 |
  3x3 max-pool then 1x1 -> F/2; the four outputs are concatenated (4F channels).
* residual block (filters F, stride s): 3x3 conv (stride s, no bias), batch
  norm, activation, 3x3 conv (no bias), batch norm, plus the shortcut, then the
  activation. The shortcut is the identity when the shape is unchanged, else a
  1x1 conv with stride s and batch norm (a "projection").
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, fields, replace

from cnnviz.errors import CnnvizError

#: layer kinds and what the builder calls them
KINDS = {
    "conv": "Convolution",
    "conv1x1": "1x1 convolution",
    "maxpool": "Max pooling",
    "avgpool": "Average pooling",
    "batchnorm": "Batch norm",
    "dropout": "Dropout",
    "inception": "Inception block",
    "residual": "Residual block",
    "gap": "Global average pooling",
    "gmp": "Global max pooling",
    "flatten": "Flatten",
    "dense": "Dense",
}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
PADDINGS = ("same", "valid")
FLOAT_BYTES = 4


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the builder. Fields a kind does not use are ignored.

    ``filters`` is the number of filters (conv, 1x1 conv, blocks) or units
    (dense); ``kernel``/``stride``/``padding`` apply to conv and pooling
    (a residual block uses ``stride``); ``rate`` applies to dropout.
    """

    kind: str
    filters: int = 16
    kernel: int = 3
    stride: int = 1
    padding: str = "same"
    activation: str = "relu"
    rate: float = 0.25


@dataclass(frozen=True)
class Row:
    """What one layer does to the tensor, computed without TensorFlow."""

    index: int
    name: str  # also the Keras layer name of the layer's output in build_model
    kind: str
    config: str
    shape: tuple[int, ...] | None  # output shape without the batch axis
    params: int
    macs: int
    rf: int | None  # receptive field side in input pixels; None = the whole input
    jump: int | None  # input pixels between neighbouring output units
    memory: int  # bytes of the output activations, float32, one image
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


#: the fields each kind uses (the builder blanks the others)
USED_FIELDS = {
    "conv": ("filters", "kernel", "stride", "padding", "activation"),
    "conv1x1": ("filters", "activation"),
    "maxpool": ("kernel", "stride", "padding"),
    "avgpool": ("kernel", "stride", "padding"),
    "batchnorm": (), "dropout": ("rate",),
    "inception": ("filters", "activation"),
    "residual": ("filters", "stride", "activation"),
    "gap": (), "gmp": (), "flatten": (),
    "dense": ("filters", "activation"),
}


def editor_records(spec: list[LayerSpec]) -> list[dict]:
    """Rows for a table editor: the fields a layer does not use are None (blank)."""
    return [{key: (value if key == "kind" or key in USED_FIELDS.get(layer.kind, ()) else None)
             for key, value in asdict(layer).items()} for layer in spec]


def layer_name(index: int, layer: LayerSpec) -> str:
    return f"{layer.kind}_{index}"


def inception_filters(filters: int) -> dict[str, int]:
    """Branch widths of an inception block, in GoogLeNet 3a's proportions (64 -> 256)."""
    f = max(1, int(filters))
    return {
        "b1": f,
        "b3_reduce": max(1, round(1.5 * f)), "b3": 2 * f,
        "b5_reduce": max(1, round(f / 4)), "b5": max(1, round(f / 2)),
        "pool_proj": max(1, round(f / 2)),
    }


def describe(layer: LayerSpec) -> str:
    """A short human description, e.g. 'conv 3x3 /2 same, 16 filters, relu'."""
    k, s = layer.kernel, layer.stride
    if layer.kind == "conv":
        return f"{k}x{k} /{s} {layer.padding}, {layer.filters} filters, {layer.activation}"
    if layer.kind == "conv1x1":
        return f"1x1, {layer.filters} filters, {layer.activation}"
    if layer.kind in ("maxpool", "avgpool"):
        return f"{k}x{k} /{s} {layer.padding}"
    if layer.kind == "dropout":
        return f"rate {layer.rate:g}"
    if layer.kind == "dense":
        return f"{layer.filters} units, {layer.activation}"
    if layer.kind == "inception":
        b = inception_filters(layer.filters)
        return (f"1x1:{b['b1']} | 1x1:{b['b3_reduce']}→3x3:{b['b3']} | "
                f"1x1:{b['b5_reduce']}→5x5:{b['b5']} | pool→1x1:{b['pool_proj']}")
    if layer.kind == "residual":
        return f"2 x 3x3, {layer.filters} filters, /{s}, {layer.activation}"
    return ""


# ---------------------------------------------------------------- analysis


def _conv_out(n: int, k: int, s: int, padding: str) -> int:
    """Output size of a conv/pool along one axis, exactly as Keras computes it."""
    if padding == "same":
        return -(-n // s)
    return (n - k) // s + 1


def _check(layer: LayerSpec) -> str | None:
    """A message when a setting is out of range, else None."""
    if layer.kind not in KINDS:
        return f"Unknown layer type '{layer.kind}'."
    uses_filters = layer.kind in ("conv", "conv1x1", "inception", "residual", "dense")
    if uses_filters and layer.filters < 1:
        return "Needs at least 1 filter/unit."
    if layer.kind in ("conv", "maxpool", "avgpool") and layer.kernel < 1:
        return "Kernel size must be at least 1."
    if layer.kind in ("conv", "maxpool", "avgpool", "residual") and layer.stride < 1:
        return "Stride must be at least 1."
    if layer.kind in ("conv", "maxpool", "avgpool") and layer.padding not in PADDINGS:
        return f"Padding must be one of {', '.join(PADDINGS)}."
    if layer.kind in ("conv", "conv1x1", "dense", "residual", "inception") and \
            layer.activation not in ACTIVATIONS:
        return f"Activation must be one of {', '.join(ACTIVATIONS)}."
    if layer.kind == "dropout" and not 0 <= layer.rate < 1:
        return "Dropout rate must be in [0, 1)."
    return None


def _step(layer: LayerSpec, shape: tuple[int, ...], rf: int | None, jump: int | None):
    """(shape, params, macs, rf, jump, error) after one layer."""
    kind = layer.kind
    spatial = len(shape) == 3
    if kind in ("conv", "conv1x1", "maxpool", "avgpool", "inception", "residual", "gap",
                "gmp") and not spatial:
        return None, 0, 0, rf, jump, (
            f"{KINDS[kind]} needs an image-shaped (H, W, C) input, but gets a flat vector "
            f"{shape}: move it before Flatten / global pooling / Dense.")
    if kind == "dense" and spatial:
        return None, 0, 0, rf, jump, (
            f"Dense needs a flat vector, but gets a {shape[0]}x{shape[1]}x{shape[2]} "
            "tensor: add Flatten or global pooling before it.")
    if kind in ("conv", "conv1x1", "maxpool", "avgpool", "residual"):
        k = 1 if kind == "conv1x1" else (3 if kind == "residual" else layer.kernel)
        s = 1 if kind == "conv1x1" else layer.stride
        padding = "same" if kind in ("conv1x1", "residual") else layer.padding
        h, w, c = shape
        oh, ow = _conv_out(h, k, s, padding), _conv_out(w, k, s, padding)
        if oh < 1 or ow < 1:
            return None, 0, 0, rf, jump, (
                f"The {h}x{w} input is smaller than the {k}x{k} window with 'valid' "
                "padding: the output would have no pixels. Use 'same' padding, a smaller "
                "kernel or fewer downsampling layers before it.")
        if kind in ("maxpool", "avgpool"):
            return (oh, ow, c), 0, 0, rf + (k - 1) * jump, jump * s, None
        f = layer.filters
        if kind == "residual":
            params = 9 * c * f + 4 * f + 9 * f * f + 4 * f
            macs = oh * ow * f * (9 * c + 9 * f)
            if s != 1 or c != f:
                params += c * f + 4 * f
                macs += oh * ow * f * c
            return (oh, ow, f), params, macs, rf + 2 * jump + 2 * jump * s, jump * s, None
        params = k * k * c * f + f
        return (oh, ow, f), params, oh * ow * f * k * k * c, rf + (k - 1) * jump, jump * s, None
    if kind == "inception":
        h, w, c = shape
        b = inception_filters(layer.filters)
        weights = (c * b["b1"] + c * b["b3_reduce"] + 9 * b["b3_reduce"] * b["b3"]
                   + c * b["b5_reduce"] + 25 * b["b5_reduce"] * b["b5"] + c * b["pool_proj"])
        biases = b["b1"] + b["b3_reduce"] + b["b3"] + b["b5_reduce"] + b["b5"] + b["pool_proj"]
        out_c = b["b1"] + b["b3"] + b["b5"] + b["pool_proj"]
        return (h, w, out_c), weights + biases, h * w * weights, rf + 4 * jump, jump, None
    if kind == "batchnorm":
        return shape, 4 * shape[-1], 0, rf, jump, None
    if kind == "dropout":
        return shape, 0, 0, rf, jump, None
    if kind in ("gap", "gmp"):
        return (shape[-1],), 0, 0, None, None, None
    if kind == "flatten":
        return (math.prod(shape),), 0, 0, None, None, None
    if kind == "dense":
        n = shape[0]
        return (layer.filters,), n * layer.filters + layer.filters, n * layer.filters, \
            None, None, None
    raise AssertionError(kind)  # pragma: no cover - _check rejects unknown kinds


def analyze(spec: list[LayerSpec], input_shape: tuple[int, int, int]) -> list[Row]:
    """The per-layer table of ``spec`` on ``input_shape`` (H, W, C), pure Python.

    Never raises for a bad architecture: the first layer that cannot work gets
    an ``error`` and the layers after it are marked as not computed.
    """
    shape: tuple[int, ...] | None = tuple(int(v) for v in input_shape)
    rf: int | None = 1
    jump: int | None = 1
    rows = []
    broken = False
    for index, layer in enumerate(spec, start=1):
        name = layer_name(index, layer)
        if broken:
            rows.append(Row(index, name, layer.kind, describe(layer), None, 0, 0, None, None,
                            0, "Not computed: an earlier layer is invalid."))
            continue
        error = _check(layer)
        if error is None:
            new_shape, params, macs, rf, jump, error = _step(layer, shape, rf, jump)
        if error is not None:
            broken = True
            rows.append(Row(index, name, layer.kind, describe(layer), None, 0, 0, None, None,
                            0, error))
            continue
        shape = new_shape
        rows.append(Row(index, name, layer.kind, describe(layer), shape, params, macs, rf,
                        jump, math.prod(shape) * FLOAT_BYTES))
    return rows


def totals(rows: list[Row]) -> dict:
    """Sums over the valid rows: parameters, MACs, activation memory."""
    good = [r for r in rows if r.ok]
    return {
        "params": sum(r.params for r in good),
        "macs": sum(r.macs for r in good),
        "memory": sum(r.memory for r in good),
        "valid": len(good) == len(rows),
        "output": good[-1].shape if good and len(good) == len(rows) else None,
    }


def table_records(rows: list[Row]) -> list[dict]:
    """Rows as display records (for a DataFrame)."""
    return [{
        "#": r.index,
        "layer": KINDS.get(r.kind, r.kind),
        "settings": r.config,
        "output shape": " x ".join(map(str, r.shape)) if r.shape else "—",
        "parameters": r.params if r.ok else None,
        "MACs": r.macs if r.ok else None,
        "receptive field": (f"{r.rf} px (jump {r.jump})" if r.rf is not None
                            else ("whole input" if r.ok else "—")),
        "activations (KB)": round(r.memory / 1024, 1) if r.ok else None,
        "problem": r.error or "",
    } for r in rows]


def human(n: float) -> str:
    """12_345_678 -> '12.3 M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:g}"


# ---------------------------------------------------------------- (de)serialising


def spec_to_dicts(spec: list[LayerSpec]) -> list[dict]:
    return [asdict(layer) for layer in spec]


def spec_from_dicts(records: list[dict]) -> list[LayerSpec]:
    """Build a spec from plain dicts (session state, JSON, a data editor's rows).

    Missing or empty values take the defaults; numbers are coerced to int/float.
    """
    names = {f.name: f for f in fields(LayerSpec)}
    default = LayerSpec("conv")
    spec = []
    for record in records:
        values = {}
        for key, value in record.items():
            if key not in names or value is None or (isinstance(value, float)
                                                      and math.isnan(value)):
                continue
            if key in ("filters", "kernel", "stride"):
                value = int(value)
            elif key == "rate":
                value = float(value)
            else:
                value = str(value)
            values[key] = value
        if not values.get("kind"):
            continue
        spec.append(replace(default, **values))
    return spec


def spec_to_json(spec: list[LayerSpec]) -> str:
    return json.dumps(spec_to_dicts(spec))


def spec_from_json(text: str) -> list[LayerSpec]:
    try:
        records = json.loads(text)
    except ValueError as error:
        raise CnnvizError(f"Not a valid architecture description: {error}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise CnnvizError("An architecture is a list of layers ({'kind': ..., ...}).")
    return spec_from_dicts(records)


# ---------------------------------------------------------------- the network as text

#: the range of each setting a layer (and the input) may have: the builder's table and
#: a link's ``net`` text are held to the same limits
LIMITS = {"filters": (1, 2048), "kernel": (1, 11), "stride": (1, 8), "rate": (0.0, 0.95)}
INPUT_LIMITS = {"height": (1, 512), "width": (1, 512), "channels": (1, 64)}
# ---------------------------------------------------------------- presets


def _conv(f, k=3, s=1, padding="same", activation="relu"):
    return LayerSpec("conv", filters=f, kernel=k, stride=s, padding=padding,
                     activation=activation)


PRESETS: dict[str, tuple[tuple[int, int, int], list[LayerSpec]]] = {
    # LeCun et al. 1998: 32x32 input, 6 and 16 5x5 filters, 2x2 subsampling, 120-84-10.
    "LeNet-5": ((32, 32, 1), [
        _conv(6, 5, padding="valid", activation="tanh"),
        LayerSpec("avgpool", kernel=2, stride=2),
        _conv(16, 5, padding="valid", activation="tanh"),
        LayerSpec("avgpool", kernel=2, stride=2),
        LayerSpec("flatten"),
        LayerSpec("dense", filters=120, activation="tanh"),
        LayerSpec("dense", filters=84, activation="tanh"),
        LayerSpec("dense", filters=10, activation="linear"),
    ]),
    # VGG's recipe, small: stacks of 3x3 convs, 2x2 max-pool halves, filters double.
    "Tiny VGG": ((64, 64, 3), [
        _conv(16), _conv(16), LayerSpec("maxpool", kernel=2, stride=2),
        _conv(32), _conv(32), LayerSpec("maxpool", kernel=2, stride=2),
        _conv(64), _conv(64), LayerSpec("maxpool", kernel=2, stride=2),
        LayerSpec("flatten"),
        LayerSpec("dense", filters=64), LayerSpec("dropout", rate=0.5),
        LayerSpec("dense", filters=5, activation="linear"),
    ]),
    "Tiny ResNet": ((64, 64, 3), [
        _conv(16, 7, 2), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=3, stride=2),
        LayerSpec("residual", filters=16), LayerSpec("residual", filters=16),
        LayerSpec("residual", filters=32, stride=2), LayerSpec("residual", filters=32),
        LayerSpec("gap"),
        LayerSpec("dense", filters=5, activation="linear"),
    ]),
    "Tiny Inception": ((64, 64, 3), [
        _conv(32, 3, 2), LayerSpec("maxpool", kernel=3, stride=2),
        LayerSpec("conv1x1", filters=32), _conv(64),
        LayerSpec("inception", filters=16), LayerSpec("inception", filters=24),
        LayerSpec("maxpool", kernel=3, stride=2),
        LayerSpec("inception", filters=32),
        LayerSpec("gap"), LayerSpec("dropout", rate=0.4),
        LayerSpec("dense", filters=5, activation="linear"),
    ]),
}


def preset(name: str) -> tuple[tuple[int, int, int], list[LayerSpec]]:
    if name not in PRESETS:
        raise CnnvizError(f"Unknown preset '{name}'. Choose one of {', '.join(PRESETS)}.")
    shape, spec = PRESETS[name]
    return shape, list(spec)


# ---------------------------------------------------------------- random architectures


def random_spec(rng: random.Random, input_shape: tuple[int, int, int],
                max_layers: int = 8) -> list[LayerSpec]:
    """A random VALID architecture on ``input_shape`` (for tests and 'surprise me')."""
    spatial_kinds = ("conv", "conv", "conv1x1", "maxpool", "avgpool", "batchnorm", "dropout",
                     "inception", "residual")
    while True:
        spec = []
        for _ in range(rng.randint(1, max_layers)):
            kind = rng.choice(spatial_kinds)
            spec.append(LayerSpec(
                kind, filters=rng.randint(1, 12), kernel=rng.randint(1, 5),
                stride=rng.choice((1, 1, 2, 3)) if kind != "residual" else rng.choice((1, 2)),
                padding=rng.choice(PADDINGS), activation=rng.choice(ACTIVATIONS),
                rate=rng.choice((0.0, 0.2, 0.5))))
        end = rng.choice(("gap", "gmp", "flatten", "none"))
        if end != "none":
            spec.append(LayerSpec(end))
            for _ in range(rng.randint(0, 2)):
                if rng.random() < 0.3:
                    spec.append(LayerSpec(rng.choice(("dropout", "batchnorm")),
                                          rate=0.1))
                spec.append(LayerSpec("dense", filters=rng.randint(1, 20),
                                      activation=rng.choice(ACTIVATIONS)))
        if all(r.ok for r in analyze(spec, input_shape)):
            return spec


# ---------------------------------------------------------------- Keras


def _act(activation: str):
    return None if activation == "linear" else activation


def build_model(spec: list[LayerSpec], input_shape: tuple[int, int, int], *, seed: int = 0):
    """The real (uncompiled) Keras functional model of a valid ``spec``.

    Each row's output is the Keras layer named ``Row.name`` (for blocks, the
    concatenation / the final activation).
    """
    import keras
    from keras import layers

    rows = analyze(spec, input_shape)
    bad = next((r for r in rows if not r.ok), None)
    if bad is not None:
        raise CnnvizError(f"Layer {bad.index} ({KINDS.get(bad.kind, bad.kind)}): {bad.error}")
    init = keras.initializers.GlorotUniform(seed=seed)

    def conv(x, f, k, s=1, padding="same", activation=None, name=None, bias=True):
        return layers.Conv2D(f, k, strides=s, padding=padding, activation=activation,
                             use_bias=bias, kernel_initializer=init, name=name)(x)

    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = inputs
    for row, layer in zip(rows, spec):
        name, act = row.name, _act(layer.activation)
        if layer.kind == "conv":
            x = conv(x, layer.filters, layer.kernel, layer.stride, layer.padding, act, name)
        elif layer.kind == "conv1x1":
            x = conv(x, layer.filters, 1, activation=act, name=name)
        elif layer.kind in ("maxpool", "avgpool"):
            pool = layers.MaxPooling2D if layer.kind == "maxpool" else layers.AveragePooling2D
            x = pool(layer.kernel, strides=layer.stride, padding=layer.padding, name=name)(x)
        elif layer.kind == "batchnorm":
            x = layers.BatchNormalization(name=name)(x)
        elif layer.kind == "dropout":
            x = layers.Dropout(layer.rate, seed=seed, name=name)(x)
        elif layer.kind == "inception":
            b = inception_filters(layer.filters)
            b1 = conv(x, b["b1"], 1, activation=act, name=f"{name}_1x1")
            b3 = conv(x, b["b3_reduce"], 1, activation=act, name=f"{name}_3x3_reduce")
            b3 = conv(b3, b["b3"], 3, activation=act, name=f"{name}_3x3")
            b5 = conv(x, b["b5_reduce"], 1, activation=act, name=f"{name}_5x5_reduce")
            b5 = conv(b5, b["b5"], 5, activation=act, name=f"{name}_5x5")
            bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
            bp = conv(bp, b["pool_proj"], 1, activation=act, name=f"{name}_pool_proj")
            x = layers.Concatenate(name=name)([b1, b3, b5, bp])
        elif layer.kind == "residual":
            f, s = layer.filters, layer.stride
            y = conv(x, f, 3, s, bias=False, name=f"{name}_conv1")
            y = layers.BatchNormalization(name=f"{name}_bn1")(y)
            y = layers.Activation(layer.activation, name=f"{name}_act1")(y)
            y = conv(y, f, 3, bias=False, name=f"{name}_conv2")
            y = layers.BatchNormalization(name=f"{name}_bn2")(y)
            shortcut = x
            if s != 1 or x.shape[-1] != f:
                shortcut = conv(x, f, 1, s, bias=False, name=f"{name}_proj")
                shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
            y = layers.Add(name=f"{name}_add")([y, shortcut])
            x = layers.Activation(layer.activation, name=name)(y)
        elif layer.kind == "gap":
            x = layers.GlobalAveragePooling2D(name=name)(x)
        elif layer.kind == "gmp":
            x = layers.GlobalMaxPooling2D(name=name)(x)
        elif layer.kind == "flatten":
            x = layers.Flatten(name=name)(x)
        elif layer.kind == "dense":
            x = layers.Dense(layer.filters, activation=act, kernel_initializer=init,
                             name=name)(x)
    return keras.Model(inputs, x, name="built_cnn")


_INCEPTION_CODE = '''
def inception_block(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, activation="relu"):
    """Four parallel branches at different scales, concatenated along channels."""
    b1 = layers.Conv2D(f1, 1, padding="same", activation=activation)(x)
    b3 = layers.Conv2D(f3_reduce, 1, padding="same", activation=activation)(x)
    b3 = layers.Conv2D(f3, 3, padding="same", activation=activation)(b3)
    b5 = layers.Conv2D(f5_reduce, 1, padding="same", activation=activation)(x)
    b5 = layers.Conv2D(f5, 5, padding="same", activation=activation)(b5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = layers.Conv2D(pool_proj, 1, padding="same", activation=activation)(bp)
    return layers.Concatenate()([b1, b3, b5, bp])
'''

_RESIDUAL_CODE = '''
def residual_block(x, filters, stride=1, activation="relu"):
    """Two 3x3 convolutions plus a shortcut: the block learns a correction to x."""
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation(activation)(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:  # shapes differ: project the input
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.Add()([y, shortcut])
    return layers.Activation(activation)(y)
'''


def keras_code(spec: list[LayerSpec], input_shape: tuple[int, int, int]) -> str:
    """Python source that builds the same model with Keras (defines ``model``)."""
    rows = analyze(spec, input_shape)
    lines = ["import keras", "from keras import layers", ""]
    kinds = {layer.kind for layer in spec}
    if "inception" in kinds:
        lines += _INCEPTION_CODE.strip("\n").splitlines() + [""]
    if "residual" in kinds:
        lines += _RESIDUAL_CODE.strip("\n").splitlines() + [""]
    lines.append(f"inputs = keras.Input(shape={tuple(int(v) for v in input_shape)})")
    lines.append("x = inputs")
    for row, layer in zip(rows, spec):
        act = repr(_act(layer.activation))
        k, s, p = layer.kernel, layer.stride, repr(layer.padding)
        code = {
            "conv": f"layers.Conv2D({layer.filters}, {k}, strides={s}, padding={p}, "
                    f"activation={act})(x)",
            "conv1x1": f"layers.Conv2D({layer.filters}, 1, activation={act})(x)",
            "maxpool": f"layers.MaxPooling2D({k}, strides={s}, padding={p})(x)",
            "avgpool": f"layers.AveragePooling2D({k}, strides={s}, padding={p})(x)",
            "batchnorm": "layers.BatchNormalization()(x)",
            "dropout": f"layers.Dropout({layer.rate:g})(x)",
            "gap": "layers.GlobalAveragePooling2D()(x)",
            "gmp": "layers.GlobalMaxPooling2D()(x)",
            "flatten": "layers.Flatten()(x)",
            "dense": f"layers.Dense({layer.filters}, activation={act})(x)",
            "residual": f"residual_block(x, {layer.filters}, stride={s}, "
                        f"activation={layer.activation!r})",
        }.get(layer.kind)
        if layer.kind == "inception":
            b = inception_filters(layer.filters)
            code = (f"inception_block(x, {b['b1']}, {b['b3_reduce']}, {b['b3']}, "
                    f"{b['b5_reduce']}, {b['b5']}, {b['pool_proj']}, activation={act})")
        shape = " x ".join(map(str, row.shape)) if row.shape else "INVALID: " + str(row.error)
        lines.append(f"x = {code}  # -> {shape}")
    lines.append("model = keras.Model(inputs, x)")
    lines.append("model.summary()")
    return "\n".join(lines) + "\n"


def check_with_keras(spec: list[LayerSpec], input_shape) -> tuple[bool, str]:
    """Build the real model; do its parameter count and layer shapes match the table?"""
    rows = analyze(spec, input_shape)
    model = build_model(spec, input_shape)
    shapes_ok = all(tuple(model.get_layer(r.name).output.shape[1:]) == r.shape for r in rows)
    params = totals(rows)["params"]
    same = model.count_params() == params and shapes_ok
    return same, (
        f"Keras: {model.count_params():,} parameters, output "
        f"{tuple(model.outputs[0].shape[1:])}; table: {params:,}. Every layer's output shape "
        f"{'matches' if shapes_ok else 'does NOT match'}.")
