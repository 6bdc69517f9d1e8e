"""The Transfer learning page's view: the experiment's settings (the base, the new
task, images per class, head, recipe, phases, seed). A link opens the page on these
settings and runs them; results are shared by settings, so a link to a finished run
shows its numbers at once.

Run-time facts: ``bases``, the pretrained bases usable now.
"""

from __future__ import annotations

from cnnviz.views.core import PageSpec, Param

#: the named tasks a link can carry (the page labels them)
TASKS = ("new_shapes", "textures", "faces", "mnist", "fashion_mnist", "cifar10",
         "cats_vs_dogs", "zip", "camera")
HEADS = ("linear", "dropout", "hidden")
RECIPES = ("standard", "no_freeze", "high_lr")
FINE_TUNE_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3)


def _bases(context, values):
    return context["bases"]


def _rate(value) -> str:
    return f"{float(value):g}"


SPEC = PageSpec("transfer", "pages/5_Transfer_Learning.py", "Transfer learning", (
    Param("base", "pretrained base", "choice", default="shapes_cnn", valid=_bases,
          where="a base this server can use now"),
    Param("task", "new task", "choice", default="new_shapes", valid=TASKS,
          doc="zip / camera: the link opens that task, without the images (they stay "
              "in the student's session)"),
    Param("n", "training images per class", "int", default=8, valid=(3, 100)),
    Param("head", "new head", "choice", default="linear", valid=HEADS),
    Param("recipe", "recipe", "choice", default="standard", valid=RECIPES),
    Param("top", "phase 3: layers unfrozen from the top", "int", default=2, valid=(1, 20)),
    Param("ep2", "phase 2 epochs", "int", default=15, valid=(1, 40)),
    Param("ep3", "phase 3 epochs", "int", default=10, valid=(0, 40)),
    Param("lr3", "phase 3 learning rate", "choice", default=1e-4, valid=FINE_TUNE_RATES,
          token=_rate),
    Param("nval", "validation images per class", "int", default=50, valid=(10, 100)),
    Param("tseed", "seed", "int", default=0, valid=(0, 10_000),
          doc="data split, head initialisation, batch order"),
    Param("scratch", "also train from scratch", "bool", default=True),
))
