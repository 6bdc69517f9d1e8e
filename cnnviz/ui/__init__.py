"""The Streamlit layer, the only part of cnnviz that imports streamlit.

Pages call these helpers so that every screen looks and behaves the same: the
same sidebar, the same image and model the student chose on another page, the
same polite error messages instead of tracebacks. Where to look:

- ``setup``: ``page_setup`` (first call of every page), the navigation, ``guard``;
- ``navigation``: the list of pages and the course questions they answer;
- ``pickers``: ``image_picker``, ``model_picker``;
- ``state``: the choices that follow a student from page to page;
- ``resources``: cached models and images;
- ``jobs``: training runs on a page: submit, the live view while they train, results.
"""

from __future__ import annotations

from cnnviz.ui.pickers import IMAGE_SOURCES, ImageChoice, image_picker, model_picker
from cnnviz.ui.resources import get_model
from cnnviz.ui.setup import guard, page_link_for, page_setup

__all__ = [
    "IMAGE_SOURCES", "ImageChoice", "get_model", "guard", "image_picker", "model_picker",
    "page_link_for", "page_setup",
]
