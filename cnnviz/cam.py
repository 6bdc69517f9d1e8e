"""Where does the model look? Grad-CAM and other attribution maps.

Everything here stands on one primitive, :func:`activations_and_gradients`:
run the images through the model, keep the activations ``A`` of a target layer
(or of the input itself) and the gradients ``dS_c/dA`` of the class score
``S_c``. The gradients are taken in :class:`cnnviz.probe.GradientProbe`, compiled
once per (model, layer) with the class as a tensor (no re-tracing for a new
image or class). The score is always the *logit* (before softmax): a softmax
probability saturates near 1 and its gradient vanishes.

The CAM methods are a table, :data:`CAM_WEIGHTS`: each one is only its rule for
weighting the layer's channels from ``(A, dS/dA)``. The shared base,
:func:`class_activation_map`, resolves the layer, checks that it has a spatial
map, sums the weighted channels, applies ReLU and scales, for all of them:

* Grad-CAM: weight channel ``k`` by its mean gradient (signed), sum the
  weighted channels, then ReLU (keep only what speaks *for* the class).
* Grad-CAM++, HiResCAM, Layer-CAM: other ways to weight the same ``A`` and ``dS/dA``.
* Score-CAM: no gradients: mask the input with each channel and measure the score.

The input methods share their batching (:func:`_over_variants`): each image's
class is fixed first, then its variants run as one batch explained for it:

* saliency, SmoothGrad, Integrated Gradients: gradients with respect to the input.
* occlusion: grey out patches and measure how much the score drops.

All maps are float32 in [0, 1]: ReLU, then divided by ``max + eps`` per image
(an all-negative map becomes all zeros, never NaN). Every image's map depends
only on that image (the model runs in inference mode).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnviz.errors import ModelError
from cnnviz.probe import INPUT, as_batch, gradient_probe, last_spatial_layer, spatial_layers

#: added to each map's max before dividing: keeps an all-zero map at zero (no NaN)
#: without flattening a map whose values are genuinely tiny (an untrained deep
#: network's activations can be ~1e-11; a 1e-8 epsilon would blank its map).
EPS = 1e-30

METHOD_TITLES = {
    "gradcam": "Grad-CAM",
    "gradcam_plus_plus": "Grad-CAM++",
    "hirescam": "HiResCAM",
    "layercam": "Layer-CAM",
    "scorecam": "Score-CAM",
    "saliency": "Saliency (input gradient)",
    "smoothgrad": "SmoothGrad",
    "integrated_gradients": "Integrated Gradients",
    "occlusion": "Occlusion",
}


# --------------------------------------------------------------------------- inputs


def _class_vector(class_index, n: int, num_classes: int) -> np.ndarray:
    """One int32 class per image; -1 (for ``None``) lets the probe take the top class."""
    if class_index is None:
        return np.full(n, -1, np.int32)
    c = np.asarray(class_index)
    if c.ndim == 0:
        c = np.full(n, int(c))
    if c.shape != (n,):
        raise ModelError(f"class_index must be one int or one per image ({n}); "
                         f"got shape {c.shape}.")
    if (c < 0).any() or (c >= num_classes).any():
        raise ModelError(f"class_index must lie in 0..{num_classes - 1}.")
    return c.astype(np.int32)


def resolve_classes(model, images, class_index=None) -> np.ndarray:
    """The class each image is explained for, int32 (n,): ``class_index`` (one int or
    one per image), or, for ``None``, each image's top class."""
    x = as_batch(images, model)
    probe = gradient_probe(model, INPUT)
    c = _class_vector(class_index, len(x), probe.num_classes)
    if (c < 0).any():
        c = np.where(c < 0, probe.logits(x).argmax(axis=1), c).astype(np.int32)
    return c


def predict_logits(model, images) -> np.ndarray:
    """Logits for a batch, through the cached compiled probe (no retracing)."""
    return gradient_probe(model, INPUT).logits(as_batch(images, model))


def class_probability(logits, classes) -> np.ndarray:
    """Each row's probability of its class (``classes``: one int or one per row)."""
    from cnnviz.models import probabilities

    p = probabilities(logits)
    rows = np.arange(len(p))
    return p[rows, np.broadcast_to(np.asarray(classes), rows.shape)]


def default_layer(model) -> str:
    """The last layer with a 4-D output: the deepest map that still has a 'where'."""
    return last_spatial_layer(model)


def conv_layers(model) -> list[str]:
    """The layers a CAM can explain: every layer with a 4-D output, input side first
    (layers of a base model nested inside ``model`` by their own names)."""
    return spatial_layers(model)


def _fill(image: np.ndarray, baseline) -> np.ndarray:
    """The "nothing here" value for ``image`` in the model's preprocessed input space:
    "mean" = the image's mean colour (neutral under any preprocessing: for [0, 1]
    inputs a black 0 would be a strong, out-of-distribution signal), or a number."""
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ModelError("baseline must be 'mean' or a number.")
        return image.mean(axis=(0, 1)).astype(np.float32)
    return np.float32(baseline)


def normalize(maps: np.ndarray) -> np.ndarray:
    """ReLU, then divide each map by its max + eps: [0, 1], zeros stay zeros (no NaN)."""
    maps = np.maximum(np.asarray(maps, np.float64), 0.0)
    peak = maps.reshape(len(maps), -1).max(axis=1)
    return (maps / (peak + EPS).reshape(-1, *([1] * (maps.ndim - 1)))).astype(np.float32)


def upsample(maps: np.ndarray, size) -> np.ndarray:
    """Bilinear upsampling of (n, h, w) maps to ``size`` = (H, W) (or an int)."""
    from cnnviz.images import resize_batch

    return resize_batch(maps, size)


# --------------------------------------------------------------------------- the primitive


def activations_and_gradients(model, images, *, class_index=None, layer=None):
    """The shared primitive: (logits, activations, gradients, classes) for a layer.

    ``gradients`` are d logit[class] / d activations, same shape as the activations.
    ``layer=INPUT`` gives gradients with respect to the (preprocessed) input.
    """
    x = as_batch(images, model)
    probe = gradient_probe(model, layer)
    return probe.run(x, _class_vector(class_index, len(x), probe.num_classes))


@dataclass(frozen=True)
class LayerTerms:
    """What a CAM method weighs: one layer's activations and gradients (batch first)."""

    model: Any
    layer: str
    images: np.ndarray  # (n, H, W, C) the preprocessed input
    logits: np.ndarray  # (n, classes)
    activations: np.ndarray  # (n, h, w, K)
    gradients: np.ndarray  # (n, h, w, K) d logit[class] / d activation
    classes: np.ndarray  # (n,) the class each map explains


def layer_terms(model, images, *, class_index=None, layer=None) -> LayerTerms:
    """Run the primitive at ``layer`` (default: the last 4-D one) and check that the
    layer has a spatial feature map to draw."""
    name = default_layer(model) if layer is None else layer
    x = as_batch(images, model)
    logits, acts, grads, classes = activations_and_gradients(model, x, class_index=class_index,
                                                             layer=name)
    if acts.ndim != 4:
        raise ModelError(f"Layer {name!r} has no spatial feature map (its output is not 4-D).")
    return LayerTerms(model, name, x, logits, acts, grads, classes)


# --------------------------------------------------------------------------- CAM rules
# Each rule turns LayerTerms into weights for the layer's K channels: one weight
# per channel (n, K), or one per position and channel (n, h, w, K).


def gradcam_weights(terms: LayerTerms, pooling: str = "mean") -> np.ndarray:
    """Grad-CAM: channel k's weight is its mean gradient, signed: how much the class
    score changes if the whole channel grows. ``pooling='max'`` takes the largest
    gradient instead, to show why the mean is used: one extreme pixel then decides
    a whole channel's weight."""
    if pooling not in ("mean", "max"):
        raise ModelError("pooling must be 'mean' or 'max'.")
    grads = terms.gradients
    return grads.mean(axis=(1, 2)) if pooling == "mean" else grads.max(axis=(1, 2))


def gradcam_plus_plus_weights(terms: LayerTerms) -> np.ndarray:
    """Grad-CAM++: per-pixel weights alpha on the positive gradients, so several
    objects of the class all show up."""
    acts, grads = terms.activations, terms.gradients
    g2, g3 = grads**2, grads**3
    denom = 2 * g2 + acts.sum(axis=(1, 2), keepdims=True) * g3
    alpha = g2 / np.where(denom != 0, denom, 1.0)
    return (alpha * np.maximum(grads, 0)).sum(axis=(1, 2))


def hirescam_weights(terms: LayerTerms) -> np.ndarray:
    """HiResCAM: each position weighted by its own gradient (gradient times activation,
    then summed over channels); faithful to the model when it ends in global pooling."""
    return terms.gradients


def layercam_weights(terms: LayerTerms) -> np.ndarray:
    """Layer-CAM: each position weighted by its own positive gradient; works at
    shallow layers too."""
    return np.maximum(terms.gradients, 0)


def scorecam_weights(terms: LayerTerms, top_k: int | None = None,
                     baseline: float | str = "mean") -> np.ndarray:
    """Score-CAM: no gradients. Each channel, upsampled and scaled to [0, 1], masks
    the input; the class probability of the masked image is that channel's weight.
    ``top_k`` keeps only the channels with the largest mean activation (the others
    weigh 0; much faster on wide layers). All masked images of one image run as
    batches. ``baseline`` is what masked-out pixels become, in the preprocessed
    input space: "mean" (the image's mean colour) or a number. (The paper multiplies
    the image by the mask, i.e. baseline 0: black for [0, 1] inputs, which on the
    shapes data halves the pointing-game score.)
    """
    x, acts = terms.images, terms.activations
    height, width = x.shape[1:3]
    weights = np.zeros((len(acts), acts.shape[-1]), np.float32)
    for i, a in enumerate(acts):
        channels = np.argsort(-a.mean(axis=(0, 1)))
        if top_k is not None:
            channels = channels[: max(1, int(top_k))]
        ups = upsample(np.moveaxis(a[..., channels], -1, 0), (height, width))
        lo = ups.reshape(len(ups), -1).min(axis=1)[:, None, None]
        hi = ups.reshape(len(ups), -1).max(axis=1)[:, None, None]
        masks = (ups - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
        fill = _fill(x[i], baseline)
        masked = fill + (x[i][None] - fill) * masks[..., None]
        weights[i, channels] = class_probability(predict_logits(terms.model, masked),
                                                 terms.classes[i])
    return weights


#: The CAM methods: name -> weighting rule (Selvaraju et al. 2017; Chattopadhay et
#: al. 2018; Draelos & Carin 2020; Jiang et al. 2021; Wang et al. 2020).
CAM_WEIGHTS: dict[str, Callable[..., np.ndarray]] = {
    "gradcam": gradcam_weights,
    "gradcam_plus_plus": gradcam_plus_plus_weights,
    "hirescam": hirescam_weights,
    "layercam": layercam_weights,
    "scorecam": scorecam_weights,
}
CAM_METHODS = tuple(CAM_WEIGHTS)


def _weighted_sum(acts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k weight_k * A_k, weights per channel (n, K) or per position (n, h, w, K)."""
    if weights.ndim == 2:
        return np.einsum("nhwc,nc->nhw", acts, weights)
    return (acts * weights).sum(axis=-1)


def signed_map(method: str, model, images, *, class_index=None, layer=None,
               **options) -> np.ndarray:
    """The CAM ``method``'s weighted sum of the channels BEFORE ReLU and scaling, (n, h, w)
    in the method's own units (for Grad-CAM: logit per position). Negative where the
    layer speaks against the class; how much is left after ReLU, and how it compares with
    another class's map, is what :mod:`cnnviz.classmaps` measures."""
    if method not in CAM_WEIGHTS:
        raise ModelError(f"Unknown CAM method {method!r}; choose from {', '.join(CAM_WEIGHTS)}.")
    terms = layer_terms(model, images, class_index=class_index, layer=layer)
    return _weighted_sum(terms.activations, CAM_WEIGHTS[method](terms, **options))


def class_activation_map(method: str, model, images, *, class_index=None, layer=None,
                         **options) -> np.ndarray:
    """The CAM ``method`` (a key of :data:`CAM_WEIGHTS`): its channel weights, the
    weighted sum of the channels, ReLU, divided by max + eps: (n, h, w) in [0, 1] at
    the layer's resolution. ``options`` go to the method's rule."""
    return normalize(signed_map(method, model, images, class_index=class_index, layer=layer,
                                **options))


@dataclass(frozen=True)
class GradCamSteps:
    """Every intermediate of Grad-CAM, for showing it step by step (batch first)."""

    layer: str
    classes: np.ndarray  # (n,) the class each map explains
    logits: np.ndarray  # (n, classes)
    activations: np.ndarray  # (n, h, w, C) step 1: the layer's feature maps
    gradients: np.ndarray  # (n, h, w, C) step 2: d logit / d activation
    weights: np.ndarray  # (n, C) step 3: pooled gradient per channel (signed)
    weighted_sum: np.ndarray  # (n, h, w) step 4a: sum_k weight_k * A_k
    relu: np.ndarray  # (n, h, w) step 4b: after ReLU
    cam: np.ndarray  # (n, h, w) normalised to [0, 1]; step 5 upsamples it


def gradcam_steps(model, images, *, class_index=None, layer=None,
                  pooling: str = "mean") -> GradCamSteps:
    """Grad-CAM with all its intermediate results (the same code as :func:`gradcam`,
    step by step); ``pooling`` as in :func:`gradcam_weights`."""
    terms = layer_terms(model, images, class_index=class_index, layer=layer)
    weights = gradcam_weights(terms, pooling)
    weighted = _weighted_sum(terms.activations, weights)
    relu = np.maximum(weighted, 0.0)
    return GradCamSteps(terms.layer, terms.classes, terms.logits, terms.activations,
                        terms.gradients, weights, weighted, relu, normalize(relu))


def gradcam(model, images, *, class_index=None, layer=None, pooling: str = "mean"):
    """Grad-CAM (Selvaraju et al. 2017): ReLU(sum_k mean(dS/dA_k) * A_k), (n, h, w) in [0, 1]."""
    return class_activation_map("gradcam", model, images, class_index=class_index,
                                layer=layer, pooling=pooling)


def gradcam_plus_plus(model, images, *, class_index=None, layer=None):
    """Grad-CAM++ (Chattopadhay et al. 2018), (n, h, w) in [0, 1]."""
    return class_activation_map("gradcam_plus_plus", model, images, class_index=class_index,
                                layer=layer)


def hirescam(model, images, *, class_index=None, layer=None):
    """HiResCAM (Draelos & Carin 2020), (n, h, w) in [0, 1]."""
    return class_activation_map("hirescam", model, images, class_index=class_index, layer=layer)


def layercam(model, images, *, class_index=None, layer=None):
    """Layer-CAM (Jiang et al. 2021), (n, h, w) in [0, 1]."""
    return class_activation_map("layercam", model, images, class_index=class_index, layer=layer)


def scorecam(model, images, *, class_index=None, layer=None, top_k: int | None = None,
             baseline: float | str = "mean"):
    """Score-CAM (Wang et al. 2020), (n, h, w) in [0, 1]; options as in
    :func:`scorecam_weights`."""
    return class_activation_map("scorecam", model, images, class_index=class_index,
                                layer=layer, top_k=top_k, baseline=baseline)


# --------------------------------------------------------------------------- input maps


def _over_variants(model, images, class_index, variants, reduce, *, gradients: bool = True):
    """The batching the input methods share. Each image's class is fixed first; then
    ``variants(image)`` (noisy copies, path points, occluded copies) runs as ONE batch
    explained for that class, and ``reduce(image, out)`` turns the batch's input
    gradients (or, with ``gradients=False``, its class logits) into the image's result.
    """
    x = as_batch(images, model)
    classes = resolve_classes(model, x, class_index)
    probe = gradient_probe(model, INPUT)
    results = []
    for image, c in zip(x, classes):
        batch = variants(image)
        if gradients:
            out = probe.run(batch, np.full(len(batch), c, np.int32))[2]
        else:
            out = probe.logits(batch)[:, c]
        results.append(reduce(image, out))
    return np.stack(results)


def saliency(model, images, *, class_index=None, layer=None):
    """Saliency (Simonyan et al. 2014): |d logit / d pixel|, max over colour channels.
    ``layer`` is ignored (input maps are at the input's resolution)."""
    _, _, grads, _ = activations_and_gradients(model, images, class_index=class_index,
                                               layer=INPUT)
    return normalize(np.abs(grads).max(axis=-1))


def smoothgrad(model, images, *, class_index=None, layer=None, samples: int = 16,
               noise: float = 0.15, seed: int = 0):
    """SmoothGrad (Smilkov et al. 2017): the saliency map averaged over ``samples``
    noisy copies (std = ``noise`` x the image's value range), all run as one batch."""
    rng = np.random.default_rng(seed)

    def noisy(image):
        sigma = noise * float(image.max() - image.min() or 1.0)
        return image[None] + rng.normal(0, sigma, (samples, *image.shape)).astype(np.float32)

    return normalize(_over_variants(model, images, class_index, noisy,
                                    lambda _, grads: np.abs(grads).max(axis=-1).mean(axis=0)))


def integrated_gradients_attributions(model, images, *, class_index=None, steps: int = 32,
                                      baseline: float | str = "mean"):
    """Raw Integrated Gradients (Sundararajan et al. 2017), (n, H, W, 3), signed.

    Gradients along the straight path from ``baseline`` (in the model's
    preprocessed input space: "mean" = the image's mean colour, or a number) to
    the image, midpoint rule, all steps as one batch.
    Their sum approximates logit(image) - logit(baseline) (completeness).
    """
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)[:, None, None, None]

    def path(image):
        fill = _fill(image, baseline)
        return fill + alphas * (image[None] - fill)

    def attribute(image, grads):
        return (image - _fill(image, baseline)) * grads.mean(axis=0)

    return _over_variants(model, images, class_index, path, attribute).astype(np.float32)


def integrated_gradients(model, images, *, class_index=None, layer=None, steps: int = 32,
                         baseline: float | str = "mean"):
    """Integrated Gradients as a map: the attributions summed over colour channels, then
    ReLU (evidence *for* the class, as in Grad-CAM)."""
    ig = integrated_gradients_attributions(model, images, class_index=class_index,
                                           steps=steps, baseline=baseline)
    return normalize(ig.sum(axis=-1))


def occlusion(model, images, *, class_index=None, layer=None, patch: int | None = None,
              stride: int | None = None, baseline: float | str = "mean"):
    """Occlusion (Zeiler & Fergus 2014): cover a square patch, measure how much the class
    logit drops; every patch position of one image runs as one batch.

    ``baseline`` fills the patch in the model's *preprocessed* input space: "mean"
    (the image's mean colour, neutral for any preprocessing) or a number.
    """
    x = as_batch(images, model)
    height, width = x.shape[1:3]
    patch = int(patch or max(2, min(height, width) // 8))
    stride = int(stride or max(1, patch // 2))
    ys = sorted(set(list(range(0, max(1, height - patch + 1), stride)) + [max(0, height - patch)]))
    xs = sorted(set(list(range(0, max(1, width - patch + 1), stride)) + [max(0, width - patch)]))
    corners = [(y0, x0) for y0 in ys for x0 in xs]

    def occluded(image):  # the image itself first, then one copy per patch position
        batch = np.repeat(image[None], len(corners) + 1, axis=0)
        fill = _fill(image, baseline)
        for j, (y0, x0) in enumerate(corners, start=1):
            batch[j, y0:y0 + patch, x0:x0 + patch] = fill
        return batch

    def drop_map(_, scores):
        total = np.zeros((height, width), np.float32)
        count = np.zeros((height, width), np.float32)
        for (y0, x0), drop in zip(corners, scores[0] - scores[1:], strict=True):
            total[y0:y0 + patch, x0:x0 + patch] += drop
            count[y0:y0 + patch, x0:x0 + patch] += 1
        return total / np.maximum(count, 1)

    return normalize(_over_variants(model, x, class_index, occluded, drop_map,
                                    gradients=False))


INPUT_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "occlusion")
METHODS = {
    "gradcam": gradcam,
    "gradcam_plus_plus": gradcam_plus_plus,
    "hirescam": hirescam,
    "layercam": layercam,
    "scorecam": scorecam,
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "occlusion": occlusion,
}


def attribution(method: str, model, images, *, class_index=None, layer=None, **options):
    """Run the method called ``method`` (a key of ``METHODS``)."""
    if method not in METHODS:
        raise ModelError(f"Unknown method {method!r}; choose from {', '.join(METHODS)}.")
    return METHODS[method](model, images, class_index=class_index, layer=layer, **options)
