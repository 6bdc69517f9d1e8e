"""The Streamlit layer, the only part of cnnviz that imports streamlit.

Pages call these helpers so that every screen looks and behaves the same: the
same sidebar, the same image and model the student chose on another page, the
same polite error messages instead of tracebacks. Where to look:

- ``setup``: ``page_setup`` (first call of every page), the navigation, ``guard``;
- ``navigation``: the list of pages and the course questions they answer;
- ``layout``: the layout rule (``page_layout``, ``explain``, ``grid_columns``) and
  the presenter view (``presenting``);
- ``pickers``: ``image_picker``, ``model_picker``;
- ``pageview``: ``page_view``, a page's view in its URL and "Link to this view";
- ``takehome``: the code and maths of a view, its notebook and data to download;
- ``kernel_editor``: a kernel typed by hand, part of the Convolution page's view;
- ``state``: the choices that follow a student from page to page;
- ``predict``: ``ask``, a question answered before its measured result is shown;
- ``lesson``: the lesson bar, moving between a lesson's steps, "save this view";
- ``resources``: cached models and images;
- ``jobs``: training runs on a page: submit, the live view while they train, results.
"""

from __future__ import annotations

from cnnviz.ui.kernel_editor import kernel_editor
from cnnviz.ui.layout import explain, grid_columns, page_layout, presenting
from cnnviz.ui.pageview import PageView, page_view
from cnnviz.ui.pickers import IMAGE_SOURCES, ImageChoice, image_picker, model_picker
from cnnviz.ui.predict import ask
from cnnviz.ui.resources import get_model
from cnnviz.ui.setup import guard, page_link_for, page_setup

__all__ = [
    "IMAGE_SOURCES", "ImageChoice", "PageView", "ask", "explain", "get_model",
    "grid_columns", "guard", "image_picker", "kernel_editor", "model_picker", "page_layout",
    "page_link_for", "page_setup", "page_view", "presenting",
]
