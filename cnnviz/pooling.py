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
