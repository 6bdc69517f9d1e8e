"""A generated corpus of bad (and odd-but-valid) input for cnnviz.

Every file is built here from scratch, so the corpus needs no fixtures on disk
and other tests (unit, page and browser tests) can import it:

    from badinput import bad_images, bad_zips, odd_images

``bad_images()`` and ``bad_zips()`` return ``Case(name, data, error)``
triples: the bytes must be refused with exactly that ``CnnvizError`` subclass.
``odd_images()`` returns unusual but valid images that must load, with the
expected shape and top-left colour.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from typing import NamedTuple

import numpy as np
from PIL import Image

from cnnviz.errors import DatasetError, ImageError

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


class Case(NamedTuple):
    """Input that must be refused with ``error`` (a CnnvizError subclass)."""

    name: str
    data: bytes
    error: type


class OddCase(NamedTuple):
    """A valid but unusual image: it must load as (height, width, 3) uint8."""

    name: str
    data: bytes
    shape: tuple[int, int]  # (height, width) after EXIF rotation
    top_left: tuple[int, int, int]  # expected RGB at [0, 0]
    tolerance: int  # allowed difference per channel (lossy formats)
    gradient: bool = False  # row 0 must rise from black (left) to white (right)


# --------------------------------------------------------------------------- helpers


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    """Save a Pillow image to bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_image(width: int = 64, height: int = 64, seed: int = 0) -> Image.Image:
    """Random RGB pixels: they do not compress, so truncating the file loses data."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def forged_png(width: int, height: int, *, idat: bytes | None = None) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (8-bit grey) with tiny data.

    Used for decompression bombs and zero-size images: only the header is real.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 16) if idat is None else idat
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
            + _png_chunk(b"IEND", b""))


def forged_gif(width: int, height: int) -> bytes:
    """A GIF whose logical screen and frame claim ``width`` x ``height``."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
    palette = b"\x00\x00\x00\xff\xff\xff"
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return screen + palette + frame + b";"


def make_zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip held in memory; member names are written exactly as given (even unsafe)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return buffer.getvalue()


def small_png(colour=(200, 30, 30), size: int = 8) -> bytes:
    return encode(Image.new("RGB", (size, size), colour))


def class_zip(classes=("cats", "dogs"), per_class: int = 3, *, top: str | None = None,
              extra: dict[str, bytes] | None = None) -> bytes:
    """A valid zip of class folders (optionally inside one top folder)."""
    members = {}
    colours = [(220, 40, 40), (40, 40, 220), (40, 200, 40), (200, 200, 40)]
    for c, name in enumerate(classes):
        for i in range(per_class):
            path = f"{name}/{i:03d}.png"
            members[f"{top}/{path}" if top else path] = small_png(colours[c % 4], 8 + i)
    members.update(extra or {})
    return make_zip(members)


# --------------------------------------------------------------------------- bad images


def bad_images() -> list[Case]:
    """Files ``load_image`` must refuse with ``ImageError`` (at least 25 kinds)."""
    png = encode(noise_image())
    jpeg = encode(noise_image(), "JPEG", quality=90)
    gif = encode(noise_image().convert("P"), "GIF")
    webp = encode(noise_image(), "WEBP", quality=90)
    tiff = encode(noise_image(), "TIFF")
    bmp = encode(noise_image(), "BMP")
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF  # inside the IHDR checksum
    rng = np.random.default_rng(1)
    noise = bytes(rng.integers(128, 256, 4096, dtype=np.uint8))  # never valid UTF-8 text
    cases = [
        ("empty", b""),
        ("pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"),
        ("text", b"This is a plain text file, not a picture.\n" * 20),
        ("json", b'{"image": "cat.jpg", "label": 3}\n'),
        ("svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                b'width="10" height="10"><rect width="10" height="10"/></svg>\n'),
        ("html", b"<!DOCTYPE html>\n<html><body><img src='cat.jpg'></body></html>\n"),
        ("xml", b'<?xml version="1.0"?>\n<note><to>class</to></note>\n'),
        ("postscript", b"%!PS-Adobe-3.0\n/Times findfont 12 scalefont setfont\nshowpage\n"),
        ("zip_archive", make_zip({"cat.png": png})),
        ("gzip_of_png", gzip.compress(png)),
        ("random_bytes", noise),
        ("png_signature_only", png[:8]),
        ("png_truncated_half", png[: len(png) // 2]),
        ("png_bad_header_crc", bytes(bad_crc)),
        ("png_corrupt_pixel_data", forged_png(16, 16, idat=b"this is not zlib data")),
        ("png_zero_width", forged_png(0, 16)),
        ("png_zero_height", forged_png(16, 0)),
        ("png_30_megapixels_header", forged_png(6000, 5000)),  # over our 25 Mpx limit
        ("png_100_megapixels_header", forged_png(10_000, 10_000)),  # Pillow would warn
        ("png_400_megapixels_header", forged_png(20_000, 20_000)),  # Pillow would raise
        ("gif_bomb_header", forged_gif(30_000, 30_000)),
        ("jpeg_truncated_half", jpeg[: len(jpeg) // 2]),
        ("jpeg_header_only", jpeg[:20]),
        ("gif_truncated_half", gif[: len(gif) // 2]),
        ("webp_truncated_half", webp[: len(webp) // 2]),
        ("tiff_truncated_half", tiff[: len(tiff) // 2]),
        ("bmp_truncated_half", bmp[: len(bmp) // 2]),
        ("ico_garbage", b"\x00\x00\x01\x00\x01\x00" + b"\xff" * 40),
    ]
    return [Case(name, data, ImageError) for name, data in cases]


# --------------------------------------------------------------------------- odd images


def _gradient(mode: str, width: int = 256, height: int = 4) -> Image.Image:
    """A left-to-right ramp stored in ``mode``'s own range (16-bit, 32-bit, float)."""
    ramp = np.linspace(0.0, 1.0, width)[None, :].repeat(height, axis=0)
    if mode in ("I;16", "I;16B"):
        values = (1000 + ramp * 50_000).astype(np.uint16)  # not the full 0..65535 range
        image = Image.fromarray(values)
        return image if mode == "I;16" else image.convert("I").convert("I;16B")
    if mode == "I":
        return Image.fromarray((-70_000 + ramp * 3_000_000).astype(np.int32))
    if mode == "F":
        return Image.fromarray((-2.5 + ramp * 10.0).astype(np.float32))
    raise ValueError(mode)


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (12, 10), RED), Image.new("RGB", (12, 10), BLUE)]
    options = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    if fmt == "WEBP":
        options["lossless"] = True
    return encode(frames[0], fmt, **options)


def _exif_rotated_jpeg() -> bytes:
    """Stored 40 wide x 20 high, left half red, with EXIF orientation 6 (rotate 90 CW)."""
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = RED
    stored[:, 20:] = BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif.tobytes())


def odd_images() -> list[OddCase]:
    """Valid images in every odd Pillow mode and shape; all must load correctly."""
    base = Image.new("RGB", (6, 4), (200, 100, 50))
    half_red = Image.new("RGBA", (6, 4), (255, 0, 0, 128))
    transparent = Image.new("RGBA", (6, 4), (0, 0, 0, 0))
    palette = Image.new("P", (6, 4), 1)
    palette.putpalette([0, 0, 0, 30, 160, 90] + [0, 0, 0] * 254)
    palette_transparent = palette.copy()
    palette_transparent.info["transparency"] = 1
    grey_alpha = Image.new("LA", (6, 4), (0, 0))  # black, fully transparent
    cmyk = base.convert("CMYK")
    multipage = [Image.new("RGB", (5, 5), RED), Image.new("RGB", (5, 5), BLUE)]
    return [
        OddCase("mode_1_png", encode(Image.new("1", (6, 4), 1)), (4, 6), WHITE, 0),
        OddCase("mode_L_png", encode(Image.new("L", (6, 4), 77)), (4, 6), (77, 77, 77), 0),
        OddCase("mode_LA_transparent_png", encode(grey_alpha), (4, 6), WHITE, 0),
        OddCase("mode_P_png", encode(palette), (4, 6), (30, 160, 90), 0),
        OddCase("mode_P_tRNS_png", encode(palette_transparent), (4, 6), WHITE, 0),
        OddCase("mode_PA_tiff", encode(palette.convert("PA"), "TIFF"), (4, 6), (30, 160, 90), 0),
        OddCase("mode_RGBA_transparent_png", encode(transparent), (4, 6), WHITE, 0),
        OddCase("mode_RGBA_half_red_png", encode(half_red), (4, 6), (255, 127, 127), 1),
        OddCase("mode_RGBA_webp_lossless", encode(half_red, "WEBP", lossless=True), (4, 6),
                (255, 127, 127), 1),
        OddCase("mode_CMYK_jpeg", encode(cmyk, "JPEG", quality=95), (4, 6), (200, 100, 50), 8),
        OddCase("mode_CMYK_tiff", encode(cmyk, "TIFF"), (4, 6), (200, 100, 50), 1),
        OddCase("mode_YCbCr_jpeg", encode(base.convert("YCbCr"), "JPEG", quality=95), (4, 6),
                (200, 100, 50), 8),
        OddCase("mode_LAB_tiff", encode(base.convert("LAB"), "TIFF"), (4, 6), (200, 100, 50), 3),
        OddCase("mode_I_gradient_tiff", encode(_gradient("I"), "TIFF"), (4, 256), (0, 0, 0), 0,
                True),
        OddCase("mode_I16_gradient_png", encode(_gradient("I;16")), (4, 256), (0, 0, 0), 0, True),
        OddCase("mode_I16B_gradient_tiff", encode(_gradient("I;16B"), "TIFF"), (4, 256),
                (0, 0, 0), 0, True),
        OddCase("mode_F_gradient_tiff", encode(_gradient("F"), "TIFF"), (4, 256), (0, 0, 0), 0,
                True),
        OddCase("exif_orientation_6_jpeg", _exif_rotated_jpeg(), (40, 20), RED, 40),
        OddCase("animated_gif_first_frame", _animated("GIF"), (10, 12), RED, 0),
        OddCase("animated_webp_first_frame", _animated("WEBP"), (10, 12), RED, 2),
        OddCase("animated_png_first_frame", _animated("PNG"), (10, 12), RED, 0),
        OddCase("multipage_tiff_first_page", encode(multipage[0], "TIFF", save_all=True,
                                                    append_images=multipage[1:]),
                (5, 5), RED, 0),
        OddCase("one_pixel_png", encode(Image.new("RGB", (1, 1), (9, 99, 199))), (1, 1),
                (9, 99, 199), 0),
        OddCase("very_wide_10000x1_png", encode(Image.new("RGB", (10_000, 1), BLUE)),
                (1, 10_000), BLUE, 0),
        OddCase("very_tall_1x10000_png", encode(Image.new("RGB", (1, 10_000), RED)),
                (10_000, 1), RED, 0),
        OddCase("bmp", encode(base, "BMP"), (4, 6), (200, 100, 50), 0),
        OddCase("ico", encode(Image.new("RGB", (16, 16), (200, 100, 50)), "ICO", sizes=[(16, 16)]),
                (16, 16), (200, 100, 50), 0),
        OddCase("ppm_binary", encode(base, "PPM"), (4, 6), (200, 100, 50), 0),
        OddCase("ppm_ascii_P3", b"P3\n2 1\n255\n200 100 50  0 0 0\n", (1, 2), (200, 100, 50), 0),
        OddCase("jpeg_progressive", encode(Image.new("RGB", (32, 24), (200, 100, 50)), "JPEG",
                                           quality=95, progressive=True),
                (24, 32), (200, 100, 50), 4),
    ]


# --------------------------------------------------------------------------- bad zips


def bad_zips() -> list[Case]:
    """Zips ``load_image_zip`` must refuse with ``DatasetError``."""
    png = small_png()
    good = class_zip()
    many = {f"c{i % 2}/{i:05d}.txt": b"x" for i in range(2001)}
    cases = [
        ("zip_empty_bytes", b""),
        ("zip_not_a_zip", png),
        ("zip_truncated", good[: len(good) // 2]),
        ("zip_no_members", make_zip({})),
        ("zip_traversal_dotdot", make_zip({"cats/a.png": png, "../evil.png": png})),
        ("zip_traversal_nested", make_zip({"cats/../../evil/b.png": png, "dogs/a.png": png})),
        ("zip_absolute_path", make_zip({"/etc/cats/a.png": png, "dogs/a.png": png})),
        ("zip_backslash_traversal", make_zip({"cats\\..\\..\\evil.png": png, "dogs/a.png": png})),
        ("zip_windows_drive", make_zip({"C:\\cats\\a.png": png, "dogs/a.png": png})),
        ("zip_bomb_ratio", make_zip({"cats/a.png": png, "dogs/bomb.png": b"\0" * (8 << 20)})),
        ("zip_member_too_large", make_zip({"cats/a.png": png, "dogs/b.png": b"\0" * (21 << 20)})),
        ("zip_too_many_files", make_zip(many, compression=zipfile.ZIP_STORED)),
        ("zip_one_class", class_zip(("cats",), 3)),
        ("zip_one_class_in_top_folder", class_zip(("cats",), 3, top="pets")),
        ("zip_no_images", make_zip({"a/readme.txt": b"hello", "b/notes.txt": b"world"})),
        ("zip_images_not_in_folders", make_zip({"1.png": png, "2.png": png})),
        ("zip_only_broken_images", make_zip({"cats/a.png": png[:30], "dogs/b.png": b"%PDF-1.4"})),
    ]
    return [Case(name, data, DatasetError) for name, data in cases]


def all_bad_uploads() -> list[Case]:
    """Every refused input: images first, then zips."""
    return bad_images() + bad_zips()


# --------------------------------------------------------------------------- model files


def _keras_bytes(model) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def good_model_file() -> bytes:
    """A small valid image CNN saved as .keras (softmax output, 3 classes)."""
    import keras

    return _keras_bytes(keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax"),
    ]))


def bad_model_files() -> list[Case]:
    """.keras uploads that must be refused with ModelError."""
    import keras

    from cnnviz.errors import ModelError

    inputs = keras.Input((16, 16, 3))
    hidden = keras.layers.Lambda(lambda t: t * 2.0)(keras.layers.Conv2D(2, 3)(inputs))
    with_lambda = keras.Model(
        inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(hidden)))
    tabular = keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)])
    return [
        Case("model_with_lambda_layer", _keras_bytes(with_lambda), ModelError),
        Case("model_not_an_image_cnn", _keras_bytes(tabular), ModelError),
        Case("model_empty_file", b"", ModelError),
        Case("model_text_file", b"this is not a model\n" * 10, ModelError),
        Case("model_truncated_zip", good_model_file()[:300], ModelError),
    ]
