"""The Architecture lab's view: the builder's network (``net``), the image, the 1x1
demo (layer, output channels, pixel), the bottleneck calculator, the trained
inception block (which one), the residual experiment's settings and the model whose
diagram is drawn.

The network travels as the one-line text of ``nettext.net_text`` (input size,
then one token per layer: ``64x64x3,conv-16,maxpool-2,flatten,dense-5-linear``); a
text that is not a network opens the default preset with a notice.

Run-time facts (see :func:`facts`): ``models`` usable now, ``samples``, and for the
built-in model its ``layers`` with a feature map and their ``sizes`` (height, width)
for the chosen image.
"""

from __future__ import annotations

from cnnviz import architecture, nettext
from cnnviz.errors import CnnvizError
from cnnviz.models.inception import BLOCKS
from cnnviz.views.core import PageSpec, Param
from cnnviz.views.shared import image_params, model_param

#: the model whose feature maps the 1x1 and inception demos use
DEMO_MODEL = "shapes_cnn"
KERNELS = (3, 5, 7)
#: the inception demo's blocks (of the trained ``models.inception`` network), as shown
BLOCK_LABELS = {block: f"block {i} ({block})" for i, block in enumerate(BLOCKS, start=1)}
#: the builder's first network, and each preset's text as a notice names it
START_PRESET = "Tiny VGG"
PRESET_NETS = {nettext.net_text(spec, shape): f"the {name} preset"
               for name, (shape, spec) in architecture.PRESETS.items()}


def net(text: str) -> str:
    """A network's text in its canonical form (how the builder writes it); raises
    ValueError saying what is wrong when it is not a network a link can carry."""
    try:
        return nettext.net_text(*reversed(nettext.parse_net(text)))
    except CnnvizError as error:
        message = str(error).rstrip(".")
        raise ValueError(message[0].lower() + message[1:]) from None


def facts(model) -> dict:
    """The demo model's layers with a feature map (``archdemo.feature_layers``) and
    their (height, width)."""
    from cnnviz import archdemo, probe

    names = archdemo.feature_layers(model)
    return {"layers": names,
            "sizes": {n: tuple(int(v) for v in probe.find_layer(model, n)[0].output.shape[1:3])
                      for n in names}}


def _layers(context, values):
    return context["layers"]


def _default(name):
    def default(context, values):
        return name if name in context["layers"] else context["layers"][-1]
    default.__doc__ = f"{name} (else the last layer with a map)"
    return default


def _rows(context, values):
    return 0, context["sizes"][values["pwl"]][0] - 1


def _cols(context, values):
    return 0, context["sizes"][values["pwl"]][1] - 1


def _middle_row(context, values):
    """the middle of the map"""
    return context["sizes"][values["pwl"]][0] // 2


def _middle_col(context, values):
    """the middle of the map"""
    return context["sizes"][values["pwl"]][1] // 2


def _activations():
    from cnnviz.residual import ACTIVATIONS

    return ACTIVATIONS


SPEC = PageSpec("architecture", "pages/3_Architecture.py", "Architecture", (
    *image_params("sample"),
    Param("pwl", "1x1 demo: feature map", "choice", default=_default("block3_conv1"),
          valid=_layers, where="a layer of shapes_cnn with feature maps"),
    Param("k", "1x1 demo: output channels K", "int", default=15, valid=(1, 64)),
    Param("row", "1x1 demo: pixel row", "int", default=_middle_row, valid=_rows),
    Param("col", "1x1 demo: pixel column", "int", default=_middle_col, valid=_cols),
    Param("bh", "bottleneck: H", "int", default=28, valid=(1, 512)),
    Param("bw", "bottleneck: W", "int", default=28, valid=(1, 512)),
    Param("bcin", "bottleneck: C_in", "int", default=192, valid=(1, 4096)),
    Param("bcout", "bottleneck: C_out", "int", default=32, valid=(1, 4096)),
    Param("bk", "bottleneck: kernel", "choice", default=5, valid=KERNELS),
    Param("bb", "bottleneck: channels", "int", default=16, valid=(1, 4096)),
    Param("incb", "inception: trained block", "choice", default=BLOCKS[0], valid=BLOCKS,
          labels=BLOCK_LABELS, where="a block of the trained shapes_inception"),
    Param("depth", "residual: depth", "int", default=50, valid=(10, 60)),
    Param("act", "residual: activation", "choice", default="relu", valid=_activations()),
    Param("bn", "residual: batch norm", "bool", default=True),
    Param("steps", "residual: training steps", "int", default=40, valid=(10, 120, 10)),
    model_param(),
    Param("net", "network", "text", default=nettext.net_text(
              *reversed(architecture.preset(START_PRESET))), decode=net, labels=PRESET_NETS,
          where=f"the input size, then up to {nettext.MAX_LAYERS} layers "
                "(see `nettext.net_text`)",
          doc="the builder's layers, comma-separated after the input size: `conv-32-k5-s2-"
              "valid-tanh`, `conv1x1-16`, `maxpool-3-s2`, `dropout-0.5`, `residual-32-s2`, "
              "`dense-10-linear`, `gap`... (left out: kernel 3, stride 1 or a pool's window, "
              "`same`, `relu`)"),
))
