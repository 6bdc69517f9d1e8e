"""1x1 convolutions and inception blocks, run on real feature maps.

``pointwise`` takes the feature map of a real layer of a real model and
applies a 1x1 convolution to it, so a student can follow one pixel: its
C-value channel vector, the C x K weight matrix, and the K weighted sums that
become the output channels at that same pixel. ``inception_outputs`` runs one
real input through a real inception block and returns what each branch made.
The cost functions give the multiply-accumulate counts the two ideas are about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import architecture as A
from cnnviz import probe
from cnnviz.activations import extract
from cnnviz.errors import ModelError


def feature_map(model, images: np.ndarray, layer_name: str) -> np.ndarray:
    """Output of ``layer_name`` for a preprocessed batch, float32 (n, h, w, c)."""
    probe.find_layer(model, layer_name)  # a readable error for an unknown name
    if layer_name not in feature_layers(model):
        raise ModelError(f"'{layer_name}' does not output a feature map (h, w, c).")
    return extract(model, images, [layer_name])[layer_name]


def feature_layers(model) -> list[str]:
    """Names of the layers whose output a 1x1 convolution can take: every layer with a
    4-D output (height, width, channels), input excluded."""
    return probe.spatial_layers(model)


@dataclass(frozen=True)
class Pointwise:
    """A 1x1 convolution applied to a real feature map, seen at one pixel."""

    inputs: np.ndarray  # (h, w, C) the real feature map
    weights: np.ndarray  # (C, K) the 1x1 kernel
    bias: np.ndarray  # (K,)
    outputs: np.ndarray  # (h, w, K) computed by the Keras Conv2D layer
    vector: np.ndarray  # (C,) channel vector at the pixel
    products: np.ndarray  # (C, K) vector[:, None] * weights
    sums: np.ndarray  # (K,) products.sum(0) + bias == outputs[row, col]


def pointwise(fmap: np.ndarray, out_channels: int, row: int, col: int, *, seed: int = 0,
              weights: np.ndarray | None = None, bias: np.ndarray | None = None) -> Pointwise:
    """Apply a real ``keras.layers.Conv2D(out_channels, 1)`` to ``fmap`` (h, w, C).

    ``weights`` (C, K) and ``bias`` default to a He-normal initialisation with
    ``seed`` (a freshly made 1x1 layer); pass a trained layer's kernel instead
    to see trained channel mixing.
    """
    import keras

    fmap = np.asarray(fmap, dtype=np.float32)
    h, w, c = fmap.shape
    if not (0 <= row < h and 0 <= col < w):
        raise ModelError(f"Pixel ({row}, {col}) is outside the {h}x{w} feature map.")
    layer = keras.layers.Conv2D(int(out_channels), 1,
                                kernel_initializer=keras.initializers.HeNormal(seed=seed))
    layer.build((None, h, w, c))
    if weights is not None:
        layer.set_weights([np.asarray(weights, np.float32).reshape(1, 1, c, -1),
                           np.zeros(int(out_channels), np.float32) if bias is None
                           else np.asarray(bias, np.float32)])
    kernel, b = (np.asarray(v) for v in layer.get_weights())
    outputs = np.asarray(layer(fmap[None]))[0]
    vector = fmap[row, col]
    kernel = kernel.reshape(c, -1)
    products = vector[:, None] * kernel
    return Pointwise(fmap, kernel, b, outputs, vector, products, products.sum(0) + b)


def bottleneck_cost(h: int, w: int, c_in: int, c_out: int, kernel: int,
                    bottleneck: int) -> dict:
    """MACs and parameters of a k x k conv C_in->C_out, directly and via a 1x1 to k ch."""
    direct = h * w * c_out * kernel * kernel * c_in
    reduce = h * w * bottleneck * c_in
    conv = h * w * c_out * kernel * kernel * bottleneck
    return {
        "direct_macs": direct, "direct_params": kernel * kernel * c_in * c_out + c_out,
        "reduce_macs": reduce, "conv_macs": conv, "bottleneck_macs": reduce + conv,
        "bottleneck_params": c_in * bottleneck + bottleneck
        + kernel * kernel * bottleneck * c_out + c_out,
        "saving": direct / max(reduce + conv, 1),
    }


def inception_cost(h: int, w: int, c_in: int, filters: int) -> dict:
    """MACs of the naive block (3x3 and 5x5 straight on the input, pool passed on)
    vs the block with 1x1 bottlenecks; channels each one outputs."""
    b = A.inception_filters(filters)
    naive = h * w * c_in * (b["b1"] + 9 * b["b3"] + 25 * b["b5"])
    row = A.analyze([A.LayerSpec("inception", filters=filters, activation="relu")],
                    (h, w, c_in))[0]
    return {
        "naive_macs": naive, "naive_channels": b["b1"] + b["b3"] + b["b5"] + c_in,
        "bottleneck_macs": row.macs, "bottleneck_channels": row.shape[-1],
        "bottleneck_params": row.params, "saving": naive / max(row.macs, 1),
    }


BRANCHES = ("1x1", "1x1 → 3x3", "1x1 → 5x5", "3x3 max-pool → 1x1")
#: the widest window of each branch (stride 1): what it adds to its input's view
BRANCH_WINDOWS = dict(zip(BRANCHES, (1, 3, 5, 3)))


def branch_receptive_fields(rf: int, jump: int) -> dict[str, int]:
    """Side in image pixels of what one output pixel of each branch sees, for a block
    whose input units see ``rf`` pixels and sit ``jump`` pixels apart: a k x k window
    adds (k - 1) * jump pixels (1x1 convs add none)."""
    return {branch: rf + (k - 1) * jump for branch, k in BRANCH_WINDOWS.items()}


def inception_outputs(fmap: np.ndarray, filters: int, *, seed: int = 0) -> dict:
    """Run one feature map (h, w, C) through a real inception block.

    Returns {'branches': {name: (h, w, k) array}, 'concat': (h, w, sum k),
    'model': the keras block}. The concatenation is checked to be the
    branches side by side along channels.
    """
    fmap = np.asarray(fmap, dtype=np.float32)
    spec = [A.LayerSpec("inception", filters=int(filters), activation="relu")]
    block = A.build_model(spec, fmap.shape, seed=seed)
    name = A.layer_name(1, spec[0])  # the Concatenate layer that ends the block
    ends = [f"{name}_1x1", f"{name}_3x3", f"{name}_5x5", f"{name}_pool_proj"]
    *parts, concat = (maps[0] for maps in extract(block, fmap[None], [*ends, name]).values())
    assert np.allclose(np.concatenate(parts, axis=-1), concat)
    return {"branches": dict(zip(BRANCHES, parts)), "concat": concat, "model": block}


def inception_cost_records(blocks) -> list[dict]:
    """Naive vs bottleneck cost of each (label, h, w, c, filters) block, for a table."""
    records = []
    for label, h, w, c, f in blocks:
        cost = inception_cost(h, w, c, f)
        records.append({"block": label, "input": f"{h}x{w}x{c}", "F": f,
                        "naive MACs": f"{cost['naive_macs']:,}",
                        "naive out ch": cost["naive_channels"],
                        "bottleneck MACs": f"{cost['bottleneck_macs']:,}",
                        "bottleneck out ch": cost["bottleneck_channels"],
                        "saving": f"{cost['saving']:.1f}x"})
    return records
