"""Pooling: downsampling without weights, its cost savings, and a shift probe.

Max pooling keeps the largest value in each window, average pooling the mean.
Neither has parameters; both shrink the feature map, so every later layer does
fewer multiply-adds, and a feature that moves by less than a window often lands
in the same pooled cell: a *little* shift invariance (not a guarantee — a shift
that crosses a window border changes the output).

Keras is imported inside the functions that build or run models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import probe
from cnnviz.errors import ImageError

#: a pooled map whose peak keeps at least this share of the unpooled peak "keeps" it
KEPT = 0.95
#: the prediction "stays" when its class holds and its probability moves less than this
STEADY_PROBABILITY = 0.10
#: a pooling layer "cuts" the change when it changes by at most this share of the layer
#: before it, and "adds" to it above the inverse
CUT = 0.9


def pool2d(fmap, size: int = 2, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """Max or average pooling of a (H, W) or (H, W, C) map, "valid" windows.

    ``stride`` defaults to ``size`` (non-overlapping windows, as in most CNNs).
    """
    from numpy.lib.stride_tricks import sliding_window_view

    arr = np.asarray(fmap, dtype=np.float64)
    stride = size if stride is None else stride
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ImageError(f"Expected a (H, W) or (H, W, C) feature map, got shape {arr.shape}.")
    if size < 1 or stride < 1:
        raise ImageError(f"Pool size and stride must be at least 1 (got {size}, {stride}).")
    if size > min(arr.shape[:2]):
        raise ImageError(f"A {size}x{size} pooling window does not fit in a "
                         f"{arr.shape[0]}x{arr.shape[1]} map.")
    windows = sliding_window_view(arr, (size, size), axis=(0, 1))[::stride, ::stride]
    if mode == "max":
        return windows.max(axis=(-2, -1))
    if mode in ("avg", "average"):
        return windows.mean(axis=(-2, -1))
    raise ImageError(f"Pooling mode must be 'max' or 'average', got {mode!r}.")


def conv_macs(h: int, w: int, kernel: int, c_in: int, c_out: int) -> int:
    """Multiply-adds of a stride-1 "same" conv layer on an h x w x c_in map."""
    return int(h) * int(w) * kernel * kernel * c_in * c_out


def shift_image(image, dx: int, dy: int = 0) -> np.ndarray:
    """Move the picture content right by ``dx`` and down by ``dy`` pixels.

    The border that opens up repeats the edge pixels, so no artificial black
    bar appears for the network to react to.
    """
    arr = np.asarray(image)
    h, w = arr.shape[:2]
    if abs(dx) >= w or abs(dy) >= h:
        raise ImageError(f"A shift of ({dx}, {dy}) pixels moves the whole {w}x{h} image out.")
    pad = [(max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))] + [(0, 0)] * (arr.ndim - 2)
    padded = np.pad(arr, pad, mode="edge")
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[top : top + h, left : left + w]


@dataclass(frozen=True)
class ShiftProbe:
    """How much each layer changes when the input moves, averaged over the images."""

    shifts: list[int]
    layers: list[str]
    change: np.ndarray  # (n_shifts, n_layers) mean relative L2 change vs the unshifted input
    predicted: np.ndarray  # (n_images, n_shifts) predicted class index
    prob_original: np.ndarray  # (n_shifts,) mean probability of the class predicted unshifted

    @property
    def same_prediction(self) -> np.ndarray:
        """(n_shifts,) fraction of images whose predicted class did not change."""
        return (self.predicted == self.predicted[:, [self.shifts.index(0)]]).mean(axis=0)

    def at(self, shift: int) -> np.ndarray:
        """(n_layers,) the change of every layer for one shift."""
        return self.change[self.shifts.index(shift)]


def shift_probe(model, images, shifts, layer_names=None, *, vertical: bool = False
                ) -> ShiftProbe:
    """Shift each image (preprocessed float, (H, W, C) or (N, H, W, C)) by each of
    ``shifts`` pixels and measure ||a(shifted) - a(original)|| / ||a(original)|| at
    every layer, all in one batch.

    The comparison is position by position: a layer whose map simply moves with
    the input scores a large change, a layer that ignores the shift scores 0.
    ``layer_names`` defaults to every convolution and pooling layer.
    """
    from cnnviz.models import probabilities

    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[None]
    layer_names = list(layer_names or [info.name for info in probe.feature_layers(
        model, kinds=("conv", "pool"))])
    shifts = [int(s) for s in shifts]
    if 0 not in shifts:
        shifts = [0, *shifts]
    batch = np.stack([shift_image(im, 0, s) if vertical else shift_image(im, s)
                      for im in images for s in shifts])
    activations, logits = probe.activations_and_logits(model, batch, layer_names)
    n, k, ref = len(images), len(shifts), shifts.index(0)
    change = np.zeros((k, len(layer_names)))
    for j, acts in enumerate(activations):
        flat = acts.reshape(n, k, -1)
        norm = np.linalg.norm(flat[:, ref], axis=1, keepdims=True) + 1e-12
        change[:, j] = (np.linalg.norm(flat - flat[:, [ref]], axis=2) / norm).mean(axis=0)
    probs = probabilities(logits).reshape(n, k, -1)
    predicted = probs.argmax(axis=2)
    original = predicted[:, ref]
    prob_original = probs[np.arange(n)[:, None], np.arange(k)[None], original[:, None]]
    return ShiftProbe(shifts, layer_names, change, predicted, prob_original.mean(axis=0))


# ------------------------------------------------------- a pooled / plain pair
PAIR_SIZE = 32


def silhouettes(n: int, *, size: int = PAIR_SIZE, seed: int = 0):
    """``make_shapes`` objects as light silhouettes on a dark, noisy background.

    An easier version of the shapes task that a tiny model learns in seconds:
    only the outline tells the classes apart. Returns (images float32, labels, names).
    """
    from cnnviz.data import make_shapes

    shapes = make_shapes(n, size=size, seed=seed)
    rng = np.random.default_rng(seed)
    images = np.where(shapes.masks[..., None], 0.85, 0.15) + rng.normal(
        0, 0.05, (*shapes.masks.shape, 3))
    return np.clip(images, 0, 1).astype("float32"), shapes.labels, shapes.class_names


def build_pair(n_classes: int, *, size: int = PAIR_SIZE, seed: int = 0):
    """Two small CNNs that differ only in pooling: the same three 3x3 conv layers
    and a Flatten + Dense head that reads every position (so position matters).

    "pooled" halves the map after each conv (2x2 max pool); "plain" keeps full
    resolution. Returns {"pooled": model, "plain": model}.
    """
    import keras
    from keras import layers

    models = {}
    for name in ("pooled", "plain"):
        init = keras.initializers.HeNormal(seed=seed)
        inp = keras.Input((size, size, 3), name="image")
        x = inp
        for i, filters in enumerate((8, 16, 16), start=1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                              kernel_initializer=init, name=f"conv{i}")(x)
            if name == "pooled":
                x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        x = layers.Flatten(name="flatten")(x)
        out = layers.Dense(n_classes, name="logits",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(x)
        models[name] = keras.Model(inp, out, name=name)
    return models


# ------------------------------------------------------- what the measurements say
def peak_sentence(fmap, pooled, mode: str, size: int, stride: int) -> str:
    """How much of the strongest response survives pooling, measured (threshold
    :data:`KEPT`)."""
    before, after = float(np.max(fmap)), float(np.max(pooled))
    kept = after / before if before > 0 else 1.0
    verb = "keeps" if kept >= KEPT else "drops to"
    if mode == "max" and kept >= KEPT:
        why = "max pooling passes each window's largest value on unchanged"
    elif mode == "max":
        why = (f"a stride of {stride} over {size}x{size} windows skips pixels, and the "
               "strongest one fell between two windows")
    elif kept >= KEPT:
        why = "its whole window is about as strong, so the mean stays close to the peak"
    else:
        why = "average pooling mixes it with the weaker pixels of its window: edges blur"
    return (f"After {mode} pooling the strongest edge {verb} **{kept:.0%}** of its strength "
            f"({before:.2f} → {after:.2f}; we call ≥ {KEPT:.0%} kept): {why}.")


def prediction_sentence(probe: ShiftProbe, class_names) -> str:
    """Whether the prediction moved less than the feature maps as the image shifted
    (steady: the same class at every shift and its probability within
    :data:`STEADY_PROBABILITY`)."""
    top = probe.predicted[0]
    start = class_names[top[probe.shifts.index(0)]]
    largest = max(probe.shifts)
    maps = probe.at(largest)
    moved = float(np.max(np.abs(probe.prob_original - probe.prob_original[0])))
    flips = [(s, class_names[c]) for s, c in zip(probe.shifts, top) if class_names[c] != start]
    head = (f"Shifted by up to {largest} px, the feature maps change by "
            f"{maps.min():.0%}–{maps.max():.0%}, position by position, ")
    if not flips and moved < STEADY_PROBABILITY:
        return head + (f"while the prediction stays **{start}** (its probability moves by "
                       f"{100 * moved:.0f} points, under our {100 * STEADY_PROBABILITY:.0f}): "
                       "global average pooling at the end forgets where the features are.")
    if not flips:
        return head + (f"and the prediction stays **{start}**, but its probability moves by "
                       f"{100 * moved:.0f} points (≥ {100 * STEADY_PROBABILITY:.0f}): the edge "
                       "strip that opens on the left, or parts leaving the picture, change "
                       "what the network sees.")
    shift, other = flips[0]
    return head + (f"and at {shift} px the prediction **changes** from {start} to {other}: "
                   "pooling gives only a little invariance; parts of the object leave the "
                   "picture, and a network trained on centred-ish shapes was never taught to "
                   "ignore every shift.")


def pooling_layers_sentence(probe: ShiftProbe, shift: int = 1) -> str:
    """Whether each pooling layer changed less than the layer before it after a shift
    (cut: at most :data:`CUT` of it; added: more than its inverse)."""
    change = probe.at(shift)
    pairs = [(probe.layers[i - 1], name, change[i - 1], change[i])
             for i, name in enumerate(probe.layers) if i > 0 and "pool" in name.lower()]
    if not pairs:
        return "This network has no pooling layer to compare."
    ratios = [after / max(before, 1e-12) for _, _, before, after in pairs]
    listed = "; ".join(f"{a} {b_:.0%} → {p} {a_:.0%}" for a, p, b_, a_ in pairs)
    if all(r <= CUT for r in ratios):
        verdict = "**every pooling layer cut the change**"
    elif all(r > 1 / CUT for r in ratios):
        verdict = "**every pooling layer added to the change**"
    elif all(CUT < r <= 1 / CUT for r in ratios):
        verdict = "**pooling changed about as much as the layer before it**"
    else:
        verdict = "**some pooling layers cut the change, others did not**"
    why = ("a feature that moves less than a window often keeps its maximum in the same "
           "cell" if all(r <= CUT for r in ratios) else
           "a maximum that crosses into the next window changes the pooled map as much as "
           "the map before it, so the invariance is partial")
    return (f"After a {shift}-pixel shift {verdict} (compared with the layer before it; a cut "
            f"is ≤ {CUT:.0%} of it): {listed}. Why: {why}.")


# ------------------------------------------------------- what pooling saves
@dataclass(frozen=True)
class LayerCost:
    """One layer's output, weights and multiply-adds per image."""

    name: str
    kind: str  # the Keras class name
    output: tuple[int, ...]  # without the batch axis
    params: int
    macs: int
    head: bool  # part of the classifier head (Flatten and Dense after the last conv)


def layer_costs(model) -> list[LayerCost]:
    """Parameters and multiply-adds of every layer of ``model`` (a Keras functional
    model), read from its layers: a Conv2D costs out_h·out_w·k_h·k_w·c_in·c_out
    multiply-adds, a Dense in·out; pooling and Flatten have no weights and cost no
    multiply-adds (pooling only compares or adds)."""
    rows = []
    spatial_seen = False
    for layer in model.layers[::-1]:  # backwards: the head is what follows the last conv
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        out = tuple(int(d) for d in layer.output.shape[1:])
        params = int(layer.count_params())
        if kind == "Conv2D":
            kh, kw = layer.kernel_size
            c_in = int(layer.input.shape[-1])
            macs = out[0] * out[1] * kh * kw * c_in * out[2] // layer.groups
            spatial_seen = True
        elif kind == "Dense":
            macs = int(layer.input.shape[-1]) * out[-1]
        else:
            macs = 0
            spatial_seen = spatial_seen or kind.endswith("Pooling2D")
        rows.append(LayerCost(layer.name, kind, out, params, macs, head=not spatial_seen))
    return rows[::-1]


def head_params(costs: list[LayerCost]) -> int:
    return sum(c.params for c in costs if c.head)


def head_ratio(costs: dict[str, list[LayerCost]]) -> float:
    """How many times more weights the plain net's head holds than the pooled one's."""
    return head_params(costs["plain"]) / head_params(costs["pooled"])


def costs_sentence(costs: dict[str, list[LayerCost]]) -> str:
    """What pooling did to the pair's size, from their layers' costs
    (``{"pooled": costs, "plain": costs}``)."""
    pooled, plain = costs["pooled"], costs["plain"]
    total = {n: sum(c.params for c in rows) for n, rows in costs.items()}
    head = {n: head_params(rows) for n, rows in costs.items()}
    macs = {n: sum(c.macs for c in rows) for n, rows in costs.items()}
    reads = {n: next(c for c in rows if c.kind == "Flatten").output[0]
             for n, rows in costs.items()}
    same_convs = [c.params for c in pooled if c.kind == "Conv2D"] == \
        [c.params for c in plain if c.kind == "Conv2D"]
    n_pools = sum(c.kind.endswith("Pooling2D") for c in pooled)
    return (f"The plain net's Dense head reads {reads['plain']:,} numbers and holds "
            f"**{head['plain']:,}** of its {total['plain']:,} parameters "
            f"({head['plain'] / total['plain']:.0%}); after {n_pools} poolings the pooled head "
            f"reads {reads['pooled']:,} and holds **{head['pooled']:,}** of "
            f"{total['pooled']:,} ({head['pooled'] / total['pooled']:.0%}): "
            f"{head_ratio(costs):.0f}x fewer. "
            + ("The convolutions hold the same number of weights in both; " if same_convs
               else "")
            + f"per image the pooled net does {macs['pooled'] / 1e6:.2f} M multiply-adds, "
            f"the plain one {macs['plain'] / 1e6:.2f} M.")


# ------------------------------------------------------- the trained pair, compared
def difference_noise(a: float, b: float, n: int) -> float:
    """Twice the standard error of the difference of two accuracies (shares) ``a`` and
    ``b`` measured on ``n`` images each: a smaller difference is within noise."""
    return 2 * float(np.sqrt((a * (1 - a) + b * (1 - b)) / max(n, 1)))


@dataclass(frozen=True)
class Comparison:
    """Pooled minus plain for one measure, over seeds, with the verdict."""

    pooled: float  # mean over seeds
    plain: float
    differences: tuple[float, ...]  # pooled - plain, per seed
    noise: float  # the threshold the mean difference must exceed

    @property
    def difference(self) -> float:
        return float(np.mean(self.differences))

    @property
    def agree(self) -> bool:
        """Every seed's difference has the sign of the mean."""
        return all(np.sign(d) == np.sign(self.difference) for d in self.differences)

    @property
    def verdict(self) -> str:
        """"higher", "lower" (the pooled net's value) or "same" (within noise, or the
        seeds disagree)."""
        if abs(self.difference) <= self.noise or not self.agree:
            return "same"
        return "higher" if self.difference > 0 else "lower"

    def spread(self) -> str:
        if len(self.differences) < 2:
            return "one seed"
        lo, hi = min(self.differences), max(self.differences)
        return (f"{len(self.differences)} seeds, differences from {100 * lo:+.0f} to "
                f"{100 * hi:+.0f} points")


def compare(pooled, plain, n: int) -> Comparison:
    """Pooled vs plain for a share measured per seed on ``n`` images each (lists of
    equal length, one value per seed)."""
    pooled, plain = np.asarray(pooled, float), np.asarray(plain, float)
    noise = max(difference_noise(a, b, n) for a, b in zip(pooled, plain))
    return Comparison(float(pooled.mean()), float(plain.mean()),
                      tuple(float(d) for d in pooled - plain), noise)


def accuracy_sentence(accuracy: Comparison, n_val: int,
                      costs: dict[str, list[LayerCost]]) -> tuple[str, str]:
    """Which net classifies new silhouettes better, measured: (the verdict with its
    numbers, the threshold and the reason). ``costs`` are the pair's ``layer_costs``:
    the reason quotes how much larger the plain head is."""
    rule = (f"Measured over {accuracy.spread()}; a difference counts above "
            f"{100 * accuracy.noise:.0f} points (twice its standard error on {n_val} "
            "validation images) when every seed agrees.")
    head = (f"Validation accuracy: pooled **{accuracy.pooled:.0%}**, plain "
            f"**{accuracy.plain:.0%}**. ")
    if accuracy.verdict == "higher":
        return (head + "**The pooled net generalises better.**",
                rule + " Its small head cannot memorise each position; the plain head's "
                f"{head_ratio(costs):.0f}x more weights fit the training shapes where they "
                "happened to be.")
    if accuracy.verdict == "lower":
        return (head + "**Here the plain net generalises better**, against the usual "
                "expectation.", rule + " With few epochs or lucky seeds the large head can "
                "still fit, and pooling throws detail away. Try more seeds or images.")
    disagree = not accuracy.agree and max(map(abs, accuracy.differences)) > accuracy.noise
    why = "the seeds disagree" if disagree else "the difference is within noise"
    return (head + f"**No measurable difference** ({why}).",
            rule + " At this budget both learn the silhouettes; more images, epochs or "
            "seeds can separate them.")


def shift_comparison(probes: list[dict[str, ShiftProbe]], shift: int) -> Comparison:
    """Pooled vs plain: the share of predictions that survive a ``shift``, per seed."""
    n = probes[0]["pooled"].predicted.shape[0]
    return compare([p["pooled"].same_prediction[p["pooled"].shifts.index(shift)]
                    for p in probes],
                   [p["plain"].same_prediction[p["plain"].shifts.index(shift)]
                    for p in probes], n)


#: the answers of the pair's shift question, from the pooled net's point of view
SHIFT_ANSWERS = ("the pooled net's changes less", "about the same",
                 "the pooled net's changes more")


def shift_answer(kept: Comparison) -> str:
    """The answer of the shift question: ``kept`` compares the share of predictions
    that stay the same (more kept = fewer changes)."""
    return {"higher": SHIFT_ANSWERS[0], "same": SHIFT_ANSWERS[1],
            "lower": SHIFT_ANSWERS[2]}[kept.verdict]


def pair_shift_sentence(kept: Comparison, shift: int, head_change: dict[str, float]
                        ) -> tuple[str, str]:
    """Whether pooling made the trained net's predictions steadier under a shift: (the
    verdict with its numbers, the threshold and the reason)."""
    head = (f"After a {shift}-pixel shift the pooled net keeps **{kept.pooled:.0%}** of its "
            f"predictions, the plain one **{kept.plain:.0%}**. ")
    rule = (f"Measured over {kept.spread()}; a difference counts above "
            f"{100 * kept.noise:.0f} points (twice its standard error) when every seed "
            f"agrees. The head's input changes by {head_change['pooled']:.0%} (pooled) and "
            f"{head_change['plain']:.0%} (plain).")
    if kept.verdict == "higher":
        return (head + "**Pooling made the prediction steadier.**",
                rule + " A feature that moves within a pooling window keeps its cell, so "
                "the head sees almost the same numbers.")
    if kept.verdict == "lower":
        return (head + "**Here the plain net was steadier**, against the usual expectation.",
                rule + " A shift across a window border moves a pooled maximum to another "
                "cell; with more seeds this often reverses.")
    return (head + "**No measurable difference.**",
            rule + " Both heads see changed inputs: pooling's invariance is partial, a few "
            "pixels at most.")
