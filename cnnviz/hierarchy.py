"""Do deeper layers separate the classes better? A measured feature hierarchy.

"Early layers see edges, deep layers see objects" is usually shown with
proxies (maps get smaller, channels more numerous). This module measures it:
for each layer, how well a LINEAR classifier reads the class of an image from
that layer's activations, averaged over the map (global average pooling: one
number per channel, so no layer wins by having more pixels).

The probe is a ridge classifier (one-hot targets, closed form, standardised
features): fast and deterministic. Images are ``make_shapes`` images with their
labels; a fixed seed makes the data, and the train/test split is redrawn
``splits`` times, so each accuracy comes with its spread. A second curve gives
every layer the same number of features (its first ``equal_features``
principal components, from the training images only): a deep layer with 64
channels must not win just by having more numbers than an early one with 16.

    >>> h = measure(model, x, labels, ["block1_conv1", "block3_conv2"])
    >>> h.accuracy          # e.g. [0.27, 0.97]: deeper separates the shapes better
    >>> describe(h)         # (headline, details): sentences from these numbers
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.errors import ModelError

#: "Deeper layers separate the classes better" needs the deepest layer at least this
#: much (15 points of accuracy) above the earliest one.
RISE = 0.15
#: Images of the probe (make_shapes), its test share, the ridge penalty, the splits.
IMAGES = 300
TEST_FRACTION = 1 / 3
RIDGE = 1.0
SPLITS = 5
EQUAL_FEATURES = 16
_BATCH = 50  # images per forward pass: bounds memory (300 maps of 64x64x16 are 80 MB)


@dataclass(frozen=True)
class Hierarchy:
    """Probe accuracy per layer, early to deep."""

    layers: tuple[str, ...]
    depths: tuple[int, ...]
    channels: tuple[int, ...]
    accuracy: np.ndarray  # (layers,) mean over the splits
    spread: np.ndarray  # (layers,) standard deviation over the splits
    accuracy_equal: np.ndarray  # (layers,) with equal_features features per layer
    equal_features: int
    chance: float  # the share of the most frequent class in the test sets
    n_images: int
    n_test: int
    splits: int
    seed: int

    @property
    def best(self) -> str:
        """The layer with the highest accuracy (the earliest of ties)."""
        return self.layers[int(np.argmax(self.accuracy))]


def pooled_features(model, x, layer_names, *, batch: int = _BATCH) -> dict[str, np.ndarray]:
    """Each layer's activations averaged over the map: {layer: float32 (n, channels)},
    from forward passes of ``batch`` images at a time (preprocessed ``x``)."""
    from cnnviz.activations import extract

    names = tuple(layer_names)
    parts: dict[str, list] = {name: [] for name in names}
    for start in range(0, len(x), batch):
        maps = extract(model, x[start:start + batch], names)
        for name in names:
            parts[name].append(maps[name].mean(axis=(1, 2)))
    return {name: np.concatenate(parts[name]).astype(np.float32) for name in names}


def _splits(n: int, labels: np.ndarray, splits: int, seed: int, test_fraction: float):
    """Stratified train/test index pairs, one per split, from ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(splits):
        train, test = [], []
        for cls in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == cls))
            k = max(1, int(round(len(members) * test_fraction)))
            test.append(members[:k])
            train.append(members[k:])
        yield np.concatenate(train), np.concatenate(test)


def ridge_accuracy(features, labels, train, test, *, ridge: float = RIDGE,
                   components: int | None = None) -> float:
    """Test accuracy of a ridge classifier fit on ``train`` rows (standardised by the
    training rows; optionally their first ``components`` principal components)."""
    X = np.asarray(features, np.float64)
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    Z = (X - mean) / np.where(std > 1e-8, std, 1.0)
    if components is not None and components < Z.shape[1]:
        _, _, vt = np.linalg.svd(Z[train], full_matrices=False)
        Z = Z @ vt[:components].T
    Z = np.hstack([Z, np.ones((len(Z), 1))])
    classes = np.unique(labels)
    Y = (labels[:, None] == classes[None, :]).astype(np.float64)
    A = Z[train].T @ Z[train] + ridge * np.eye(Z.shape[1])
    W = np.linalg.solve(A, Z[train].T @ Y[train])
    predicted = classes[np.argmax(Z[test] @ W, axis=1)]
    return float(np.mean(predicted == labels[test]))


def measure(model, x, labels, layer_names, depths=None, *, splits: int = SPLITS,
            seed: int = 0, equal_features: int = EQUAL_FEATURES,
            test_fraction: float = TEST_FRACTION, ridge: float = RIDGE) -> Hierarchy:
    """Probe every layer of ``layer_names`` on images ``x`` (preprocessed) with
    ``labels``; ``depths`` maps a layer to its depth (default: its position)."""
    labels = np.asarray(labels)
    names = tuple(layer_names)
    if not names:
        raise ModelError("Choose at least one layer to probe.")
    if len(x) != len(labels) or len(np.unique(labels)) < 2:
        raise ModelError("The probe needs images of at least two classes, one label each.")
    features = pooled_features(model, x, names)
    pairs = list(_splits(len(labels), labels, splits, seed, test_fraction))
    scores = np.array([[ridge_accuracy(features[n], labels, tr, te, ridge=ridge)
                        for tr, te in pairs] for n in names])
    equal = np.array([[ridge_accuracy(features[n], labels, tr, te, ridge=ridge,
                                      components=equal_features)
                       for tr, te in pairs] for n in names])
    counts = np.bincount(labels[pairs[0][1]])
    return Hierarchy(
        layers=names,
        depths=tuple(int(depths[n]) if depths is not None else k for k, n in enumerate(names)),
        channels=tuple(int(features[n].shape[1]) for n in names),
        accuracy=scores.mean(axis=1), spread=scores.std(axis=1),
        accuracy_equal=equal.mean(axis=1), equal_features=int(equal_features),
        chance=float(counts.max() / counts.sum()), n_images=int(len(labels)),
        n_test=int(len(pairs[0][1])), splits=int(splits), seed=int(seed))


def probe_images(model_name: str, n: int = IMAGES, seed: int = 0):
    """(x, labels, class names): ``n`` make_shapes images of the built-in model's five
    classes, preprocessed for the model ``model_name`` (resized to its input)."""
    from cnnviz import models
    from cnnviz.data import make_shapes

    shapes = make_shapes(n, seed=seed)
    return models.preprocess(model_name, shapes.images), shapes.labels, shapes.class_names


def rises(h: Hierarchy, *, threshold: float = RISE) -> bool:
    """Whether the deepest probed layer beats the earliest by at least ``threshold``."""
    return bool(h.accuracy[-1] - h.accuracy[0] >= threshold)


def describe(h: Hierarchy, *, threshold: float = RISE) -> tuple[str, str]:
    """What the probe measured: a headline sentence and the details, generated from its
    numbers with the threshold ``threshold`` (the rise from the earliest to the deepest
    layer that counts as "deeper layers separate the classes better")."""
    first, last = h.layers[0], h.layers[-1]
    a, b = h.accuracy[0], h.accuracy[-1]
    spread = f"± {max(h.spread[0], h.spread[-1]):.0%} over {h.splits} splits"
    numbers = (f"a linear probe reads the shape from {first} at {a:.0%} and from {last} at "
               f"{b:.0%} ({spread}; chance {h.chance:.0%})")
    if len(h.layers) < 2:
        return "With one layer there is no hierarchy to read.", f"Measured: {numbers}."
    if not rises(h, threshold=threshold):
        return ("This run does not show deeper layers separating the classes better.",
                f"Measured: {numbers}, less than the {threshold:.0%} rise the page asks for. "
                "A model not trained on these shapes (random weights, ImageNet weights on "
                "tiny synthetic images) or too few probe images can cause it.")
    details = f"Measured: {numbers}; a rise of at least {threshold:.0%} counts."
    if h.best != last:
        details += f" The best is {h.best} ({h.accuracy.max():.0%}), not the deepest."
    a_eq, b_eq = h.accuracy_equal[0], h.accuracy_equal[-1]
    k = h.equal_features
    if b_eq - a_eq >= threshold:
        details += (f" With {k} features for every layer it still rises ({a_eq:.0%} → "
                    f"{b_eq:.0%}): not just more channels.")
    else:
        details += (f" With {k} features for every layer the rise is only {a_eq:.0%} → "
                    f"{b_eq:.0%}: much of it comes from the extra channels.")
    return "Deeper layers separate the classes better.", details
