"""The Grad-CAM page's view: model, image (a scene of shapes or the sidebar's image),
class, layer, pooling, the methods compared and the trust checks.

Run-time facts (see :func:`facts`): ``models`` usable now, and for the picked
model ``classes`` (names), ``layers`` offered, ``default_layer`` and ``stages``
(the layers compared by default); ``top_class`` once the image's prediction is
known (the default class).

The page's own image source, a *scene* of two or three shapes of different classes
(``cnnviz.data.make_scene``: ``objs`` and ``sseed``), is its default for a model that
knows the shapes; ``img=picked`` uses the sidebar's picker (``src``, ``sample``,
``shape``, ``seed``) instead.
"""

from __future__ import annotations

from dataclasses import replace

from cnnviz.data import SHAPE_CLASSES
from cnnviz.views.core import PageSpec, Param
from cnnviz.views.shared import SEED_RANGE, image_params, model_param

#: the methods shown by default: quick enough to compute on every change
FAST = ("gradcam", "gradcam_plus_plus", "hirescam", "layercam", "saliency")
POOLINGS = {"mean": "mean (Grad-CAM)", "max": "max (for comparison)"}
SHAPES_MODEL = "shapes_cnn"
IMAGES = {"scene": "Shapes in one scene", "picked": "The image picked in the sidebar"}
#: the default scene: two classes the built-in model tells apart, both with a strong map
SCENE = ("square", "star")
SCENE_SEED = 0
#: a scene holds one to three shapes (cnnviz.data.make_scene)
MAX_OBJECTS = 3


def facts(model, name: str) -> dict:
    """What the page offers for ``model`` (named ``name``): its classes, the layers to
    explain (convolution-like layers with a spatial map), the default target layer
    (the last one with a map) and the deepest layer of each resolution."""
    from cnnviz import cam, models, probe

    everything = probe.feature_layers(model)
    infos = probe.feature_layers(model, kinds=probe.default_kinds(everything))
    layers = [info.name for info in infos]
    default = cam.default_layer(model)
    stages = {}
    for info in infos:  # the deepest layer of each resolution
        stages[info.shape[:2]] = info.name
    return {
        "model": name,
        "classes": models.class_names(name),
        "layers": layers,
        "labels": {info.name: info.label for info in infos},
        "default_layer": default if default in layers else layers[-1],
        "stages": tuple(list(stages.values())[-4:]),
    }


def _scene_classes(context, values):
    """the shape classes the model knows"""
    return tuple(c for c in context["classes"] if c in SHAPE_CLASSES)


def _images(context, values):
    return tuple(IMAGES) if _scene_classes(context, values) else ("picked",)


def _default_image(context, values):
    """a scene of shapes for a model that knows them, else the sidebar's image"""
    return "scene" if _scene_classes(context, values) else "picked"


def _default_scene(context, values):
    """square, star (or the first two shape classes the model knows)"""
    known = _scene_classes(context, values)
    return SCENE if set(SCENE) <= set(known) else known[:2]


def _scene(values) -> bool:
    return values["img"] == "scene"


def _picked(param: Param) -> Param:
    """A sidebar-picker setting that applies only when the page shows the picked image."""
    def applies(values, inner=param.when):
        return values["img"] == "picked" and (inner is None or inner(values))

    return replace(param, when=applies)


def _methods(context, values):
    from cnnviz.cam import METHODS

    return tuple(METHODS)


def _cam_methods(context, values):
    from cnnviz.cam import CAM_METHODS

    return tuple(CAM_METHODS)


def _classes(context, values):
    return 0, len(context["classes"]) - 1


def _top_class(context, values):
    """the top class"""
    return context["top_class"]


def _layers(context, values):
    return context["layers"]


def _default_layer(context, values):
    """the last layer with a spatial map"""
    return context["default_layer"]


def _stages(context, values):
    """the deepest layer of each of the last four resolutions"""
    return context["stages"]


def _shapes(values) -> bool:
    return values["model"] == SHAPES_MODEL


SPEC = PageSpec("gradcam", "pages/8_Grad-CAM.py", "Grad-CAM", (
    model_param(SHAPES_MODEL),
    Param("img", "image", "choice", default=_default_image, valid=_images, labels=IMAGES,
          where="an image {model} can explain (a scene needs a model that knows the shapes)",
          doc="`scene`: the page's scene of shapes (objs, sseed); `picked`: the sidebar's "
              "image (src, sample, shape, seed)"),
    *(_picked(param) for param in image_params("shape")),
    Param("objs", "shapes in the scene", "choices", default=_default_scene,
          valid=_scene_classes, when=_scene, where="a shape class {model} knows",
          doc=f"one to {MAX_OBJECTS} shape classes, each drawn once"),
    Param("sseed", "scene seed", "int", default=SCENE_SEED, valid=SEED_RANGE, when=_scene,
          doc="make_scene's random seed: where the shapes sit, their sizes and colours"),
    Param("cls", "class", "int", default=_top_class, optional=True, valid=_classes, clamp=False,
          where="a class number of {model}", doc="its number in the model's output"),
    Param("layer", "target layer", "choice", default=_default_layer, valid=_layers,
          where="a layer of {model} with a map"),
    Param("pool", "gradient pooling", "choice", default="mean", valid=tuple(POOLINGS),
          labels=POOLINGS),
    Param("cmp", "methods compared", "choices", default=FAST, valid=_methods,
          where="an attribution method"),
    Param("lm", "method at several layers", "choice", default="gradcam", valid=_cam_methods,
          where="a CAM method"),
    Param("lys", "layers compared", "choices", default=_stages, valid=_layers,
          where="a layer of {model} with a map"),
    Param("sm", "sanity-check method", "choice", default="gradcam", valid=FAST),
    Param("sanity", "sanity check run", "bool", default=False,
          doc="show the randomisation check's result"),
    Param("pn", "shape images scored", "int", default=60, valid=(20, 200, 20), when=_shapes),
    Param("pm", "methods scored", "choices", default=FAST, valid=_methods, when=_shapes,
          where="an attribution method"),
    Param("pg", "pointing game run", "bool", default=False, when=_shapes,
          doc="show the pointing-game scores"),
    Param("dm", "deletion-curve method", "choice", default="gradcam", valid=FAST),
    Param("sn", "scenes scored", "int", default=100, valid=(20, 400, 20), when=_shapes),
    Param("sk", "shapes per scene", "int", default=2, valid=(2, MAX_OBJECTS), when=_shapes),
    Param("sp", "methods scored on scenes", "choices", default=FAST, valid=_methods,
          when=_shapes, where="an attribution method"),
    Param("sg", "scene pointing game run", "bool", default=False, when=_shapes,
          doc="show the per-class pointing game on scenes"),
))
