"""Datasets: synthetic shapes with exact masks, and small real image sets.

Everything here returns plain numpy arrays. The synthetic shapes are the
ground truth the probing pages rely on: each image holds exactly one object and
its mask says which pixels belong to it, so "did the model look at the object?"
has a measurable answer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnnviz import online
from cnnviz.errors import DatasetError
from cnnviz.uploads import read_bytes

#: All shape classes ``make_shapes`` can draw. The built-in model is trained on
#: the first five (``SOURCE_CLASSES``); the others are new classes for transfer
#: learning that look like the source ones (same kind of picture, new objects).
SHAPE_CLASSES = (
    "circle", "square", "triangle", "star", "cross", "ring", "hexagon", "crescent",
)
SOURCE_CLASSES = SHAPE_CLASSES[:5]
NEW_SHAPE_CLASSES = SHAPE_CLASSES[5:]


@dataclass(frozen=True)
class Shapes:
    """A batch of shape images with labels and object masks."""

    images: np.ndarray  # float32 (n, size, size, 3) in [0, 1]
    labels: np.ndarray  # int64 (n,), index into class_names
    masks: np.ndarray  # bool (n, size, size), True on the object
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def _polygon_mask(size: int, points: np.ndarray) -> np.ndarray:
    from skimage.draw import polygon

    mask = np.zeros((size, size), dtype=bool)
    rr, cc = polygon(points[:, 1], points[:, 0], shape=(size, size))
    mask[rr, cc] = True
    return mask


def _regular_polygon(n: int, cx, cy, r, angle, inner: float | None = None) -> np.ndarray:
    """Vertices of a regular polygon (or a star when ``inner`` is given)."""
    if inner is None:
        t = angle + 2 * np.pi * np.arange(n) / n
        radii = np.full(n, r)
    else:
        t = angle + np.pi * np.arange(2 * n) / n
        radii = np.where(np.arange(2 * n) % 2 == 0, r, r * inner)
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def _shape_mask(name: str, size: int, cx, cy, r, angle) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dx, dy = xx - cx, yy - cy
    # coordinates in the shape's own rotated frame
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    dist = np.hypot(dx, dy)
    if name == "circle":
        return dist <= r
    if name == "ring":
        return (dist <= r) & (dist >= 0.55 * r)
    if name == "crescent":
        shift = 0.5 * r
        return (dist <= r) & (np.hypot(u - shift, v) > 0.85 * r)
    if name == "square":
        half = r / np.sqrt(2)
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if name == "cross":
        arm = 0.3 * r
        return ((np.abs(u) <= arm) & (np.abs(v) <= r)) | ((np.abs(v) <= arm) & (np.abs(u) <= r))
    if name == "triangle":
        return _polygon_mask(size, _regular_polygon(3, cx, cy, r, angle))
    if name == "hexagon":
        return _polygon_mask(size, _regular_polygon(6, cx, cy, r, angle))
    if name == "star":
        return _polygon_mask(size, _regular_polygon(5, cx, cy, r, angle, inner=0.42))
    raise DatasetError(f"Unknown shape class {name!r}; choose from {', '.join(SHAPE_CLASSES)}.")


def _cluttered_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random colour field plus thin lines and specks: texture, no shapes."""
    from scipy.ndimage import gaussian_filter

    coarse = rng.random((size, size, 3))
    background = gaussian_filter(coarse, sigma=(size / 8, size / 8, 0))
    background = (background - background.min()) / (np.ptp(background) + 1e-8)
    background = 0.25 + 0.4 * background
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(rng.integers(2, 5)):  # straight lines crossing the image
        theta = rng.uniform(0, np.pi)
        offset = rng.uniform(-size / 2, size / 2)
        d = (xx - size / 2) * np.cos(theta) + (yy - size / 2) * np.sin(theta) - offset
        background[np.abs(d) < 0.6] = rng.uniform(0, 1, 3)
    specks = rng.random((size, size)) < 0.01
    background[specks] = rng.uniform(0, 1, (int(specks.sum()), 3))
    return background


def make_shapes(
    n: int,
    *,
    size: int = 64,
    seed: int = 0,
    classes: tuple[str, ...] | list[str] | None = None,
) -> Shapes:
    """Draw ``n`` images, each one shape on a cluttered background.

    Position, size, rotation and colour are random; the same ``seed`` always
    gives the same images. Labels cycle through ``classes`` in a shuffled order,
    so every class is (almost) equally frequent.
    """
    class_names = tuple(classes) if classes is not None else SOURCE_CLASSES
    unknown = [c for c in class_names if c not in SHAPE_CLASSES]
    if unknown or not class_names:
        raise DatasetError(
            f"Unknown shape classes {unknown}; choose from {', '.join(SHAPE_CLASSES)}."
        )
    if n < 0 or size < 16:
        raise DatasetError("make_shapes needs n >= 0 and size >= 16 pixels.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(class_names))
    images = np.empty((n, size, size, 3), dtype=np.float32)
    masks = np.empty((n, size, size), dtype=bool)
    for i, label in enumerate(labels):
        image = _cluttered_background(rng, size)
        r = rng.uniform(0.16, 0.3) * size
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        mask = _shape_mask(class_names[label], size, cx, cy, r, rng.uniform(0, 2 * np.pi))
        colour = rng.uniform(0, 1, 3)
        # keep the object visible: push its colour away from the local background
        local = image[mask].mean(axis=0) if mask.any() else image.mean(axis=(0, 1))
        if np.abs(colour - local).sum() < 0.9:
            colour = np.where(local > 0.5, rng.uniform(0, 0.15, 3), rng.uniform(0.85, 1, 3))
        image[mask] = colour
        images[i] = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)
        masks[i] = mask
    return Shapes(images=images, labels=labels.astype(np.int64), masks=masks,
                  class_names=class_names)


# =========================================================================== real images
#
# Everything below returns a ``LabeledImages``: float32 RGB images in [0, 1],
# int64 labels and the class names. Small real datasets ship offline with
# scikit-image (textures, faces); larger ones (MNIST, Fashion-MNIST, CIFAR-10,
# cats vs dogs) go through Keras's own download-and-cache path
# (``keras.utils.get_file`` into ``$KERAS_HOME/datasets``, default
# ``~/.keras/datasets``) and fail within seconds, with the cache path in the
# message, when they are not cached and the machine is offline.


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


def _resize_float(image: np.ndarray, size: int) -> np.ndarray:
    """Resize one float [0, 1] grey (h, w) or RGB (h, w, 3) image to size x size."""
    from PIL import Image

    if image.shape[:2] == (size, size):
        return image.astype(np.float32)
    if image.ndim == 2:
        resized = Image.fromarray(image.astype(np.float32), mode="F").resize(
            (size, size), Image.Resampling.BILINEAR)
        return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    channels = [_resize_float(image[..., k], size) for k in range(image.shape[-1])]
    return np.stack(channels, axis=-1)


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

    Each patch has a random side (a quarter to a half of the photo), position,
    flip and 90-degree rotation, and is resized to ``size``. Patches of the same
    photo overlap; for an honest held-out set cut training patches from
    ``part="train"`` (the top 70 % of every photo) and test patches from
    ``part="test"`` (the bottom 30 %).
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
    photos = {}
    for name in class_names:
        photo = getattr(skimage.data, TEXTURE_SOURCES[name])().astype(np.float32) / 255.0
        rows = photo.shape[0]
        cut = int(round(0.7 * rows))
        photos[name] = {"all": photo, "train": photo[:cut], "test": photo[cut:]}[part]
    for i, label in enumerate(labels):
        photo = photos[class_names[label]]
        h, w = photo.shape
        short = min(h, w)
        side = int(rng.integers(max(8, short // 4), max(9, short // 2) + 1))
        side = min(side, short)
        top = int(rng.integers(0, h - side + 1))
        left = int(rng.integers(0, w - side + 1))
        patch = photo[top:top + side, left:left + side]
        patch = np.rot90(patch, int(rng.integers(0, 4)))
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        images[i] = _resize_float(np.ascontiguousarray(patch), size)[..., None]
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
    images = np.stack([_resize_float(np.clip(raw[i], 0, 1), size) for i in order])
    return LabeledImages(_grey_to_rgb(images), labels[order], FACE_CLASSES,
                         description="LFW subset: faces vs non-faces")


# --------------------------------------------------------------------------- downloads

@dataclass(frozen=True)
class Download:
    """Where Keras downloads a dataset from and caches it."""

    key: str
    title: str
    origin: str  # URL (for several files: the folder URL)
    files: tuple[str, ...]  # file names keras.utils.get_file is called with
    cache_subdir: str  # under $KERAS_HOME
    extract: bool
    ready: tuple[str, ...]  # paths (relative to cache_subdir) that must exist when cached
    size_mb: int
    class_names: tuple[str, ...]

    @property
    def host(self) -> str:
        return self.origin.split("/")[2]


_TF_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOADS = {
    "mnist": Download(
        "mnist", "MNIST handwritten digits", _TF_DATASETS + "mnist.npz", ("mnist.npz",),
        "datasets", False, ("mnist.npz",), 11, tuple(str(d) for d in range(10))),
    "fashion_mnist": Download(
        "fashion_mnist", "Fashion-MNIST clothing", _TF_DATASETS,
        ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"),
        "datasets/fashion-mnist", False,
        ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"), 30,
        ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
         "sneaker", "bag", "ankle boot")),
    "cifar10": Download(
        "cifar10", "CIFAR-10 small photos", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        ("cifar-10-batches-py-target",), "datasets", True,
        tuple(f"cifar-10-batches-py-target/cifar-10-batches-py/{b}"
              for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]), 163,
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
         "truck")),
    "cats_vs_dogs": Download(
        "cats_vs_dogs", "Cats vs dogs (TensorFlow tutorial subset)",
        "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
        ("cats_and_dogs_filtered.zip",), "datasets", True,
        tuple(f"cats_and_dogs_filtered_extracted/cats_and_dogs_filtered/{s}/{c}"
              for s in ("train", "validation") for c in ("cats", "dogs")), 66,
        ("cat", "dog")),
}
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def cache_dir(key: str) -> Path:
    """The folder a download is cached in."""
    return online.keras_home() / DOWNLOADS[key].cache_subdir


def is_cached(key: str) -> bool:
    """True when every file the loader reads is already in the Keras cache."""
    folder = cache_dir(key)
    return all((folder / rel).exists() for rel in DOWNLOADS[key].ready)


def _archive_present(key: str) -> bool:
    """A downloaded archive that Keras has not extracted yet (no network needed)."""
    spec = DOWNLOADS[key]
    if not spec.extract:
        return False
    name = spec.files[0]
    target = name if "." in name else f"{name}_archive"
    return (cache_dir(key) / target).is_file()


def _offline_message(spec: Download, where: Path) -> str:
    return (
        f"{spec.title} is not cached on this machine (looked for {where}). It needs the "
        f"internet once: Keras downloads it from {spec.host} (about {spec.size_mb} MB) and "
        "keeps it in that folder for next time, but this machine cannot reach the internet "
        "now. The offline datasets (shapes, textures, faces) work meanwhile."
    )


def _fetch(key: str) -> Path:
    """The cache folder holding ``key``, downloading it with Keras if needed."""
    spec = DOWNLOADS[key]
    folder = cache_dir(key)
    if is_cached(key):
        return folder
    if not _archive_present(key) and not online.is_online(spec.host):
        where = folder / spec.files[0] if len(spec.files) == 1 else folder
        raise DatasetError(_offline_message(spec, where))
    from keras.utils import get_file

    for name in spec.files:
        if (folder / name).exists() and not spec.extract:
            continue
        origin = spec.origin + name if spec.origin.endswith("/") else spec.origin
        try:
            get_file(name, origin=origin, cache_subdir=spec.cache_subdir,
                     cache_dir=str(online.keras_home()), extract=spec.extract)
        except Exception as error:  # URL errors, disk full, broken archive, ...
            raise DatasetError(
                f"Downloading {spec.title} from {spec.host} into {folder} failed "
                f"({str(error)[:200]}). Try again when the connection works."
            ) from error
    if not is_cached(key):
        raise DatasetError(
            f"{spec.title} was downloaded to {folder} but the expected files are missing; "
            "delete the folder's files for it and try again.")
    return folder


def _damaged_cache(spec: Download, where: Path, error: Exception) -> DatasetError:
    return DatasetError(
        f"The cached {spec.title} files in {where} are damaged ({str(error)[:160]}). "
        "Delete them so that Keras downloads them again.")


def _pick(n_total: int, n: int | None, default: int, rng) -> np.ndarray:
    n = default if n is None else int(n)
    if n < 0:
        raise DatasetError("The number of images must not be negative.")
    return np.sort(rng.permutation(n_total)[:min(n, n_total)])


def _read_mnist(folder: Path):
    with np.load(folder / "mnist.npz", allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _read_idx(path: Path, offset: int) -> np.ndarray:
    import gzip

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def _read_fashion(folder: Path):
    files = DOWNLOADS["fashion_mnist"].files
    y_train, y_test = _read_idx(folder / files[0], 8), _read_idx(folder / files[2], 8)
    x_train = _read_idx(folder / files[1], 16).reshape(len(y_train), 28, 28)
    x_test = _read_idx(folder / files[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)


def _read_cifar_batch(path: Path):
    import pickle

    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")  # the Keras cache's own file, as keras does
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], dtype=np.int64)


DEFAULT_N_TRAIN = 5000
DEFAULT_N_TEST = 1000


def load_keras_dataset(name: str, *, n_train: int | None = None, n_test: int | None = None,
                       seed: int = 0) -> LabeledImages:
    """MNIST, Fashion-MNIST or CIFAR-10 from the Keras cache (downloaded once).

    Takes a random ``n_train`` images of the official training part (default
    5000) and ``n_test`` of the test part (default 1000); ``test_mask`` marks
    the latter. Grey digits become RGB, all images float32 in [0, 1]. Offline
    and not cached: ``DatasetError`` within a few seconds, naming the cache path.
    """
    if name not in KERAS_DATASETS:
        raise DatasetError(
            f"Unknown Keras dataset {name!r}; choose from {', '.join(KERAS_DATASETS)}.")
    spec = DOWNLOADS[name]
    folder = _fetch(name)
    rng = np.random.default_rng(seed)
    try:
        if name == "cifar10":
            inner = folder / "cifar-10-batches-py-target" / "cifar-10-batches-py"
            # five batches of 10 000 images; read one at a time to keep memory low
            x, y = _read_cifar_batch(inner / "data_batch_1")
            train_pick = _pick(5 * len(y), n_train, DEFAULT_N_TRAIN, rng)
            xs, ys, offset = [], [], 0
            for i in range(5):
                if i:
                    x, y = _read_cifar_batch(inner / f"data_batch_{i + 1}")
                local = train_pick[(train_pick >= offset) & (train_pick < offset + len(y))]
                xs.append(x[local - offset])
                ys.append(y[local - offset])
                offset += len(y)
            x_train, y_train = np.concatenate(xs), np.concatenate(ys)
            x_test, y_test = _read_cifar_batch(inner / "test_batch")
            test_pick = _pick(len(y_test), n_test, DEFAULT_N_TEST, rng)
            x_test, y_test = x_test[test_pick], y_test[test_pick]
        else:
            reader = _read_mnist if name == "mnist" else _read_fashion
            (x_train, y_train), (x_test, y_test) = reader(folder)
            train_pick = _pick(len(y_train), n_train, DEFAULT_N_TRAIN, rng)
            test_pick = _pick(len(y_test), n_test, DEFAULT_N_TEST, rng)
            x_train, y_train = x_train[train_pick], y_train[train_pick]
            x_test, y_test = x_test[test_pick], y_test[test_pick]
        images = _grey_to_rgb(np.concatenate([x_train, x_test]))
        labels = np.concatenate([y_train, y_test]).astype(np.int64).reshape(-1)
    except DatasetError:
        raise
    except Exception as error:  # missing keys, wrong shapes, bad gzip, bad pickle...
        raise _damaged_cache(spec, folder, error) from error
    if len(labels) and (labels.min() < 0 or labels.max() >= len(spec.class_names)):
        raise _damaged_cache(spec, folder, ValueError("labels out of range"))
    test_mask = np.arange(len(labels)) >= len(y_train)
    return LabeledImages(images, labels, spec.class_names, test_mask=test_mask,
                         description=f"{spec.title} ({len(y_train)} train + {len(y_test)} test)")


def load_cats_vs_dogs(*, size: int = 64, subset: str = "train",
                      max_per_class: int | None = 500, seed: int = 0) -> LabeledImages:
    """The TensorFlow tutorials' cats-vs-dogs archive (2000 train, 1000 validation).

    Downloaded once through ``keras.utils.get_file`` (extracted into the Keras
    cache); each JPEG is read with :func:`cnnviz.images.load_image` and resized
    to ``size``. ``subset`` is "train", "validation" or "both"; ``max_per_class``
    takes a random subset per class (decoding all 3000 JPEGs takes a while).
    Unreadable files are skipped.
    """
    from cnnviz.errors import ImageError
    from cnnviz.images import load_image, resize

    if subset not in ("train", "validation", "both"):
        raise DatasetError(f"subset must be 'train', 'validation' or 'both', got {subset!r}.")
    spec = DOWNLOADS["cats_vs_dogs"]
    root = _fetch("cats_vs_dogs") / "cats_and_dogs_filtered_extracted" / "cats_and_dogs_filtered"
    parts = ("train", "validation") if subset == "both" else (subset,)
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, folder_name in enumerate(("cats", "dogs")):
        files = sorted(p for part in parts for p in (root / part / folder_name).glob("*")
                       if p.is_file())
        if max_per_class is not None:
            files = [files[i] for i in np.sort(rng.permutation(len(files))[:max_per_class])]
        for path in files:
            try:
                image = load_image(path)
            except ImageError:
                continue
            images.append(resize(image, size).astype(np.float32) / 255.0)
            labels.append(label)
    if len(set(labels)) < 2:
        raise _damaged_cache(spec, root, ValueError("no readable cat and dog images"))
    return LabeledImages(np.stack(images), np.array(labels, dtype=np.int64), spec.class_names,
                         description=f"{spec.title}, {subset}")


def dataset_status(*, check_online: bool = True) -> list[dict[str, str]]:
    """One row per dataset for the home page: offline / cached / downloadable / unavailable.

    Fast: file checks, plus (``check_online``) one reachability probe per
    download host, all at once, at most ``online.TIMEOUT`` seconds in total and
    shared with the ImageNet models' status (``cnnviz.online``).
    """
    rows = [
        {"dataset": "Synthetic shapes", "kind": "offline", "status": "ready",
         "details": f"Generated on the fly: {', '.join(SHAPE_CLASSES)}, with object masks."},
        {"dataset": "Textures", "kind": "offline", "status": "ready",
         "details": f"Patches of scikit-image photos: {', '.join(TEXTURE_CLASSES)}."},
        {"dataset": "Faces vs non-faces", "kind": "offline", "status": "ready",
         "details": "scikit-image's lfw_subset, 100 + 100 grey 25x25 crops."},
    ]
    missing = [key for key in DOWNLOADS if not is_cached(key) and not _archive_present(key)]
    reachable = {}
    if check_online and missing:
        reachable = online.reachable(DOWNLOADS[k].host for k in missing)
    for key, spec in DOWNLOADS.items():
        folder = cache_dir(key)
        if key not in missing:
            status, details = "ready", f"Cached in {folder}."
        elif reachable.get(spec.host):
            status = "downloadable"
            details = f"Downloads on first use (about {spec.size_mb} MB), cached in {folder}."
        else:
            status = "unavailable offline"
            details = (f"Needs the internet once (about {spec.size_mb} MB from {spec.host}); "
                       f"not cached in {folder}.")
        rows.append({"dataset": spec.title, "kind": "download", "status": status,
                     "details": details})
    return rows


# --------------------------------------------------------------------------- a user's zip

MAX_ZIP_FILES = 2000
MAX_ZIP_TOTAL_BYTES = 200 * 2**20
MAX_ZIP_MEMBER_BYTES = 20 * 2**20
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for members over 1 MB
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class ZipReport:
    """What ``load_image_zip`` found: images per class and the files it skipped."""

    class_counts: dict[str, int]
    skipped: tuple[tuple[str, str], ...]  # (member name, reason)
    top_folder: str | None  # the single top folder that was stripped, if any


class ZipImages(NamedTuple):
    """What ``load_image_zip`` returns: unpack it as ``data, report = ...``.

    For convenience it also passes ``images``, ``labels``, ``class_names`` and
    ``counts()`` through to ``data``, so it can be handed to code that expects
    a ``LabeledImages``.
    """

    data: LabeledImages
    report: ZipReport

    @property
    def images(self) -> np.ndarray:
        return self.data.images

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.data.class_names

    @property
    def test_mask(self) -> None:
        return None

    def counts(self) -> dict[str, int]:
        return self.data.counts()


def _unsafe_name(name: str) -> bool:
    """Absolute paths, drive letters and '..' anywhere (either slash) are refused."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    parts = name.replace("\\", "/").split("/")
    return any(part == ".." for part in parts)


def _read_member(zf, info, remaining: int, max_member_bytes: int) -> bytes:
    """Read one member in memory, counting bytes: declared sizes can lie."""
    limit = min(max_member_bytes, remaining)
    chunks, total = [], 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                which = "this file" if limit == max_member_bytes else "the whole zip"
                raise DatasetError(
                    f"{info.filename!r} unpacks to more than {limit / 2**20:.0f} MB "
                    f"(the limit for {which}); refusing what looks like a zip bomb.")
            chunks.append(chunk)
    return b"".join(chunks)


def load_image_zip(src, *, size: int = 64, max_files: int = MAX_ZIP_FILES,
                   max_total_bytes: int = MAX_ZIP_TOTAL_BYTES,
                   max_member_bytes: int = MAX_ZIP_MEMBER_BYTES,
                   max_ratio: float = MAX_ZIP_RATIO) -> ZipImages:
    """A student's dataset from a zip of class folders, read in memory (never extracted).

    Layout ``cat/001.jpg, dog/002.png, ...`` or the same inside one top folder
    (``pets/cat/001.jpg``). The folder name is the class. Refused with
    ``DatasetError``: not a zip, unsafe member paths (``..``, absolute),
    zip bombs (declared sizes, compression ratio, and bytes counted while
    reading), too many files, fewer than two classes with images. Files that
    are not images, or are damaged, are skipped and listed in the report.
    """
    import zipfile

    from cnnviz.errors import ImageError
    from cnnviz.images import load_image, resize

    data = read_bytes(src, max_total_bytes, noun="zip file", error=DatasetError)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise DatasetError(f"This is not a readable zip file ({error}).") from error
    with zf:
        for info in infos:
            if _unsafe_name(info.filename):
                raise DatasetError(
                    f"The zip contains an unsafe path {info.filename!r} (absolute, or with "
                    "'..'); refusing the whole file. Zip your class folders directly.")
        files = [i for i in infos if not i.is_dir()]
        if len(files) > max_files:
            raise DatasetError(f"The zip holds {len(files)} files; the limit is {max_files}.")
        declared = sum(i.file_size for i in files)
        if declared > max_total_bytes:
            raise DatasetError(
                f"The zip unpacks to {declared / 2**20:.0f} MB; the limit is "
                f"{max_total_bytes / 2**20:.0f} MB.")
        for info in files:
            if info.file_size > max_member_bytes:
                raise DatasetError(
                    f"{info.filename!r} unpacks to {info.file_size / 2**20:.0f} MB; the "
                    f"limit per file is {max_member_bytes / 2**20:.0f} MB.")
            if info.file_size > 2**20 and info.file_size > max_ratio * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise DatasetError(
                    f"{info.filename!r} is compressed {ratio} times: that is a zip bomb, "
                    "not a photo. Refusing the file.")

        skipped: list[tuple[str, str]] = []
        candidates = []
        for info in files:
            name = info.filename.replace("\\", "/")
            base = name.rsplit("/", 1)[-1]
            if name.startswith(_JUNK_PREFIXES) or base in _JUNK_NAMES or base.startswith("._"):
                skipped.append((info.filename, "system file"))
                continue
            candidates.append((info, [p for p in name.split("/") if p]))
        tops = {parts[0] for _, parts in candidates}
        top = None
        if len(tops) == 1 and any(len(parts) >= 3 for _, parts in candidates):
            top = next(iter(tops))
            candidates = [(info, parts[1:]) for info, parts in candidates]

        per_class: dict[str, list[np.ndarray]] = {}
        remaining = max_total_bytes
        for info, parts in candidates:
            if len(parts) < 2:
                skipped.append((info.filename, "not inside a class folder"))
                continue
            if info.flag_bits & 0x1:
                skipped.append((info.filename, "encrypted"))
                continue
            try:
                raw = _read_member(zf, info, remaining, max_member_bytes)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError,
                    NotImplementedError) as error:
                skipped.append((info.filename, f"damaged in the zip ({str(error)[:80]})"))
                continue
            remaining -= len(raw)
            try:
                image = load_image(raw)
            except ImageError as error:
                skipped.append((info.filename, str(error)))
                continue
            per_class.setdefault(parts[0], []).append(
                resize(image, size).astype(np.float32) / 255.0)

    class_names = tuple(sorted(per_class))
    if not class_names:
        raise DatasetError(
            "The zip holds no readable images in class folders. Expected e.g. "
            "cats/001.jpg, dogs/002.jpg.")
    if len(class_names) < 2:
        raise DatasetError(
            f"The zip holds images of only one class ({class_names[0]!r}); a classifier needs "
            "at least two class folders.")
    images = np.stack([img for c in class_names for img in per_class[c]])
    labels = np.concatenate([np.full(len(per_class[c]), i, dtype=np.int64)
                             for i, c in enumerate(class_names)])
    report = ZipReport({c: len(per_class[c]) for c in class_names}, tuple(skipped), top)
    return ZipImages(
        LabeledImages(images, labels, class_names, description="your zip of class folders"),
        report)
