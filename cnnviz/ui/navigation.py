"""The app's pages, grouped as a course would take them, and the concepts they teach."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the app root, as st.page_link wants it
    label: str
    icon: str
    group: str


PAGES = (
    PageInfo("streamlit_app.py", "Home", ":material/home:", "Start"),
    PageInfo("pages/1_Convolution.py", "Convolution", ":material/filter_center_focus:",
             "Convolution basics"),
    PageInfo("pages/2_Pooling_and_Receptive_Fields.py", "Pooling & receptive fields",
             ":material/change_history:", "Convolution basics"),
    PageInfo("pages/3_Architecture.py", "Architecture lab", ":material/account_tree:",
             "Building networks"),
    PageInfo("pages/4_Augmentation.py", "Augmentation", ":material/auto_awesome_mosaic:",
             "Training"),
    PageInfo("pages/5_Transfer_Learning.py", "Transfer learning", ":material/swap_horiz:",
             "Training"),
    PageInfo("pages/6_Activations.py", "Activations", ":material/grid_view:", "Looking inside"),
    PageInfo("pages/7_Filters.py", "Filters", ":material/blur_on:", "Looking inside"),
    PageInfo("pages/8_Grad-CAM.py", "Grad-CAM", ":material/local_fire_department:",
             "Looking inside"),
)

#: (id, concept, page path, the live demonstration) as in DESIGN.md.
CONCEPTS = (
    ("C1", "Convolution is a weighted sum = template matching", "pages/1_Convolution.py",
     "Cut a patch from an image, use it as the kernel: the response peaks where the image "
     "matches it."),
    ("C2", "Stride, padding, dilation and output size", "pages/1_Convolution.py",
     "Knobs plus the output-size formula with the current numbers."),
    ("C3", "Pooling and stride build a pyramid; a deep unit sees many pixels",
     "pages/2_Pooling_and_Receptive_Fields.py",
     "Click a unit at any depth: its theoretical and effective receptive field on the image."),
    ("C4", "Pooling downsamples, cuts computation, adds a little shift invariance",
     "pages/2_Pooling_and_Receptive_Fields.py",
     "Pooling demo and a shift-the-image probe of activations and prediction."),
    ("C5", "More filters = a deeper channel dimension", "pages/3_Architecture.py",
     "A builder: output shapes, parameters and FLOPs per layer, live."),
    ("C6", "A 1x1 convolution mixes channels at each pixel", "pages/3_Architecture.py",
     "The channel vector at one pixel and its weighted sums; a bottleneck cost calculator."),
    ("C7", "Inception: parallel branches at several scales, concatenated",
     "pages/3_Architecture.py",
     "One input through each branch; naive vs bottleneck cost."),
    ("C8", "Residual blocks keep gradients flowing in deep nets", "pages/3_Architecture.py",
     "Per-layer gradient norms of a plain vs a residual deep net, measured."),
    ("C9", "Early layers see edges and colours, deep layers parts and objects",
     "pages/6_Activations.py", "Feature maps per layer and statistics per depth."),
    ("C10", "Intermediate activations come from a multi-output keras.Model",
     "pages/6_Activations.py", "The grid of feature maps and the Keras code behind it."),
    ("C11", "Gradient ascent on the input shows what a filter responds to",
     "pages/7_Filters.py", "Many filters optimised at once in one batch, with loss curves."),
    ("C12", "Grad-CAM: where the model looked for a class", "pages/8_Grad-CAM.py",
     "Each step shown, any layer and class, other methods beside it, sanity checks."),
    ("C13", "Data augmentation fights overfitting on small data", "pages/4_Augmentation.py",
     "Augmented batch preview; train with vs without, train/val gap measured."),
    ("C14", "Transfer learning reuses features", "pages/5_Transfer_Learning.py",
     "Transfer vs from scratch; similar vs dissimilar target."),
    ("C15", "Freeze, train the head, then fine-tune at a low learning rate",
     "pages/5_Transfer_Learning.py",
     "Three phases with trainable-parameter counts and curves per phase."),
)


def available_pages() -> list[PageInfo]:
    """Pages whose script exists: a page shows up in the navigation once it is built."""
    return [p for p in PAGES if (APP_ROOT / p.path).is_file()]
