"""Where does the model look? Grad-CAM and other attribution maps.

Everything here stands on one primitive, :func:`activations_and_gradients`:
run the images through the model, keep the activations ``A`` of a target layer
(or of the input itself) and the gradients ``dS_c/dA`` of the class score
``S_c``. The score is always the *logit* (before softmax): a softmax
probability saturates near 1 and its gradient vanishes. Each method is then a
few lines of numpy on top:

* Grad-CAM: weight channel ``k`` by its mean gradient (signed), sum the
  weighted channels, then ReLU (keep only what speaks *for* the class).
* Grad-CAM++, HiResCAM, Layer-CAM: other ways to weight the same ``A`` and ``dS/dA``.
* Score-CAM: no gradients: mask the input with each channel and measure the score.
* saliency, SmoothGrad, Integrated Gradients: gradients with respect to the input.
* occlusion: grey out patches and measure how much the score drops.

The probe (a sub-model from input to target layer plus a compiled
``tf.function``) is built once per (model, layer) and kept in a small cache.
Class indices travel into the ``tf.function`` as a tensor, so a new image or a
new class never re-traces it. TensorFlow and Keras are imported lazily.

All maps are float32 in [0, 1]: ReLU, then divided by ``max + eps`` per image
(an all-negative map becomes all zeros, never NaN). Every image's map depends
only on that image (the model runs in inference mode).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnviz.errors import ModelError

#: Pseudo layer name: take gradients with respect to the model's input.
INPUT = "<input>"

#: added to each map's max before dividing: keeps an all-zero map at zero (no NaN)
#: without flattening a map whose values are genuinely tiny (an untrained deep
#: network's activations can be ~1e-11; a 1e-8 epsilon would blank its map).
EPS = 1e-30
_CHUNK = 32  # images per forward/backward pass: bounds memory on big models
_MAX_PROBES = 16
_PROBES: OrderedDict[tuple[int, str], tuple[Any, Probe]] = OrderedDict()
_LOCK = threading.Lock()

CAM_METHODS = ("gradcam", "gradcam_plus_plus", "hirescam", "layercam", "scorecam")
INPUT_METHODS = ("saliency", "smoothgrad", "integrated_gradients", "occlusion")
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


# --------------------------------------------------------------------------- layers


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _output_rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer never called / called several times
        return None


def _check_model(model) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise ModelError("Expected a Keras model.")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ModelError("The model has no defined input: build it with keras.Input(...) first.")
    if len(inputs) != 1 or len(model.outputs) != 1:
        raise ModelError("Attribution maps need a model with one image input and one output.")


def conv_layers(model) -> list[str]:
    """Names of the layers whose output is a 4-D feature map, input side first.

    Layers of a base model nested inside ``model`` are listed by their own names.
    """
    import keras

    _check_model(model)
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if _is_model(layer):
            names.extend(conv_layers(layer))
        elif _output_rank(layer) == 4:
            names.append(layer.name)
    return names


def default_layer(model) -> str:
    """The last layer with a 4-D output: the deepest map that still has a 'where'."""
    names = conv_layers(model)
    if not names:
        raise ModelError("This model has no convolutional layer (no layer with a 4-D output).")
    return names[-1]


def _find(model, name: str):
    """Return (nested base or None, layer) for a layer name of ``model``."""
    for layer in model.layers:
        if layer.name == name and not _is_model(layer):
            return None, layer
    for layer in model.layers:
        if _is_model(layer):
            try:
                return layer, layer.get_layer(name)
            except ValueError:
                continue
    raise ModelError(f"The model has no layer named {name!r}; choose one of "
                     f"{', '.join(conv_layers(model)) or 'its layers'}.")


# --------------------------------------------------------------------------- logits


def _is_softmax(fn) -> bool:
    import keras

    return fn is keras.activations.softmax or getattr(fn, "__name__", "") == "softmax"


def _logit_head(model):
    """(tensor, head): the graph tensor to read and how to turn it into logits.

    cnnviz models already output logits. A model whose last layer applies softmax
    is read *before* it: the input of a final ``Activation('softmax')``, or the
    input of a softmax ``Dense`` layer whose affine part we apply ourselves.
    """
    import keras

    last = model.layers[-1]
    if isinstance(last, keras.layers.Activation) and _is_softmax(last.activation):
        return last.input, None
    if isinstance(last, keras.layers.Dense) and _is_softmax(last.activation):
        def dense_logits(features, layer=last):
            z = keras.ops.matmul(features, layer.kernel)
            return z + layer.bias if layer.use_bias else z

        return last.input, dense_logits
    if _is_softmax(getattr(last, "activation", None)):
        raise ModelError("The model ends in a softmax that cannot be removed here; "
                         "build it with a linear last layer (logits).")
    return model.outputs[0], None


def _after_nested(model, base, features):
    """Sub-models around a nested base: (before: input -> base input,
    after: base output -> features). Tries each place the base is called."""
    import keras

    for node in base._inbound_nodes:
        try:
            after = keras.Model(node.output_tensors[0], features)
            before = keras.Model(model.inputs[0], node.input_tensors[0])
        except ValueError:
            continue
        return before, after
    raise ModelError(f"Could not split the model at its nested base {base.name!r}.")


def _sub_model(model, layer, features):
    """keras.Model(input -> [layer output, features]), using the place where ``layer``
    is called in *this* model's graph (a layer shared with another model has several)."""
    import keras

    for node in reversed(layer._inbound_nodes):
        try:
            return keras.Model(model.inputs[0], [node.output_tensors[0], features])
        except ValueError:
            continue
    raise ModelError(f"Layer {layer.name!r} is not connected to the model's input.")


# --------------------------------------------------------------------------- probe


class Probe:
    """A compiled probe of one (model, layer): logits, activations and gradients.

    ``run(images, classes)`` -> (logits, activations, gradients, classes), numpy.
    ``classes`` is an int32 array; -1 means "this image's top class".
    """

    def __init__(self, model, layer_name: str):
        import keras
        import tensorflow as tf

        _check_model(model)
        self.layer_name = layer_name
        features, head = _logit_head(model)
        self.num_classes = int(model.outputs[0].shape[-1])

        if layer_name == INPUT:
            body = keras.Model(model.inputs[0], features)

            def forward(x):
                return x, body(x, training=False)
        else:
            base, layer = _find(model, layer_name)
            if base is None:
                body = _sub_model(model, layer, features)

                def forward(x):
                    acts, feats = body(x, training=False)
                    return acts, feats
            else:  # split at the nested base: run it to the layer, then the rest
                before, after = _after_nested(model, base, features)
                inner = keras.Model(base.inputs[0], [layer.output, base.outputs[0]])

                def forward(x):
                    acts, base_out = inner(before(x, training=False), training=False)
                    return acts, after(base_out, training=False)
        self._rank = 4

        def logits_of(x):
            acts, feats = forward(x)
            return acts, (feats if head is None else head(feats))

        shape = [None, *model.inputs[0].shape[1:]]
        spec = tf.TensorSpec(shape, tf.float32)

        @tf.function(input_signature=[spec, tf.TensorSpec([None], tf.int32)])
        def act_grad(x, classes):
            with tf.GradientTape() as tape:
                tape.watch(x)
                acts, logits = logits_of(x)
                top = tf.argmax(logits, axis=-1, output_type=tf.int32)
                classes = tf.where(classes < 0, top, classes)
                # each image's own class score; images do not interact, so the
                # gradient of the sum is each image's gradient
                scores = tf.gather(logits, classes, axis=1, batch_dims=1)
            grads = tape.gradient(scores, acts)
            return logits, acts, grads, classes

        @tf.function(input_signature=[spec])
        def logits_only(x):
            return logits_of(x)[1]

        self.act_grad = act_grad
        self.logits_fn = logits_only

    def run(self, images: np.ndarray, classes: np.ndarray):
        import tensorflow as tf

        outs = [[], [], [], []]
        for start in range(0, len(images), _CHUNK):
            x = tf.convert_to_tensor(images[start:start + _CHUNK], tf.float32)
            c = tf.convert_to_tensor(classes[start:start + _CHUNK], tf.int32)
            for out, value in zip(outs, self.act_grad(x, c), strict=True):
                out.append(value.numpy())
        return tuple(np.concatenate(o) for o in outs)

    def logits(self, images: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return np.concatenate([
            self.logits_fn(tf.convert_to_tensor(images[s:s + _CHUNK], tf.float32)).numpy()
            for s in range(0, len(images), _CHUNK)
        ]) if len(images) else np.zeros((0, self.num_classes), np.float32)


def get_probe(model, layer: str | None = None) -> Probe:
    """The cached probe for (model, layer); built on first use. ``layer=INPUT``
    probes the input itself."""
    name = default_layer(model) if layer is None else layer
    key = (id(model), name)
    with _LOCK:
        hit = _PROBES.get(key)
        if hit is not None and hit[0]() is model:
            _PROBES.move_to_end(key)
            return hit[1]
    probe = Probe(model, name)
    with _LOCK:
        _PROBES[key] = (weakref.ref(model), probe)
        _PROBES.move_to_end(key)
        while len(_PROBES) > _MAX_PROBES:
            _PROBES.popitem(last=False)
    return probe


def forget(model) -> None:
    """Drop the cached probes of ``model`` (e.g. a temporary clone)."""
    with _LOCK:
        for key in [k for k in _PROBES if k[0] == id(model)]:
            del _PROBES[key]


# --------------------------------------------------------------------------- inputs


def _as_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or len(x) == 0:
        raise ModelError(f"Expected a batch of images (n, height, width, 3 or 1); got shape "
                         f"{x.shape}.")
    if not np.isfinite(x).all():
        raise ModelError("The images contain NaN or infinite values.")
    return x


def _classes(class_index, n: int, num_classes: int) -> np.ndarray:
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


def activations_and_gradients(model, images, *, class_index=None, layer=None):
    """The shared primitive: (logits, activations, gradients, classes) for a layer.

    ``gradients`` are d logit[class] / d activations, same shape as the activations.
    ``layer=INPUT`` gives gradients with respect to the (preprocessed) input.
    """
    x = _as_batch(images)
    probe = get_probe(model, layer)
    return probe.run(x, _classes(class_index, len(x), probe.num_classes))


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


# --------------------------------------------------------------------------- Grad-CAM


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
    """Grad-CAM with all its intermediate results.

    ``pooling='mean'`` is Grad-CAM: a channel's weight is its average gradient,
    i.e. how much the class score changes if the whole channel grows.
    ``pooling='max'`` takes the largest gradient instead, to show why the mean is
    used: one extreme pixel then decides a whole channel's weight.
    """
    if pooling not in ("mean", "max"):
        raise ModelError("pooling must be 'mean' or 'max'.")
    name = default_layer(model) if layer is None else layer
    logits, acts, grads, classes = activations_and_gradients(
        model, images, class_index=class_index, layer=name)
    if acts.ndim != 4:
        raise ModelError(f"Layer {name!r} has no spatial feature map (its output is not 4-D).")
    weights = grads.mean(axis=(1, 2)) if pooling == "mean" else grads.max(axis=(1, 2))
    weighted = np.einsum("nhwc,nc->nhw", acts, weights)
    relu = np.maximum(weighted, 0.0)
    return GradCamSteps(name, classes, logits, acts, grads, weights, weighted, relu,
                        normalize(relu))


def gradcam(model, images, *, class_index=None, layer=None, pooling: str = "mean"):
    """Grad-CAM (Selvaraju et al. 2017): ReLU(sum_k mean(dS/dA_k) * A_k), (n, h, w) in [0, 1]."""
    return gradcam_steps(model, images, class_index=class_index, layer=layer,
                         pooling=pooling).cam


def _layer_terms(model, images, class_index, layer):
    name = default_layer(model) if layer is None else layer
    _, acts, grads, _ = activations_and_gradients(model, images, class_index=class_index,
                                                  layer=name)
    if acts.ndim != 4:
        raise ModelError(f"Layer {name!r} has no spatial feature map (its output is not 4-D).")
    return acts, grads


def gradcam_plus_plus(model, images, *, class_index=None, layer=None):
    """Grad-CAM++ (Chattopadhay et al. 2018): per-pixel weights alpha on the positive
    gradients, so several objects of the class all show up."""
    acts, grads = _layer_terms(model, images, class_index, layer)
    g2, g3 = grads**2, grads**3
    denom = 2 * g2 + acts.sum(axis=(1, 2), keepdims=True) * g3
    alpha = g2 / np.where(denom != 0, denom, 1.0)
    weights = (alpha * np.maximum(grads, 0)).sum(axis=(1, 2))
    return normalize(np.einsum("nhwc,nc->nhw", acts, weights))


def hirescam(model, images, *, class_index=None, layer=None):
    """HiResCAM (Draelos & Carin 2020): multiply gradients and activations element-wise
    before summing channels; faithful to the model when it ends in global pooling."""
    acts, grads = _layer_terms(model, images, class_index, layer)
    return normalize((acts * grads).sum(axis=-1))


def layercam(model, images, *, class_index=None, layer=None):
    """Layer-CAM (Jiang et al. 2021): each location weighted by its own positive
    gradient; works at shallow layers too."""
    acts, grads = _layer_terms(model, images, class_index, layer)
    return normalize((acts * np.maximum(grads, 0)).sum(axis=-1))


def scorecam(model, images, *, class_index=None, layer=None, top_k: int | None = None,
             baseline: float | str = "mean"):
    """Score-CAM (Wang et al. 2020): no gradients. Each channel, upsampled and scaled to
    [0, 1], masks the input; the class probability of the masked image is that
    channel's weight. ``top_k`` keeps only the channels with the largest mean
    activation (much faster on wide layers). All masked images of one image run
    as batches. ``baseline`` is what masked-out pixels become, in the preprocessed
    input space: "mean" (the image's mean colour) or a number. (The paper multiplies
    the image by the mask, i.e. baseline 0: black for [0, 1] inputs, which on the
    shapes data halves the pointing-game score.)
    """
    x = _as_batch(images)
    name = default_layer(model) if layer is None else layer
    probe = get_probe(model, name)
    logits, acts, _, classes = probe.run(x, _classes(class_index, len(x), probe.num_classes))
    if acts.ndim != 4:
        raise ModelError(f"Layer {name!r} has no spatial feature map (its output is not 4-D).")
    height, width = x.shape[1:3]
    maps = []
    for i in range(len(x)):
        a = acts[i]
        channels = np.argsort(-a.mean(axis=(0, 1)))
        if top_k is not None:
            channels = channels[: max(1, int(top_k))]
        ups = upsample(np.moveaxis(a[..., channels], -1, 0), (height, width))
        lo = ups.reshape(len(ups), -1).min(axis=1)[:, None, None]
        hi = ups.reshape(len(ups), -1).max(axis=1)[:, None, None]
        masks = (ups - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
        fill = _fill(x[i], baseline)
        masked = fill + (x[i][None] - fill) * masks[..., None]
        z = probe.logits(masked)
        z = z - z.max(axis=1, keepdims=True)
        prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        weights = prob[:, classes[i]]
        maps.append(np.einsum("hwk,k->hw", a[..., channels], weights))
    return normalize(np.stack(maps))


# --------------------------------------------------------------------------- input maps


def _input_grads(model, x, class_index):
    """Gradients of the class logit with respect to the input, plus the classes used."""
    return activations_and_gradients(model, x, class_index=class_index, layer=INPUT)


def _resolve_classes(model, x, class_index) -> np.ndarray:
    probe = get_probe(model, INPUT)
    c = _classes(class_index, len(x), probe.num_classes)
    if (c < 0).any():
        c = np.where(c < 0, probe.logits(x).argmax(axis=1), c).astype(np.int32)
    return c


def saliency(model, images, *, class_index=None, layer=None):
    """Saliency (Simonyan et al. 2014): |d logit / d pixel|, max over colour channels.
    ``layer`` is ignored (input maps are at the input's resolution)."""
    _, _, grads, _ = _input_grads(model, images, class_index)
    return normalize(np.abs(grads).max(axis=-1))


def smoothgrad(model, images, *, class_index=None, layer=None, samples: int = 16,
               noise: float = 0.15, seed: int = 0):
    """SmoothGrad (Smilkov et al. 2017): the saliency map averaged over ``samples``
    noisy copies (std = ``noise`` x the image's value range), all run as one batch."""
    x = _as_batch(images)
    classes = _resolve_classes(model, x, class_index)
    rng = np.random.default_rng(seed)
    maps = []
    for i in range(len(x)):
        sigma = noise * float(x[i].max() - x[i].min() or 1.0)
        noisy = x[i][None] + rng.normal(0, sigma, (samples, *x.shape[1:])).astype(np.float32)
        _, _, grads, _ = _input_grads(model, noisy, np.full(samples, classes[i]))
        maps.append(np.abs(grads).max(axis=-1).mean(axis=0))
    return normalize(np.stack(maps))


def integrated_gradients_attributions(model, images, *, class_index=None, steps: int = 32,
                                      baseline: float | str = "mean"):
    """Raw Integrated Gradients (Sundararajan et al. 2017), (n, H, W, 3), signed.

    Gradients along the straight path from ``baseline`` (in the model's
    preprocessed input space: "mean" = the image's mean colour, or a number) to
    the image, midpoint rule, all steps as one batch.
    Their sum approximates logit(image) - logit(baseline) (completeness).
    """
    x = _as_batch(images)
    classes = _resolve_classes(model, x, class_index)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)[:, None, None, None]
    out = []
    for i in range(len(x)):
        fill = _fill(x[i], baseline)
        path = fill + alphas * (x[i][None] - fill)
        _, _, grads, _ = _input_grads(model, path, np.full(steps, classes[i]))
        out.append((x[i] - fill) * grads.mean(axis=0))
    return np.stack(out).astype(np.float32)


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
    x = _as_batch(images)
    probe = get_probe(model, INPUT)
    classes = _resolve_classes(model, x, class_index)
    height, width = x.shape[1:3]
    patch = int(patch or max(2, min(height, width) // 8))
    stride = int(stride or max(1, patch // 2))
    ys = sorted(set(list(range(0, max(1, height - patch + 1), stride)) + [max(0, height - patch)]))
    xs = sorted(set(list(range(0, max(1, width - patch + 1), stride)) + [max(0, width - patch)]))
    maps = []
    for i in range(len(x)):
        fill = _fill(x[i], baseline)
        batch = np.repeat(x[i][None], len(ys) * len(xs), axis=0)
        for j, (y0, x0) in enumerate((y0, x0) for y0 in ys for x0 in xs):
            batch[j, y0:y0 + patch, x0:x0 + patch] = fill
        reference = probe.logits(x[i][None])[0, classes[i]]
        drops = reference - probe.logits(batch)[:, classes[i]]
        total = np.zeros((height, width), np.float32)
        count = np.zeros((height, width), np.float32)
        for j, (y0, x0) in enumerate((y0, x0) for y0 in ys for x0 in xs):
            total[y0:y0 + patch, x0:x0 + patch] += drops[j]
            count[y0:y0 + patch, x0:x0 + patch] += 1
        maps.append(total / np.maximum(count, 1))
    return normalize(np.stack(maps))


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


def predict_logits(model, images) -> np.ndarray:
    """Logits for a batch, through the cached compiled probe (no retracing)."""
    return get_probe(model, INPUT).logits(_as_batch(images))


def probabilities(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return (z / z.sum(axis=-1, keepdims=True)).astype(np.float32)
