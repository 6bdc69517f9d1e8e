"""Models to probe: the built-in shapes CNN, ImageNet classifiers, a user's own file.

Every model returned here is a functional ``keras.Model`` that OUTPUTS LOGITS
(no softmax), so gradients are of the class score; apply ``probabilities``
yourself (``decode`` does). The built-in and ImageNet models are flat; a user's
own may nest a base model (``cnnviz.probe`` looks inside either).

``load_model(name)`` builds a FRESH model on every call; the UI caches it
(``cnnviz.ui.get_model``) and shares it read-only. Never change a shared model
(``trainable``, ``fit``, ``set_weights``): ``copy_model`` it first.

``prepare(model, image)`` is the one way a picked image reaches a model: it
gives the model's input and the image at the model's size that pages show, from
the same pixels.

Importing this package does not import TensorFlow or Keras; they are imported
inside the functions that need them.

    >>> from cnnviz import models
    >>> model = models.load_model("shapes_cnn")
    >>> picked = models.prepare("shapes_cnn", photo)     # any size, uint8 or float
    >>> picked.x.shape, picked.display.shape            # (1, 64, 64, 3), (64, 64, 3)
    >>> models.decode("shapes_cnn", model(picked.x).numpy())  # [[("star", 0.97), ...]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.cache import LRU
from cnnviz.errors import ImageError, ModelError
from cnnviz.images import as_float_batch, resize, resize_batch, resize_map
from cnnviz.models import builtin, imagenet
from cnnviz.models.user import MAX_BYTES, load_user_model
from cnnviz.uploads import read_bytes

__all__ = [
    "ModelInfo", "available_models", "load_model", "copy_model", "Prepared", "prepare",
    "preprocess", "class_names", "decode", "input_size", "load_user_model",
    "register_user_model", "user_model_names", "probabilities", "log_probabilities", "MAX_BYTES",
    "BUILTIN_MODELS", "IMAGENET_MODELS",
]

BUILTIN_MODELS = (builtin.NAME,)
IMAGENET_MODELS = tuple(imagenet.SPECS)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    title: str
    kind: str  # "builtin" | "imagenet"
    input_size: int
    usable: bool
    reason: str


def _builtin_info() -> ModelInfo:
    info = builtin.trained_info()
    if builtin.WEIGHTS_PATH.is_file() and info:
        reason = (
            f"Trained here on synthetic shapes; test accuracy "
            f"{100 * info['test_accuracy']:.1f}% on {info['test_size']} fresh images."
        )
    elif builtin.WEIGHTS_PATH.is_file():
        reason = "Trained weights ship with cnnviz."
    else:
        reason = (
            "Trained weights missing: the model has RANDOM weights. Run "
            "`python -m cnnviz.models.train_builtin` to train it (a few minutes)."
        )
    return ModelInfo(
        name=builtin.NAME,
        title="Shapes CNN (built-in, 5 shape classes)",
        kind="builtin",
        input_size=builtin.INPUT_SIZE,
        usable=True,
        reason=reason,
    )


def available_models(*, check_online: bool = True) -> list[ModelInfo]:
    """Every model cnnviz knows, whether it can be used now, and why (not).

    Never imports TensorFlow. ImageNet models are usable when their weights are
    cached, or (``check_online``) when a ~3 s network probe succeeds.
    """
    infos = [_builtin_info()]
    for name, spec in imagenet.SPECS.items():
        usable, reason = imagenet.status(name, check_online=check_online)
        infos.append(ModelInfo(name, spec.title, "imagenet", spec.input_size, usable, reason))
    return infos


def _unknown(name) -> ModelError:
    known = ", ".join(BUILTIN_MODELS + IMAGENET_MODELS)
    return ModelError(f"Unknown model {name!r}; choose one of: {known}.")


#: Uploaded models by name ("user:<content hash>:<file name>"). A few at most are
#: kept, the least recently used dropped first; the same file uploaded twice is
#: loaded once.
MAX_USER_MODELS = 4
_USER_MODELS = LRU(MAX_USER_MODELS)


def register_user_model(src, *, filename: str = "model.keras") -> str:
    """Load a user's ``.keras`` file safely and give it a name the other functions know.

    The name is derived from the file's content, so two students uploading the
    same file share one read-only model and different files never collide.
    """
    import hashlib

    data = read_bytes(src, MAX_BYTES, noun="model file", error=ModelError)
    name = f"user:{hashlib.sha256(data).hexdigest()[:12]}:{filename}"
    _USER_MODELS.get(name, lambda: load_user_model(data))
    return name


def user_model_names() -> list[str]:
    """The names of the uploaded models still in memory, least recently used first."""
    return _USER_MODELS.keys()


def _user_model(name: str):
    try:
        return _USER_MODELS.get(name)
    except KeyError:
        raise ModelError("This uploaded model is no longer in memory; please upload the "
                         "file again.") from None


def _resolve(model_or_name):
    """A user model's name -> the model; anything else unchanged."""
    if isinstance(model_or_name, str) and model_or_name.startswith("user:"):
        return _user_model(model_or_name)
    return model_or_name


def load_model(name: str):
    """A fresh functional keras.Model that outputs logits for ``name``."""
    if isinstance(name, str) and name.startswith("user:"):
        return copy_model(_user_model(name))
    if name == builtin.NAME:
        return builtin.load_shapes_cnn()
    if name in imagenet.SPECS:
        return imagenet.load(name)
    raise _unknown(name)


def copy_model(model, *, keep_weights: bool = True):
    """An independent copy of ``model``: safe to freeze, train or randomise while the
    original (often shared by every session) stays as it was. With the same weights,
    or (``keep_weights=False``) freshly initialised as if never trained."""
    import keras

    copy = keras.models.clone_model(model)
    if keep_weights:
        copy.set_weights(model.get_weights())
    return copy


def _is_model(obj) -> bool:
    return hasattr(obj, "inputs") and hasattr(obj, "outputs") and not isinstance(obj, str)


def input_size(model_or_name) -> tuple[int, int, int]:
    """(height, width, channels) the model takes."""
    model_or_name = _resolve(model_or_name)
    if _is_model(model_or_name):
        shape = tuple(model_or_name.inputs[0].shape)
        return int(shape[1]), int(shape[2]), int(shape[3])
    if model_or_name == builtin.NAME:
        return builtin.INPUT_SIZE, builtin.INPUT_SIZE, 3
    if model_or_name in imagenet.SPECS:
        s = imagenet.SPECS[model_or_name].input_size
        return s, s, 3
    raise _unknown(model_or_name)


def preprocess(model_or_name, images) -> np.ndarray:
    """Images -> the float32 batch (n, s, s, C) the model expects.

    Takes uint8 (n,H,W,3) / (H,W,3) or float images in [0, 1]; resizes them
    (``cnnviz.images.resize_batch``) to the model's input size, then applies the model's own
    preprocessing: built-in and user models take [0, 1]; MobileNetV2 [-1, 1];
    ResNet50 BGR minus the ImageNet mean. A user model (a keras.Model) can be
    passed instead of a name; grayscale models get one channel.
    """
    model_or_name = _resolve(model_or_name)
    h, w, channels = input_size(model_or_name)
    x = resize_batch(as_float_batch(images), (h, w))
    if isinstance(model_or_name, str) and model_or_name in imagenet.SPECS:
        return imagenet.preprocess_input(x, imagenet.SPECS[model_or_name].preprocessing)
    if channels == 1:
        x = x.mean(axis=-1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


@dataclass(frozen=True)
class Prepared:
    """One picked image made ready for one model (see ``prepare``)."""

    x: np.ndarray  # float32 (1, h, w, c): the model's input, after its own preprocessing
    display: np.ndarray  # uint8 (h, w, 3): exactly the pixels the model got, to show
    mask: np.ndarray | None  # bool (h, w): the object mask resized the same way, or None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the model's input."""
        return int(self.display.shape[0]), int(self.display.shape[1])


def prepare(model_or_name, image, mask=None) -> Prepared:
    """A picked image (any size, uint8 or float [0, 1]) made ready for a model.

    One resize to the model's input size gives the display image; the model's
    input is computed from exactly those pixels (then normalised the model's
    way, e.g. [-1, 1] for MobileNetV2), so a page shows what the model saw. A
    ``mask`` (bool (H, W), e.g. a shape's object) is resized along with it.
    """
    h, w, _ = input_size(model_or_name)
    display = resize(image, (h, w))
    small_mask = None
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != np.shape(image)[:2]:
            raise ImageError(f"The mask is {mask.shape[:2]} but the image is "
                             f"{np.shape(image)[:2]}; they must be the same size.")
        small_mask = resize_map(mask.astype(np.float32), (h, w)) > 0.5
    return Prepared(preprocess(model_or_name, display), display, small_mask)


def class_names(model_or_name) -> list[str]:
    """Class names in output order ("class 0", ... for a user model)."""
    model_or_name = _resolve(model_or_name)
    if _is_model(model_or_name):
        n = int(model_or_name.outputs[0].shape[-1])
        return [f"class {i}" for i in range(max(n, 2))]
    if model_or_name == builtin.NAME:
        return list(builtin.CLASS_NAMES)
    if model_or_name in imagenet.SPECS:
        return list(imagenet.imagenet_class_names())
    raise _unknown(model_or_name)


def log_probabilities(logits, dtype=np.float32) -> np.ndarray:
    """Log-probabilities from logits along the last axis (a stable log-softmax).

    A single logit is a sigmoid classifier of two classes
    (``cnnviz.probe.class_scores``): probabilities (1 - sigmoid(z), sigmoid(z)).
    """
    from cnnviz.probe import class_scores

    z = class_scores(np.asarray(logits, dtype=np.float64))
    shifted = z - z.max(axis=-1, keepdims=True)
    return (shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))).astype(dtype)


def probabilities(logits, dtype=np.float32) -> np.ndarray:
    """Class probabilities from logits: softmax, or two classes for one sigmoid logit."""
    return np.exp(log_probabilities(logits, np.float64)).astype(dtype)


def decode(model_or_name, logits, top: int = 5) -> list[list[tuple[str, float]]]:
    """Top-``top`` (class name, probability) per image, best first."""
    model_or_name = _resolve(model_or_name)
    z = np.asarray(logits)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2:
        raise ModelError(f"Expected logits shaped (n, classes); got {np.asarray(logits).shape}.")
    names = class_names(model_or_name)
    probs = probabilities(z, np.float64)  # float64: near-ties keep the logits' order
    if probs.shape[1] != len(names):
        raise ModelError(
            f"{probs.shape[1]} outputs but {len(names)} class names for {model_or_name!r}."
        )
    top = max(1, min(int(top), probs.shape[1]))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :top]
    return [[(names[j], float(p[j])) for j in row] for p, row in zip(probs, order, strict=True)]
