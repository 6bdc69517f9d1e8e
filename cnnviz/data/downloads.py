"""Datasets downloaded once through Keras and cached: MNIST, Fashion-MNIST, CIFAR-10,
cats vs dogs; and what the home page says about every dataset (``dataset_status``).

Downloads go through Keras's own download-and-cache path (``keras.utils.get_file``
into ``$KERAS_HOME/datasets``, default ``~/.keras/datasets``). Not cached and
offline: a ``DatasetError`` within seconds, naming the cache path, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz import online
from cnnviz.data.offline import TEXTURE_CLASSES, LabeledImages, _grey_to_rgb
from cnnviz.data.shapes import SHAPE_CLASSES
from cnnviz.errors import DatasetError, ImageError
from cnnviz.images import load_image, resize


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
