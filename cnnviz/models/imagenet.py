"""ImageNet classifiers from keras.applications, with an offline-safe cache.

Keras downloads ImageNet weights (and the class-index file that names the 1000
classes) on first use and caches them under ``$KERAS_HOME/models`` (default
``~/.keras/models``). Here we look at that cache ourselves first, so that

* listing the models never imports TensorFlow and never touches the network
  for longer than a short probe, and
* an offline machine fails within a few seconds with a readable ``ModelError``
  instead of hanging in a download.

Models are built with ``classifier_activation=None``: they output logits, so
gradients are taken of the class score, not of a saturated probability.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz import online
from cnnviz.errors import ModelError

CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
DOWNLOAD_HOST = online.DEFAULT_HOST


@dataclass(frozen=True)
class ImageNetSpec:
    name: str
    title: str
    input_size: int
    weights_file: str  # file name Keras uses in its cache
    weights_url: str
    size_mb: int
    preprocessing: str  # "tf" ([-1, 1]) or "caffe" (BGR, mean subtracted)
    builder: str  # attribute of keras.applications


SPECS = {
    "mobilenet_v2": ImageNetSpec(
        name="mobilenet_v2",
        title="MobileNetV2 (ImageNet, 1000 classes)",
        input_size=224,
        weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
        weights_url="https://storage.googleapis.com/tensorflow/keras-applications/"
        "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
        size_mb=14,
        preprocessing="tf",
        builder="MobileNetV2",
    ),
    "resnet50": ImageNetSpec(
        name="resnet50",
        title="ResNet50 (ImageNet, 1000 classes)",
        input_size=224,
        weights_file="resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        weights_url="https://storage.googleapis.com/tensorflow/keras-applications/"
        "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        size_mb=102,
        preprocessing="caffe",
        builder="ResNet50",
    ),
}


def models_dir() -> Path:
    return online.keras_home() / "models"


def weights_path(name: str) -> Path:
    return models_dir() / SPECS[name].weights_file


def class_index_path() -> Path:
    return models_dir() / CLASS_INDEX_FILE


def status(name: str, *, check_online: bool = True) -> tuple[bool, str]:
    """(usable, reason) for one ImageNet model, without importing TensorFlow."""
    spec = SPECS[name]
    missing = [p for p in (weights_path(name), class_index_path()) if not p.is_file()]
    if not missing:
        return True, f"ImageNet weights cached at {weights_path(name)}."
    where = ", ".join(str(p) for p in missing)
    if check_online and online.is_online(DOWNLOAD_HOST):
        return True, (
            f"Not cached yet ({where}); about {spec.size_mb} MB download on first use."
        )
    now = " (this machine is offline now)" if check_online else ""
    return False, (
        f"ImageNet weights not cached at {where}; they download on first use when the "
        f"machine is online{now}. The built-in models work offline."
    )


def _ensure_file(fname: str, url: str, what: str) -> Path:
    """The cached file, downloading it through Keras only if we are online."""
    path = models_dir() / fname
    if path.is_file() and path.stat().st_size > 0:
        return path
    if not online.is_online(DOWNLOAD_HOST):
        raise ModelError(
            f"The {what} are not cached at {path} and this machine is offline, so they "
            "cannot be downloaded now. Connect to the internet once (Keras caches the "
            "file), or use the built-in model 'shapes_cnn'."
        )
    from keras.utils import get_file

    try:
        got = get_file(fname, url, cache_subdir="models", cache_dir=str(online.keras_home()))
    except Exception as error:  # network errors come in many types
        raise ModelError(f"Downloading the {what} failed: {error}") from error
    return Path(got)


def load(name: str):
    """A fresh ImageNet classifier that outputs logits (flat functional model)."""
    spec = SPECS[name]
    path = _ensure_file(spec.weights_file, spec.weights_url, f"{spec.title} weights")
    import keras

    builder = getattr(keras.applications, spec.builder)
    try:
        return builder(weights=str(path), classifier_activation=None)
    except Exception as error:
        raise ModelError(
            f"The cached weights file {path} could not be loaded ({error}). Delete it so "
            "that Keras downloads it again."
        ) from error


_class_names_cache: dict[str, tuple[str, ...]] = {}


def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names, readable ("golden retriever")."""
    path = _ensure_file(CLASS_INDEX_FILE, CLASS_INDEX_URL, "ImageNet class names")
    key = str(path)
    if key not in _class_names_cache:
        try:
            index = json.loads(path.read_text())
            names = tuple(index[str(i)][1].replace("_", " ") for i in range(1000))
        except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
            raise ModelError(
                f"The ImageNet class-index file {path} is damaged ({error}); delete it so "
                "that it downloads again."
            ) from error
        _class_names_cache[key] = names
    return _class_names_cache[key]


def preprocess_input(images01: np.ndarray, mode: str) -> np.ndarray:
    """Map float [0, 1] RGB to what the network was trained on (numpy only)."""
    x = images01.astype(np.float32) * 255.0
    if mode == "tf":  # MobileNetV2: [-1, 1]
        return x / 127.5 - 1.0
    if mode == "caffe":  # ResNet50: BGR, ImageNet channel means subtracted
        x = x[..., ::-1]
        return x - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    raise ValueError(mode)
