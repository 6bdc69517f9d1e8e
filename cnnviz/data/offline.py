"""Small real datasets that ship with scikit-image (no network), and splitting them.

Every loader in ``cnnviz.data`` returns a ``LabeledImages``: float32 RGB images
in [0, 1], int64 labels and the class names. Here: texture patches cut from
scikit-image's photos, and its ``lfw_subset`` faces vs non-faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.errors import DatasetError
from cnnviz.images import resize_map


@dataclass(frozen=True, eq=False)
class LabeledImages:
    """Images with one class label each."""

    images: np.ndarray  # float32 (n, h, w, 3) in [0, 1]
    labels: np.ndarray  # int64 (n,), index into class_names
    class_names: tuple[str, ...]
    #: True for images from a dataset's official test part (keras datasets), else None
    test_mask: np.ndarray | None = None
    description: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> dict[str, int]:
        """Number of images per class, in class order."""
        per_class = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(n) for name, n in zip(self.class_names, per_class)}

    def subset(self, index) -> LabeledImages:
        """The images at ``index`` (an index array or a boolean mask)."""
        index = np.asarray(index)
        return LabeledImages(
            images=self.images[index], labels=self.labels[index],
            class_names=self.class_names,
            test_mask=None if self.test_mask is None else self.test_mask[index],
            description=self.description,
        )


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    """(n, h, w) or (n, h, w, 3) uint8 / float [0, 1] -> float32 (n, h, w, 3) [0, 1]."""
    array = np.asarray(grey)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    else:
        array = np.clip(array.astype(np.float32), 0.0, 1.0)
    if array.ndim == 3:
        array = np.repeat(array[..., None], 3, axis=-1)
    return np.ascontiguousarray(array, dtype=np.float32)


def split(data: LabeledImages, val_fraction: float = 0.2, *,
          seed: int = 0) -> tuple[LabeledImages, LabeledImages]:
    """Split into training and validation sets with the same class proportions.

    Each class with at least two images gives ``round(val_fraction * n)`` images
    (at least one, at most n - 1) to validation; the rest stay for training.
    Deterministic per ``seed``.
    """
    if not 0.0 < float(val_fraction) < 1.0:
        raise DatasetError(f"The validation fraction must be between 0 and 1, got {val_fraction}.")
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in range(len(data.class_names)):
        idx = rng.permutation(np.flatnonzero(data.labels == c))
        if len(idx) == 0:
            continue
        n_val = 0 if len(idx) < 2 else int(np.clip(round(val_fraction * len(idx)), 1,
                                                  len(idx) - 1))
        val_idx.extend(idx[:n_val])
        train_idx.extend(idx[n_val:])
    if not val_idx:
        raise DatasetError("Too few images to set some aside for validation (need two per class).")
    return (data.subset(rng.permutation(np.array(train_idx, dtype=np.int64))),
            data.subset(rng.permutation(np.array(val_idx, dtype=np.int64))))


# --------------------------------------------------------------------------- textures

#: Texture class -> scikit-image photo it is cut from (all grey, so colour cannot
#: give the class away: the network has to use the texture).
#: (scikit-image's other grey photos, e.g. the moon, are too flat at patch size.)
TEXTURE_SOURCES = {"brick": "brick", "grass": "grass", "gravel": "gravel"}
TEXTURE_CLASSES = tuple(TEXTURE_SOURCES)
DEFAULT_TEXTURE_CLASSES = TEXTURE_CLASSES
TEXTURE_PARTS = ("all", "train", "test")


def load_textures(n_per_class: int = 100, *, size: int = 64, seed: int = 0,
                  classes=None, part: str = "all") -> LabeledImages:
    """Random square patches cut from scikit-image's texture photos (offline).

    Each patch has a random side (an eighth to a quarter of the whole photo's
    shorter side, whichever part it is cut from), position, flip and 90-degree
    rotation, and is resized to ``size``. Patches of the same photo overlap; for an
    honest held-out set cut training patches from ``part="train"`` (the top 70 % of
    every photo) and test patches from ``part="test"`` (the bottom 30 %). The side
    range is the same for every part, so both show the texture at the same scale:
    a test patch differs from a training one in where it was cut, not in how big the
    texture looks.
    """
    import skimage.data

    class_names = tuple(classes) if classes is not None else DEFAULT_TEXTURE_CLASSES
    unknown = [c for c in class_names if c not in TEXTURE_SOURCES]
    if unknown or len(class_names) < 2:
        raise DatasetError(
            f"Choose at least two texture classes from {', '.join(TEXTURE_CLASSES)}"
            + (f" (unknown: {', '.join(map(str, unknown))})." if unknown else "."))
    if part not in TEXTURE_PARTS:
        raise DatasetError(f"part must be one of {', '.join(TEXTURE_PARTS)}, got {part!r}.")
    if n_per_class < 1 or size < 8:
        raise DatasetError("load_textures needs n_per_class >= 1 and size >= 8.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(class_names)), n_per_class))
    images = np.empty((len(labels), size, size, 3), dtype=np.float32)
    photos, sides = {}, {}
    for name in class_names:
        photo = getattr(skimage.data, TEXTURE_SOURCES[name])().astype(np.float32) / 255.0
        rows = photo.shape[0]
        cut = int(round(0.7 * rows))
        # from the whole photo, not the part: a part's own size must not set the scale
        short = min(photo.shape)
        sides[name] = (max(8, short // 8), max(8, short // 4))
        photos[name] = {"all": photo, "train": photo[:cut], "test": photo[cut:]}[part]
    for i, label in enumerate(labels):
        photo = photos[class_names[label]]
        h, w = photo.shape
        low, high = sides[class_names[label]]
        side = min(int(rng.integers(low, high + 1)), h, w)
        top = int(rng.integers(0, h - side + 1))
        left = int(rng.integers(0, w - side + 1))
        patch = photo[top:top + side, left:left + side]
        patch = np.rot90(patch, int(rng.integers(0, 4)))
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        images[i] = resize_map(patch, size)[..., None]
    return LabeledImages(images, labels.astype(np.int64), class_names,
                         description=f"texture patches ({', '.join(class_names)}), {part}")


# --------------------------------------------------------------------------- faces

FACE_CLASSES = ("face", "not a face")


def load_faces(size: int = 64, *, seed: int = 0) -> LabeledImages:
    """scikit-image's ``lfw_subset``: 100 faces and 100 non-faces (offline).

    The originals are 25x25 grey crops from Labeled Faces in the Wild; they are
    upsampled to ``size`` and repeated to RGB, in a shuffled order.
    """
    import skimage.data

    if size < 8:
        raise DatasetError("load_faces needs size >= 8.")
    try:
        raw = skimage.data.lfw_subset()
    except Exception as error:  # a scikit-image build without the file
        raise DatasetError(f"scikit-image's lfw_subset could not be loaded ({error}).") from error
    labels = np.repeat([0, 1], [100, len(raw) - 100]).astype(np.int64)  # faces first
    order = np.random.default_rng(seed).permutation(len(raw))
    images = np.stack([resize_map(np.clip(raw[i], 0, 1), size) for i in order])
    return LabeledImages(_grey_to_rgb(images), labels[order], FACE_CLASSES,
                         description="LFW subset: faces vs non-faces")
