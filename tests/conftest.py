"""Shared pytest fixtures. Others may append fixtures below; keep them cheap."""

from __future__ import annotations

import json
import os

# Quiet TensorFlow's C++ start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

FAKE_IMAGENET_CLASSES = 1000


@pytest.fixture(scope="session")
def _fake_imagenet_cache(tmp_path_factory):
    """A Keras cache dir holding a randomly initialised MobileNetV2 and a class index.

    Built once per session: the weights are written in the legacy HDF5 layout
    and under the file name keras.applications uses, so loading goes through the
    same path as real cached ImageNet weights. Class names are fake but shaped
    like the real file ("n01440764", "tench"), with underscores in them.
    """
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    from cnnviz.models import imagenet

    home = tmp_path_factory.mktemp("keras_home")
    models = home / "models"
    models.mkdir()
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, classifier_activation=None)
    with h5py.File(models / imagenet.SPECS["mobilenet_v2"].weights_file, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    index = {str(i): [f"n{i:08d}", f"fake_class_{i}"] for i in range(FAKE_IMAGENET_CLASSES)}
    (models / imagenet.CLASS_INDEX_FILE).write_text(json.dumps(index))
    return home


@pytest.fixture
def fake_imagenet_home(_fake_imagenet_cache, monkeypatch):
    """Point KERAS_HOME at a cache with (random) MobileNetV2 weights and class names.

    ``cnnviz.models.load_model("mobilenet_v2")`` then works offline and outputs
    1000 logits; ``class_names("mobilenet_v2")`` gives "fake class 0", ...
    Returns the KERAS_HOME path.
    """
    monkeypatch.setenv("KERAS_HOME", str(_fake_imagenet_cache))
    return _fake_imagenet_cache


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    """KERAS_HOME pointing at an empty directory, with the network probe failing fast."""
    from cnnviz import online
    from cnnviz.models import imagenet

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet, "DOWNLOAD_HOST", "offline.invalid")
    online._cache.clear()
    yield tmp_path
    online._cache.clear()


@pytest.fixture(scope="session")
def shapes_model():
    """The trained built-in model, shared by the tests that only read it."""
    from cnnviz.models import builtin, load_model

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")
    return load_model("shapes_cnn")


@pytest.fixture
def job_pool():
    """A fresh in-process job pool for the test (no results left over from another)."""
    from cnnviz import jobs

    pool = jobs.EmbeddedPool(1)
    previous = jobs.set_backend(pool)
    yield pool
    pool.close()
    jobs.set_backend(previous)
