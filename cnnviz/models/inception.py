"""A small inception network trained on shapes: the Architecture page's trained blocks.

It takes ``make_shapes`` images as they are (64x64x3 floats in [0, 1]), like the
built-in ``shapes_cnn``. A stem of two 3x3 convolutions (each followed by
BatchNorm and a 2x2 max-pool) brings 64x64 down to 16x16; a first inception
block works at 16x16, BatchNorm and a max-pool bring it to 8x8, a second block
works there; global average pooling and a Dense layer make the 5 class logits.

The network is written as a ``cnnviz.architecture`` layer list, so the builder's
arithmetic (parameters, multiply-adds, receptive fields) and ``build_model``
(the layer names, e.g. ``inception_7_3x3`` for a block's 3x3 branch) are the
ones the Architecture page teaches with. It is not in the model pickers: only
the inception demo uses it. Keras is imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path

from cnnviz import architecture as A
from cnnviz.cache import LRU
from cnnviz.data import SOURCE_CLASSES
from cnnviz.errors import ModelError
from cnnviz.models.builtin import read_info

NAME = "shapes_inception"
INPUT_SHAPE = (64, 64, 3)
CLASS_NAMES = tuple(SOURCE_CLASSES)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_PATH = WEIGHTS_DIR / f"{NAME}.weights.h5"
INFO_PATH = WEIGHTS_DIR / f"{NAME}.json"

SPEC = [
    A.LayerSpec("conv", filters=16), A.LayerSpec("batchnorm"),
    A.LayerSpec("maxpool", kernel=2, stride=2),
    A.LayerSpec("conv", filters=32), A.LayerSpec("batchnorm"),
    A.LayerSpec("maxpool", kernel=2, stride=2),
    A.LayerSpec("inception", filters=16), A.LayerSpec("batchnorm"),
    A.LayerSpec("maxpool", kernel=2, stride=2),
    A.LayerSpec("inception", filters=24),
    A.LayerSpec("gap"),
    A.LayerSpec("dense", filters=len(CLASS_NAMES), activation="linear"),
]

#: the Concatenate layer that ends each inception block, in order
BLOCKS = tuple(A.layer_name(i, layer) for i, layer in enumerate(SPEC, start=1)
               if layer.kind == "inception")


def build_shapes_inception(*, seed: int = 0):
    """The (untrained) network: ``architecture.build_model(SPEC, INPUT_SHAPE)``."""
    model = A.build_model(SPEC, INPUT_SHAPE, seed=seed)
    model.name = NAME
    return model


def trained_info() -> dict | None:
    """The JSON written next to the committed weights (accuracy, settings, seeds)."""
    return read_info(INFO_PATH)


#: a small test set (from the training script's test seed) whose accuracy the JSON
#: records, so a test can check the committed weights cheaply and exactly
CHECK_SIZE, CHECK_SEED = 200, 3


def check_accuracy(model) -> float:
    """Accuracy of ``model`` on ``make_shapes(CHECK_SIZE, seed=CHECK_SEED)``."""
    import numpy as np

    from cnnviz.data import make_shapes

    check = make_shapes(CHECK_SIZE, seed=CHECK_SEED, classes=SOURCE_CLASSES)
    logits = np.asarray(model(check.images, training=False))
    return float((logits.argmax(axis=1) == check.labels).mean())


_loaded = LRU(max_entries=1)


def load_shapes_inception():
    """The network with the committed trained weights, built once per process.

    Shared: never train it or change its weights (``models.copy_model`` it first).
    """
    def build():
        if not WEIGHTS_PATH.is_file():
            raise ModelError("The trained inception network's weights are missing. Run "
                             "`python -m cnnviz.models.train_inception` (a few minutes).")
        model = build_shapes_inception()
        model.load_weights(str(WEIGHTS_PATH))
        return model

    return _loaded.get(NAME, build)
