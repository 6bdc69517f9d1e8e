"""Look inside a Keras model: list its feature-map layers, build sub-models over them.

Two small tools shared by the probing pages (activations, filters, Grad-CAM):

* :func:`feature_layers` lists the layers that produce 2-D feature maps
  (convolutions, pooling, activations), in the order the data flows, with their
  output shapes, including the layers of a base model nested inside the model.
* :func:`feature_model` builds ONE multi-output functional ``keras.Model`` from
  the model's input to any set of those layers, so that a single forward pass
  gives all of them. It works for

  - flat functional models (``keras.Model(model.inputs, [layer.output, ...])``),
  - ``Sequential`` models (``.inputs`` / ``.outputs``; ``Sequential.input``
    raises "never been called" in Keras 3), and
  - models with a base model nested inside (``inputs -> base -> head``):
    ``keras.Model(outer.inputs, inner_layer.output)`` fails ("not connected"),
    so the base's own sub-model is built and *called on the tensor that feeds the
    base in the outer graph*; the result is connected to the outer inputs again.

  Sub-models share the original layers and weights: they are views, never copies,
  and building one never changes the model. They are cached per model object and
  layer tuple (weakly: a model that is garbage-collected drops its cache).

Keras is imported inside the functions; importing this module is cheap.

    >>> from cnnviz import probe
    >>> [(info.name, info.shape) for info in probe.feature_layers(model)][:2]
    [('block1_conv1', (64, 64, 16)), ('block1_conv2', (64, 64, 16))]
    >>> sub = probe.feature_model(model, ["block1_conv1", "block3_conv2"])
    >>> a1, a3 = sub(images)          # one forward pass, a list of two tensors
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import ModelError

#: Layer class names by the kind of feature map they produce.
CONV_CLASSES = frozenset({
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose",
})
POOL_CLASSES = frozenset({"MaxPooling2D", "AveragePooling2D"})
ACTIVATION_CLASSES = frozenset({"ReLU", "Activation", "LeakyReLU", "ELU", "PReLU"})
KINDS = ("conv", "pool", "activation")

_MAX_PER_MODEL = 16  # sub-models kept per model (LRU)
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


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

    def walk(container, parent):
        for layer in container.layers:
            if _is_model(layer):
                walk(layer, layer.name)
                continue
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
                                   (shape[1], shape[2], int(shape[3])), len(infos), parent,
                                   act))

    walk(model, None)
    return infos


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


def _base_input_tensor(base, parent):
    """The tensor that feeds the nested model ``base`` in ``parent``'s graph.

    A base can be called in several models (transfer learning reuses one base
    for several heads), so we pick the call (node) that belongs to ``parent``'s
    graph. Keras keeps no public accessor for that; when its internals change we
    fall back to the base's first call (the generic ``Layer.input``; note that
    ``Functional.input`` is overridden to return the base's *own* inputs).
    """
    import keras

    graph = getattr(parent, "_functional", None) or parent  # Sequential wraps one
    keys = getattr(graph, "_nodes", None)
    tensor = None
    for index, node in enumerate(getattr(base, "_inbound_nodes", [])):
        if keys is not None and f"{id(base)}_ib-{index}" in keys:
            tensor = list(node.input_tensors)
            break
    if tensor is None:
        try:
            tensor = keras.layers.Layer.input.fget(base)
        except (AttributeError, ValueError) as error:
            raise ModelError(
                f"The nested model {base.name!r} has never been called inside its parent "
                "model, so its layers cannot be reached from the parent's input."
            ) from error
    if isinstance(tensor, (list, tuple)):
        if len(tensor) != 1:
            raise ModelError(f"The nested model {base.name!r} takes several inputs; "
                             "only single-input nested models are supported.")
        tensor = tensor[0]
    return tensor


def _build(model, names: tuple[str, ...]):
    """Symbolic outputs (in ``model``'s graph) for each name, in order."""
    import keras

    outputs: dict[str, Any] = {}
    nested: dict[int, tuple[Any, list[str]]] = {}
    for name in names:
        layer, path = find_layer(model, name)
        if not path:
            try:
                outputs[name] = layer.output
            except (AttributeError, ValueError) as error:
                raise ModelError(f"Layer {name!r} has no single output to probe.") from error
        else:
            nested.setdefault(id(path[0]), (path[0], []))[1].append(name)
    for base, inner in nested.values():
        sub = feature_model(base, inner)  # recursive: the base may nest again
        result = sub(_base_input_tensor(base, model))
        result = result if isinstance(result, (list, tuple)) else [result]
        outputs.update(zip(inner, result))
    try:
        inputs = _inputs(model)
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs,
                           [outputs[name] for name in names],
                           name=f"{model.name}_features")
    except ValueError as error:
        raise ModelError(
            f"Could not build a sub-model of {model.name!r} over {list(names)}: {error}"
        ) from error


def feature_model(model, layer_names):
    """One functional ``keras.Model``: model input -> the listed layers' outputs.

    Its outputs follow ``layer_names`` in order; Keras returns a plain tensor
    instead of a one-element list when there is a single name, so callers that
    want a list use :func:`run`. Cached per model object and name tuple (LRU, 16 per model);
    safe to call from several threads.
    """
    names = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    if not names:
        raise ModelError("Choose at least one layer.")
    with _LOCK:
        per_model = _CACHE.get(model)
        if per_model is None:
            per_model = _CACHE[model] = OrderedDict()
        if names in per_model:
            per_model.move_to_end(names)
            return per_model[names]
        sub = _build(model, names)
        per_model[names] = sub
        while len(per_model) > _MAX_PER_MODEL:
            per_model.popitem(last=False)
        return sub


def run(sub, x) -> list:
    """Call a feature model in inference mode; always a list of tensors."""
    result = sub(x, training=False)
    return list(result) if isinstance(result, (list, tuple)) else [result]


def input_shape(model) -> tuple[int | None, int | None, int]:
    """(height, width, channels) of the model's (first) input; None for a free size."""
    shape = tuple(_inputs(model)[0].shape)
    if len(shape) != 4:
        raise ModelError(f"Model {model.name!r} does not take images (input shape {shape}).")
    return shape[1], shape[2], int(shape[3])
