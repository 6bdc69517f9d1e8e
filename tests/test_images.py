"""cnnviz.images: safe loading of every kind of file, samples, resize, overlay."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from badinput import bad_images, encode, forged_png, noise_image, odd_images
from PIL import Image

from cnnviz import images
from cnnviz.errors import CnnvizError, ImageError
from cnnviz.figures import colour
from cnnviz.images import load_image, overlay, resize, sample_images

BAD = bad_images()
ODD = odd_images()


def assert_readable(message: str) -> None:
    """A message a student can read: a sentence, short, no Python internals."""
    assert 15 <= len(message) <= 400, message
    assert message[0].isupper() and message.rstrip().endswith("."), message
    for internal in ("Traceback", "Error:", "<PIL", "object at 0x", "errno"):
        assert internal not in message, message


def test_corpus_is_big_enough():
    assert len(BAD) >= 25 and len(ODD) >= 25
    assert len({case.name for case in BAD + ODD}) == len(BAD) + len(ODD)


@pytest.mark.filterwarnings("error")  # Pillow's DecompressionBombWarning must not leak
@pytest.mark.parametrize("case", BAD, ids=[case.name for case in BAD])
def test_bad_image_is_refused_with_image_error(case):
    with pytest.raises(CnnvizError) as info:
        load_image(case.data)
    assert type(info.value) is case.error is ImageError
    assert_readable(str(info.value))


@pytest.mark.parametrize("kind, words", [
    ("empty", "empty"), ("pdf", "PDF"), ("svg", "SVG"), ("html", "web page"),
    ("text", "text file"), ("zip_archive", "zip"), ("png_truncated_half", "incomplete"),
    ("jpeg_truncated_half", "incomplete"), ("png_30_megapixels_header", "30.0 megapixels"),
    ("png_400_megapixels_header", "too many pixels"), ("png_zero_width", "zero size"),
    ("png_zero_height", "zero size"),
])
def test_messages_say_what_is_wrong(kind, words):
    case = next(c for c in BAD if c.name == kind)
    with pytest.raises(ImageError, match=words):
        load_image(case.data)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", ODD, ids=[case.name for case in ODD])
def test_odd_image_loads_as_rgb(case):
    image = load_image(case.data)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[:2] == case.shape
    difference = np.abs(image[0, 0].astype(int) - np.array(case.top_left))
    assert difference.max() <= case.tolerance, (image[0, 0], case.top_left)
    if case.gradient:  # scaled by the actual range: a ramp from black to white
        row = image[0, :, 0].astype(int)
        assert row[0] == 0 and row[-1] == 255
        assert np.all(np.diff(row) >= 0)
        assert 100 < row[len(row) // 2] < 156
        assert np.array_equal(image[..., 0], image[..., 2])


def test_exif_orientation_is_applied():
    case = next(c for c in ODD if c.name == "exif_orientation_6_jpeg")
    image = load_image(case.data).astype(int)
    # stored 40x20 with its left half red; rotated 90 degrees clockwise for display
    assert image.shape[:2] == (40, 20)
    assert image[5, 10, 0] > 200 and image[5, 10, 2] < 50  # top half red
    assert image[35, 10, 2] > 200 and image[35, 10, 0] < 50  # bottom half blue


def test_header_is_checked_before_decoding():
    # the pixel data is garbage: a size error (not a decode error) proves the order
    start = time.perf_counter()
    with pytest.raises(ImageError, match="megapixels"):
        load_image(forged_png(6000, 5000, idat=b"garbage"))
    with pytest.raises(ImageError, match="pixels"):
        load_image(forged_png(100_000, 100_000, idat=b"garbage"))
    assert time.perf_counter() - start < 1.0


def test_pixel_and_byte_limits_are_parameters():
    png = encode(noise_image(100, 100))
    assert load_image(png).shape == (100, 100, 3)
    with pytest.raises(ImageError, match="megapixels"):
        load_image(png, max_pixels=5_000)
    with pytest.raises(ImageError, match="MB"):
        load_image(png, max_bytes=1_000)
    with pytest.raises(ImageError, match="MB"):
        load_image(io.BytesIO(png), max_bytes=1_000)


def test_every_kind_of_source(tmp_path):
    png = encode(Image.new("RGB", (5, 3), (10, 20, 30)))
    path = tmp_path / "small.png"
    path.write_bytes(png)
    expected = np.full((3, 5, 3), (10, 20, 30), dtype=np.uint8)
    for src in (path, str(path), png, bytearray(png), memoryview(png), io.BytesIO(png),
                Image.open(io.BytesIO(png))):
        assert np.array_equal(load_image(src), expected), type(src)
    with open(path, "rb") as f:
        assert np.array_equal(load_image(f), expected)


@pytest.mark.parametrize("src, words", [
    ("/nonexistent/cat.png", "no image at"),
    (12345, "Cannot read an image from a int"),
    (None, "Cannot read an image"),
])
def test_bad_sources(src, words):
    with pytest.raises(ImageError, match=words):
        load_image(src)


def test_directory_and_text_mode_file(tmp_path):
    with pytest.raises(ImageError, match="no image at"):
        load_image(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with open(text) as f, pytest.raises(ImageError, match="binary mode"):
        load_image(f)


def test_constant_and_nan_float_images_do_not_break():
    flat16 = load_image(encode(Image.fromarray(np.full((4, 4), 30_000, np.uint16))))
    assert np.all(flat16 == flat16[0, 0]) and 100 < flat16[0, 0, 0] < 130
    values = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    values[0, 0] = np.nan
    values[1, 1] = np.inf
    out = load_image(Image.fromarray(values, mode="F"))
    assert out.dtype == np.uint8 and out.max() == 255 and out.min() == 0


def test_hsv_and_lab_images_convert_to_rgb():
    rgb = Image.new("RGB", (3, 3), (200, 100, 50))
    for mode in ("HSV", "LAB", "YCbCr"):
        out = load_image(rgb.convert(mode)).astype(int)
        assert np.abs(out[0, 0] - [200, 100, 50]).max() <= 3, mode


# --------------------------------------------------------------------------- samples


def test_sample_images_are_rgb_photos_with_readable_names():
    samples = sample_images()
    for name in ("cat (Chelsea)", "coffee cup", "astronaut", "rocket", "motorcycle",
                 "horse (silhouette)", "coins", "camera man", "retina", "brick wall"):
        assert name in samples
    for name, image in samples.items():
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, name
        assert min(image.shape[:2]) >= 64 and image.std() > 5, name
    assert set(np.unique(samples["horse (silhouette)"])) == {0, 255}


def test_sample_cache_cannot_be_corrupted():
    image = sample_images()["astronaut"]
    with pytest.raises(ValueError):
        image[0, 0] = 0
    sample_images().clear()  # the dict is a fresh copy each call
    assert "astronaut" in sample_images()


# --------------------------------------------------------------------------- resize


def test_resize_square_and_rectangular():
    image = sample_images()["coffee cup"]
    assert resize(image, 64).shape == (64, 64, 3)
    assert resize(image, (30, 50)).shape == (30, 50, 3)
    assert resize(image, 64).dtype == np.uint8
    grey_float = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10)
    out = resize(grey_float, 20)
    assert out.shape == (20, 20, 3) and out[0, 0, 0] < 10 and out[-1, -1, 0] > 245
    with pytest.raises(ImageError):
        resize(image, 0)
    with pytest.raises(ImageError):
        resize(image, "big")


def test_resize_antialiases_when_shrinking():
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)
    small = resize(checker, 8).astype(int)
    assert np.abs(small - 127.5).max() < 20  # averaged to grey, not aliased to black/white


def test_resize_batch_keeps_float_values_and_matches_the_other_resizes():
    rng = np.random.default_rng(0)
    batch = rng.random((2, 30, 40, 3)).astype(np.float32)
    out = images.resize_batch(batch, (15, 20))
    assert out.shape == (2, 15, 20, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0  # bilinear never overshoots
    np.testing.assert_allclose(out[1, :, :, 2], images.resize_map(batch[1, :, :, 2], (15, 20)),
                               atol=1e-6)
    as_uint8 = resize((batch[0] * 255).round().astype(np.uint8), (15, 20)).astype(float)
    assert np.abs(as_uint8 - out[0] * 255).max() <= 1.0  # images and numbers: one filter
    maps = images.resize_batch(rng.random((3, 4, 4)), 8)  # (n, h, w) maps
    assert maps.shape == (3, 8, 8)
    same = images.resize_batch(batch, (30, 40))
    assert np.array_equal(same, batch) and same is not batch
    with pytest.raises(ImageError, match="batch"):
        images.resize_batch(batch[0, :, :, 0], 8)


def test_to_uint8_and_as_rgb():
    assert images.to_uint8(np.array([0.0, 0.5, 1.0, 2.0, -1.0])).tolist() == [0, 128, 255, 255, 0]
    assert images.to_uint8(np.array([True, False])).tolist() == [255, 0]
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)  # transparent black -> white
    assert np.all(images.as_rgb_uint8(rgba) == 255)
    with pytest.raises(ImageError):
        images.as_rgb_uint8(np.zeros((2, 2, 2)))


def test_as_float_batch_takes_every_image_form():
    grey = images.as_float_batch(np.full((4, 5), 255, np.uint8))
    assert grey.shape == (1, 4, 5, 3) and grey.dtype == np.float32 and np.all(grey == 1.0)
    rgba = images.as_float_batch(np.zeros((2, 4, 5, 4), np.float64))
    assert rgba.shape == (2, 4, 5, 3)
    assert images.as_float_batch(np.ones((4, 5, 1), bool)).shape == (1, 4, 5, 3)
    for bad in (np.full((4, 4, 3), 1.5), np.zeros((4, 4, 2), np.uint8), np.zeros((0, 4, 3)),
                np.zeros((4, 4, 3), np.int64)):
        with pytest.raises(ImageError):
            images.as_float_batch(bad)


def test_enlarge_makes_crisp_blocks():
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    big = images.enlarge(kernel, 3)
    assert big.shape == (6, 9) and big.dtype == np.float32
    np.testing.assert_array_equal(big[::3, ::3], kernel)
    np.testing.assert_array_equal(big[2, 8], kernel[0, 2])  # a whole block keeps its value
    rgb = images.enlarge(np.zeros((2, 2, 3), np.uint8), 4)
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8
    for factor in (0, 1.5):
        with pytest.raises(ImageError):
            images.enlarge(kernel, factor)


# --------------------------------------------------------------------------- overlay


def test_heatmap_is_upsampled_bilinearly_as_numbers():
    up = images.resize_map(np.array([[0.0, 1.0]]), (1, 4))
    assert np.allclose(up, [[0.0, 0.25, 0.75, 1.0]])


def test_overlay_puts_the_hot_spot_where_the_map_is_hot():
    image = np.full((224, 224, 3), 128, dtype=np.uint8)
    heat = np.zeros((7, 7), dtype=np.float32)
    heat[1, 5] = 1.0  # top right
    out = overlay(image, heat, alpha=0.5, colormap="jet")
    assert out.shape == image.shape and out.dtype == np.uint8
    red = out[..., 0].astype(int) - out[..., 2].astype(int)
    y, x = np.unravel_index(np.argmax(red), red.shape)
    assert abs(y - 1.5 * 32) <= 16 and abs(x - 5.5 * 32) <= 16
    # smooth, not blocky: many distinct colours along a row through the spot
    assert len(np.unique(out[48], axis=0)) > 20


@pytest.mark.parametrize("heat", [np.zeros((7, 7)), np.full((7, 7), 3.0),
                                  np.full((4, 4), np.nan), np.array([[np.inf, 0], [0, 1]])])
def test_overlay_of_degenerate_maps_has_no_nan(heat):
    image = sample_images()["cat (Chelsea)"]
    out = overlay(image, heat)
    assert out.dtype == np.uint8 and out.shape == image.shape


def test_overlay_alpha_and_colormaps():
    image = sample_images()["rocket"]
    heat = np.random.default_rng(0).random((5, 9))
    assert np.array_equal(overlay(image, heat, alpha=0.0), image)
    full = overlay(image, heat, alpha=1.0, colormap="gray")
    assert np.array_equal(full[..., 0], full[..., 1])  # pure grey map, image gone
    for name in colour.COLORMAPS:
        assert overlay(image, heat, colormap=name).shape == image.shape
    with pytest.raises(ImageError, match="colour map"):
        overlay(image, heat, colormap="rainbow-unicorn")
    with pytest.raises(ImageError, match="alpha"):
        overlay(image, heat, alpha=2.0)
    with pytest.raises(ImageError, match="2-D"):
        overlay(image, np.zeros((2, 2, 2)))


@pytest.mark.parametrize("mode, value, expected", [
    ("I", 1, 1), ("I", 0, 0), ("I", 200, 200), ("F", 0.5, 128), ("F", 1.0, 255),
    ("F", 300.0, 255), ("I;16", 65535, 255),
])
def test_constant_wide_images_map_by_their_nominal_range(mode, value, expected):
    out = load_image(Image.new(mode, (3, 2), value))
    assert np.all(out == expected), (mode, value, out[0, 0])


def test_fit_for_demos_keeps_normal_images_and_fixes_extreme_ones():
    from cnnviz.images import fit_for_demos

    photo = np.zeros((300, 400, 3), np.uint8)
    same, note = fit_for_demos(photo)
    assert same is photo and note is None
    for shape in [(1, 1), (4, 6), (1, 10000), (10000, 1), (5000, 6000)]:
        fitted, note = fit_for_demos(np.zeros(shape + (3,), np.uint8))
        h, w = fitted.shape[:2]
        assert 32 <= min(h, w) and max(h, w) <= 1024 and max(h, w) <= 4 * min(h, w)
        assert fitted.dtype == np.uint8 and note.startswith(f"Your {shape[1]}x{shape[0]} image")
