"""Shared pytest fixtures. Others may append fixtures below; keep them cheap.

Anything trained or built once for many tests lives here, session-scoped, and is
built once per run even on several xdist workers (``_built_once``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

# Quiet TensorFlow's C++ start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Workers share the cores: one thread per op each, rather than each worker's
    # TensorFlow spreading every op over all cores and the two fighting for them.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import pytest  # noqa: E402

FAKE_IMAGENET_CLASSES = 1000


def pytest_collection_modifyitems(items):
    """The browser tests first: they are the longest module, so on two workers
    (scripts/test.sh) the other modules fill in around them instead of after them."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)


@contextlib.contextmanager
def _built_once(tmp_path_factory, name: str):
    """Yield (folder, built): a folder shared by all xdist workers of this run and
    whether another worker already built it; the caller builds into it if not.

    Workers take turns under a file lock; a ``.done`` file marks a finished build.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder = root / name
    done = root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folder.mkdir(exist_ok=True)
        yield folder, done.exists()
        done.touch()


@pytest.fixture(scope="session")
def _fake_imagenet_cache(tmp_path_factory) -> Path:
    """A Keras cache dir holding a randomly initialised MobileNetV2 and a class index.

    Built once per run: the weights are written in the legacy HDF5 layout
    and under the file name keras.applications uses, so loading goes through the
    same path as real cached ImageNet weights. Class names are fake but shaped
    like the real file ("n01440764", "tench"), with underscores in them.
    """
    with _built_once(tmp_path_factory, "fake_keras_home") as (home, built):
        if not built:
            _write_fake_imagenet_cache(home)
    return home


def _write_fake_imagenet_cache(home: Path) -> None:
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    from cnnviz.models import imagenet

    models = home / "models"
    models.mkdir(exist_ok=True)
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, classifier_activation=None)
    with h5py.File(models / imagenet.SPECS["mobilenet_v2"].weights_file, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    index = {str(i): [f"n{i:08d}", f"fake_class_{i}"] for i in range(FAKE_IMAGENET_CLASSES)}
    (models / imagenet.CLASS_INDEX_FILE).write_text(json.dumps(index))


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


@pytest.fixture(scope="session")
def redis_url():
    """The URL of a redis-server started for this test session on 127.0.0.1.

    Skipped with the reason where redis-server (or redis-py) is missing, except
    when CNNVIZ_REQUIRE_BROWSER=1 (CI), where a missing server is a failure.
    """
    from redisserver import redis_server, require

    require()
    with redis_server() as url:
        yield url


@pytest.fixture
def job_pool():
    """A fresh in-process job pool for the test (no results left over from another)."""
    from cnnviz import jobs

    pool = jobs.EmbeddedPool(1)
    previous = jobs.set_backend(pool)
    yield pool
    pool.close()
    jobs.set_backend(previous)


@pytest.fixture(scope="session")
def notebook_kernel():
    """One Jupyter kernel per test worker for every notebook the tests execute (starting
    TensorFlow in a new kernel costs seconds, so the kernel is shared)."""
    pytest.importorskip("nbclient")
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(Path(__file__).resolve().parents[1]))
    yield manager
    manager.shutdown_kernel(now=True)
