"""Reading images safely, sample photos, resizing and heat-map overlays.

Everything returns ``numpy.ndarray`` images: uint8, shape (H, W, 3), RGB.

``load_image`` is the single door through which a student's file enters the
app, so it is defensive: it reads the header first and refuses oversized
images *before* decoding them (a 50 kB PNG can expand to gigabytes), turns
every odd Pillow mode into plain RGB with sensible values, and converts every
failure into an :class:`~cnnviz.errors.ImageError` with a message a student
can act on. No other exception type leaves this module for bad input.

Every resize in cnnviz goes through this module (``resize`` for images,
``resize_map`` for one map of numbers, ``resize_batch`` for float batches), all
with one filter, so the image a student sees and the one a model gets match;
``enlarge`` shows small maps and kernels as crisp blocks. ``as_float_batch`` is
where every image path into a model or an augmentation pipeline starts.
"""

from __future__ import annotations

import functools
import io
import warnings

import numpy as np
from PIL import Image, ImageFile, ImageOps

from cnnviz.errors import ImageError
from cnnviz.uploads import read_bytes, source_name

#: Largest image (width x height) ``load_image`` decodes by default: 25 Mpx is a
#: big phone photo. Larger ones are refused from the header alone.
DEFAULT_MAX_PIXELS = 25_000_000
#: Largest file, in bytes, ``load_image`` reads (uploads, bytes, file objects).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

#: Pillow formats we let Pillow try. Formats with loose signatures (TGA, and the
#: scientific ones) are left out: they can mistake a text file for an image.
ALLOWED_FORMATS = (
    "PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "DIB", "TIFF", "ICO", "PPM",
    "JPEG2000", "AVIF", "QOI",
)

# Pillow's own bomb guard: it warns above MAX_IMAGE_PIXELS and raises above
# twice that. Ours is stricter and runs first for every image up to Pillow's
# limit; keep Pillow's limit at least as high as ours so it never warns about
# an image we accept.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, not grey pixels
# Between its limit and twice it, Pillow only warns about a possible bomb: make that an
# error (process-wide and set once: catching warnings per call is not thread-safe).
# Our own size check below rejects such images anyway, so safety does not rest on this.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

_FORMAT_HINT = "PNG, JPEG, GIF, WebP, BMP or TIFF"


# --------------------------------------------------------------------------- reading


def _declares_zero_size(data: bytes) -> bool:
    """A PNG or GIF header that announces a width or height of 0."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big") == 0 or int.from_bytes(data[20:24], "big") == 0
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        return int.from_bytes(data[6:8], "little") == 0 or int.from_bytes(data[8:10], "little") == 0
    return False


def _what_is_it(data: bytes) -> str | None:
    """A short description of well-known non-image files, from their first bytes."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    lower = head.lower()
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "a zip archive (or an Office document)"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        return "a compressed archive"
    if b"<svg" in lower:
        return "an SVG drawing (vector graphics; export it as PNG first)"
    if lower.startswith((b"<!doctype html", b"<html")) or b"<html" in lower:
        return "a web page (HTML)"
    if lower.startswith(b"<?xml"):
        return "an XML file"
    if head.startswith(b"%!PS"):
        return "a PostScript file"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if text and printable / len(text) > 0.95:
        return "a text file"
    return None


@functools.cache
def _formats() -> tuple[str, ...]:
    """The allowed formats this Pillow build can open (MPO opens through JPEG)."""
    Image.init()
    return tuple(f for f in ALLOWED_FORMATS if f in Image.OPEN)


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and check the size before any pixel is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(
            f"{name} has too many pixels to open safely (more than "
            f"{max_pixels / 1e6:.0f} megapixels). Use a smaller image."
        ) from error
    except Image.UnidentifiedImageError as error:
        if _declares_zero_size(data):
            raise ImageError(f"{name} has zero size (its width or height is 0 pixels).") from error
        kind = _what_is_it(data)
        if kind is not None:
            raise ImageError(
                f"{name} is {kind}, not an image. Use a {_FORMAT_HINT} file."
            ) from error
        raise ImageError(
            f"{name} is not an image this app can read (or it is damaged). "
            f"Use a {_FORMAT_HINT} file."
        ) from error
    except Exception as error:  # Pillow plugins raise OSError, SyntaxError, struct.error...
        raise _damaged(name, error) from error
    _check_size(name, image, max_pixels)
    return image


def _check_size(name: str, image: Image.Image, max_pixels: int) -> None:
    """Refuse an empty or oversized image from its header, before any decoding."""
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError(f"{name} has zero size ({width}x{height} pixels).")
    if width * height > max_pixels:
        raise ImageError(
            f"{name} is {width}x{height} = {width * height / 1e6:.1f} megapixels; the "
            f"limit is {max_pixels / 1e6:.0f} megapixels. Use a smaller image."
        )


def _damaged(name: str, error: Exception) -> ImageError:
    """An ImageError for a file Pillow recognised but could not read."""
    message = _short(error)
    if "truncated" in message.lower() or isinstance(error, EOFError):
        return ImageError(
            f"{name} is incomplete (the file is cut off). Download or export it again."
        )
    return ImageError(f"{name} is damaged and cannot be read ({message}).")


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 120 else text[:117] + "..."


def _scale_to_uint8(values: np.ndarray, nominal_max: float | None) -> np.ndarray:
    """Stretch a 16-bit / 32-bit / float grey image by its actual range to 0..255.

    A constant image has no range: it is mapped by its nominal range instead
    (``nominal_max``, e.g. 65535 for 16-bit), or clipped to 0..255.
    """
    is_float = values.dtype.kind == "f"
    values = values.astype(np.float32)  # enough precision for 256 output levels
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint8)
    lo, hi = values[finite].min(), values[finite].max()
    values = np.where(finite, values, lo)
    if hi > lo:
        scaled = (values - lo) / (hi - lo) * 255.0
    elif nominal_max:
        scaled = values / nominal_max * 255.0
    elif 0.0 <= lo <= 1.0 and is_float:
        scaled = values * 255.0
    else:
        scaled = values
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 (H, W, 3); transparency is composited on white."""
    mode = image.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        nominal = 65535.0 if mode.startswith("I;16") else None
        grey = _scale_to_uint8(np.asarray(image), nominal)
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)


def _decode(image: Image.Image, name: str) -> np.ndarray:
    try:
        image.seek(0)  # animated GIF / WebP / APNG: the first frame
        image.load()
        image = ImageOps.exif_transpose(image) or image
        return _to_rgb(image)
    except ImageError:
        raise
    except MemoryError as error:
        raise ImageError(f"{name} is too large to decode in memory.") from error
    except Exception as error:  # truncated data, broken chunks, bad EXIF, ...
        raise _damaged(name, error) from error


def load_image(src, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an image file into a uint8 RGB array (H, W, 3).

    ``src`` is a path, ``bytes``, a binary file object or a ``PIL.Image``.
    Every Pillow mode is handled: transparency is composited on white, 16-bit,
    32-bit and float images are stretched by their actual range (otherwise they
    would turn white or black), EXIF orientation is applied, and animated files
    give their first frame. Raises :class:`ImageError` for empty, truncated,
    corrupt and non-image input, and for images over ``max_pixels`` (checked
    from the header, before decoding) or files over ``max_bytes``.
    """
    if isinstance(src, Image.Image):
        _check_size("The image", src, max_pixels)
        return _decode(src, "The image")
    data = read_bytes(src, max_bytes, noun="image", error=ImageError)
    name = source_name(src, "image")
    image = _open(data, name, max_pixels)
    try:
        return _decode(image, name)
    finally:
        image.close()


# --------------------------------------------------------------------------- samples


#: Display name -> how to get it from ``skimage.data``.
_SAMPLES = {
    "cat (Chelsea)": "chelsea",
    "coffee cup": "coffee",
    "astronaut": "astronaut",
    "rocket": "rocket",
    "motorcycle": "motorcycle",
    "horse (silhouette)": "horse",
    "coins": "coins",
    "camera man": "camera",
    "retina": "retina",
    "immunohistochemistry": "immunohistochemistry",
    "hubble deep field": "hubble_deep_field",
    "brick wall": "brick",
    "grass": "grass",
    "gravel": "gravel",
}


def _skimage_image(key: str) -> np.ndarray:
    """One scikit-image sample as uint8 RGB (grey and binary images are replicated)."""
    import skimage.data

    if key == "motorcycle":
        raw = skimage.data.stereo_motorcycle()[0]
    else:
        raw = getattr(skimage.data, key)()
    return as_rgb_uint8(raw)


@functools.lru_cache(maxsize=1)
def _sample_cache() -> tuple[tuple[str, np.ndarray], ...]:
    samples = []
    for name, key in _SAMPLES.items():
        try:
            image = _skimage_image(key)
        except Exception:  # a photo missing from this scikit-image build: skip it
            continue
        image.setflags(write=False)
        samples.append((name, image))
    return tuple(samples)


def sample_images() -> dict[str, np.ndarray]:
    """Real photos that ship with scikit-image (offline), by a name a student knows.

    The arrays are shared and read-only (``writeable=False``); copy one before
    changing it in place. Only the photos this scikit-image build has are listed.
    """
    return dict(_sample_cache())


# --------------------------------------------------------------------------- arrays


def to_uint8(image) -> np.ndarray:
    """uint8 pixels from float [0, 1], bool or integer images (shape unchanged)."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        array = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
    if array.dtype.kind in "iu":
        return np.clip(array, 0, 255).astype(np.uint8)
    raise ImageError(f"Cannot turn an array of {array.dtype} into an image.")


def as_rgb_uint8(image) -> np.ndarray:
    """Any (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> uint8 (H, W, 3)."""
    array = to_uint8(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageError(f"Expected an image of shape (H, W) or (H, W, 3), got {array.shape}.")
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    elif array.shape[2] == 4:  # composite on white, as load_image does
        alpha = array[:, :, 3:4].astype(np.float32) / 255.0
        array = np.round(array[:, :, :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(array)


def as_float_batch(images) -> np.ndarray:
    """Images as a float32 RGB batch (n, H, W, 3) in [0, 1]: the start of every image
    path into a model or an augmentation pipeline.

    Takes uint8 (0-255), bool, or float images in [0, 1], shaped (H, W), (H, W, C)
    or (n, H, W, C) with C = 1 (grey, repeated), 3 (RGB) or 4 (RGBA, alpha dropped).
    """
    x = np.asarray(images)
    if x.dtype == np.bool_:
        x = x.astype(np.float32)
    if x.ndim == 2:
        x = x[None, :, :, None]
    elif x.ndim == 3:  # one image (H, W, C); a grayscale batch is (n, H, W, 1)
        x = x[None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4) or 0 in x.shape[1:3]:
        raise ImageError(
            f"Expected images shaped (H, W, 3) or (n, H, W, 3); got {np.asarray(images).shape}."
        )
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
        if x.size and (not np.isfinite(x).all() or x.min() < -1e-3 or x.max() > 1 + 1e-3):
            raise ImageError("Float images must hold values in [0, 1] (uint8 for 0-255).")
        x = np.clip(x, 0.0, 1.0)
    else:
        raise ImageError(f"Images must be uint8 or float in [0, 1]; got {x.dtype}.")
    if x.shape[-1] == 4:
        x = x[..., :3]
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x


def _size_hw(size) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        h = w = int(size)
    else:
        try:
            h, w = (int(s) for s in size)
        except (TypeError, ValueError) as error:
            raise ImageError(f"A size is an int or (height, width), got {size!r}.") from error
    if h < 1 or w < 1:
        raise ImageError(f"A size must be at least 1x1, got {h}x{w}.")
    return h, w


def _resample(plane: np.ndarray, h: int, w: int) -> np.ndarray:
    """The one resize of cnnviz: a float32 plane through Pillow's bilinear filter.

    Pillow widens the filter's support when shrinking, so downscaling averages
    pixels instead of aliasing; enlarging is plain bilinear with pixel centres
    aligned (no shift, edges repeated).
    """
    if plane.shape == (h, w):
        return plane.astype(np.float32, copy=True)
    resized = Image.fromarray(np.ascontiguousarray(plane, np.float32), mode="F").resize(
        (w, h), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32).copy()


def resize(image, size) -> np.ndarray:
    """Resize an image to ``size`` (int -> square, or (height, width)); uint8 (h, w, 3).

    Any image ``as_rgb_uint8`` takes (uint8 or float [0, 1], grey or RGB), each
    channel through ``_resample``.
    """
    h, w = _size_hw(size)
    rgb = as_rgb_uint8(image)
    if rgb.shape[:2] == (h, w):
        return rgb.copy()
    channels = [_resample(rgb[:, :, k], h, w) for k in range(3)]
    return np.clip(np.round(np.stack(channels, axis=-1)), 0, 255).astype(np.uint8)


def resize_map(values, size) -> np.ndarray:
    """Resize a 2-D map of numbers bilinearly (pixel centres aligned); float32 (h, w).

    NaN and infinite values become 0 first, so one bad value cannot spread.
    """
    h, w = _size_hw(size)
    array = np.asarray(values, dtype=np.float32)
    if array.ndim != 2 or array.size == 0:
        raise ImageError(f"Expected a 2-D map, got an array of shape {array.shape}.")
    return _resample(np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0), h, w)


def resize_batch(batch, size) -> np.ndarray:
    """Resize a batch of float images (n, H, W, C) or maps (n, H, W); float32.

    The values stay numbers (no rounding to uint8): model inputs, training sets
    and attribution maps keep their precision. Each plane goes through
    ``_resample``, as in ``resize`` and ``resize_map``.
    """
    h, w = _size_hw(size)
    array = np.asarray(batch, dtype=np.float32)
    if array.ndim not in (3, 4) or 0 in array.shape[1:3]:
        raise ImageError(f"Expected a batch shaped (n, H, W) or (n, H, W, C), got {array.shape}.")
    if array.shape[1:3] == (h, w):
        return array.copy()
    planes = array if array.ndim == 4 else array[..., None]
    out = np.empty((len(planes), h, w, planes.shape[-1]), dtype=np.float32)
    for i, image in enumerate(planes):
        for c in range(planes.shape[-1]):
            out[i, :, :, c] = _resample(image[:, :, c], h, w)
    return out if array.ndim == 4 else out[..., 0]


def enlarge(image, factor: int) -> np.ndarray:
    """Enlarge an image or map (H, W, ...) ``factor`` times, each pixel becoming a
    ``factor`` x ``factor`` block (nearest neighbour); dtype and values unchanged.

    For showing small things as they are: a 3x3 kernel or a 7x7 feature map
    enlarged smoothly would show a blur that is not in the numbers.
    """
    array = np.asarray(image)
    if array.ndim < 2 or 0 in array.shape[:2]:
        raise ImageError(f"Expected an image or map (H, W, ...), got shape {array.shape}.")
    if int(factor) != factor or factor < 1:
        raise ImageError(f"The enlargement factor must be a whole number >= 1, got {factor}.")
    return np.repeat(np.repeat(array, int(factor), axis=0), int(factor), axis=1)


# --------------------------------------------------------------------------- overlays


def overlay(image, heatmap, *, alpha: float = 0.4, colormap="jet",
            vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Blend a coloured heat map over an image; uint8 (H, W, 3).

    The heat map (2-D, any resolution, e.g. a 7x7 Grad-CAM) is first upsampled
    bilinearly *as numbers* to the image size, then normalised and coloured, so
    the colours blend smoothly instead of showing blocks. ``colormap`` is any
    colour map of :func:`cnnviz.figures.colour.colorize`.
    """
    from cnnviz.figures.colour import colorize

    rgb = as_rgb_uint8(image)
    if not 0.0 <= float(alpha) <= 1.0:
        raise ImageError(f"alpha must be between 0 and 1, got {alpha}.")
    heat = np.asarray(heatmap)
    if heat.ndim == 3 and heat.shape[-1] == 1:
        heat = heat[..., 0]
    smooth = resize_map(heat, rgb.shape[:2])
    coloured = colorize(smooth, colormap=colormap, vmin=vmin, vmax=vmax)
    blended = (1.0 - alpha) * rgb.astype(np.float32) + alpha * coloured.astype(np.float32)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def fit_for_demos(image: np.ndarray, *, min_side: int = 32, max_side: int = 1024,
                  max_aspect: float = 4.0) -> tuple[np.ndarray, str | None]:
    """Bring any loaded image into the range every page can work with.

    A 1x1 icon, a 10000x1 strip or a 6000x4000 photo are all valid images, but a
    3x3 kernel needs a few pixels and a slider needs more than one position.
    Extreme strips are centre-cropped to ``max_aspect``, then the image is scaled
    so its short side is at least ``min_side`` and its long side at most
    ``max_side``. Returns the image and a note for the student when it changed.
    """
    h, w = original_h, original_w = image.shape[:2]
    notes = []
    if max(h, w) > max_aspect * min(h, w):
        keep_h = min(h, int(max_aspect * w))
        keep_w = min(w, int(max_aspect * h))
        top, left = (h - max(keep_h, 1)) // 2, (w - max(keep_w, 1)) // 2
        image = image[top:top + max(keep_h, 1), left:left + max(keep_w, 1)]
        notes.append(f"cropped to its centre {image.shape[1]}x{image.shape[0]}")
    h, w = image.shape[:2]
    scale = max(min_side / min(h, w), 1.0)
    scale = min(scale, max_side / max(h, w)) if max(h, w) * scale > max_side else scale
    if scale != 1.0:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        image = resize(image, size)
        notes.append(f"scaled to {size[1]}x{size[0]}")
    if not notes:
        return image, None
    return image, (f"Your {original_w}x{original_h} image was " + " and ".join(notes)
                   + " for the demos.")
