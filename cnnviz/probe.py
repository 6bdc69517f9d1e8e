"""Look inside a Keras model: its layers, sub-models over them, and gradients.

This module is where cnnviz looks inside a model: listing its layers, following
its graph, building sub-models and taking gradients. Every page that probes a
model (activations, filters, Grad-CAM, receptive fields, pooling, the
architecture demos, transfer learning) goes through it. It has three parts:

* **Listing.** :func:`feature_layers` lists the layers that produce 2-D feature
  maps (convolutions, pooling, activations) in the order the data flows, with
  their output shapes; :func:`spatial_layers` every layer with a 4-D output;
  :func:`find_layer` one layer by name; :func:`layer_calls` the graph itself.
* **Sub-models.** :func:`feature_model` builds ONE multi-output functional
  ``keras.Model`` from the model's input to any set of layers, so a single
  forward pass gives all of them (:func:`activations_and_logits` adds the logits).
* **Gradients.** :func:`gradient_probe` compiles, once per (model, layer), a
  ``tf.function`` giving the logits, the layer's activations and the gradient
  of each image's class logit with respect to them. The class travels in as a
  tensor, so new images and classes never re-trace it. A final softmax or
  sigmoid is removed here (:func:`logit_head`; :func:`logits_model` for a model
  that must output logits itself), the only place that does it: a probability
  saturates and its gradient vanishes. The activations must lie on
  the path that computes the logits, so a model is split at a nested base that
  holds the layer (:func:`_through`).

All of it works for

- flat functional models (``keras.Model(model.inputs, [layer.output, ...])``),
- ``Sequential`` models (``.inputs`` / ``.outputs``; ``Sequential.input`` raises
  "never been called" in Keras 3),
- models with a base model nested inside (``inputs -> base -> head``) and models
  whose LAST layer is a nested model, possibly after preprocessing layers
  (``Sequential([Rescaling(1 / 255), MobileNetV2(...)])``, as students write).
  ``keras.Model(outer.inputs, inner_layer.output)`` fails ("not connected"), so
  the nested model's own sub-model is built and *called on the tensor that
  feeds it in the outer graph*; the result is connected to the outer inputs.

Sub-models share the original layers and weights: they are views, never copies,
and building one never changes the model. They are kept in a bounded cache per
model object (:class:`cnnviz.cache.ModelCache`: weak keys, so a model that is
garbage-collected drops its entries).

Keras is imported inside the functions; importing this module is cheap.

    >>> from cnnviz import probe
    >>> [(info.name, info.shape) for info in probe.feature_layers(model)][:2]
    [('block1_conv1', (64, 64, 16)), ('block1_conv2', (64, 64, 16))]
    >>> sub = probe.feature_model(model, ["block1_conv1", "block3_conv2"])
    >>> a1, a3 = sub(images)          # one forward pass, a list of two tensors
    >>> logits, acts, grads, classes = probe.gradient_probe(model, "block3_conv2").run(
    ...     images, np.full(len(images), -1, np.int32))     # -1: each image's top class
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnviz.cache import ModelCache
from cnnviz.errors import ImageError, ModelError

#: Layer class names by the kind of feature map they produce.
CONV_CLASSES = frozenset({
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose",
})
POOL_CLASSES = frozenset({"MaxPooling2D", "AveragePooling2D"})
ACTIVATION_CLASSES = frozenset({"ReLU", "Activation", "LeakyReLU", "ELU", "PReLU"})
KINDS = ("conv", "pool", "activation")

#: Pseudo layer names: the model's input itself (gradients with respect to the
#: pixels), and the tensor the logits are read from (before a final softmax).
INPUT = "<input>"
LOGITS = "<logits>"
_OUTPUT = "<output>"  # the model's own output, for splitting a model at a nested base

_CHUNK = 32  # images per compiled forward/backward pass: bounds memory on big models
_SUB_MODELS = ModelCache(max_per_model=16)
_GRADIENT_PROBES = ModelCache(max_per_model=16)


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class LayerInfo:
    """One layer that outputs feature maps."""

    name: str
    kind: str  # "conv" | "pool" | "activation"
    class_name: str  # e.g. "Conv2D"
    shape: tuple[int | None, int | None, int]  # (height, width, channels), no batch
    depth: int  # 0, 1, 2, ... in data-flow order among the listed layers
    parent: str | None = None  # the nested base model holding it, or None
    activation: str | None = None  # a conv layer's own activation ("relu", "linear")

    @property
    def channels(self) -> int:
        return self.shape[-1]

    @property
    def label(self) -> str:
        """``block1_conv1 · 64×64×16`` for a select box."""
        h, w, c = (("?" if v is None else v) for v in self.shape)
        return f"{self.name} · {h}×{w}×{c}"


def _kind(layer) -> str | None:
    name = type(layer).__name__
    if name in CONV_CLASSES:
        return "conv"
    if name in POOL_CLASSES:
        return "pool"
    if name in ACTIVATION_CLASSES:
        return "activation"
    return None


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _inputs(model) -> list:
    """The symbolic inputs; ``Sequential.input`` fails in Keras 3, ``.inputs`` works."""
    if not _is_model(model):
        raise ModelError(f"Expected a Keras model, got {type(model).__name__}.")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError) as error:
        raise ModelError(
            f"Model {model.name!r} has not been built yet: call it on a batch once, or "
            "give its first layer an input shape."
        ) from error
    if not inputs:
        raise ModelError(f"Model {model.name!r} has no inputs yet: build it first.")
    return list(inputs)


def _output_shape(layer) -> tuple | None:
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):  # never called, or called several times
        return None
    return shape


def _walk(model, parent: str | None = None):
    """(layer, parent name) for each leaf layer, input side first; a nested model's
    layers come where it sits; input layers are left out."""
    import keras

    for layer in model.layers:
        if _is_model(layer):
            yield from _walk(layer, layer.name)
        elif not isinstance(layer, keras.layers.InputLayer):
            yield layer, parent


def leaf_layers(model) -> list:
    """Every layer of ``model`` that is not itself a model, input side first, with the
    layers of nested models in place of them (input layers left out)."""
    return [layer for layer, _ in _walk(model)]


def feature_layers(model, kinds=KINDS) -> list[LayerInfo]:
    """The layers of ``model`` with 4-D outputs (feature maps), in data-flow order.

    ``kinds`` filters by "conv", "pool", "activation". Layers of nested models
    are listed where the nested model sits, with ``parent`` set to its name.
    Layer names are unique across the list (Keras makes them unique per model;
    a clash between a nested and an outer layer keeps the first one).
    """
    _inputs(model)  # a clear error for unbuilt models
    infos: list[LayerInfo] = []
    seen: set[str] = set()
    for layer, parent in _walk(model):
        kind = _kind(layer)
        if kind is None or kind not in kinds or layer.name in seen:
            continue
        shape = _output_shape(layer)
        if shape is None or len(shape) != 4:
            continue
        seen.add(layer.name)
        act = getattr(layer, "activation", None)
        act = getattr(act, "__name__", None) if act is not None else None
        infos.append(LayerInfo(layer.name, kind, type(layer).__name__,
                               (shape[1], shape[2], int(shape[3])), len(infos), parent, act))
    return infos


def spatial_layers(model) -> list[str]:
    """Names of every layer with a 4-D output (a map that still has a "where"), input
    side first, nested models included. Wider than :func:`feature_layers`: any kind
    of layer counts (Rescaling, BatchNormalization, Add, ...)."""
    _inputs(model)
    return [layer.name for layer, _ in _walk(model)
            if (shape := _output_shape(layer)) is not None and len(shape) == 4]


def last_spatial_layer(model) -> str:
    """The deepest layer with a 4-D output: Grad-CAM's default layer, and where a new
    classifier head goes in transfer learning."""
    names = spatial_layers(model)
    if not names:
        raise ModelError("This model has no convolutional layer: no layer outputs a "
                         "feature map (height, width, channels).")
    return names[-1]


def default_kinds(infos: list[LayerInfo]) -> tuple[str, ...]:
    """The kinds whose outputs are feature maps *after* the non-linearity.

    In VGG-style models (the built-in one) a Conv2D applies its own ReLU; in
    MobileNet/ResNet the convolution is linear and a separate ReLU layer follows
    (after BatchNorm). Their conv outputs are then signed pre-activations, so the
    activation layers are the ones to look at.
    """
    if any(i.kind == "conv" and i.activation not in (None, "linear") for i in infos):
        return ("conv", "pool")
    if any(i.kind == "activation" for i in infos):
        return ("activation", "pool")
    return ("conv", "pool")


def find_layer(model, name: str):
    """``(layer, path)``: the layer called ``name`` and the nested models leading to it.

    ``path`` is ``[]`` for a layer of the model itself, ``[base]`` for a layer
    inside a nested ``base``, and so on. Raises ModelError naming a few layers
    that do exist when ``name`` is not found.
    """
    def search(container):
        for layer in container.layers:
            if layer.name == name:
                return layer, []
        for layer in container.layers:
            if _is_model(layer):
                found = search(layer)
                if found is not None:
                    return found[0], [layer, *found[1]]
        return None

    found = search(model)
    if found is None:
        names = [info.name for info in feature_layers(model)][:6]
        hint = f" Layers with feature maps include: {', '.join(names)}." if names else ""
        raise ModelError(f"Model {model.name!r} has no layer named {name!r}.{hint}")
    return found


def input_shape(model) -> tuple[int | None, int | None, int]:
    """(height, width, channels) of the model's (first) input; None for a free size."""
    shape = tuple(_inputs(model)[0].shape)
    if len(shape) != 4:
        raise ModelError(f"Model {model.name!r} does not take images (input shape {shape}).")
    return shape[1], shape[2], int(shape[3])


def as_batch(images, model=None) -> np.ndarray:
    """Images already preprocessed for a model, as a float32 batch (n, H, W, C); one
    image (H, W, C) becomes a batch of one. Every function that feeds images to a
    model checks them here.

    Raises ImageError when ``images`` is not a non-empty batch of finite float
    images (uint8 pixels go through ``cnnviz.models.preprocess`` first), and
    ModelError when ``model`` is given and takes another size or channel count.
    """
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or 0 in x.shape:
        raise ImageError("Expected images shaped (n, height, width, channels) or one image "
                         f"(height, width, channels); got shape {np.shape(images)}.")
    if not np.issubdtype(x.dtype, np.floating):
        raise ImageError(f"Expected float images already preprocessed for the model; got "
                         f"{x.dtype} (use cnnviz.models.preprocess or prepare first).")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ImageError("The images contain NaN or infinite values.")
    if model is not None:
        expected = input_shape(model)
        if any(e is not None and e != g for e, g in zip(expected, x.shape[1:])):
            def text(shape):
                return "x".join("any" if v is None else str(v) for v in shape)
            raise ModelError(f"Model {model.name!r} takes {text(expected)} images; these are "
                             f"{text(x.shape[1:])} (use cnnviz.models.prepare to fit them).")
    return x


# --------------------------------------------------------------------------- graph


def _nodes(model) -> list:
    """The layer calls (Keras nodes) of ``model``'s own graph, input side first.

    Keras keeps no public accessor for them; a ``Sequential`` model keeps its
    graph in a functional model inside.
    """
    graph = getattr(model, "_functional", None) or model
    by_depth = getattr(graph, "_nodes_by_depth", None)
    if not isinstance(by_depth, dict):
        raise ModelError(f"Model {model.name!r} has no graph of layer calls to follow: "
                         "build it from keras.Input(...).")
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def _own_call(model, layer):
    """The call (node) of ``layer`` in ``model``'s graph. A layer or base model used by
    several models has one call in each; only this one is connected to ``model``'s input."""
    for node in _nodes(model):
        if node.operation is layer:
            return node
    raise ModelError(f"Layer {layer.name!r} is not called in model {model.name!r}, so it "
                     "cannot be reached from the model's input.")


def _single(tensors, layer):
    if len(tensors) != 1:
        raise ModelError(f"Layer {layer.name!r} takes or gives several tensors; only "
                         "layers with one input and one output can be probed this way.")
    return tensors[0]


def layer_calls(model) -> list[tuple[Any, list, list]]:
    """``(layer, input tensors, output tensors)`` for every call of a leaf layer in
    ``model``'s graph, input side first.

    A nested model is expanded in place: its calls come where it sits, and the
    tensors at its border are the outer graph's (an inner first layer's input is
    the outer tensor fed to the nested model), so the calls chain across it.
    """
    import keras

    _inputs(model)
    calls: list[tuple[Any, list, list]] = []

    def walk(graph_model, outer: dict):
        for node in _nodes(graph_model):
            layer = node.operation
            ins = [outer.get(id(t), t) for t in node.input_tensors]
            outs = [outer.get(id(t), t) for t in node.output_tensors]
            if _is_model(layer):
                border = {id(t): o for t, o in zip(layer.inputs, ins)}
                border.update({id(t): o for t, o in zip(layer.outputs, outs)})
                walk(layer, border)
            elif not isinstance(layer, keras.layers.InputLayer):
                calls.append((layer, ins, outs))

    walk(model, {})
    return calls


# --------------------------------------------------------------------------- sub-models


def _is_squashing(fn) -> bool:
    """A softmax or a sigmoid: an activation that turns logits into probabilities."""
    import keras

    return (fn is keras.activations.softmax or fn is keras.activations.sigmoid
            or getattr(fn, "__name__", "") in ("softmax", "sigmoid"))


def _final_layer(model):
    """The layer that makes the model's output, inside a nested model that ends it."""
    last = model.layers[-1]
    return _final_layer(last) if _is_model(last) else last


def _squashing_layer(model):
    """The final layer if it applies a softmax or a sigmoid (the logits are its input,
    for a Dense its affine part), else None."""
    import keras

    last = _final_layer(model)
    if isinstance(last, keras.layers.Softmax):
        return last
    if isinstance(last, (keras.layers.Activation, keras.layers.Dense)) and _is_squashing(
            last.activation):
        return last
    if _is_squashing(getattr(last, "activation", None)):
        raise ModelError("The model ends in a softmax or sigmoid that cannot be removed here; "
                         "build it with a linear last layer (logits).")
    return None


def logit_head(model):
    """How the :data:`LOGITS` tensor becomes the logits: ``None`` when it already is
    them (a model that outputs logits, or ends in a softmax/sigmoid layer, read
    before it), or, for a final ``Dense(..., activation="softmax")`` (or sigmoid),
    its affine part, which we apply ourselves."""
    import keras

    last = _squashing_layer(model)
    if not isinstance(last, keras.layers.Dense):
        return None

    def dense_logits(features, layer=last):
        z = keras.ops.matmul(features, layer.kernel)
        return z + layer.bias if layer.use_bias else z

    return dense_logits


def class_scores(logits):
    """The score of each class, from a model's logits (numpy or tensor, batch first).

    A model with one logit ``z`` is a sigmoid classifier of two classes; its
    scores are ``(-z/2, z/2)``: their softmax is ``(1 - sigmoid(z), sigmoid(z))``,
    and the evidence for class 0 is the evidence against class 1. Any other
    model's scores are its logits.
    """
    if logits.shape[-1] != 1:
        return logits
    return logits * np.array([-0.5, 0.5], np.float32)


def _logits_tensor(model):
    """``model``'s logits as a tensor of its own graph (see :func:`logits_model`)."""
    import keras

    last = model.layers[-1]
    if _is_model(last) and _squashing_layer(last) is not None:  # the softmax is inside it
        feed = _single(_own_call(model, last).input_tensors, last)
        return logits_model(last)(feed)
    squashing = _squashing_layer(model)
    if squashing is None:
        return model.outputs[0]
    features = _single(_own_call(model, squashing).input_tensors, squashing)
    if not isinstance(squashing, keras.layers.Dense):
        return features
    linear = keras.layers.Dense.from_config({**squashing.get_config(), "activation": None})
    logits = linear(features)
    linear.set_weights(squashing.get_weights())
    return logits


def logits_model(model):
    """``model`` as a functional ``keras.Model`` that outputs its logits.

    The same inputs and layers (shared, not copied), without a final softmax or
    sigmoid, wherever it sits: a nested model that ends ``model`` comes back
    without it too, under its own name. A final ``Dense(..., activation="softmax")``
    becomes a linear ``Dense`` of the same name with a copy of its weights. A
    ``Sequential`` model comes back functional; a functional model that already
    outputs logits comes back as it is. For models whose outputs are to be read
    as logits everywhere (an uploaded model); probing any model needs none of it.
    """
    import keras

    inputs = _inputs(model)
    if _squashing_layer(model) is None and not isinstance(model, keras.Sequential):
        return model
    try:
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs, _logits_tensor(model),
                           name=model.name)
    except ValueError as error:
        raise ModelError(f"Could not read the logits of model {model.name!r}: {error}") \
            from error


def symbolic_outputs(model, names) -> list:
    """The tensors of ``model``'s graph that ``names`` stand for, in order: layer
    outputs, or :data:`LOGITS`. A layer inside a nested model is reached by
    calling the nested model's own sub-model on the tensor that feeds it here."""
    _inputs(model)
    outputs: dict[str, Any] = {}
    nested: dict[int, tuple[Any, list[str]]] = {}
    last = model.layers[-1]
    for name in names:
        if name == _OUTPUT:
            outputs[name] = model.outputs[0]
        elif name == LOGITS and _is_model(last):  # the logits live inside the last layer
            nested.setdefault(id(last), (last, []))[1].append(name)
        elif name == LOGITS:
            squashing = _squashing_layer(model)
            outputs[name] = (model.outputs[0] if squashing is None
                             else _single(_own_call(model, squashing).input_tensors, squashing))
        else:
            layer, path = find_layer(model, name)
            if path:
                nested.setdefault(id(path[0]), (path[0], []))[1].append(name)
            else:
                outputs[name] = _single(_own_call(model, layer).output_tensors, layer)
    for base, inner in nested.values():
        feed = _single(_own_call(model, base).input_tensors, base)
        result = feature_model(base, inner)(feed)  # recursive: the base may nest again
        outputs.update(zip(inner, result if isinstance(result, (list, tuple)) else [result]))
    return [outputs[name] for name in names]


def _build(model, names: tuple[str, ...]):
    import keras

    outputs = symbolic_outputs(model, names)
    inputs = _inputs(model)
    try:
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs,
                           name=f"{model.name}_features")
    except ValueError as error:
        raise ModelError(
            f"Could not build a sub-model of {model.name!r} over {list(names)}: {error}"
        ) from error


def feature_model(model, layer_names):
    """One functional ``keras.Model``: model input -> the listed layers' outputs.

    Its outputs follow ``layer_names`` in order (:data:`LOGITS` may be one of them);
    Keras returns a plain tensor instead of a one-element list when there is a
    single name, so callers that want a list use :func:`run`. Cached per model
    object and name tuple (16 per model); safe to call from several threads.
    """
    names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    if not names:
        raise ModelError("Choose at least one layer.")
    return _SUB_MODELS.get(model, names, lambda: _build(model, names))


def run(sub, x) -> list:
    """Call a feature model in inference mode; always a list of tensors."""
    result = sub(x, training=False)
    return list(result) if isinstance(result, (list, tuple)) else [result]


def activations_and_logits(model, images, layer_names) -> tuple[list[np.ndarray], np.ndarray]:
    """The listed layers' activations and the logits (softmax or sigmoid removed; two
    class scores for one sigmoid logit, see :func:`class_scores`), from ONE forward
    pass of preprocessed float ``images`` (n, H, W, C)."""
    names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    *acts, features = run(feature_model(model, (*names, LOGITS)), images)
    head = logit_head(model)
    logits = class_scores(features if head is None else head(features))
    return [np.asarray(a) for a in acts], np.asarray(logits)


# --------------------------------------------------------------------------- gradients


def _through(model, name: str, end: str):
    """``x -> (activations of name, value of end)`` (``end``: LOGITS or _OUTPUT), with
    the activations ON the path that computes ``end``, so gradients flow between them.

    A sub-model with both as outputs does it when the layer is the model's own. A
    layer inside a nested base is reached by a *second* call of the base's sub-model
    (:func:`symbolic_outputs`), which ``end`` does not depend on; so the model is
    split at the base instead: the part before it, the base (recursively), the part
    after it (none when the base ends the model).
    """
    import keras

    if name == INPUT:
        sub = feature_model(model, (end,))
        return lambda x: (x, run(sub, x)[0])
    _, path = find_layer(model, name)
    if not path:
        sub = feature_model(model, (name, end))
        return lambda x: tuple(run(sub, x))
    base = path[0]
    node = _own_call(model, base)
    feed, base_output = _single(node.input_tensors, base), _single(node.output_tensors, base)
    model_input = _inputs(model)[0]
    ends_model = base is model.layers[-1]
    try:
        before = None if feed is model_input else keras.Model(model_input, feed)
        after = None if ends_model else keras.Model(base_output,
                                                    symbolic_outputs(model, [end])[0])
    except ValueError as error:
        raise ModelError(f"Could not split model {model.name!r} at its nested base "
                         f"{base.name!r}: {error}") from error
    inner = _through(base, name, end if ends_model else _OUTPUT)

    def forward(x):
        acts, y = inner(x if before is None else before(x, training=False))
        return acts, y if after is None else after(y, training=False)

    return forward


class GradientProbe:
    """Logits, one layer's activations and their gradients: one compiled pass.

    The logits are the class scores (:func:`class_scores`: two for a model with
    one sigmoid logit), and ``num_classes`` counts them.

    ``run(images, classes)`` -> ``(logits, activations, gradients, classes)`` as
    numpy; ``classes`` is int32, one per image, -1 meaning "this image's top
    class". ``layer`` may be :data:`INPUT` (gradients with respect to the pixels).
    ``logits(images)`` is the forward pass alone. Images go through in chunks of
    ``_CHUNK``; the model runs in inference mode, so images never interact.
    """

    def __init__(self, model, layer: str):
        import tensorflow as tf

        inputs = _inputs(model)
        if len(inputs) != 1 or len(model.outputs) != 1:
            raise ModelError("Attribution maps need a model with one image input and one "
                             "output.")
        self.layer = layer
        self.num_classes = max(2, int(model.outputs[0].shape[-1]))  # see class_scores
        to_logits = _through(model, layer, LOGITS)
        head = logit_head(model)

        def forward(x):
            acts, features = to_logits(x)
            return acts, class_scores(features if head is None else head(features))

        spec = tf.TensorSpec([None, *inputs[0].shape[1:]], tf.float32)

        @tf.function(input_signature=[spec, tf.TensorSpec([None], tf.int32)])
        def act_grad(x, classes):
            """Where every gradient-based map starts: d logit[class] / d activations."""
            with tf.GradientTape() as tape:
                tape.watch(x)
                acts, logits = forward(x)
                top = tf.argmax(logits, axis=-1, output_type=tf.int32)
                classes = tf.where(classes < 0, top, classes)
                # each image's own class score; images do not interact, so the
                # gradient of the sum is each image's gradient
                scores = tf.gather(logits, classes, axis=1, batch_dims=1)
            return logits, acts, tape.gradient(scores, acts), classes

        @tf.function(input_signature=[spec])
        def logits_only(x):
            return forward(x)[1]

        self.act_grad = act_grad
        self.logits_fn = logits_only

    def run(self, images: np.ndarray, classes: np.ndarray):
        import tensorflow as tf

        outs: list[list[np.ndarray]] = [[], [], [], []]
        for start in range(0, len(images), _CHUNK):
            x = tf.convert_to_tensor(images[start:start + _CHUNK], tf.float32)
            c = tf.convert_to_tensor(classes[start:start + _CHUNK], tf.int32)
            for out, value in zip(outs, self.act_grad(x, c), strict=True):
                out.append(value.numpy())
        return tuple(np.concatenate(o) for o in outs)

    def logits(self, images: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if not len(images):
            return np.zeros((0, self.num_classes), np.float32)
        return np.concatenate([
            self.logits_fn(tf.convert_to_tensor(images[s:s + _CHUNK], tf.float32)).numpy()
            for s in range(0, len(images), _CHUNK)
        ])


def gradient_probe(model, layer: str | None = None) -> GradientProbe:
    """The compiled :class:`GradientProbe` of (model, layer), built on first use and
    cached (16 per model). ``layer=None`` is :func:`last_spatial_layer`."""
    name = last_spatial_layer(model) if layer is None else layer
    return _GRADIENT_PROBES.get(model, name, lambda: GradientProbe(model, name))


def forget(model) -> None:
    """Drop the cached sub-models and probes of ``model`` now (e.g. a temporary clone)."""
    _SUB_MODELS.forget(model)
    _GRADIENT_PROBES.forget(model)
