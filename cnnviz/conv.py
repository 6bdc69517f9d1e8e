"""2-D convolution as a CNN layer computes it, and template matching.

A convolution layer slides a small kernel over the image and, at every
position, takes the weighted sum of the pixels under it: a dot product between
the kernel and the image patch. Like every deep learning library we compute the
*cross-correlation* (the kernel is not flipped), so a kernel cut from the image
gives its largest response where the image looks like it.

Everything here is vectorised over pixels: small kernels loop over their few
taps (each tap is one whole-image multiply-add), large kernels (a patch cut
from the image) go through the FFT. Fast enough to recompute on every slider
move for a 512x512 photo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnviz.errors import ImageError

#: Direct correlation while taps x output pixels <= this x input pixels, else FFT
#: (measured on this machine: a 7x7 kernel is still faster direct, 8x8 by FFT).
_DIRECT_RATIO = 50


# ----------------------------------------------------------------- arguments
def _pair(value, name: str, *, minimum: int) -> tuple[int, int]:
    """``3`` or ``(3, 2)`` -> ``(3, 2)``; refuses values below ``minimum``."""
    if isinstance(value, (int, np.integer)):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ImageError(f"{name} must be a whole number or a pair, got {value!r}.") from None
        if len(pair) != 2:
            raise ImageError(f"{name} must be a whole number or a pair, got {value!r}.")
    if min(pair) < minimum:
        raise ImageError(f"{name} must be at least {minimum}, got {value!r}.")
    return pair  # type: ignore[return-value]


def effective_kernel_size(kernel_size: int, dilation: int) -> int:
    """A dilated kernel spans ``d*(k-1)+1`` pixels: the taps stay, gaps open between them."""
    return dilation * (kernel_size - 1) + 1


@dataclass(frozen=True)
class Geometry:
    """Where a kernel goes over an image: padding per side and the output size."""

    in_hw: tuple[int, int]
    kernel_hw: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    out_hw: tuple[int, int]

    @property
    def effective_hw(self) -> tuple[int, int]:
        return tuple(effective_kernel_size(k, d) for k, d in zip(self.kernel_hw, self.dilation))

    def centre(self, row: int, col: int) -> tuple[int, int]:
        """The input pixel at the centre of output pixel (row, col)'s window (in the
        padding when it lies outside the image)."""
        return tuple(int(p * s - pad + (d * (k - 1)) // 2) for p, s, pad, d, k in zip(
            (row, col), self.stride, (self.pad_top, self.pad_left), self.dilation,
            self.kernel_hw))

    def nearest_output(self, y: int, x: int) -> tuple[int, int]:
        """The output pixel whose window is centred nearest input pixel (y, x): where the
        same place of the image is after the stride, padding or kernel changed."""
        out = []
        for value, s, pad, d, k, n in zip((y, x), self.stride, (self.pad_top, self.pad_left),
                                          self.dilation, self.kernel_hw, self.out_hw):
            nearest = math.floor((value + pad - (d * (k - 1)) // 2) / s + 0.5)
            out.append(min(max(nearest, 0), n - 1))
        return out[0], out[1]

    def formula(self, axis: int = 1) -> str:
        """The output-size formula with the current numbers, along one axis (1 = width)."""
        n, k = self.in_hw[axis], self.kernel_hw[axis]
        s, d = self.stride[axis], self.dilation[axis]
        p = (self.pad_top + self.pad_bottom) if axis == 0 else (self.pad_left + self.pad_right)
        ke = effective_kernel_size(k, d)
        return (
            f"floor(({n} + {p} - {d}*({k}-1) - 1) / {s}) + 1 = floor({n + p - ke} / {s}) + 1"
            f" = {self.out_hw[axis]}"
        )


def geometry(in_hw, kernel_hw, *, stride=1, padding="valid", dilation=1) -> Geometry:
    """Resolve padding ("valid", "same", a number or a pair) and the output size.

    "same" follows TensorFlow/Keras: the output has ``ceil(n / stride)`` pixels
    and the padding is split with the extra pixel, if any, at the bottom/right.
    """
    in_hw = _pair(in_hw, "Image size", minimum=1)
    kernel_hw = _pair(kernel_hw, "Kernel size", minimum=1)
    stride = _pair(stride, "Stride", minimum=1)
    dilation = _pair(dilation, "Dilation", minimum=1)
    eff = [effective_kernel_size(k, d) for k, d in zip(kernel_hw, dilation)]
    pads: list[tuple[int, int]] = []
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            pads = [(0, 0), (0, 0)]
        elif mode == "same":
            for n, s, e in zip(in_hw, stride, eff):
                total = max((math.ceil(n / s) - 1) * s + e - n, 0)
                pads.append((total // 2, total - total // 2))
        else:
            raise ImageError(f'Padding must be "valid", "same" or a number, got {padding!r}.')
    else:
        ph, pw = _pair(padding, "Padding", minimum=0)
        pads = [(ph, ph), (pw, pw)]
    out = []
    for n, s, e, (a, b) in zip(in_hw, stride, eff, pads):
        span = n + a + b - e
        if span < 0:
            raise ImageError(
                f"The kernel spans {e} pixels (with dilation) but the padded image is only "
                f"{n + a + b} pixels: there is no position where it fits. Use a smaller kernel "
                "or dilation, or more padding."
            )
        out.append(span // s + 1)
    return Geometry(in_hw, kernel_hw, stride, dilation, pads[0][0], pads[0][1],
                    pads[1][0], pads[1][1], (out[0], out[1]))


def _as_hwc(image, kernel) -> tuple[np.ndarray, np.ndarray]:
    """Image -> float (H, W, C); kernel -> float (kh, kw, C).

    A 2-D kernel on a colour image is used for every channel (the same as a
    conv-layer kernel repeated across its input channels).
    """
    img = np.asarray(image, dtype=np.float64)
    ker = np.asarray(kernel, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.size == 0:
        raise ImageError(f"Expected a 2-D grey or (H, W, C) colour image, got shape {img.shape}.")
    if ker.ndim == 2:
        ker = np.repeat(ker[:, :, None], img.shape[2], axis=2)
    if ker.ndim != 3 or ker.size == 0:
        raise ImageError(f"Expected a 2-D or (kh, kw, C) kernel, got shape {ker.shape}.")
    if ker.shape[2] != img.shape[2]:
        raise ImageError(
            f"The kernel has {ker.shape[2]} channels but the image has {img.shape[2]}."
        )
    if not (np.isfinite(img).all() and np.isfinite(ker).all()):
        raise ImageError("The image or kernel contains NaN or infinite values.")
    return img, ker


def _pad(img: np.ndarray, g: Geometry) -> np.ndarray:
    if g.pad_top == g.pad_bottom == g.pad_left == g.pad_right == 0:
        return img
    return np.pad(img, ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right), (0, 0)))


def _correlate_parts(padded: np.ndarray, ker: np.ndarray, g: Geometry) -> np.ndarray:
    """Per-channel responses (C, oh, ow) of a padded (H, W, C) image.

    Direct: one whole-image multiply-add per kernel tap and channel, on
    contiguous channel planes. FFT: when the kernel has many taps (a patch cut
    from the image), its cost no longer grows with the kernel.
    """
    (oh, ow), (sh, sw), (dh, dw) = g.out_hw, g.stride, g.dilation
    kh, kw, c = ker.shape
    planes = np.ascontiguousarray(np.moveaxis(padded, 2, 0))
    if kh * kw * oh * ow <= _DIRECT_RATIO * planes.shape[1] * planes.shape[2]:
        out = np.zeros((c, oh, ow))
        tmp = np.empty((oh, ow))
        for ch in range(c):
            for i in range(kh):  # loop over the kernel's taps, each a whole-image step
                rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
                for j in range(kw):
                    cols = slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)
                    np.multiply(planes[ch, rows, cols], ker[i, j, ch], out=tmp)
                    out[ch] += tmp
        return out
    from scipy.signal import fftconvolve

    eh, ew = g.effective_hw
    dilated = np.zeros((c, eh, ew))
    dilated[:, ::dh, ::dw] = np.moveaxis(ker, 2, 0)
    full = fftconvolve(planes, dilated[:, ::-1, ::-1], mode="valid", axes=(1, 2))
    return full[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]


# ----------------------------------------------------------------- public API
def convolve(image, kernel, *, stride=1, padding="valid", dilation=1) -> np.ndarray:
    """The response map of one conv-layer filter (no bias, no activation).

    ``image`` is (H, W) or (H, W, C); ``kernel`` is (kh, kw) or (kh, kw, C).
    Colour is summed over channels, as a conv layer does. Returns float64 (oh, ow).
    """
    img, ker = _as_hwc(image, kernel)
    g = geometry(img.shape[:2], ker.shape[:2], stride=stride, padding=padding,
                 dilation=dilation)
    return _correlate_parts(_pad(img, g), ker, g).sum(axis=0)


def convolve_channels(image, kernel, *, stride=1, padding="valid", dilation=1) -> np.ndarray:
    """The per-channel parts (oh, ow, C) whose sum over channels is ``convolve``."""
    img, ker = _as_hwc(image, kernel)
    g = geometry(img.shape[:2], ker.shape[:2], stride=stride, padding=padding,
                 dilation=dilation)
    return np.moveaxis(_correlate_parts(_pad(img, g), ker, g), 0, 2)


def match_template(image, template) -> np.ndarray:
    """Normalised cross-correlation of ``template`` at every valid position, in [-1, 1].

    The raw weighted sum grows with the brightness of the patch under the
    kernel; subtracting both means and dividing by both norms leaves only how
    well the *pattern* matches (1 = identical up to brightness and contrast).
    Flat windows (no variance) score 0. Colour windows are compared as one
    vector over all channels. Returns float64 (H - th + 1, W - tw + 1).
    """
    img, tpl = _as_hwc(image, template)
    th, tw, c = tpl.shape
    g = geometry(img.shape[:2], (th, tw))
    n = th * tw * c
    tpl0 = tpl - tpl.mean()
    tpl_norm = float(np.sqrt((tpl0**2).sum()))
    if tpl_norm == 0:
        raise ImageError("The template is flat (a single colour): it has no pattern to match.")
    numerator = _correlate_parts(img, tpl0, g).sum(axis=0)
    # window sums of the image and of its square, from integral images
    sums = _window_sums(img.sum(axis=2), th, tw)
    sq_sums = _window_sums((img**2).sum(axis=2), th, tw)
    variance = np.maximum(sq_sums - sums**2 / n, 0.0)
    denom = np.sqrt(variance) * tpl_norm
    tiny = 1e-9 * max(float(np.abs(img).max()) ** 2 * n, 1e-12)
    result = np.zeros_like(numerator)
    ok = variance > tiny
    result[ok] = numerator[ok] / denom[ok]
    return np.clip(result, -1.0, 1.0)


def _window_sums(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum of every h x w window (valid positions) via an integral image."""
    s = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
    s[1:, 1:] = a.cumsum(axis=0).cumsum(axis=1)
    return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]


@dataclass(frozen=True)
class Window:
    """The input values one output pixel is computed from."""

    values: np.ndarray  # (kh, kw, C) input values under the kernel taps (0 in padding)
    products: np.ndarray  # (kh, kw, C) kernel * values
    total: float  # the output pixel: products.sum()
    rows: np.ndarray  # (kh,) input row of each tap (may be outside the image: padding)
    cols: np.ndarray  # (kw,) input column of each tap


def window_at(image, kernel, row: int, col: int, *, stride=1, padding="valid",
              dilation=1) -> Window:
    """The window, the element-wise products and their sum for output pixel (row, col)."""
    img, ker = _as_hwc(image, kernel)
    g = geometry(img.shape[:2], ker.shape[:2], stride=stride, padding=padding,
                 dilation=dilation)
    if not (0 <= row < g.out_hw[0] and 0 <= col < g.out_hw[1]):
        raise ImageError(f"Output pixel ({row}, {col}) is outside the {g.out_hw} output.")
    rows = row * g.stride[0] - g.pad_top + g.dilation[0] * np.arange(ker.shape[0])
    cols = col * g.stride[1] - g.pad_left + g.dilation[1] * np.arange(ker.shape[1])
    inside_r = (rows >= 0) & (rows < img.shape[0])
    inside_c = (cols >= 0) & (cols < img.shape[1])
    values = np.zeros(ker.shape)
    rr, cc = np.clip(rows, 0, img.shape[0] - 1), np.clip(cols, 0, img.shape[1] - 1)
    values[:] = img[np.ix_(rr, cc)]
    values[~inside_r] = 0.0
    values[:, ~inside_c] = 0.0
    products = values * ker
    return Window(values, products, float(products.sum()), rows, cols)


# ----------------------------------------------------------------- kernels
CLASSIC_KERNELS = (
    "vertical edges (x gradient)", "horizontal edges (y gradient)", "Sobel x", "Sobel y",
    "Laplacian", "box blur", "Gaussian blur", "sharpen", "Gabor",
)


def classic_kernel(name: str, *, size: int = 3, angle: float = 0.0,
                   wavelength: float | None = None) -> np.ndarray:
    """A hand-made kernel by name (see ``CLASSIC_KERNELS``), float64 (size, size).

    ``size`` applies to the blurs and the Gabor kernel; ``angle`` (degrees) and
    ``wavelength`` (pixels) to the Gabor kernel, which responds to stripes
    across that direction.
    """
    if name == "vertical edges (x gradient)":
        return np.array([[-1.0, 0.0, 1.0]] * 3)
    if name == "horizontal edges (y gradient)":
        return np.array([[-1.0, 0.0, 1.0]] * 3).T
    if name == "Sobel x":
        return np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    if name == "Sobel y":
        return np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).T
    if name == "Laplacian":
        return np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    if name == "sharpen":
        return np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    size = int(size)
    if size < 1 or size > 31:
        raise ImageError(f"Kernel size must be between 1 and 31, got {size}.")
    if name == "box blur":
        return np.full((size, size), 1.0 / size**2)
    r = (np.arange(size) - (size - 1) / 2.0)
    yy, xx = np.meshgrid(r, r, indexing="ij")
    sigma = max(size / 5.0, 0.5)
    gauss = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    if name == "Gaussian blur":
        return gauss / gauss.sum()
    if name == "Gabor":
        theta = np.deg2rad(angle)
        lam = wavelength if wavelength else max(size / 2.0, 2.0)
        across = xx * np.cos(theta) + yy * np.sin(theta)
        kernel = gauss * np.cos(2 * np.pi * across / lam)
        return kernel - kernel.mean()  # zero mean: no response to flat regions
    raise ImageError(f"Unknown kernel {name!r}; choose from {', '.join(CLASSIC_KERNELS)}.")


def to_float(image) -> np.ndarray:
    """uint8 images -> float64 in [0, 1]; float images are kept as they are."""
    arr = np.asarray(image)
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    return arr.astype(np.float64)


def to_gray(image) -> np.ndarray:
    """Luminance (ITU-R 601 weights) of an RGB image, float (H, W)."""
    arr = to_float(image)
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3 and arr.shape[2] >= 3:
        return arr[..., :3] @ np.array([0.299, 0.587, 0.114])
    if arr.ndim == 3 and arr.shape[2] == 1:
        return arr[..., 0]
    raise ImageError(f"Expected a grey or RGB image, got shape {arr.shape}.")


def shrunk_hw(hw, max_side: int) -> tuple[int, int]:
    """The (height, width) ``shrink`` gives an image of size ``hw``: known before any pixel
    is touched, so a shared link's settings can be checked against it."""
    h, w = int(hw[0]), int(hw[1])
    if max(h, w) <= max_side:
        return h, w
    scale = max_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def shrink(image, max_side: int) -> np.ndarray:
    """Scale an image down (keeping its aspect) so its longer side is <= ``max_side``."""
    from cnnviz.images import resize

    arr = np.asarray(image)
    size = shrunk_hw(arr.shape[:2], max_side)
    return arr if size == arr.shape[:2] else resize(arr, size)
