"""cnnviz.conv against TensorFlow's conv2d, scipy's correlate2d and scikit-image."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import correlate2d

from cnnviz import conv
from cnnviz.errors import CnnvizError, ImageError

STRIDES = [1, 2, 3, (2, 1)]
PADDINGS = ["valid", "same", 1, (2, 0)]
DILATIONS = [1, 2, (1, 3)]
KERNELS = [(1, 1), (3, 3), (4, 4), (5, 3), (11, 11)]  # 11x11 takes the FFT path


def _tf_padding(padding):
    if isinstance(padding, str):
        return padding.upper()
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return [[0, 0], [ph, ph], [pw, pw], [0, 0]]


def _scipy_reference(image, kernel, stride, padding, dilation):
    """correlate2d of the padded image with the dilated kernel, then every s-th pixel."""
    g = conv.geometry(image.shape[:2], kernel.shape[:2], stride=stride, padding=padding,
                      dilation=dilation)
    img = image if image.ndim == 3 else image[:, :, None]
    ker = kernel if kernel.ndim == 3 else kernel[:, :, None]
    eh, ew = g.effective_hw
    total = 0
    for c in range(img.shape[2]):
        padded = np.pad(img[:, :, c], ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)))
        dil = np.zeros((eh, ew))
        dil[:: g.dilation[0], :: g.dilation[1]] = ker[:, :, c]
        total = total + correlate2d(padded, dil, mode="valid")
    return total[:: g.stride[0], :: g.stride[1]][: g.out_hw[0], : g.out_hw[1]]


@pytest.mark.parametrize("kernel_hw", KERNELS)
@pytest.mark.parametrize("channels", [1, 3])
def test_matches_scipy_for_every_stride_padding_dilation(kernel_hw, channels):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(41, 37, channels))
    kernel = rng.normal(size=(*kernel_hw, channels))
    if channels == 1:  # grey: plain 2-D arrays
        image, kernel = image[..., 0], kernel[..., 0]
    for stride, padding, dilation in itertools.product(STRIDES, PADDINGS, DILATIONS):
        ours = conv.convolve(image, kernel, stride=stride, padding=padding, dilation=dilation)
        ref = _scipy_reference(image, kernel, stride, padding, dilation)
        assert ours.shape == ref.shape, (stride, padding, dilation)
        np.testing.assert_allclose(ours, ref, atol=1e-9, err_msg=str((stride, padding, dilation)))


@pytest.mark.parametrize("kernel_hw", KERNELS)
def test_matches_tf_conv2d(kernel_hw):
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    image = rng.normal(size=(43, 38, 3))
    kernel = rng.normal(size=(*kernel_hw, 3))
    for stride, padding, dilation in itertools.product(STRIDES, PADDINGS, DILATIONS):
        s = (stride, stride) if isinstance(stride, int) else stride
        d = (dilation, dilation) if isinstance(dilation, int) else dilation
        if max(s) > 1 and max(d) > 1:
            continue  # TensorFlow's CPU kernel refuses stride > 1 together with dilation > 1
        ref = tf.nn.conv2d(image[None], kernel[:, :, :, None], strides=[1, *s, 1],
                           padding=_tf_padding(padding), dilations=[1, *d, 1]).numpy()[0, :, :, 0]
        ours = conv.convolve(image, kernel, stride=stride, padding=padding, dilation=dilation)
        assert ours.shape == ref.shape, (stride, padding, dilation)
        np.testing.assert_allclose(ours, ref, atol=1e-8, err_msg=str((stride, padding, dilation)))


def test_strided_dilated_matches_tf_after_subsampling():
    """TF refuses stride and dilation together; stride s = every s-th pixel of stride 1."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(2)
    image, kernel = rng.normal(size=(30, 30, 2)), rng.normal(size=(3, 3, 2))
    full = tf.nn.conv2d(image[None], kernel[..., None], strides=1, padding="VALID",
                        dilations=2).numpy()[0, :, :, 0]
    ours = conv.convolve(image, kernel, stride=3, dilation=2)
    np.testing.assert_allclose(ours, full[::3, ::3], atol=1e-9)


def test_output_size_formula():
    g = conv.geometry((512, 512), (5, 5), stride=2, padding=1, dilation=2)
    # floor((512 + 2 - 2*(5-1) - 1) / 2) + 1 = floor(505 / 2) + 1 = 253
    assert g.out_hw == (253, 253)
    assert g.formula().endswith("= 253")
    same = conv.geometry((7, 8), (3, 3), stride=2, padding="same")
    assert same.out_hw == (4, 4)
    assert (same.pad_top, same.pad_bottom, same.pad_left, same.pad_right) == (1, 1, 0, 1)


def test_channel_parts_sum_to_the_response():
    rng = np.random.default_rng(3)
    image, kernel = rng.random((20, 20, 3)), rng.normal(size=(3, 3, 3))
    parts = conv.convolve_channels(image, kernel, stride=2, padding="same")
    assert parts.shape == (10, 10, 3)
    np.testing.assert_allclose(parts.sum(axis=2), conv.convolve(image, kernel, stride=2,
                                                                 padding="same"))
    # channel c alone is the grey convolution of that channel with its kernel slice
    np.testing.assert_allclose(parts[..., 1], conv.convolve(image[..., 1], kernel[..., 1],
                                                            stride=2, padding="same"))


@pytest.mark.parametrize("stride,padding,dilation", [(1, "valid", 1), (2, "same", 2),
                                                     (3, 2, 1), (1, "same", 3)])
def test_window_products_sum_to_the_output_pixel(stride, padding, dilation):
    rng = np.random.default_rng(4)
    image, kernel = rng.random((17, 15, 3)), rng.normal(size=(3, 3, 3))
    out = conv.convolve(image, kernel, stride=stride, padding=padding, dilation=dilation)
    for r, c in [(0, 0), (out.shape[0] - 1, out.shape[1] - 1), (out.shape[0] // 2, 1)]:
        w = conv.window_at(image, kernel, r, c, stride=stride, padding=padding,
                           dilation=dilation)
        assert w.total == pytest.approx(out[r, c], abs=1e-9)
        np.testing.assert_allclose(w.products, w.values * kernel)


def test_patch_as_kernel_peaks_where_the_patch_was_cut():
    """C1: with normalised cross-correlation the peak is exactly at the patch."""
    from skimage.data import camera

    image = camera()[::2, ::2] / 255.0
    top, left = 100, 140
    patch = image[top : top + 24, left : left + 24]
    ncc = conv.match_template(image, patch)
    assert np.unravel_index(np.argmax(ncc), ncc.shape) == (top, left)
    assert ncc.max() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_match_template_matches_skimage(channels):
    from skimage.feature import match_template as sk_match

    rng = np.random.default_rng(5)
    image = rng.random((40, 33, channels)).squeeze()
    image[:6, :6] = 0.5  # a flat region: zero variance windows
    template = image[10:17, 4:13].copy()
    ours = conv.match_template(image, template)
    ref = sk_match(image, template).squeeze()
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert ours.min() >= -1 and ours.max() <= 1


def test_raw_response_is_biased_to_bright_regions():
    """Why the page shows NCC beside the raw sum: brightness alone raises the raw sum."""
    rng = np.random.default_rng(6)
    image = rng.random((60, 60)) * 0.3
    template = image[5:15, 5:15].copy()
    image[30:50, 30:50] = 1.0  # a flat bright square, nothing like the template
    raw = conv.convolve(image, template)
    ncc = conv.match_template(image, template)
    assert np.unravel_index(np.argmax(ncc), ncc.shape) == (5, 5)
    peak = np.unravel_index(np.argmax(raw), raw.shape)
    assert 25 <= peak[0] <= 45 and 25 <= peak[1] <= 45


@pytest.mark.parametrize("kwargs,shape", [
    ({"stride": 0}, (3, 3)),
    ({"dilation": 0}, (3, 3)),
    ({"padding": -1}, (3, 3)),
    ({"padding": "full"}, (3, 3)),
    ({}, (25, 3)),  # kernel taller than the image
    ({"dilation": 12}, (3, 3)),  # dilated kernel spans 25 > 20 pixels: no output
    ({"stride": "two"}, (3, 3)),
])
def test_bad_combinations_raise_image_error(kwargs, shape):
    image = np.zeros((20, 20))
    with pytest.raises(ImageError) as info:
        conv.convolve(image, np.ones(shape), **kwargs)
    assert not isinstance(info.value, ValueError)
    assert len(str(info.value)) > 10


def test_bad_arrays_raise_cnnviz_errors():
    with pytest.raises(CnnvizError):
        conv.convolve(np.zeros((8, 8, 3)), np.ones((3, 3, 2)))  # channel mismatch
    with pytest.raises(CnnvizError):
        conv.convolve(np.zeros((0, 8)), np.ones((3, 3)))
    with pytest.raises(CnnvizError):
        conv.match_template(np.random.rand(10, 10), np.ones((3, 3)))  # flat template
    with pytest.raises(CnnvizError):
        conv.window_at(np.zeros((8, 8)), np.ones((3, 3)), 6, 0)
    with pytest.raises(CnnvizError):
        conv.classic_kernel("emboss")


def test_classic_kernels():
    for name in conv.CLASSIC_KERNELS:
        k = conv.classic_kernel(name, size=5, angle=30)
        assert k.ndim == 2 and np.isfinite(k).all()
    assert conv.classic_kernel("Gaussian blur", size=5).sum() == pytest.approx(1)
    # Gabor at 0 degrees: stripes varying along x respond, stripes along y do not
    gabor = conv.classic_kernel("Gabor", size=9, angle=0, wavelength=4)
    x = np.arange(40)
    vertical_stripes = np.tile(np.cos(2 * np.pi * x / 4), (40, 1))
    assert np.abs(conv.convolve(vertical_stripes, gabor)).mean() > 10 * np.abs(
        conv.convolve(vertical_stripes.T, gabor)).mean()

