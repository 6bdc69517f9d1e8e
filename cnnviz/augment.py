"""Data augmentation as a pipeline of Keras preprocessing layers.

A pipeline is described by a *spec*: a JSON-able list of ``[key, {param: value}]``
pairs, e.g. ``[["flip", {"mode": "horizontal"}], ["rotation", {"factor": 0.1}]]``.
The spec is what the page stores, caches on and shows; :func:`build_pipeline`
turns it into a ``keras.Sequential`` of real Keras layers.

The layers are random only while training (``training=True``): at inference they
hand the image back unchanged, so the validation images and the student's own
photos are never distorted. :func:`inference_difference` measures exactly that.

Images are float32 in [0, 1], so every colour layer gets ``value_range=(0, 1)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnviz.errors import CnnvizError
from cnnviz.images import as_float_batch, resize, to_uint8

VALUE_RANGE = (0.0, 1.0)


@dataclass(frozen=True)
class Param:
    """One knob of an augmentation layer (a slider, or a choice when ``options``)."""

    name: str
    label: str
    default: float | str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    options: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Augmentation:
    """A Keras preprocessing layer the student can put in the pipeline."""

    key: str
    title: str
    keras_name: str
    params: tuple[Param, ...]
    build: Callable[..., object]
    help: str

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


@functools.cache
def _crop_resize_class():
    """Crop a random window of ``fraction`` of the side, then resize back.

    Keras' ``RandomCrop`` alone changes the image size while training and not at
    inference; resizing the crop back keeps the model's input size, and at
    inference the layer is skipped entirely (identity), like every other one.
    The class is made once, on first use, so that importing this module stays cheap.
    """
    import keras

    class RandomCropResize(keras.layers.Layer):
        def __init__(self, fraction, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.fraction = float(fraction)
            self.seed = seed

        def build(self, input_shape):
            height, width = int(input_shape[1]), int(input_shape[2])
            self.crop = keras.layers.RandomCrop(
                max(1, round(height * self.fraction)), max(1, round(width * self.fraction)),
                seed=self.seed)
            self.resize = keras.layers.Resizing(height, width)

        def call(self, inputs, training=False):
            if not training:
                return inputs
            return self.resize(self.crop(inputs, training=True))

        def compute_output_shape(self, input_shape):
            return input_shape

    return RandomCropResize


def _random_crop_layer(fraction: float, seed: int | None):
    return _crop_resize_class()(fraction, seed=seed, name="random_crop")


def _layers():
    import keras

    L = keras.layers
    return {
        "flip": lambda p, seed: L.RandomFlip(p["mode"], seed=seed),
        "rotation": lambda p, seed: L.RandomRotation(p["factor"], fill_mode="reflect",
                                                     seed=seed),
        "zoom": lambda p, seed: L.RandomZoom(p["factor"], fill_mode="reflect", seed=seed),
        "translation": lambda p, seed: L.RandomTranslation(p["factor"], p["factor"],
                                                           fill_mode="reflect", seed=seed),
        "shear": lambda p, seed: L.RandomShear(p["factor"], p["factor"], seed=seed),
        "crop": lambda p, seed: _random_crop_layer(p["fraction"], seed),
        "brightness": lambda p, seed: L.RandomBrightness(p["factor"], value_range=VALUE_RANGE,
                                                         seed=seed),
        "contrast": lambda p, seed: L.RandomContrast(p["factor"], value_range=VALUE_RANGE,
                                                     seed=seed),
        "saturation": lambda p, seed: L.RandomSaturation(p["factor"], value_range=VALUE_RANGE,
                                                         seed=seed),
        "hue": lambda p, seed: L.RandomHue(p["factor"], value_range=VALUE_RANGE, seed=seed),
        "grayscale": lambda p, seed: L.RandomGrayscale(p["probability"], seed=seed),
        "sharpness": lambda p, seed: L.RandomSharpness(p["factor"], value_range=VALUE_RANGE,
                                                       seed=seed),
        "erasing": lambda p, seed: L.RandomErasing(p["probability"], scale=(0.02, p["scale"]),
                                                   value_range=VALUE_RANGE, seed=seed),
        "noise": lambda p, seed: L.GaussianNoise(p["stddev"], seed=seed),
    }


def _aug(key, title, keras_name, params, help):
    return Augmentation(key, title, keras_name, tuple(params),
                        build=lambda p, seed: _layers()[key](p, seed), help=help)


#: Every augmentation the page offers, in the order a pipeline usually has them:
#: geometry first, then colour, then noise and erasing.
AUGMENTATIONS: dict[str, Augmentation] = {a.key: a for a in (
    _aug("flip", "Flip", "RandomFlip",
         [Param("mode", "Direction", "horizontal_and_vertical",
                options=("horizontal", "vertical", "horizontal_and_vertical"))],
         "Mirror the image. Fine when a mirrored object is still the same class."),
    _aug("rotation", "Rotation", "RandomRotation",
         [Param("factor", "Max rotation (fraction of a full turn)", 0.25, 0.0, 0.5, 0.01)],
         "Rotate by up to ±factor × 360°; the corners are filled by reflection."),
    _aug("zoom", "Zoom", "RandomZoom",
         [Param("factor", "Max zoom (fraction)", 0.2, 0.0, 0.5, 0.05)],
         "Zoom in or out by up to this fraction of the image size."),
    _aug("translation", "Shift", "RandomTranslation",
         [Param("factor", "Max shift (fraction of the size)", 0.15, 0.0, 0.5, 0.05)],
         "Move the image by up to this fraction of its width and height."),
    _aug("shear", "Shear", "RandomShear",
         [Param("factor", "Max shear", 0.2, 0.0, 0.5, 0.05)],
         "Slant the image sideways and up-down."),
    _aug("crop", "Crop & resize", "RandomCrop + Resizing",
         [Param("fraction", "Crop side (fraction kept)", 0.8, 0.5, 1.0, 0.05)],
         "Cut a random window and scale it back to full size."),
    _aug("brightness", "Brightness", "RandomBrightness",
         [Param("factor", "Max brightness change", 0.2, 0.0, 0.8, 0.05)],
         "Add up to ±factor to every pixel."),
    _aug("contrast", "Contrast", "RandomContrast",
         [Param("factor", "Max contrast change", 0.3, 0.0, 0.9, 0.05)],
         "Stretch or squeeze the pixel values around their mean."),
    _aug("saturation", "Saturation", "RandomSaturation",
         [Param("factor", "Saturation change", 0.5, 0.0, 1.0, 0.05)],
         "Make colours paler or more vivid."),
    _aug("hue", "Hue", "RandomHue",
         [Param("factor", "Hue change", 0.2, 0.0, 1.0, 0.05)],
         "Rotate the colours around the colour wheel: use it only when colour does not "
         "decide the class."),
    _aug("grayscale", "Grayscale", "RandomGrayscale",
         [Param("probability", "Probability", 0.2, 0.0, 1.0, 0.05)],
         "Drop the colour of some images."),
    _aug("sharpness", "Sharpness", "RandomSharpness",
         [Param("factor", "Sharpness change", 0.5, 0.0, 1.0, 0.05)],
         "Blur or sharpen the image."),
    _aug("erasing", "Random erasing", "RandomErasing",
         [Param("probability", "Probability", 0.5, 0.0, 1.0, 0.05),
          Param("scale", "Max erased area (fraction)", 0.2, 0.05, 0.5, 0.05)],
         "Blank out a random rectangle, so the model cannot rely on one small part."),
    _aug("noise", "Gaussian noise", "GaussianNoise",
         [Param("stddev", "Noise standard deviation", 0.05, 0.0, 0.3, 0.01)],
         "Add random noise to every pixel."),
)}

#: The default pipeline: a shape keeps its class when flipped, turned or moved.
#: Mild on purpose: measured on the default experiment (benchmarks/bench_train.py),
#: it lifts validation accuracy within the same 40 epochs; much stronger
#: settings need more epochs than a one-minute experiment has.
DEFAULT_SPEC: list[list] = [
    ["flip", {"mode": "horizontal_and_vertical"}],
    ["rotation", {"factor": 0.1}],
    ["translation", {"factor": 0.1}],
]


def normalize_spec(spec) -> list[list]:
    """Check a spec and fill in missing parameters; raise a readable error if wrong."""
    out = []
    for item in spec or []:
        try:
            key, params = item
        except (TypeError, ValueError):
            raise CnnvizError(f"Each augmentation must be [name, params], got {item!r}.") from None
        if key not in AUGMENTATIONS:
            raise CnnvizError(f"Unknown augmentation {key!r}; choose from "
                              f"{', '.join(AUGMENTATIONS)}.")
        aug = AUGMENTATIONS[key]
        values = aug.defaults() | dict(params or {})
        for p in aug.params:
            v = values[p.name]
            if p.options:
                if v not in p.options:
                    raise CnnvizError(f"{aug.title}: {p.label} must be one of {p.options}.")
            elif not (p.low <= float(v) <= p.high):
                raise CnnvizError(f"{aug.title}: {p.label} must be in [{p.low}, {p.high}].")
            else:
                values[p.name] = float(v)
        out.append([key, {p.name: values[p.name] for p in aug.params}])
    return out


def describe(spec) -> str:
    """A one-line, human-readable pipeline: ``Flip(mode=horizontal) → Rotation(0.1)``."""
    spec = normalize_spec(spec)
    if not spec:
        return "no augmentation"
    parts = []
    for key, params in spec:
        args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in params.items())
        parts.append(f"{AUGMENTATIONS[key].keras_name}({args})")
    return " → ".join(parts)


def build_pipeline(spec, *, seed: int = 0, name: str = "augmentation"):
    """The spec as a ``keras.Sequential`` of preprocessing layers, seeded per layer."""
    import keras

    spec = normalize_spec(spec)
    layers = [AUGMENTATIONS[key].build(params, seed + i) for i, (key, params) in enumerate(spec)]
    if not layers:
        layers = [keras.layers.Identity()]
    return keras.Sequential(layers, name=name)


def augment(spec, images, *, seed: int = 0, training: bool = True) -> np.ndarray:
    """Run a batch through the pipeline; uint8 (n, h, w, 3), clipped to the valid range."""
    batch = as_float_batch(images)
    if not normalize_spec(spec):
        return to_uint8(batch)
    pipeline = build_pipeline(spec, seed=seed)
    return to_uint8(np.asarray(pipeline(batch, training=training)))


def augment_grid(spec, image, n: int = 8, *, seed: int = 0) -> np.ndarray:
    """``n`` random versions of one image (uint8 (n, h, w, 3)); the first is the original."""
    original = as_float_batch(image)
    batch = np.repeat(original, max(n - 1, 0), axis=0)
    out = augment(spec, batch, seed=seed) if len(batch) else to_uint8(batch)
    return np.concatenate([to_uint8(original), out])


def inference_difference(spec, images, *, seed: int = 0) -> tuple[float, float]:
    """(largest pixel change at inference, mean pixel change in training) on ``images``.

    The first number is 0: at inference the pipeline is the identity. The second
    shows the same layers do change the images while training.
    """
    batch = as_float_batch(images)
    pipeline = build_pipeline(spec, seed=seed)
    at_inference = np.asarray(pipeline(batch, training=False))
    in_training = np.asarray(pipeline(batch, training=True))
    return (float(np.abs(at_inference - batch).max()),
            float(np.abs(in_training - batch).mean()))


def thumbnail(image: np.ndarray, size: int = 128) -> np.ndarray:
    """The centre square of an image scaled to ``size``×``size`` (uint8), for previews."""
    image = to_uint8(image)
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize(image[top:top + side, left:left + side], size)


def keras_code(spec) -> str:
    """The Keras code that builds this pipeline, to show next to the preview."""
    lines = []
    for key, params in normalize_spec(spec):
        aug = AUGMENTATIONS[key]
        if key == "crop":
            lines.append(f"    # crop {params['fraction']:g} of the side, then resize back")
            lines.append(f"    {aug.keras_name.split(' ')[0]}(...), Resizing(...),")
            continue
        if key == "erasing":
            args = [f"{params['probability']:g}", f"scale=(0.02, {params['scale']:g})"]
        else:
            args = [repr(v) if isinstance(v, str) else f"{v:g}" for v in params.values()]
        if key in {"translation", "shear"}:
            args = args * 2
        if key in {"brightness", "contrast", "saturation", "hue", "sharpness", "erasing"}:
            args.append("value_range=(0, 1)")
        lines.append(f"    keras.layers.{aug.keras_name}({', '.join(args)}),")
    body = "\n".join(lines) if lines else "    keras.layers.Identity(),"
    return ("augmentation = keras.Sequential([\n" + body + "\n])\n"
            "# random while training, the identity at inference:\n"
            "train_batch = augmentation(images, training=True)\n"
            "same_images = augmentation(images, training=False)")
