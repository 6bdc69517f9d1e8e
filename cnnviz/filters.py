"""What does a filter respond to? Gradient ascent on the input (concept C11).

Start from an image of random noise and change it, step by step, in the
direction that raises one filter's mean activation (borders cropped, where
padding distorts the maps). What is left is the pattern the filter looks for:
colours and edges early in the network, textures and parts deeper.

This module optimises MANY filters at once: image ``i`` of one batch serves
filter ``filter_indices[i]``. The model runs in inference mode, so image ``i``'s
loss depends on image ``i`` only; its gradient is normalised on its own (a
per-image L2 norm, the update rule of the Keras example "Visualizing what
convnets learn"), its start noise comes from its own seed, and the random
transforms of a step are shared by the batch. So each image is the one you get
optimising that filter alone, just many times cheaper: one traced step function
(filter indices travel as a tensor: no re-tracing per filter) and one batched
forward/backward pass per step instead of one per filter.

Regularisers (all off by default; switch on and tune) make the pictures less
noisy and more natural:

* ``jitter`` (pixels): pad (reflect) and crop at a random offset each step;
* ``scale`` (fraction) and ``rotate`` (degrees): a random zoom and rotation each
  step, done with TensorFlow's projective-transform op (differentiable);
* ``tv`` : penalise total variation (neighbouring pixels that differ);
* ``l2`` : penalise pixels far from grey (L2 decay);
* ``blur_every`` / ``blur_sigma``: Gaussian-blur the image every k steps;
* ``fourier=True``: optimise a colour-decorrelated Fourier spectrum instead of
  pixels, scaled by 1/frequency so that smooth, large patterns come first; the
  image is ``sigmoid(colour_matrix @ irfft2(spectrum / frequency))``.

Deterministic per ``seed``. TensorFlow and Keras are imported lazily.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from cnnviz.cache import ModelCache
from cnnviz.errors import ModelError
from cnnviz.probe import feature_layers, feature_model, find_layer, input_shape

#: sqrt of the RGB covariance of natural photos (scikit-image's astronaut,
#: chelsea, coffee, rocket; columns = principal colour directions scaled by the
#: square root of their variance). Recomputed in tests by `colour_correlation`.
COLOUR_CORRELATION = np.array([
    [0.2646, 0.1230, 0.0124],
    [0.2262, -0.0389, -0.0309],
    [0.1797, -0.1322, 0.0206],
], dtype=np.float32)

PREPROCESSING = ("none", "tf", "caffe")
#: start: uniform noise in [0, 1] (grey 0.5 +- 0.5). Stronger than the Keras
#: example's start (+-0.125 in [-1, 1] units): a filter silent (ReLU = 0) on the
#: start image gets no gradient and never changes, and more filters fire on strong
#: noise. Measured on the built-in model, filters 0-15, seed 0, RECOMMENDED
#: regularisers, 40 steps: silent filters in block1_conv2 / block3_conv2 were
#: 5 / 4 with +-0.0625, 0 / 4 with +-0.25, 0 / 0 with +-0.5. The blur and the
#: per-image contrast stretch of the result hide the remaining start noise.
_INIT_NOISE = 1.0
_FOURIER_LR_SCALE = 1.0  # Fourier parameters: step lr * this along the unit gradient
_DISPLAY_STD = 0.15  # pixel images are shown at mean 0.5, std 0.15 (as in the Keras example)
_PIXELS_PER_BATCH = 16 * 224 * 224  # 16 images of 224 px, all 64 of 64 px, per pass
_STEP_FNS = ModelCache(max_per_model=8)


@dataclass(frozen=True)
class Regularizers:
    """Regularisers of the gradient ascent; the defaults switch every one off."""

    jitter: int = 0  # pixels of random pad-and-crop shift per step
    scale: float = 0.0  # random zoom in [1 - scale, 1 + scale] per step
    rotate: float = 0.0  # random rotation in [-rotate, rotate] degrees per step
    tv: float = 0.0  # weight of the total-variation penalty
    l2: float = 0.0  # weight of the L2 penalty on (image - grey)
    blur_every: int = 0  # Gaussian blur every k steps (pixel images only); 0 = never
    blur_sigma: float = 1.0  # its standard deviation in pixels
    fourier: bool = False  # colour-decorrelated Fourier parameterisation

    def as_vector(self) -> np.ndarray:
        return np.array([self.jitter, self.scale, self.rotate, self.tv, self.l2,
                         self.blur_every, self.blur_sigma], dtype=np.float32)


#: A set of regularisers that gives clear pictures on the built-in and ImageNet models.
#: Chosen by looking at grids of the built-in model at block1..block3 (pixel images).
RECOMMENDED = Regularizers(jitter=2, scale=0.05, rotate=5.0, blur_every=4, blur_sigma=1.0)


@dataclass
class FilterResult:
    """Images and the story of how they were made."""

    images: np.ndarray  # uint8 (n, size, size, 3)
    history: np.ndarray  # float32 (steps, n): each filter's mean activation per step
    params: np.ndarray  # the optimised parameters, to continue from
    layer_name: str
    filter_indices: tuple[int, ...]
    steps_done: int
    settings: dict = field(default_factory=dict)


def colour_correlation(images) -> np.ndarray:
    """sqrt of the RGB covariance of ``images`` (uint8) via SVD: (3, 3), columns PCs."""
    px = np.concatenate([np.asarray(i)[..., :3].reshape(-1, 3) / 255.0 for i in images])
    u, s, _ = np.linalg.svd(np.cov(px.T))
    return (u * np.sqrt(s)).astype(np.float32)


def optimisation_size(model, size: int) -> tuple[int, int]:
    """(H, W) the images are optimised at: the model's input size when it is fixed."""
    h, w, _ = input_shape(model)
    return (h or size, w or size)


def preprocess_mode(model_name: str) -> str:
    """The ``preprocess`` argument for a model known by name (cnnviz.models)."""
    from cnnviz.models import imagenet

    spec = imagenet.SPECS.get(model_name)
    return spec.preprocessing if spec is not None else "none"


def _check(model, layer_name, filter_indices, preprocess):
    if input_shape(model)[2] != 3:
        raise ModelError("Filter visualisation needs a model that takes RGB images.")
    find_layer(model, layer_name)
    shapes = {i.name: i for i in feature_layers(model)}
    if layer_name not in shapes:
        raise ModelError(f"Layer {layer_name!r} does not output feature maps; choose a "
                         "convolution, pooling or activation layer.")
    channels = shapes[layer_name].channels
    indices = [int(i) for i in np.atleast_1d(np.asarray(filter_indices))]
    if not indices:
        raise ModelError("Choose at least one filter.")
    bad = [i for i in indices if not 0 <= i < channels]
    if bad:
        raise ModelError(f"Layer {layer_name!r} has filters 0 to {channels - 1}; "
                         f"there is no filter {bad[0]}.")
    if preprocess not in PREPROCESSING:
        raise ModelError(f"preprocess must be one of {PREPROCESSING}, not {preprocess!r}.")
    return indices


# --------------------------------------------------------------------------- graph


def _to_model_input(tf, x, preprocess: str):
    """[0, 1] RGB -> what the network was trained on (as cnnviz.models.preprocess)."""
    if preprocess == "tf":
        return x * 2.0 - 1.0
    if preprocess == "caffe":
        return x[..., ::-1] * 255.0 - tf.constant([103.939, 116.779, 123.68])
    return x


def _frequency_scale(h: int, w: int) -> np.ndarray:
    """1 / |frequency| for each rfft2 coefficient (the DC term gets 1 / (1 / max side))."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    freq = np.sqrt(fx * fx + fy * fy)
    return (1.0 / np.maximum(freq, 1.0 / max(h, w))).astype(np.float32)


def _fourier_image(tf, params, h: int, w: int):
    """(n, 3, h, w//2+1, 2) spectrum parameters -> (n, h, w, 3) image in (0, 1)."""
    scale = tf.constant(_frequency_scale(h, w))
    spectrum = tf.complex(params[..., 0] * scale, params[..., 1] * scale)
    planes = tf.signal.irfft2d(spectrum, fft_length=[h, w])  # (n, 3, h, w)
    planes = planes * (math.sqrt(h * w) / 4.0)
    x = tf.transpose(planes, [0, 2, 3, 1])
    matrix = COLOUR_CORRELATION / np.linalg.norm(COLOUR_CORRELATION, axis=0).max()
    x = tf.linalg.matmul(x, tf.constant(matrix.T))
    return tf.sigmoid(x)


def _gaussian_blur(tf, x, sigma):
    radius = 2
    t = tf.range(-radius, radius + 1, dtype=tf.float32)
    k = tf.exp(-(t * t) / (2.0 * tf.maximum(sigma, 1e-3) ** 2))
    k = k / tf.reduce_sum(k)
    kernel = tf.tile((k[:, None] * k[None, :])[:, :, None, None], [1, 1, 3, 1])
    padded = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")


def _random_transform(tf, x, regs, seed, step, h: int, w: int):
    """Jitter (pad-and-crop), then a random zoom and rotation; one draw per step.

    Each part runs under ``tf.cond``: switched off, it costs nothing.
    """
    u = tf.random.stateless_uniform([4], seed=tf.stack([seed, step]))

    def jitter(x):
        shift = tf.cast(tf.minimum(regs[0], float(min(h, w) // 4)), tf.int32)
        pad = tf.stack([[0, 0], [shift, shift], [shift, shift], [0, 0]])
        padded = tf.pad(x, pad, mode="REFLECT")
        oy = tf.cast(tf.floor(u[0] * tf.cast(2 * shift + 1, tf.float32)), tf.int32)
        ox = tf.cast(tf.floor(u[1] * tf.cast(2 * shift + 1, tf.float32)), tf.int32)
        return tf.slice(padded, tf.stack([0, oy, ox, 0]), tf.stack([-1, h, w, -1]))

    def zoom_and_rotate(x):
        zoom = 1.0 + regs[1] * (2.0 * u[2] - 1.0)
        angle = regs[2] * (2.0 * u[3] - 1.0) * (math.pi / 180.0)
        # output pixel p samples the input at A (p - c) + c, A = R(-angle) / zoom
        cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        transform = tf.stack([cos, -sin, cx - cos * cx + sin * cy,
                              sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=x, transforms=tf.tile(transform[None], [tf.shape(x)[0], 1]),
            output_shape=tf.constant([h, w]), fill_value=0.0,
            interpolation="BILINEAR", fill_mode="REFLECT")

    x = tf.cond(regs[0] >= 1, lambda: jitter(x), lambda: tf.identity(x))
    x = tf.ensure_shape(x, [None, h, w, 3])
    active = tf.logical_or(regs[1] > 0, regs[2] > 0)
    x = tf.cond(active, lambda: zoom_and_rotate(x), lambda: tf.identity(x))
    return tf.ensure_shape(x, [None, h, w, 3])


def _total_variation(tf, x):
    """Mean absolute difference of neighbouring pixels, per image."""
    dx = x[:, :, 1:, :] - x[:, :, :-1, :]
    dy = x[:, 1:, :, :] - x[:, :-1, :, :]
    return tf.reduce_mean(tf.abs(dx), [1, 2, 3]) + tf.reduce_mean(tf.abs(dy), [1, 2, 3])


def _make_step(sub, h: int, w: int, fourier: bool, preprocess: str):
    """One traced gradient-ascent step for a whole batch; every knob is a tensor."""
    import tensorflow as tf

    pshape = [None, 3, h, w // 2 + 1, 2] if fourier else [None, h, w, 3]

    def image_of(params):
        return _fourier_image(tf, params, h, w) if fourier else params

    @tf.function(input_signature=[
        tf.TensorSpec(pshape, tf.float32),  # params
        tf.TensorSpec([None], tf.int32),  # filter index per image
        tf.TensorSpec([7], tf.float32),  # regularisers (Regularizers.as_vector)
        tf.TensorSpec([], tf.float32),  # learning rate
        tf.TensorSpec([], tf.int32),  # seed
        tf.TensorSpec([], tf.int32),  # step number
    ])
    def step(params, filters, regs, learning_rate, seed, step_number):
        with tf.GradientTape() as tape:
            tape.watch(params)
            x = image_of(params)
            seen = _random_transform(tf, x, regs, seed, step_number, h, w)
            maps = sub(_to_model_input(tf, seen, preprocess), training=False)
            maps = maps[0] if isinstance(maps, (list, tuple)) else maps
            mh, mw = maps.shape[1], maps.shape[2]
            crop_h, crop_w = (2 if mh > 8 else 0), (2 if mw > 8 else 0)
            maps = maps[:, crop_h: mh - crop_h, crop_w: mw - crop_w, :]
            chosen = tf.gather(maps, filters, axis=3, batch_dims=1)  # (n, h', w')
            activation = tf.reduce_mean(chosen, axis=[1, 2])
            objective = activation
            objective -= tf.cond(regs[3] > 0, lambda: regs[3] * _total_variation(tf, x),
                                 lambda: tf.zeros_like(activation))
            objective -= tf.cond(regs[4] > 0, lambda: regs[4] * tf.reduce_mean(
                tf.square(x - 0.5), [1, 2, 3]), lambda: tf.zeros_like(activation))
            total = tf.reduce_sum(objective)  # image i's term depends on image i only
        grads = tape.gradient(total, params)
        axes = list(range(1, len(pshape)))
        grads = tf.math.l2_normalize(grads, axis=axes)  # each image on its own
        lr = learning_rate * (_FOURIER_LR_SCALE if fourier else 1.0)
        params = params + lr * grads
        if not fourier:
            every = tf.cast(regs[5], tf.int32)
            blur_now = tf.logical_and(every > 0, tf.math.floormod(step_number + 1,
                                                                  tf.maximum(every, 1)) == 0)
            params = tf.cond(blur_now, lambda: _gaussian_blur(tf, params, regs[6]),
                             lambda: params)
        return params, activation

    return step


def step_function(model, layer_name: str, h: int, w: int, fourier: bool, preprocess: str):
    """The traced step for (model, layer, size, parameterisation), cached per model."""
    key = (layer_name, h, w, bool(fourier), preprocess)
    return _STEP_FNS.get(model, key, lambda: _make_step(feature_model(model, [layer_name]),
                                                        h, w, bool(fourier), preprocess))


# --------------------------------------------------------------------------- public


def initial_params(filter_indices: Sequence[int], h: int, w: int, *, seed: int = 0,
                   fourier: bool = False) -> np.ndarray:
    """Start parameters; image i's noise depends on (seed, its filter index) only."""
    out = []
    for f in filter_indices:
        rng = np.random.default_rng([int(seed), int(f)])
        if fourier:
            out.append(rng.normal(0.0, 0.01, (3, h, w // 2 + 1, 2)))
        else:
            out.append(0.5 + _INIT_NOISE * (rng.random((h, w, 3)) - 0.5))
    return np.asarray(out, dtype=np.float32)


def params_to_images(params: np.ndarray, *, fourier: bool) -> np.ndarray:
    """float32 images in [0, 1]: the Fourier image as it is; pixel images standardised
    per image (mean 0.5, std 0.15, as the Keras example shows them) so each is visible."""
    if fourier:
        import tensorflow as tf

        h = params.shape[2]
        w = (params.shape[3] - 1) * 2
        return _fourier_image(tf, tf.constant(params), h, w).numpy()
    x = params.astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    return np.clip(0.5 + _DISPLAY_STD * (x - mean) / (std + 1e-5), 0.0, 1.0)


def _as_pictures(images01: np.ndarray, size: int) -> np.ndarray:
    """uint8 images at ``size`` x ``size`` (through the one resize of cnnviz.images)."""
    from cnnviz.images import resize, to_uint8

    if images01.shape[1:3] == (size, size):
        return to_uint8(images01)
    return np.stack([resize(image, size) for image in images01])


def visualize_with_history(
    model, layer_name: str, filter_indices, *, size: int = 128, steps: int = 30,
    learning_rate: float = 10.0, seed: int = 0, preprocess: str = "none",
    start: FilterResult | None = None,
    callback: Callable[[int, int], Any] | None = None, **regularizers,
) -> FilterResult:
    """Batched gradient ascent; the images plus each filter's activation per step.

    ``preprocess`` maps the [0, 1] image to the model's input ("none": as it is,
    the built-in model; "tf": [-1, 1], MobileNetV2; "caffe": ResNet50).
    ``start``: a previous result for the same layer and filters, to continue
    optimising its images for ``steps`` more steps. ``callback(done, total)`` is
    called after every step (for progress bars). ``regularizers``: the fields of
    :class:`Regularizers`. Models with a fixed input size are optimised at that
    size and the images resized to ``size``.
    """
    import tensorflow as tf

    try:
        regs = Regularizers(**regularizers)
    except TypeError as error:
        names = ", ".join(Regularizers.__dataclass_fields__)
        raise ModelError(f"Unknown regulariser ({error}); use: {names}.") from error
    indices = _check(model, layer_name, filter_indices, preprocess)
    if steps < 0 or learning_rate < 0:
        raise ModelError("Steps and learning rate must not be negative.")
    h, w = optimisation_size(model, size)
    done = 0
    history = np.zeros((0, len(indices)), np.float32)
    if start is not None:
        if start.layer_name != layer_name or list(start.filter_indices) != indices:
            raise ModelError("Continue only with the same layer and filters.")
        if bool(start.settings.get("fourier")) != regs.fourier:
            raise ModelError("Continue with the same image parameterisation (Fourier or not).")
        params = np.asarray(start.params, np.float32)
        done, history = start.steps_done, start.history
    else:
        params = initial_params(indices, h, w, seed=seed, fourier=regs.fourier)
    step = step_function(model, layer_name, h, w, regs.fourier, preprocess)

    # Sub-batches of at most _PIXELS_PER_BATCH pixels: on a CPU, 64 images of 224 px
    # per pass overflow the caches and cost 3x more per image than 16 (measured).
    # Images are independent, so this changes no result; the trace is shared.
    chunk = max(1, _PIXELS_PER_BATCH // (h * w))
    parts = [(tf.constant(params[a:a + chunk]), tf.constant(indices[a:a + chunk], tf.int32))
             for a in range(0, len(indices), chunk)]
    reg_vector = tf.constant(regs.as_vector())
    lr = tf.constant(float(learning_rate), tf.float32)
    seed_t = tf.constant(int(seed), tf.int32)
    curves = []
    for i in range(steps):
        step_t = tf.constant(done + i, tf.int32)
        outs = [step(p, f, reg_vector, lr, seed_t, step_t) for p, f in parts]
        parts = [(new, f) for (new, _), (_, f) in zip(outs, parts)]
        curves.append(np.concatenate([activation.numpy() for _, activation in outs]))
        if callback is not None:
            callback(i + 1, steps)
    params = np.concatenate([p.numpy() for p, _ in parts])
    if curves:
        history = np.concatenate([history, np.asarray(curves, np.float32)])
    images = _as_pictures(params_to_images(params, fourier=regs.fourier), size)
    settings = {"size": size, "learning_rate": learning_rate, "seed": seed,
                "preprocess": preprocess, **asdict(regs)}
    return FilterResult(images, history, params, layer_name, tuple(indices), done + steps,
                        settings)


def visualize(model, layer_name: str, filter_indices, *, size: int = 128, steps: int = 30,
              learning_rate: float = 10.0, seed: int = 0, **regularizers) -> np.ndarray:
    """uint8 (n, size, size, 3): the pattern each filter responds to most.

    All filters are optimised together in one batch (see the module docstring).
    Extra keywords: ``preprocess``, ``start``, ``callback`` and the regularisers
    (:class:`Regularizers`), as in :func:`visualize_with_history`.
    """
    return visualize_with_history(model, layer_name, filter_indices, size=size, steps=steps,
                                  learning_rate=learning_rate, seed=seed,
                                  **regularizers).images


def most_active_filters(model, layer_name: str, image, n: int) -> list[int]:
    """The ``n`` filters of ``layer_name`` with the highest mean activation on ``image``
    (one preprocessed float image (H, W, C) or a batch)."""
    from cnnviz.activations import extract, strongest_channels

    maps = extract(model, image, [layer_name])[layer_name]
    return [int(i) for i in strongest_channels(maps.mean(axis=0))[:n]]


def first_layer_kernels(model) -> tuple[str, np.ndarray]:
    """(layer name, uint8 (k, kh, kw, 3)): the first conv layer's RGB kernels as images.

    Grey is 0; each kernel is scaled by its own largest absolute weight, so a
    kernel that adds red and subtracts green shows red next to magenta-free green.
    """
    for info in feature_layers(model, kinds=("conv",)):
        layer, _ = find_layer(model, info.name)
        weights = layer.get_weights()
        if not weights or weights[0].ndim != 4 or weights[0].shape[2] != 3:
            continue
        kernel = np.moveaxis(weights[0], -1, 0)  # (k, kh, kw, 3)
        peak = np.abs(kernel).max(axis=(1, 2, 3), keepdims=True)
        scaled = 0.5 + 0.5 * kernel / np.where(peak > 0, peak, 1.0)
        return info.name, (scaled * 255).round().astype(np.uint8)
    raise ModelError("This model has no convolution on the RGB image to show as pictures.")


#: A filter's activation "rose" (or "fell") when it ended at least 10 % of its start
#: (and at least 1e-3) above (or below) it.
RISE_SHARE = 0.10
_RISE_FLOOR = 1e-3
#: The median curve is "still rising" when its last quarter of steps added more than
#: 5 % of its whole gain.
STILL_RISING = 0.05
#: The answers to "what happens to a filter's activation during gradient ascent?"
ASCENT_TRENDS = ("it rises", "it stays about the same", "it falls")


def _trend(start: float, end: float) -> str:
    margin = max(RISE_SHARE * abs(start), _RISE_FLOOR)
    return (ASCENT_TRENDS[0] if end > start + margin else ASCENT_TRENDS[2]
            if end < start - margin else ASCENT_TRENDS[1])


@dataclass(frozen=True)
class AscentSummary:
    """What the activation curves of one run say, in numbers."""

    start: float  # the median filter's activation on the start noise
    end: float  # ... after the last step
    trend: str  # one of ASCENT_TRENDS, for the median curve
    rose: tuple[int, ...]  # the filters (their indices) whose own curve rose
    never_fired: tuple[int, ...]  # filters whose activation stayed <= 0 at every step
    late_gain: float  # share of the median curve's gain made in the last quarter of steps
    steps: int

    @property
    def still_rising(self) -> bool:
        return self.trend == ASCENT_TRENDS[0] and self.late_gain > STILL_RISING


def summarise_ascent(history: np.ndarray, filter_indices) -> AscentSummary:
    """Summarise ``history`` (steps x filters, :attr:`FilterResult.history`)."""
    history = np.asarray(history, np.float64)
    if history.ndim != 2 or len(history) == 0:
        raise ModelError("No steps were run: there is no activation curve to read.")
    median = np.median(history, axis=1)
    steps = len(history)
    quarter = max(1, steps // 4)
    gain = median[-1] - median[0]
    late = (median[-1] - median[-1 - quarter]) / gain if gain > 0 and steps > 1 else 0.0
    indices = [int(f) for f in filter_indices]
    return AscentSummary(
        start=float(median[0]), end=float(median[-1]), trend=_trend(median[0], median[-1]),
        rose=tuple(f for i, f in enumerate(indices)
                   if _trend(history[0, i], history[-1, i]) == ASCENT_TRENDS[0]),
        never_fired=tuple(f for i, f in enumerate(indices) if history[:, i].max() <= 0),
        late_gain=float(late), steps=steps)


def describe_ascent(summary: AscentSummary, count: int) -> str:
    """Sentences on what the curves measured, each from its own threshold."""
    text = (f"{len(summary.rose)} of {count} filters responded more and more (each ended "
            f"at least {RISE_SHARE:.0%} above its start): the median activation went from "
            f"{summary.start:.3g} on noise to {summary.end:.3g} after {summary.steps} steps.")
    if summary.trend != ASCENT_TRENDS[0]:
        text += (" The median did not rise: with a learning rate too small, too few steps, "
                 "or filters silent on the start noise, gradient ascent has nothing to climb.")
    elif summary.still_rising:
        text += (f" It is still rising (the last quarter of the steps added "
                 f"{summary.late_gain:.0%} of the gain): continue for sharper patterns.")
    else:
        text += (f" It has levelled off (the last quarter added {summary.late_gain:.0%} of "
                 "the gain).")
    return text


def with_regularizers(base: Regularizers = RECOMMENDED, **changes) -> dict:
    """Keyword arguments for visualize(): ``base`` with some fields changed."""
    return asdict(replace(base, **changes))
