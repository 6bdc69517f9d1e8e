"""The built-in model: a small VGG-style CNN that recognises make_shapes objects.

It takes ``make_shapes`` images exactly as they are (64x64x3 floats in [0, 1]).
Two blocks of two 3x3 convolutions and a 2x2 max-pool bring 64x64 down to
16x16; a third block of two convolutions stays at 16x16 so the last feature
maps still say *where* things are. Global average pooling then a single Dense
layer ("logits") make the class score a weighted sum of spatially averaged
feature maps, which is exactly the set-up in which Grad-CAM (and CAM) show the
evidence the model used.

Keras is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnviz.data import SOURCE_CLASSES

NAME = "shapes_cnn"
INPUT_SIZE = 64
CLASS_NAMES = tuple(SOURCE_CLASSES)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_PATH = WEIGHTS_DIR / f"{NAME}.weights.h5"
INFO_PATH = WEIGHTS_DIR / f"{NAME}.json"

#: filters per block; block3 is the last conv block (16x16 feature maps)
FILTERS = (16, 32, 64)
DROPOUT = 0.2
BATCH_NORM = True


def build_shapes_cnn(*, seed: int = 0, dropout: float = DROPOUT):
    """Build the (untrained) architecture: a flat functional keras.Model.

    Layer names are part of the contract the probing pages rely on:
    block1_conv1, block1_conv2, block1_pool, block2_conv1, block2_conv2,
    block2_pool, block3_conv1, block3_conv2 (16x16, the last conv), gap,
    dropout, logits (no activation: the model outputs logits).
    """
    import keras
    from keras import layers

    init = keras.initializers.HeNormal(seed=seed)
    inputs = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3), name="image")
    x = inputs
    last_block = len(FILTERS)
    for block, filters in enumerate(FILTERS, start=1):
        for conv in (1, 2):
            x = layers.Conv2D(
                filters, 3, padding="same", activation="relu",
                kernel_initializer=init, name=f"block{block}_conv{conv}",
            )(x)
            if BATCH_NORM and (block, conv) != (last_block, 2):
                # normalising the ReLU outputs makes training several times faster;
                # the last conv feeds the pooling directly (see the module docstring)
                x = layers.BatchNormalization(name=f"block{block}_bn{conv}")(x)
        if block < len(FILTERS):
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    outputs = layers.Dense(
        len(CLASS_NAMES), kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name="logits",
    )(x)
    return keras.Model(inputs, outputs, name=NAME)


def read_info(path) -> dict | None:
    """The JSON a training script wrote next to its committed weights (accuracy,
    settings, seeds); None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def trained_info() -> dict | None:
    """The JSON written next to the committed weights (accuracy, settings, seeds)."""
    return read_info(INFO_PATH)


def load_shapes_cnn():
    """A fresh model with the committed trained weights (random ones if missing)."""
    model = build_shapes_cnn()
    if WEIGHTS_PATH.is_file():
        model.load_weights(str(WEIGHTS_PATH))
    return model
