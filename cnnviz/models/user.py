"""A user's own ``.keras`` model file: loaded safely, checked to be an image CNN.

Keras' ``.keras`` format is a zip of a JSON config and the weights. With
``safe_mode=True`` Keras refuses to deserialize Python code (a ``Lambda``
layer's bytecode), so opening a stranger's file cannot run their code. We also
refuse files that are too large, are not zips, unzip to something huge, or are
not an image classifier the probing pages can work with.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from cnnviz import probe
from cnnviz.errors import ModelError
from cnnviz.uploads import read_bytes

MAX_BYTES = 50 * 1024 * 1024  # 50 MB
MAX_UNZIPPED_RATIO = 4  # a .keras zip holds mostly incompressible weights


def _check_zip(data: bytes, max_bytes: int) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelError(
            "This is not a Keras model file: a .keras file is a zip archive saved with "
            "model.save('name.keras'). (Old .h5 files are not accepted.)"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise ModelError(f"The model file is a damaged zip archive ({error}).") from error
    if "config.json" not in names:
        raise ModelError("This zip is not a Keras model: it has no config.json inside.")
    if total > MAX_UNZIPPED_RATIO * max_bytes:
        raise ModelError("The model file unpacks to far more data than allowed; refused.")


def _check_image_cnn(model) -> None:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError("The model must have exactly one input (an image) and one output.")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[3] not in (1, 3) or shape[1] is None or shape[2] is None:
        raise ModelError(
            f"The model's input has shape {shape}; an image CNN here takes "
            "(batch, height, width, 1 or 3 channels) with a fixed height and width."
        )
    if min(shape[1], shape[2]) < 8:
        raise ModelError(f"The model's input {shape[1]}x{shape[2]} is too small for images.")
    out = tuple(model.outputs[0].shape)
    if len(out) != 2:
        raise ModelError(
            f"The model's output has shape {out}; a classifier outputs (batch, classes)."
        )
    if not probe.feature_layers(model, kinds=("conv",)):
        raise ModelError("The model has no 2-D convolution layer, so it is not a CNN.")


def load_user_model(src, *, max_bytes: int = MAX_BYTES):
    """Load a user's ``.keras`` image classifier safely; returns a keras.Model.

    ``src`` is a path, bytes or a binary file object. The model is loaded with
    ``safe_mode=True`` (code in ``Lambda`` layers is refused, never run) and
    checked to be an image classifier; ``cnnviz.probe.logits_model`` then makes
    it a functional model that outputs logits like every model in cnnviz (a
    final softmax or sigmoid removed, also inside a nested model that ends it).
    Nested models stay nested: ``Sequential([Rescaling(1 / 255), MobileNetV2(...)])``
    works on every probing page. Raises ``ModelError`` with the reason when the
    file cannot be used.
    """
    data = read_bytes(src, max_bytes, noun="model file", error=ModelError)
    _check_zip(data, max_bytes)
    import keras

    with tempfile.TemporaryDirectory(prefix="cnnviz-user-model-") as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(data)
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for bad files
            text = str(error)
            if "safe_mode" in text or "Lambda" in text or "lambda" in text:
                raise ModelError(
                    "The model contains Python code (e.g. a Lambda layer). For safety it is "
                    "not loaded: code inside an uploaded file would run on this server. "
                    "Replace the Lambda with built-in layers and save again."
                ) from error
            first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
            raise ModelError(f"Keras could not load this model file: {first[:300]}") from error
    if not isinstance(model, keras.Model):
        raise ModelError("The file does not contain a Keras model.")
    try:
        has_inputs = bool(model.inputs)
    except (AttributeError, ValueError):
        has_inputs = False
    if not has_inputs:
        raise ModelError("The model was saved before it was built; it has no input shape.")
    _check_image_cnn(model)
    return probe.logits_model(model)
