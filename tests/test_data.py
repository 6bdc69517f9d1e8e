"""cnnviz.data: real datasets (offline and Keras-cached), splits and a user's zip.

Nothing here touches the network: every test runs with KERAS_HOME pointing at a
temporary folder and the reachability probe replaced, and the downloadable
datasets are tiny files written in the exact layout Keras leaves in its cache.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import time
import zipfile

import numpy as np
import pytest
from badinput import bad_zips, class_zip, make_zip, small_png
from PIL import Image

from cnnviz import data, online
from cnnviz.data import zips
from cnnviz.errors import CnnvizError, DatasetError

# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache; the network probe says offline (connection refused)."""
    def refused(host, port, timeout):
        raise ConnectionRefusedError("offline in tests")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(online, "_connect", refused)
    online._cache.clear()
    yield tmp_path
    online._cache.clear()


def _digit_images(labels, size=28):
    """Each image is a flat grey level 20 * label: the label can be read back."""
    labels = np.asarray(labels, dtype=np.uint8)
    return np.repeat((labels * 20)[:, None, None], size * size, axis=1).reshape(-1, size, size)


def write_mnist(home, n_train=50, n_test=10):
    folder = home / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    y_train, y_test = np.arange(n_train) % 10, np.arange(n_test) % 10
    np.savez(folder / "mnist.npz", x_train=_digit_images(y_train), y_train=y_train.astype(np.uint8),
             x_test=_digit_images(y_test), y_test=y_test.astype(np.uint8))
    return folder / "mnist.npz"


def write_fashion(home, n_train=30, n_test=10):
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 2049, n) + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + _digit_images(labels).tobytes())


def write_cifar(home, per_batch=10):
    folder = home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = list(np.arange(per_batch) % 10)
        images = np.zeros((per_batch, 3, 32, 32), dtype=np.uint8)
        images[:, 0] = (np.array(labels) * 20)[:, None, None]  # red = 20 * label
        images[:, 1] = 100
        images[:, 2] = 200
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": images.reshape(per_batch, -1), b"labels": labels}, f)


def cats_dogs_members(per_class=3, broken=True):
    members = {}
    for part in ("train", "validation"):
        for kind, colour in (("cats", (230, 30, 30)), ("dogs", (30, 30, 230))):
            for i in range(per_class):
                buffer = io.BytesIO()
                Image.new("RGB", (40 + i, 30), colour).save(buffer, "JPEG", quality=95)
                members[f"cats_and_dogs_filtered/{part}/{kind}/{kind[:-1]}.{i}.jpg"] = \
                    buffer.getvalue()
    if broken:
        members["cats_and_dogs_filtered/train/cats/cat.broken.jpg"] = b"\xff\xd8\xff broken"
    return members


# --------------------------------------------------------------------------- offline data


def test_textures_are_real_deterministic_patches():
    a = data.load_textures(20, size=32, seed=1)
    b = data.load_textures(20, size=32, seed=1)
    c = data.load_textures(20, size=32, seed=2)
    assert a.images.shape == (60, 32, 32, 3) and a.images.dtype == np.float32
    assert a.labels.dtype == np.int64 and a.class_names == ("brick", "grass", "gravel")
    assert a.counts() == {"brick": 20, "grass": 20, "gravel": 20}
    assert 0.0 <= a.images.min() and a.images.max() <= 1.0
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert np.array_equal(a.images[..., 0], a.images[..., 1])  # grey: texture, not colour
    # real texture: every patch has detail, and the classes differ on average
    assert np.all(a.images.std(axis=(1, 2, 3)) > 0.02)
    means = [a.images[a.labels == k].std(axis=(1, 2, 3)).mean() for k in range(3)]
    assert max(means) - min(means) > 0.005


def test_texture_parts_do_not_overlap_and_bad_classes_are_refused():
    train = data.load_textures(5, size=16, part="train", classes=("gravel", "brick"))
    test = data.load_textures(5, size=16, part="test", classes=("gravel", "brick"))
    assert train.class_names == ("gravel", "brick")
    assert not np.array_equal(train.images, test.images)
    with pytest.raises(DatasetError, match="unknown: wood"):
        data.load_textures(5, classes=("brick", "wood"))
    with pytest.raises(DatasetError, match="at least two"):
        data.load_textures(5, classes=("brick",))
    with pytest.raises(DatasetError, match="part"):
        data.load_textures(5, part="validation")


def test_texture_parts_show_the_texture_at_the_same_scale():
    # Training and test patches must differ in where they were cut, not in how big the
    # texture looks: test patches once came from the smaller part at half the side, so
    # after resizing their texture was magnified ~2x (brick's edges half as steep) and
    # validation measured a change of scale, not generalisation.
    def edge_strength(images):
        grey = images[..., 0]
        return (np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=2)).mean())

    train = data.load_textures(30, size=32, seed=0, part="train")
    test = data.load_textures(30, size=32, seed=1, part="test")
    for k, name in enumerate(train.class_names):
        ratio = edge_strength(test.images[test.labels == k]) \
            / edge_strength(train.images[train.labels == k])
        assert 0.85 < ratio < 1.18, (name, ratio)


def test_faces_vs_non_faces():
    faces = data.load_faces(size=32)
    assert faces.images.shape == (200, 32, 32, 3) and faces.images.dtype == np.float32
    assert faces.counts() == {"face": 100, "not a face": 100}
    assert 0.0 <= faces.images.min() and faces.images.max() <= 1.0
    again = data.load_faces(size=32)
    assert np.array_equal(faces.labels, again.labels)
    # faces are brighter in the middle (skin) than at the borders, on average
    face_mean = faces.images[faces.labels == 0].mean(axis=0)[..., 0]
    assert face_mean[12:20, 12:20].mean() > face_mean[:, :3].mean()


def test_split_is_stratified_disjoint_and_deterministic():
    labels = np.repeat([0, 1, 2], [10, 20, 5])
    images = np.arange(len(labels), dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 3))
    whole = data.LabeledImages(images.astype(np.float32), labels.astype(np.int64),
                               ("a", "b", "c"))
    train, val = data.split(whole, 0.2, seed=3)
    assert val.counts() == {"a": 2, "b": 4, "c": 1}
    assert train.counts() == {"a": 8, "b": 16, "c": 4}
    ids = lambda part: set(part.images[:, 0, 0, 0].astype(int))  # noqa: E731
    assert ids(train).isdisjoint(ids(val)) and len(ids(train) | ids(val)) == len(labels)
    again_train, _ = data.split(whole, 0.2, seed=3)
    assert np.array_equal(again_train.images, train.images)
    with pytest.raises(DatasetError):
        data.split(whole, 1.5)


# --------------------------------------------------------------------------- Keras datasets


def test_mnist_from_the_keras_cache(keras_home):
    write_mnist(keras_home)
    loaded = data.load_keras_dataset("mnist", n_train=20, n_test=5, seed=0)
    assert loaded.images.shape == (25, 28, 28, 3) and loaded.images.dtype == np.float32
    assert loaded.class_names == tuple("0123456789")
    assert loaded.test_mask.sum() == 5 and not loaded.test_mask[:20].any()
    assert np.array_equal(loaded.images[..., 0], loaded.images[..., 2])  # grey -> RGB
    # each image's grey level encodes its label: labels and pixels stayed together
    assert np.allclose(loaded.images[:, 0, 0, 0] * 255, loaded.labels * 20, atol=0.5)
    everything = data.load_keras_dataset("mnist")  # defaults cap at what the file holds
    assert len(everything) == 60


def test_fashion_mnist_from_the_keras_cache(keras_home):
    write_fashion(keras_home)
    loaded = data.load_keras_dataset("fashion_mnist", n_train=12, n_test=4)
    assert loaded.images.shape == (16, 28, 28, 3)
    assert loaded.class_names[0] == "T-shirt/top" and len(loaded.class_names) == 10
    assert np.allclose(loaded.images[:, 5, 5, 1] * 255, loaded.labels * 20, atol=0.5)


def test_cifar10_from_the_keras_cache(keras_home):
    write_cifar(keras_home)
    loaded = data.load_keras_dataset("cifar10", n_train=30, n_test=6, seed=1)
    assert loaded.images.shape == (36, 32, 32, 3)
    assert loaded.class_names[3] == "cat"
    # channels in RGB order and matching the label
    assert np.allclose(loaded.images[:, 0, 0, 0] * 255, loaded.labels * 20, atol=0.5)
    assert np.allclose(loaded.images[:, 0, 0, 1:] * 255, [100, 200], atol=0.5)


def test_damaged_cache_is_a_dataset_error(keras_home):
    folder = keras_home / "datasets"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(b"not an npz file")
    with pytest.raises(DatasetError, match="damaged") as info:
        data.load_keras_dataset("mnist")
    assert str(folder) in str(info.value)
    with pytest.raises(DatasetError, match="Unknown Keras dataset"):
        data.load_keras_dataset("imagenet")


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_offline_fails_fast_and_says_where(keras_home, name):
    start = time.perf_counter()
    with pytest.raises(DatasetError) as info:
        data.load_keras_dataset(name)
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "internet" in message and str(keras_home / "datasets") in message


def test_offline_probe_that_hangs_is_cut_short(keras_home, monkeypatch):
    monkeypatch.setattr(online, "_connect", lambda host, port, timeout: time.sleep(30))
    monkeypatch.setattr(online, "TIMEOUT", 1.0)
    start = time.perf_counter()
    with pytest.raises(DatasetError, match="mnist.npz"):
        data.load_keras_dataset("mnist")
    assert time.perf_counter() - start < 3


def test_online_download_goes_through_keras_get_file(keras_home, monkeypatch):
    import keras

    calls = []

    def fake_get_file(fname, origin, cache_subdir, cache_dir, extract):
        calls.append((fname, origin, cache_subdir, cache_dir, extract))
        return str(write_mnist(keras_home))

    monkeypatch.setattr(online, "_connect", lambda host, port, timeout: None)  # online
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    loaded = data.load_keras_dataset("mnist", n_train=10, n_test=0)
    assert len(loaded) == 10
    assert calls == [("mnist.npz",
                      "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
                      "datasets", str(keras_home), False)]


def test_failed_download_is_a_dataset_error(keras_home, monkeypatch):
    import keras

    def failing(*args, **kwargs):
        raise Exception("URL fetch failure on https://...: 503 -- Service Unavailable")

    monkeypatch.setattr(online, "_connect", lambda host, port, timeout: None)
    monkeypatch.setattr(keras.utils, "get_file", failing)
    with pytest.raises(DatasetError, match="503"):
        data.load_keras_dataset("fashion_mnist")


# --------------------------------------------------------------------------- cats vs dogs


def test_cats_vs_dogs_extracted_by_keras_from_the_cached_archive(keras_home):
    folder = keras_home / "datasets"
    folder.mkdir()
    (folder / "cats_and_dogs_filtered.zip").write_bytes(make_zip(cats_dogs_members()))
    loaded = data.load_cats_vs_dogs(size=16, subset="train")  # keras.utils.get_file extracts
    assert (folder / "cats_and_dogs_filtered_extracted").is_dir()
    assert loaded.class_names == ("cat", "dog")
    assert loaded.counts() == {"cat": 3, "dog": 3}  # the broken JPEG was skipped
    assert loaded.images.shape == (6, 16, 16, 3)
    red = loaded.images[..., 0].mean(axis=(1, 2)) > loaded.images[..., 2].mean(axis=(1, 2))
    assert np.array_equal(red, loaded.labels == 0)  # cats are the red ones


def test_cats_vs_dogs_subsets_and_limits(keras_home):
    root = keras_home / "datasets" / "cats_and_dogs_filtered_extracted"
    for name, payload in cats_dogs_members(per_class=4, broken=False).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(payload)
    assert data.is_cached("cats_vs_dogs")
    assert data.load_cats_vs_dogs(size=8, subset="both").counts() == {"cat": 8, "dog": 8}
    assert data.load_cats_vs_dogs(size=8, max_per_class=2).counts() == {"cat": 2, "dog": 2}
    with pytest.raises(DatasetError, match="subset"):
        data.load_cats_vs_dogs(subset="test")


def test_cats_vs_dogs_offline(keras_home):
    start = time.perf_counter()
    with pytest.raises(DatasetError, match="cats_and_dogs_filtered.zip"):
        data.load_cats_vs_dogs()
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------------------- status


def test_dataset_status_offline_cached_and_online(keras_home, monkeypatch):
    rows = {row["dataset"]: row for row in data.dataset_status()}
    offline = [r for r in rows.values() if r["kind"] == "offline"]
    assert len(offline) == 3 and all(r["status"] == "ready" for r in offline)
    downloads = [r for r in rows.values() if r["kind"] == "download"]
    assert len(downloads) == 4
    assert all(r["status"] == "unavailable offline" for r in downloads)
    assert all(str(keras_home) in r["details"] for r in downloads)

    write_mnist(keras_home)
    online._cache.clear()
    monkeypatch.setattr(online, "_connect", lambda host, port, timeout: None)
    rows = {row["dataset"]: row for row in data.dataset_status()}
    assert rows["MNIST handwritten digits"]["status"] == "ready"
    assert rows["CIFAR-10 small photos"]["status"] == "downloadable"


def test_dataset_status_is_fast_even_when_the_probe_hangs(keras_home, monkeypatch):
    monkeypatch.setattr(online, "_connect", lambda host, port, timeout: time.sleep(30))
    start = time.perf_counter()
    rows = data.dataset_status()
    assert time.perf_counter() - start < online.TIMEOUT + 1
    assert any(r["status"] == "unavailable offline" for r in rows)
    start = time.perf_counter()
    data.dataset_status()  # remembered: no second wait
    assert time.perf_counter() - start < 0.5


def test_importing_data_needs_no_keras():
    import subprocess
    import sys

    code = ("import sys, cnnviz.data, cnnviz.images; "
            "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules; "
            "cnnviz.data.dataset_status(check_online=False); cnnviz.images.sample_images(); "
            "assert 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- zips


BAD_ZIPS = bad_zips()


@pytest.mark.parametrize("case", BAD_ZIPS, ids=[case.name for case in BAD_ZIPS])
def test_bad_zip_is_refused_with_dataset_error(case):
    with pytest.raises(CnnvizError) as info:
        data.load_image_zip(case.data)
    assert type(info.value) is case.error is DatasetError
    message = str(info.value)
    assert 15 <= len(message) <= 400 and message.endswith("."), message


@pytest.mark.parametrize("kind, words", [
    ("zip_traversal_dotdot", "unsafe path"), ("zip_absolute_path", "unsafe path"),
    ("zip_backslash_traversal", "unsafe path"), ("zip_bomb_ratio", "zip bomb"),
    ("zip_too_many_files", "2001 files"), ("zip_one_class", "only one class"),
    ("zip_no_images", "no readable images"), ("zip_not_a_zip", "not a readable zip"),
])
def test_zip_messages_say_what_is_wrong(kind, words):
    case = next(c for c in BAD_ZIPS if c.name == kind)
    with pytest.raises(DatasetError, match=words):
        data.load_image_zip(case.data)


def test_zip_of_class_folders(tmp_path):
    payload = class_zip(("cats", "dogs", "birds"), per_class=4)
    loaded, report = data.load_image_zip(payload, size=16)
    assert loaded.class_names == ("birds", "cats", "dogs")  # sorted folder names
    assert loaded.images.shape == (12, 16, 16, 3) and loaded.images.dtype == np.float32
    assert report.class_counts == {"birds": 4, "cats": 4, "dogs": 4}
    assert report.skipped == () and report.top_folder is None
    cats = loaded.images[loaded.labels == 1]
    assert np.allclose(cats[:, 4, 4], np.array([220, 40, 40]) / 255, atol=0.02)
    # the result also passes the arrays through, for code expecting a LabeledImages
    result = data.load_image_zip(payload, size=16)
    assert result.class_names == loaded.class_names and result.images.shape == (12, 16, 16, 3)
    assert np.array_equal(result.labels, loaded.labels) and result.counts()["cats"] == 4
    # the same from a path and from a file object
    path = tmp_path / "pets.zip"
    path.write_bytes(payload)
    assert len(data.load_image_zip(path, size=16)[0]) == 12
    with open(path, "rb") as f:
        assert len(data.load_image_zip(f, size=16)[0]) == 12


def test_zip_with_one_top_folder_and_junk():
    extra = {
        "pets/README.txt": b"my pets",
        "pets/cats/notes.txt": b"not an image",
        "pets/dogs/broken.jpg": b"\xff\xd8\xff\xe0 truncated",
        "__MACOSX/pets/cats/._000.png": b"mac resource fork",
        "pets/.DS_Store": b"\0\0",
    }
    loaded, report = data.load_image_zip(class_zip(top="pets", extra=extra), size=8)
    assert report.top_folder == "pets"
    assert loaded.class_names == ("cats", "dogs")
    assert report.class_counts == {"cats": 3, "dogs": 3}
    skipped = dict(report.skipped)
    assert set(skipped) == set(extra)
    assert skipped["pets/README.txt"] == "not inside a class folder"
    assert "text file" in skipped["pets/cats/notes.txt"]
    assert "incomplete" in skipped["pets/dogs/broken.jpg"] or "damaged" in skipped[
        "pets/dogs/broken.jpg"]
    assert skipped["__MACOSX/pets/cats/._000.png"] == "system file"


def test_zip_limits_are_parameters():
    payload = class_zip(per_class=5)
    with pytest.raises(DatasetError, match="limit is 4"):
        data.load_image_zip(payload, max_files=4)
    with pytest.raises(DatasetError, match="MB"):
        data.load_image_zip(payload, max_total_bytes=100)


def test_bytes_are_counted_while_reading_not_just_declared():
    payload = make_zip({"cats/a.png": small_png(), "dogs/b.png": b"x" * 5000})
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        info = zf.getinfo("dogs/b.png")
        with pytest.raises(DatasetError, match="zip bomb"):
            zips._read_member(zf, info, remaining=1000, max_member_bytes=10**9)
        assert len(zips._read_member(zf, info, remaining=10**6, max_member_bytes=10**6)) == 5000


def test_make_scene_draws_each_object_apart_with_its_own_mask():
    from cnnviz.data import make_scene

    scene = make_scene(["circle", "square", "star"], seed=5)
    assert scene.image.shape == (64, 64, 3) and scene.image.dtype == np.float32
    assert [scene.class_names[i] for i in scene.labels] == ["circle", "square", "star"]
    assert scene.masks.shape == (3, 64, 64)
    assert (scene.masks.sum(axis=(1, 2)) > 50).all()  # each object is really drawn
    assert not (scene.masks.sum(axis=0) > 1).any()  # and no two overlap
    assert np.array_equal(scene.mask_of("square"), scene.masks[1])
    assert not scene.mask_of("cross").any()
    again = make_scene(["circle", "square", "star"], seed=5)
    assert np.array_equal(scene.image, again.image)  # the seed decides everything


def test_make_scene_refuses_what_it_cannot_draw():
    from cnnviz.data import make_scene

    with pytest.raises(DatasetError, match="Unknown shape"):
        make_scene(["circle", "blob"])
    with pytest.raises(DatasetError, match="1 to 3"):
        make_scene(["circle"] * 4)
