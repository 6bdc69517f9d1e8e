"""The Augmentation page's view: the pipeline (its layers, in order, and each one's
knobs), the preview's image and random draw, and the experiment's settings.

The student's own zip of images cannot travel in a link: a link to a zip experiment
opens with "zip" chosen and asks for the upload. No run-time facts: every value is checked against
fixed ranges.
"""

from __future__ import annotations

from cnnviz.augment import AUGMENTATIONS, DEFAULT_SPEC
from cnnviz.views.core import PageSpec, Param
from cnnviz.views.shared import SEED_RANGE, image_params

#: the experiment's choices a link can carry (the zip stays in the student's session)
BATCH_SIZES = (8, 16, 32, 64)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3)
SEED_COUNTS = (1, 2, 3)


def _datasets():
    from cnnviz.training.data import DATASETS

    return DATASETS


def _dataset_keys(context, values):
    return (*_datasets(), "zip")


def _default_settings():
    from cnnviz.training.augmentation import AugmentSettings

    return AugmentSettings()


def _setting(field: str):
    return lambda context, values: getattr(_default_settings(), field)


def _number(value) -> str:
    return f"{float(value):g}"


def _in_pipeline(key: str):
    """A knob applies while its layer is in the pipeline."""
    return lambda values: key in values["layers"]


def _layer_params() -> tuple[Param, ...]:
    """One parameter per knob of every layer, present while its layer is in the pipeline."""
    defaults = dict(DEFAULT_SPEC)
    params = []
    for key, aug in AUGMENTATIONS.items():
        for p in aug.params:
            default = defaults.get(key, {}).get(p.name, p.default)
            label = f"{aug.title.lower()}: {p.label.lower()}"
            when = _in_pipeline(key)
            if p.options:
                params.append(Param(f"{key}_{p.name}", label, "choice", default=default,
                                    valid=p.options, when=when))
            else:
                params.append(Param(f"{key}_{p.name}", label, "float", default=float(default),
                                    valid=(p.low, p.high, p.step), when=when))
    return tuple(params)


SPEC = PageSpec("augmentation", "pages/4_Augmentation.py", "Augmentation", (
    *image_params("shape"),
    Param("layers", "augmentation layers", "choices",
          default=tuple(key for key, _ in DEFAULT_SPEC), valid=tuple(AUGMENTATIONS),
          doc="in the order they are applied"),
    *_layer_params(),
    Param("draw", "preview draw", "int", default=0, valid=SEED_RANGE,
          doc="the seed of the preview's random versions"),
    Param("ds", "dataset", "choice", default=_setting("dataset"), valid=_dataset_keys,
          where="a dataset of the page",
          doc="zip: the images themselves stay with the student; the link asks for them"),
    Param("n", "training images per class", "int", default=_setting("n_train"),
          valid=(5, 200, 5)),
    Param("ep", "epochs", "int", default=_setting("epochs"), valid=(5, 100, 5)),
    Param("eseed", "experiment seed", "int", default=_setting("seed"), valid=SEED_RANGE),
    Param("seeds", "seeds per arm", "choice", default=_setting("seeds"), valid=SEED_COUNTS),
    Param("bs", "batch size", "choice", default=_setting("batch_size"), valid=BATCH_SIZES),
    Param("lr", "learning rate", "choice", default=_setting("learning_rate"),
          valid=LEARNING_RATES, token=_number),
))


def spec_of(values) -> list[list]:
    """The pipeline spec a view's values name."""
    return [[key, {p.name: values[f"{key}_{p.name}"] for p in AUGMENTATIONS[key].params}]
            for key in values["layers"]]
