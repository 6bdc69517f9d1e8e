"""1x1 convolutions and inception blocks, run on real feature maps.

``pointwise`` takes the feature map of a real layer of a real model and
applies a 1x1 convolution to it, so a student can follow one pixel: its
C-value channel vector, the C x K weight matrix, and the K weighted sums that
become the output channels at that same pixel. ``trained_block`` runs one
image through a trained inception block and measures, for each branch, what it
responds with and how large an area of the image moves it.
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


@dataclass(frozen=True)
class BranchScale:
    """One branch of a trained inception block, on one image: what it responds with,
    what it can see and what actually moves it."""

    branch: str  # one of BRANCHES
    layer: str  # the Keras layer that ends the branch
    maps: np.ndarray  # (h, w, k) the branch's response
    field: int  # theoretical receptive field side in image pixels
    erf: np.ndarray  # (H, W) |d centre unit / d image|, summed over colours
    radii: dict  # mass fraction -> half-width r: a (2r+1)-px square holds that share

    def side(self, fraction: float) -> int:
        """Side in pixels of the square around the unit's centre holding ``fraction`` of
        its |gradient| (0 when the unit is switched off for this image)."""
        return 2 * self.radii[fraction] + 1 if self.erf.any() else 0


@dataclass(frozen=True)
class TrainedBlock:
    """A trained inception block run on one image (see :func:`trained_block`)."""

    block: str  # the Concatenate layer that ends the block
    input_layer: str
    input_shape: tuple[int, int, int]  # (h, w, C) of the block's input
    input_field: int  # receptive field side of the block's input units, pixels
    input_jump: int  # pixels between neighbouring input units
    unit: tuple[int, int]  # the measured unit: the centre of the block's map
    centre: tuple[float, float]  # that unit's field centre in image pixels
    branches: dict  # branch name -> BranchScale, in BRANCHES order
    concat: np.ndarray  # (h, w, sum k)


#: the shares of |gradient| mass whose square side measures a branch's scale
MASS_FRACTIONS = (0.5, 0.9)


def trained_block(model, image: np.ndarray, block: str) -> TrainedBlock:
    """Run one preprocessed image (H, W, 3) through ``model`` and measure each branch of
    the inception ``block`` (built by ``architecture.build_model``, e.g. the trained
    ``models.inception`` network).

    For every branch: its response maps; its theoretical receptive field, from the
    trained net's own layers (``receptive.receptive_fields``); and its effective
    field: |gradient| of the branch's centre unit (summed over the branch's channels)
    with respect to the image, and the side of the square around the unit's centre
    holding each of ``MASS_FRACTIONS`` of it (``receptive.mass_radius``).
    """
    from cnnviz import receptive

    ends = [f"{block}{suffix}" for suffix in ("_1x1", "_3x3", "_5x5", "_pool_proj")]
    rfs = {r.name: r for r in receptive.receptive_fields(model)}
    if block not in rfs or any(name not in rfs for name in ends):
        raise ModelError(f"'{block}' is not an inception block of this model.")
    made_by, input_layer = {}, None  # tensor id -> the layer that outputs it
    for layer, ins, outs in probe.layer_calls(model):
        made_by.update({id(t): layer.name for t in outs})
        if layer.name == ends[0]:
            input_layer = made_by.get(id(ins[0]))
    if input_layer not in rfs:
        raise ModelError(f"'{block}' reads the image itself: no layer before it to measure.")
    image = np.asarray(image, dtype=np.float32)
    maps = extract(model, image[None], [input_layer, *ends, block])
    *parts, concat = (maps[name][0] for name in ends + [block])
    assert np.allclose(np.concatenate(parts, axis=-1), concat)
    h, w = concat.shape[:2]
    unit = (h // 2, w // 2)
    field = rfs[block]
    centre = tuple(field.start_hw[a] + unit[a] * field.jump_hw[a] for a in range(2))
    branches = {}
    for branch, layer, response in zip(BRANCHES, ends, parts):
        erf = receptive.effective_rf(model, layer, image, *unit)
        radii = {f: receptive.mass_radius(erf, centre, f) for f in MASS_FRACTIONS}
        branches[branch] = BranchScale(branch, layer, response, rfs[layer].size, erf, radii)
    source = rfs[input_layer]
    return TrainedBlock(block, input_layer, tuple(int(n) for n in maps[input_layer][0].shape),
                        source.size, source.jump, unit, centre, branches, concat)


def scale_method(trained: TrainedBlock) -> str:
    """How :func:`trained_block` measured the branches, with its settings (markdown)."""
    (row, col), (cr, cc) = trained.unit, trained.centre
    h, w = trained.concat.shape[:2]
    shares = " and ".join(f"{f:.0%}" for f in MASS_FRACTIONS)
    return (f"**Sees** (theoretical field): every pixel that can change one unit, from the "
            f"trained net's layers. Each `{trained.input_layer}` unit sees "
            f"{trained.input_field} px, {trained.input_jump} px apart; a k x k window adds "
            f"(k − 1) x {trained.input_jump} px.  \n"
            f"**Moved by** (effective field): the gradient of the branch's unit at the centre "
            f"of the {h}x{w} map (row {row}, col {col}; all its channels summed) with respect "
            f"to each pixel of this image, |·| summed over colours; the side of the smallest "
            f"square around the unit's centre (pixel {cr:g}, {cc:g}) holding {shares} of it. "
            "One image, one unit: another image can give other numbers.")


def widest_branch(sides: dict) -> str:
    """The branch whose measured side is largest (the first in ``BRANCHES`` on a tie)."""
    return max(sides, key=lambda branch: (sides[branch], -BRANCHES.index(branch)))


def scale_sentence(sides: dict, fraction: float) -> str:
    """What the measured sides (branch -> side of the square holding ``fraction`` of
    the centre unit's |gradient|, 0 = switched off) say about the branches' scales.

    The claim "the larger the window, the larger the area that moves the branch" is
    made only when 1x1 <= 3x3 <= 5x5 holds in the numbers; otherwise the sentence says
    the run disagrees and what can cause it.
    """
    one, three, five = (sides[b] for b in BRANCHES[:3])
    listed = ", ".join(f"{b}: {s} px" for b, s in sides.items())
    share = f"{fraction:.0%}"
    off = [b for b, s in sides.items() if s == 0]
    if off:
        return (f"Measured ({share} of |gradient|): {listed}. The centre unit of "
                f"{', '.join(off)} is switched off (ReLU = 0) for this image, so no pixel "
                "moves it: try another image or the other block.")
    if one <= three <= five:
        grows = "grows" if one < five else "stays the same size"
        return (f"Measured ({share} of |gradient|): {listed}. The area that moves a branch "
                f"{grows} from 1x1 to 5x5 (1x1 ≤ 3x3 ≤ 5x5 holds): the branches look at the "
                "same place at different scales.")
    return (f"Measured ({share} of |gradient|): {listed}. On this image the order "
            "1x1 ≤ 3x3 ≤ 5x5 does not hold: a large kernel whose trained weights sit near "
            "its centre, or ReLUs switched off along some paths, can shrink a branch's "
            "effective field. Try another image.")


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
