"""Receptive fields: which input pixels one unit of a deep layer can see.

Receptive-field arithmetic, per spatial axis, for a layer with kernel k,
stride s, dilation d and p pixels of padding before the first pixel
(effective kernel e = d*(k-1) + 1):

    size_out  = size_in + (e - 1) * jump_in      # the kernel reaches e input units
    jump_out  = jump_in * s                      # distance between neighbours, in pixels
    start_out = start_in + ((e - 1) / 2 - p) * jump_in   # centre of the first unit

``start`` is the centre of output unit 0's receptive field in input-pixel
coordinates (pixel centres at 0, 1, 2, ...); unit i is centred at
``start + i * jump``. Strides and pooling multiply the jump, so every later
3x3 kernel adds more pixels: that is how a pyramid lets a deep unit see much of
the image with few parameters.

The theoretical receptive field is every pixel that *can* influence a unit;
the *effective* receptive field (``effective_rf``) is how strongly each pixel
*does*, measured by the gradient, and is concentrated near the centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnviz import probe
from cnnviz.activations import extract
from cnnviz.errors import ModelError


@dataclass(frozen=True)
class LayerRF:
    """Receptive field of one layer's units, per axis (rows, columns)."""

    name: str
    kind: str  # a short description, e.g. "Conv2D 3x3 s1"
    output_hw: tuple[int, int]
    size_hw: tuple[int, int]
    jump_hw: tuple[int, int]
    start_hw: tuple[float, float]

    @property
    def size(self) -> int:
        """Receptive field size in pixels (the larger axis if they differ)."""
        return max(self.size_hw)

    @property
    def jump(self) -> int:
        """Distance in input pixels between neighbouring units (product of strides)."""
        return max(self.jump_hw)

    @property
    def start(self) -> float:
        """Centre of unit (0, 0)'s receptive field, in input pixels (row axis)."""
        return self.start_hw[0]

    def box(self, row: int, col: int, image_hw: tuple[int, int] | None = None):
        """(top, left, bottom, right) pixel box seen by unit (row, col), inclusive.

        Clipped to the image when ``image_hw`` is given (padding pixels are not
        in the image).
        """
        out = []
        for axis, idx in enumerate((row, col)):
            centre = self.start_hw[axis] + idx * self.jump_hw[axis]
            lo = centre - (self.size_hw[axis] - 1) / 2
            hi = centre + (self.size_hw[axis] - 1) / 2
            if image_hw is not None:
                lo, hi = max(lo, 0), min(hi, image_hw[axis] - 1)
            out.append((int(math.floor(lo + 1e-9)), int(math.ceil(hi - 1e-9))))
        (top, bottom), (left, right) = out
        return top, left, bottom, right


@dataclass(frozen=True)
class LayerSpec:
    """One spatial layer for the pure-numpy builder: a conv or pooling window."""

    name: str
    kernel: int
    stride: int = 1
    dilation: int = 1
    padding: str = "same"  # "same" | "valid"
    kind: str = "conv"


@dataclass
class _Axis:
    n: int  # number of units along the axis
    size: int
    jump: int
    start: float


def _window(ax: _Axis, k: int, s: int, d: int, padding: str) -> _Axis:
    if k < 1 or s < 1 or d < 1:
        raise ModelError(f"Kernel, stride and dilation must be >= 1 (got {k}, {s}, {d}).")
    e = d * (k - 1) + 1
    if padding == "same":
        total = max((math.ceil(ax.n / s) - 1) * s + e - ax.n, 0)
    elif padding == "valid":
        total = 0
    else:
        raise ModelError(f"Unsupported padding {padding!r} (use 'same' or 'valid').")
    before = total // 2
    n_out = (ax.n + total - e) // s + 1
    if n_out < 1:
        raise ModelError(f"A {e}-pixel window does not fit in {ax.n} units: no output left.")
    return _Axis(n_out, ax.size + (e - 1) * ax.jump, ax.jump * s,
                 ax.start + ((e - 1) / 2 - before) * ax.jump)


def _row(name, kind, axes) -> LayerRF:
    return LayerRF(name, kind, (axes[0].n, axes[1].n), (axes[0].size, axes[1].size),
                   (axes[0].jump, axes[1].jump), (axes[0].start, axes[1].start))


def receptive_fields_of_specs(specs, input_size: int) -> list[LayerRF]:
    """Receptive fields of a plain stack of square conv/pool layers (no Keras needed)."""
    axes = [_Axis(int(input_size), 1, 1, 0.0) for _ in range(2)]
    rows = []
    for spec in specs:
        axes = [_window(a, spec.kernel, spec.stride, spec.dilation, spec.padding) for a in axes]
        kind = f"{spec.kind} {spec.kernel}x{spec.kernel} stride {spec.stride}"
        if spec.dilation > 1:
            kind += f" dilation {spec.dilation}"
        rows.append(_row(spec.name, kind, axes))
    return rows


def pyramid(blocks: int, convs: int, kernel: int = 3, down: str = "pool") -> list[LayerSpec]:
    """A pyramid of ``blocks`` blocks of ``convs`` k×k "same" convolutions, each block
    ended by ``down``: "pool" (2x2 max pooling), "stride" (its last convolution has
    stride 2) or "none"."""
    if down not in ("pool", "stride", "none"):
        raise ModelError(f"Downsampling is 'pool', 'stride' or 'none', not {down!r}.")
    specs = []
    for b in range(1, blocks + 1):
        for c in range(1, convs + 1):
            stride = 2 if down == "stride" and c == convs else 1
            specs.append(LayerSpec(f"b{b} conv{c}" + (" /2" if stride == 2 else ""), kernel,
                                   stride))
        if down == "pool":
            specs.append(LayerSpec(f"b{b} pool", 2, 2, padding="valid", kind="pool"))
    return specs


# ------------------------------------------------------------------- Keras models
_CONV = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
_POOL = ("MaxPooling2D", "AveragePooling2D")
_UNSUPPORTED = ("Conv2DTranspose", "UpSampling2D", "Resizing")


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


def _pads(v):
    """ZeroPadding2D / Cropping2D config -> ((top, bottom), (left, right))."""
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v)), (int(v), int(v))
    a, b = v
    a = (a, a) if isinstance(a, (int, np.integer)) else tuple(a)
    b = (b, b) if isinstance(b, (int, np.integer)) else tuple(b)
    return (int(a[0]), int(a[1])), (int(b[0]), int(b[1]))


def _apply_layer(layer, inputs: list[list[_Axis]], out_shape) -> tuple[list[_Axis], str]:
    cls = type(layer).__name__
    cfg = layer.get_config()
    if cfg.get("data_format") == "channels_first":
        raise ModelError(f"Layer {layer.name} is channels-first; cnnviz expects channels-last.")
    if cls in _UNSUPPORTED:
        raise ModelError(f"Layer {layer.name} ({cls}) upsamples; receptive fields of "
                         "decoder-style models are not supported.")
    if len(inputs) > 1:  # Add, Concatenate, Multiply...: union of aligned fields
        return _merge(layer, inputs), cls
    axes = inputs[0]
    if cls in _CONV or cls in _POOL:
        if cls in _CONV:
            k, s, d = _pair(cfg["kernel_size"]), _pair(cfg["strides"]), _pair(cfg["dilation_rate"])
        else:
            k = _pair(cfg["pool_size"])
            s, d = _pair(cfg["strides"] or k), (1, 1)
        new = [_window(a, k[i], s[i], d[i], cfg["padding"]) for i, a in enumerate(axes)]
        kind = f"{cls} {k[0]}x{k[1]} stride {s[0]}" + (f" dilation {d[0]}" if max(d) > 1 else "")
        return new, kind
    if cls in ("ZeroPadding2D", "Cropping2D"):
        key = "padding" if cls == "ZeroPadding2D" else "cropping"
        sign = -1 if cls == "ZeroPadding2D" else 1
        new = []
        for a, (before, after) in zip(axes, _pads(cfg[key])):
            n = a.n + (before + after) * (-sign)
            new.append(_Axis(n, a.size, a.jump, a.start + sign * before * a.jump))
        return new, cls
    # anything else must act on each pixel on its own (activation, BatchNorm, 1x1 Dense...)
    if out_shape is not None and tuple(out_shape[1:3]) != (axes[0].n, axes[1].n):
        raise ModelError(f"cnnviz cannot work out how layer {layer.name} ({cls}) changes "
                         "the image size, so it cannot compute receptive fields through it.")
    return [_Axis(a.n, a.size, a.jump, a.start) for a in axes], cls


def _merge(layer, inputs: list[list[_Axis]]) -> list[_Axis]:
    out = []
    for axis in range(2):
        branch = [axes[axis] for axes in inputs]
        if len({(b.n, b.jump) for b in branch}) > 1:
            raise ModelError(f"Layer {layer.name} merges feature maps of different resolution.")
        lo = min(b.start - (b.size - 1) / 2 for b in branch)
        hi = max(b.start + (b.size - 1) / 2 for b in branch)
        out.append(_Axis(branch[0].n, int(round(hi - lo)) + 1, branch[0].jump, (lo + hi) / 2))
    return out


def _is_spatial(shape) -> bool:
    return shape is not None and len(shape) == 4


def receptive_fields(model, *, input_size: int | tuple[int, int] | None = None) -> list[LayerRF]:
    """Receptive field of every layer with a 4-D (spatial) output, in graph order.

    Works for Sequential and functional models built from Conv2D (any kernel,
    stride, dilation, "same"/"valid" padding), Depthwise/Separable convs,
    Max/AveragePooling2D, ZeroPadding2D, Cropping2D, pixel-wise layers and merges
    (Add/Concatenate: the union of the branches). Layers after Flatten or global
    pooling see the whole image and are left out. ``input_size`` is needed only
    when the model's input has no fixed size.
    """
    in_shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else None
    if input_size is not None:
        hw = _pair(input_size)
    elif in_shape is not None and len(in_shape) == 4 and None not in in_shape[1:3]:
        hw = (int(in_shape[1]), int(in_shape[2]))
    else:
        raise ModelError("The model's input has no fixed size; pass input_size=...")
    if in_shape is not None and len(in_shape) != 4:
        raise ModelError("Receptive fields need a model whose input is an image (H, W, C).")
    start = [_Axis(hw[0], 1, 1, 0.0), _Axis(hw[1], 1, 1, 0.0)]

    rows: list[LayerRF] = []
    known = {id(t): start for t in model.inputs}
    for layer, ins, out in probe.layer_calls(model):
        if not ins or any(id(t) not in known for t in ins):
            continue  # after the spatial part of the graph
        if len(out) != 1 or not _is_spatial(out[0].shape):
            continue  # Flatten, global pooling, Dense on vectors: the whole image
        axes, kind = _apply_layer(layer, [known[id(t)] for t in ins], tuple(out[0].shape))
        known[id(out[0])] = axes
        rows.append(_row(layer.name, kind, axes))
    if not rows:
        raise ModelError("This model has no convolution or pooling layers to analyse.")
    return rows


# ------------------------------------------------------------------- measured (TF)
def window_layers(model) -> list[LayerRF]:
    """The receptive fields after the layers that change them: convolutions and pooling
    (BatchNorm, activations and the head leave them as they are)."""
    return [r for r in receptive_fields(model) if "x" in r.kind]


def effective_rf(model, layer_name: str, image, row: int, col: int) -> np.ndarray:
    """|d(unit) / d(input)| for the unit at (row, col) of ``layer_name``, summed over
    colour channels: float32 (H, W). ``image`` is one preprocessed (H, W, 3) image.

    The unit is the sum over the layer's channels at that position, so the map
    is not empty when a single ReLU channel happens to be off. An all-zero map
    means every channel is switched off (ReLU) at that position for this image.
    """
    import tensorflow as tf

    sub = probe.feature_model(model, [layer_name])
    x = tf.convert_to_tensor(probe.as_batch(image, model)[:1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = probe.run(sub, x)[0]
        if not (0 <= row < y.shape[1] and 0 <= col < y.shape[2]):
            raise ModelError(f"Unit ({row}, {col}) is outside the {y.shape[1]}x{y.shape[2]} "
                             f"map of {layer_name}.")
        unit = tf.reduce_sum(y[0, row, col, :])
    grad = tape.gradient(unit, x)
    return np.abs(grad.numpy()[0]).sum(axis=-1)


def mass_radius(erf, centre, fraction: float = 0.5) -> int:
    """Smallest half-width r such that the (2r+1)-pixel square around ``centre``
    (row, col) holds ``fraction`` of the map's total mass (e.g. of |gradient|)."""
    erf = np.abs(np.asarray(erf, dtype=np.float64))
    total = erf.sum()
    if total == 0:
        return 0
    rr, cc = np.indices(erf.shape)
    dist = np.maximum(np.abs(rr - centre[0]), np.abs(cc - centre[1])).ravel()
    order = np.argsort(dist, kind="stable")
    mass = np.cumsum(erf.ravel()[order])
    first = int(np.searchsorted(mass, fraction * total - 1e-12 * total))
    return int(np.ceil(dist[order][min(first, len(order) - 1)]))


def layer_activation(model, layer_name: str, image) -> np.ndarray:
    """The (h, w, channels) output of ``layer_name`` for one preprocessed image."""
    return extract(model, image, [layer_name])[layer_name][0]


def size_chain(rfs: list[LayerRF], layer_name: str, *, last: int = 8) -> str:
    """How the receptive field grows up to ``layer_name``: "3 → 5 → 6 → … → 32" (the
    last ``last`` layers, in pixels), for a sentence that explains a layer's field."""
    names = [r.name for r in rfs]
    if layer_name not in names:
        raise ModelError(f"{layer_name!r} has no receptive field here; layers: "
                         f"{', '.join(names)}.")
    sizes = [str(r.size) for r in rfs[: names.index(layer_name) + 1]]
    shown = sizes if len(sizes) <= last else ["1", "…", *sizes[-last:]]
    return " → ".join(shown)
