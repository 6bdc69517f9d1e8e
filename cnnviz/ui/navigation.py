"""The app's pages, in course order: the one list the sidebar and the home page are drawn from.

Streamlit finds the same scripts in ``pages/`` by itself (the number orders them,
the name is the URL); this list adds what the folder cannot say: a label, an icon,
a group, and the course questions each page answers. ``tests/test_app.py`` checks
that the list and the folder hold exactly the same pages.

Nothing here imports Streamlit, so the list can be read anywhere (tests, benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Question:
    """A question of the course that a page answers, and the live demonstration that does.

    ``key`` is an internal id (the concept's number in the design notes); students
    only ever see ``text`` and ``demo``.
    """

    key: str
    text: str
    demo: str


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the app root, as st.page_link wants it
    label: str
    icon: str
    group: str
    questions: tuple[Question, ...] = ()


PAGES = (
    PageInfo("streamlit_app.py", "Home", ":material/home:", "Start"),
    PageInfo("pages/0_Lessons.py", "Lessons", ":material/school:", "Start"),
    PageInfo("pages/1_Convolution.py", "Convolution", ":material/filter_center_focus:",
             "Convolution basics", (
                 Question("C1", "How does a convolution find a pattern in an image?",
                          "Cut a patch from one image and search another: the best matches "
                          "marked and scored, the raw sum beside normalised "
                          "cross-correlation."),
                 Question("C2", "How do stride, padding and dilation set the output size?",
                          "Turn the knobs, predict the output size, then read the formula "
                          "with the current numbers."),
             )),
    PageInfo("pages/2_Pooling_and_Receptive_Fields.py", "Pooling & receptive fields",
             ":material/change_history:", "Convolution basics", (
                 Question("C3", "How much of the image does a unit deep in the network see?",
                          "Click a unit at any depth: its theoretical and effective receptive "
                          "field are drawn on the image."),
                 Question("C4", "What does pooling buy a network?",
                          "Pool a feature map, then shift the image and measure how much the "
                          "activations and the prediction change."),
             )),
    PageInfo("pages/3_Architecture.py", "Architecture lab", ":material/account_tree:",
             "Building networks", (
                 Question("C5", "What do more filters cost, layer by layer?",
                          "Build a network: output shapes, parameters and FLOPs per layer "
                          "update live."),
                 Question("C6", "What does a 1x1 convolution do?",
                          "The channel vector at one pixel and its weighted sums; a "
                          "bottleneck cost calculator."),
                 Question("C7", "Why does an inception block look at several scales at once?",
                          "One input through each branch, concatenated; naive vs bottleneck "
                          "cost."),
                 Question("C8", "Why do residual connections let a network go deeper?",
                          "Per-layer gradient norms of a plain and a residual deep network, "
                          "measured."),
             )),
    PageInfo("pages/4_Augmentation.py", "Augmentation", ":material/auto_awesome_mosaic:",
             "Training", (
                 Question("C13", "How does data augmentation fight overfitting?",
                          "Preview an augmented batch; train with and without it and measure "
                          "the gap between training and validation accuracy."),
             )),
    PageInfo("pages/5_Transfer_Learning.py", "Transfer learning", ":material/swap_horiz:",
             "Training", (
                 Question("C14", "When does reusing a pretrained network help?",
                          "Transfer vs training from scratch on the same small data, for a "
                          "similar and a dissimilar task."),
                 Question("C15", "How do you fine-tune a pretrained network without "
                                 "wrecking it?",
                          "Freeze the base, train the head, then fine-tune at a low learning "
                          "rate: trainable parameters and curves per phase."),
             )),
    PageInfo("pages/6_Activations.py", "Activations", ":material/grid_view:",
             "Looking inside", (
                 Question("C9", "What do early and deep layers respond to?",
                          "Feature maps of every layer, with their size and sparsity per "
                          "depth."),
                 Question("C10", "How do you read the activations inside a Keras model?",
                          "The grid of feature maps, and the multi-output keras.Model code "
                          "that produced it."),
             )),
    PageInfo("pages/7_Filters.py", "Filters", ":material/blur_on:", "Looking inside", (
        Question("C11", "What pattern makes a filter fire?",
                 "Gradient ascent on the input for many filters at once, with their "
                 "activation curves."),
    )),
    PageInfo("pages/8_Grad-CAM.py", "Grad-CAM", ":material/local_fire_department:",
             "Looking inside", (
                 Question("C12", "Where did the model look to decide on a class, and can you "
                                 "trust the map?",
                          "Each step of Grad-CAM, for any layer and class, other methods "
                          "beside it, and sanity checks."),
             )),
)


def page_info(path: str) -> PageInfo:
    """The entry of ``PAGES`` for a page script, e.g. ``"pages/1_Convolution.py"``."""
    for page in PAGES:
        if page.path == path:
            return page
    raise KeyError(f"{path} is not in cnnviz.ui.navigation.PAGES")
