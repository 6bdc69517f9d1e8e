"""The data a training experiment learns from: a small training set and a held-out
validation set per class, from a named dataset or from the student's own images.

Every loader returns a :class:`Split` of float32 images in [0, 1] at the size the
model takes. Validation images never overlap the training ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.errors import DatasetError
from cnnviz.images import resize_batch


@dataclass(frozen=True)
class Split:
    """A small training set and a validation set, as the model sees them."""

    x_train: np.ndarray  # float32 (n, s, s, 3) in [0, 1]
    y_train: np.ndarray  # int64
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    description: str

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def split_per_class(images, labels, class_names, *, n_train: int, n_val: int, size: int,
                    seed: int = 0, description: str = "") -> Split:
    """Take ``n_train`` training and up to ``n_val`` validation images of every class."""
    images = np.asarray(images)
    labels = np.asarray(labels, dtype=np.int64)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in range(len(class_names)):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < n_train + 1:
            raise DatasetError(
                f"Class {class_names[c]!r} has {len(idx)} images; this experiment needs at "
                f"least {n_train + 1} ({n_train} to train on and some to validate).")
        train_idx.extend(idx[:n_train])
        val_idx.extend(idx[n_train:n_train + n_val])
    train_idx = rng.permutation(train_idx)
    val_idx = rng.permutation(val_idx)
    return Split(resize_batch(images[train_idx], size), labels[train_idx],
                 resize_batch(images[val_idx], size), labels[val_idx],
                 tuple(class_names), description)


def shapes_split(*, classes, n_train: int, n_val: int, size: int = 64, seed: int = 0) -> Split:
    """Synthetic shapes: training and validation images drawn with different seeds."""
    from cnnviz.data import make_shapes

    classes = tuple(classes)
    train = make_shapes(n_train * len(classes), size=size, seed=seed, classes=classes)
    val = make_shapes(n_val * len(classes), size=size, seed=seed + 10_000, classes=classes)
    return Split(train.images, train.labels, val.images, val.labels, classes,
                 f"synthetic shapes ({', '.join(classes)})")


#: Datasets the experiments can use: key -> title.
DATASETS = {
    "shapes": "Shapes: circle, square, triangle (offline)",
    "shapes5": "Shapes: the five classes of the built-in model (offline)",
    "new_shapes": "New shapes: ring, hexagon, crescent (offline)",
    "textures": "Textures: brick, grass, gravel (offline)",
    "faces": "Faces vs non-faces, LFW subset (offline)",
    "mnist": "MNIST digits (download)",
    "fashion_mnist": "Fashion-MNIST (download)",
    "cifar10": "CIFAR-10 (download)",
    "cats_vs_dogs": "Cats vs dogs (download)",
}


def _from_parts(train, val, description: str, size: int) -> Split:
    return Split(resize_batch(train.images, size), train.labels, resize_batch(val.images, size),
                 val.labels, tuple(train.class_names), description)


def _shape_classes() -> dict[str, tuple[str, ...]]:
    from cnnviz import data

    return {"shapes": data.SOURCE_CLASSES[:3], "shapes5": data.SOURCE_CLASSES,
            "new_shapes": data.NEW_SHAPE_CLASSES}


def class_names(name: str) -> tuple[str, ...]:
    """The classes ``load_split(name, ...)`` gives, known without loading anything."""
    from cnnviz import data

    if name in _shape_classes():
        return tuple(_shape_classes()[name])
    known = {"textures": data.DEFAULT_TEXTURE_CLASSES, "faces": data.FACE_CLASSES}
    known |= {key: download.class_names for key, download in data.DOWNLOADS.items()}
    if name not in known:
        raise DatasetError(f"Unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")
    return tuple(known[name])


def load_split(name: str, *, n_train: int, n_val: int, size: int = 64, seed: int = 0) -> Split:
    """A small per-class subset of a named dataset, resized to ``size``.

    Validation images never overlap the training ones: shapes are drawn with
    another seed, textures cut from another part of each photo, Keras datasets
    taken from their official test part.
    """
    from cnnviz import data

    shape_classes = _shape_classes()
    if name in shape_classes:
        return shapes_split(classes=shape_classes[name], n_train=n_train, n_val=n_val,
                            size=size, seed=seed)
    if name not in DATASETS:
        raise DatasetError(f"Unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")
    title = DATASETS[name]
    if name == "textures":
        return _from_parts(data.load_textures(n_train, size=size, seed=seed, part="train"),
                           data.load_textures(n_val, size=size, seed=seed + 1, part="test"),
                           title, size)
    if name == "faces":
        faces = data.load_faces(size=size, seed=seed)
        return split_per_class(faces.images, faces.labels, faces.class_names, n_train=n_train,
                               n_val=n_val, size=size, seed=seed, description=title)
    if name == "cats_vs_dogs":
        return _from_parts(
            data.load_cats_vs_dogs(size=size, subset="train", max_per_class=n_train, seed=seed),
            data.load_cats_vs_dogs(size=size, subset="validation", max_per_class=n_val,
                                   seed=seed), title, size)
    loaded = data.load_keras_dataset(name, n_train=40 * n_train, n_test=20 * n_val, seed=seed)
    train_part = loaded.subset(~loaded.test_mask)
    val_part = loaded.subset(loaded.test_mask)
    train = split_per_class(train_part.images, train_part.labels, loaded.class_names,
                            n_train=n_train, n_val=0, size=size, seed=seed)
    val = split_per_class(val_part.images, val_part.labels, loaded.class_names,
                          n_train=0, n_val=n_val, size=size, seed=seed)
    return Split(train.x_train, train.y_train, val.x_val, val.y_val, loaded.class_names, title)


def user_split(labeled, *, n_train: int, n_val: int, size: int = 64, seed: int = 0) -> Split:
    """The student's own images (a ``LabeledImages``), split per class."""
    return split_per_class(labeled.images, labeled.labels, labeled.class_names,
                           n_train=n_train, n_val=n_val, size=size, seed=seed,
                           description="your images")


def labeled_from_photos(photos: dict[str, list], *, size: int = 64):
    """Photos collected per class (e.g. with a camera) as a ``LabeledImages``."""
    from cnnviz.augment import thumbnail
    from cnnviz.data import LabeledImages

    names = tuple(name for name, images in photos.items() if len(images))
    if len(names) < 2:
        raise DatasetError("Take photos of at least two classes first.")
    images = [thumbnail(image, size) for name in names for image in photos[name]]
    labels = [i for i, name in enumerate(names) for _ in photos[name]]
    return LabeledImages(np.stack(images).astype(np.float32) / 255.0,
                         np.array(labels, dtype=np.int64), names, description="your photos")
