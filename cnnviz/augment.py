"""Data augmentation as a pipeline of Keras preprocessing layers.

A pipeline is described by a *spec*: a JSON-able list of ``[key, {param: value}]``
pairs, e.g. ``[["flip", {"mode": "horizontal"}], ["rotation", {"factor": 0.1}]]``.
The spec is what the page stores, caches on and shows; :func:`build_pipeline`
turns it into a ``keras.Sequential`` of real Keras layers.

The layers are random while training (``training=True``). Whether a layer hands
the image back unchanged at inference is not assumed: :func:`inference_effects`
runs each layer with ``training=False`` and measures it, and the page says which
layers (if any) still change the validation images and the student's photos.

Images are float32 in [0, 1], so every colour layer gets ``value_range=(0, 1)``.
"""

from __future__ import annotations

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
    #: (params, seed, (height, width)) -> a list of Keras layers
    build: Callable[..., list]
    help: str

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


def _layers():
    """key -> (params, seed, (height, width)) -> the Keras layers of that augmentation."""
    import keras

    L = keras.layers

    def crop(p, seed, hw):
        # a random window of ``fraction`` of each side, then back to the input size
        height, width = hw
        return [L.RandomCrop(max(1, round(height * p["fraction"])),
                             max(1, round(width * p["fraction"])), seed=seed),
                L.Resizing(height, width)]

    return {
        "flip": lambda p, seed, hw: [L.RandomFlip(p["mode"], seed=seed)],
        "rotation": lambda p, seed, hw: [L.RandomRotation(p["factor"], fill_mode="reflect",
                                                          seed=seed)],
        "zoom": lambda p, seed, hw: [L.RandomZoom(p["factor"], fill_mode="reflect", seed=seed)],
        "translation": lambda p, seed, hw: [L.RandomTranslation(
            p["factor"], p["factor"], fill_mode="reflect", seed=seed)],
        "shear": lambda p, seed, hw: [L.RandomShear(p["factor"], p["factor"], seed=seed)],
        "crop": crop,
        "brightness": lambda p, seed, hw: [L.RandomBrightness(
            p["factor"], value_range=VALUE_RANGE, seed=seed)],
        "contrast": lambda p, seed, hw: [L.RandomContrast(p["factor"], value_range=VALUE_RANGE,
                                                          seed=seed)],
        "saturation": lambda p, seed, hw: [L.RandomSaturation(
            p["factor"], value_range=VALUE_RANGE, seed=seed)],
        "hue": lambda p, seed, hw: [L.RandomHue(p["factor"], value_range=VALUE_RANGE,
                                                seed=seed)],
        "grayscale": lambda p, seed, hw: [L.RandomGrayscale(p["probability"], seed=seed)],
        "sharpness": lambda p, seed, hw: [L.RandomSharpness(
            p["factor"], value_range=VALUE_RANGE, seed=seed)],
        "erasing": lambda p, seed, hw: [L.RandomErasing(
            p["probability"], scale=(0.02, p["scale"]), value_range=VALUE_RANGE, seed=seed)],
        "noise": lambda p, seed, hw: [L.GaussianNoise(p["stddev"], seed=seed)],
    }


def _aug(key, title, keras_name, params, help):
    return Augmentation(key, title, keras_name, tuple(params),
                        build=lambda p, seed, hw: _layers()[key](p, seed, hw), help=help)


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
         "Cut a random window and scale it back to full size. Keras' RandomCrop draws one "
         "window per call, shared by every image of the batch; each batch gets a new one."),
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

#: The default pipeline, for the default data (synthetic shapes): a circle, square or
#: triangle keeps its class when turned by any angle, mirrored either way or moved, so
#: full turns and both flips are label-preserving here (not for upright photos or digits:
#: see :func:`label_risks`). Chosen by a small sweep (benchmarks/bench_augmentation.py):
#: with the default experiment it raised validation accuracy by about 20 points at both
#: seeds, where the old mild pipeline (turns of ±36°, 64 px, 40 epochs) gained 5–11.
DEFAULT_SPEC: list[list] = [
    ["flip", {"mode": "horizontal_and_vertical"}],
    ["rotation", {"factor": 0.5}],
    ["translation", {"factor": 0.1}],
]

#: datasets whose images have an up and a down (photos of upright things), and digits,
#: where a half turn changes the class (6 and 9)
UPRIGHT = ("faces", "cats_vs_dogs", "cifar10", "fashion_mnist")
DIGITS = ("mnist",)
#: the largest turn (fraction of a full turn) that keeps an upright object upright enough
UPRIGHT_TURN = 0.1


def label_risks(spec, dataset: str) -> list[str]:
    """The transformations of ``spec`` that can change what an image of ``dataset`` shows
    (a vertical flip of an upright photo, a half turn of a 6): one sentence each."""
    if dataset not in UPRIGHT + DIGITS:
        return []
    what = "digit" if dataset in DIGITS else "upright photo"
    risks = []
    for key, params in normalize_spec(spec):
        if key == "flip" and (dataset in DIGITS or "vertical" in params["mode"]):
            risks.append(f"Flip ({params['mode']}): a mirrored or upside-down {what} is "
                         "not what the model will be shown" + (" (a flipped 2 is no digit)"
                                                               if dataset in DIGITS else ""))
        if key == "rotation" and params["factor"] > UPRIGHT_TURN:
            risks.append(f"Rotation up to ±{360 * params['factor']:.0f}°: more than "
                         f"±{360 * UPRIGHT_TURN:.0f}° turns an {what} on its side"
                         + (" (a 6 becomes a 9)" if dataset in DIGITS else ""))
    return risks


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


def pipeline_layers(spec, hw: tuple[int, int], *, seed: int = 0) -> list:
    """The spec's Keras layers, in order, for images of ``hw`` = (height, width).

    Each augmentation gets the seed ``seed + its position``; "crop" is two layers
    (``RandomCrop`` then ``Resizing`` back to ``hw``).
    """
    layers = []
    for i, (key, params) in enumerate(normalize_spec(spec)):
        layers.extend(AUGMENTATIONS[key].build(params, seed + i, tuple(int(n) for n in hw)))
    return layers


def build_pipeline(spec, hw: tuple[int, int], *, seed: int = 0, name: str = "augmentation"):
    """The spec as a ``keras.Sequential`` of preprocessing layers, seeded per layer."""
    import keras

    layers = pipeline_layers(spec, hw, seed=seed) or [keras.layers.Identity()]
    return keras.Sequential(layers, name=name)


def augment(spec, images, *, seed: int = 0, training: bool = True) -> np.ndarray:
    """Run a batch through the pipeline; uint8 (n, h, w, 3), clipped to the valid range."""
    batch = as_float_batch(images)
    if not normalize_spec(spec):
        return to_uint8(batch)
    pipeline = build_pipeline(spec, batch.shape[1:3], seed=seed)
    return to_uint8(np.asarray(pipeline(batch, training=training)))


def augment_grid(spec, image, n: int = 8, *, seed: int = 0) -> np.ndarray:
    """``n`` random versions of one image (uint8 (n, h, w, 3)); the first is the original."""
    original = as_float_batch(image)
    batch = np.repeat(original, max(n - 1, 0), axis=0)
    out = augment(spec, batch, seed=seed) if len(batch) else to_uint8(batch)
    return np.concatenate([to_uint8(original), out])


#: a pixel change (images in [0, 1]) below this is float round-off, not a change
UNCHANGED = 1e-5


@dataclass(frozen=True)
class LayerEffect:
    """What one Keras layer of a pipeline does to a batch, measured."""

    name: str  # the Keras class, e.g. "RandomCrop"
    at_inference: float  # largest |layer(x, training=False) - x|; inf if the size changes
    in_training: float  # mean |layer(x, training=True) - x|; inf if the size changes
    shape_in: tuple[int, ...]
    shape_at_inference: tuple[int, ...]

    @property
    def identity_at_inference(self) -> bool:
        return self.shape_at_inference == self.shape_in and self.at_inference <= UNCHANGED


def _change(out: np.ndarray, x: np.ndarray, reduce) -> float:
    return float(reduce(np.abs(out - x))) if out.shape == x.shape else float("inf")


def layer_effects(layers, images) -> list[LayerEffect]:
    """Each layer run on what the previous one hands on at inference, measured both ways."""
    x = as_float_batch(images)
    effects = []
    for layer in layers:
        at_inference = np.asarray(layer(x, training=False))
        in_training = np.asarray(layer(x, training=True))
        effects.append(LayerEffect(type(layer).__name__, _change(at_inference, x, np.max),
                                   _change(in_training, x, np.mean), x.shape,
                                   at_inference.shape))
        x = at_inference
    return effects


def inference_effects(spec, images, *, seed: int = 0) -> list[LayerEffect]:
    """:func:`layer_effects` of the spec's layers on ``images``."""
    batch = as_float_batch(images)
    return layer_effects(pipeline_layers(spec, batch.shape[1:3], seed=seed), batch)


def inference_sentence(effects: list[LayerEffect]) -> str:
    """Which layers are the identity at inference, from the measured effects."""
    if not effects:
        return "No augmentation: the images pass through unchanged, in training and at inference."
    changing = [e for e in effects if not e.identity_at_inference]
    if not changing:
        largest = max(e.at_inference for e in effects)
        return (f"Measured: with `training=False` each of the {len(effects)} layers hands the "
                f"image back unchanged (largest pixel change {largest:.3f}), so validation "
                "images and your photos are seen as they are.")
    parts = [f"{e.name} (changes the size)" if e.shape_at_inference != e.shape_in
             else f"{e.name} (pixels change by up to {e.at_inference:.3f})" for e in changing]
    return (f"Measured: {len(changing)} of {len(effects)} layers are **not** the identity at "
            f"inference: {', '.join(parts)}. Validation images and your photos pass through "
            "them too.")


def inference_difference(spec, images, *, seed: int = 0) -> tuple[float, float]:
    """(largest pixel change of the whole pipeline at inference, mean change in training)."""
    batch = as_float_batch(images)
    pipeline = build_pipeline(spec, batch.shape[1:3], seed=seed)
    at_inference = np.asarray(pipeline(batch, training=False))
    in_training = np.asarray(pipeline(batch, training=True))
    return _change(at_inference, batch, np.max), _change(in_training, batch, np.mean)


def thumbnail(image: np.ndarray, size: int = 128) -> np.ndarray:
    """The centre square of an image scaled to ``size``×``size`` (uint8), for previews."""
    image = to_uint8(image)
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize(image[top:top + side, left:left + side], size)


def _layer_code(key: str, params: dict, hw: tuple[int, int], seed: int) -> list[str]:
    """The Python lines (one per Keras layer) that build one augmentation."""
    if key == "crop":
        height, width = hw
        return [f"keras.layers.RandomCrop({max(1, round(height * params['fraction']))}, "
                f"{max(1, round(width * params['fraction']))}, seed={seed}),"
                f"  # keep {params['fraction']:g} of each side",
                f"keras.layers.Resizing({height}, {width}),  # back to the input size"]
    if key == "erasing":
        args = [f"{params['probability']:g}", f"scale=(0.02, {params['scale']:g})"]
    else:
        args = [repr(v) if isinstance(v, str) else f"{v:g}" for v in params.values()]
    if key in {"translation", "shear"}:
        args = args * 2
    if key in {"rotation", "zoom", "translation"}:
        args.append('fill_mode="reflect"')
    if key in {"brightness", "contrast", "saturation", "hue", "sharpness", "erasing"}:
        args.append("value_range=(0, 1)")
    args.append(f"seed={seed}")
    return [f"keras.layers.{AUGMENTATIONS[key].keras_name}({', '.join(args)}),"]


def keras_code(spec, hw: tuple[int, int] = (64, 64), *, seed: int = 0) -> str:
    """Runnable Keras code that builds this pipeline (the same layers, seeds and sizes as
    :func:`build_pipeline`) and runs it on ``images``, float32 (n, *hw, 3) in [0, 1]."""
    lines = [line for i, (key, params) in enumerate(normalize_spec(spec))
             for line in _layer_code(key, params, hw, seed + i)]
    body = "\n".join(f"    {line}" for line in lines) or "    keras.layers.Identity(),"
    return ("import keras\n\n"
            "augmentation = keras.Sequential([\n" + body + "\n])\n"
            "train_batch = augmentation(images, training=True)  # new random versions\n"
            "val_batch = augmentation(images, training=False)  # what inference sees\n")
