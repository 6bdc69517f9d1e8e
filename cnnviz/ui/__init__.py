"""The Streamlit layer: page set-up, shared pickers, cached loaders, guards.

This is the only part of cnnviz that imports streamlit. Pages call these
helpers so that every screen looks and behaves the same: the same sidebar, the
same image and model the student chose on another page, the same polite error
messages instead of tracebacks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.ui.navigation import available_pages

if TYPE_CHECKING:
    import keras

log = logging.getLogger("cnnviz")

_PERSIST = "_cnnviz_persist"


def page_setup(title: str, *, icon: str | None = None) -> None:
    """Configure the page and draw the shared sidebar. Call it first on every page."""
    st.set_page_config(page_title=f"{title} · cnnviz", page_icon=icon or "🧠", layout="wide")
    with st.sidebar:
        st.markdown("## :material/neurology: cnnviz")
        st.caption("See how convolutional networks work, on real Keras models.")
        group = None
        for page in available_pages():
            if page.group != group:
                group = page.group
                st.markdown(f"**{group}**")
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()


@contextmanager
def guard(action: str = "this step") -> Iterator[None]:
    """Show a user error as a message instead of a traceback; the page goes on.

    ``CnnvizError`` messages are written for students and shown as they are.
    Anything else is a bug: it is logged on the server with its traceback and the
    student sees a short apology, never the traceback itself.
    """
    try:
        yield
    except CnnvizError as error:
        st.error(str(error), icon=":material/error:")
    except Exception:  # noqa: BLE001 - the last line of defence for the UI
        log.exception("Unexpected error in %s", action)
        st.error(
            f"Something went wrong in {action}. Try other settings or another image; "
            "the error has been logged for the instructor.",
            icon=":material/bug_report:",
        )


def _persist_store() -> dict:
    return st.session_state.setdefault(_PERSIST, {})


def _remembered(widget_key: str, default, *together: str) -> dict:
    """Widget arguments that give it the student's last value from any page.

    Streamlit keeps a widget's state per page: the same key on another page
    starts from its default. So every change is copied (by the widget's
    callback) into a plain session-state dict, and put back before the widget
    is drawn. A page's default is used until the student changes the widget;
    ``together`` names widgets whose current value is kept along with it (a
    shape chosen under a page's default source keeps that source).
    """
    st.session_state[widget_key] = _persist_store().get(widget_key, default)
    return {"key": widget_key, "on_change": _remember, "args": (widget_key, *together)}


def _remember(*widget_keys: str) -> None:
    store = _persist_store()
    for widget_key in widget_keys:
        if widget_key in st.session_state:
            store[widget_key] = st.session_state[widget_key]


@dataclass(frozen=True)
class ImageChoice:
    """The image a student picked, with its ground truth when it is a shape."""

    name: str
    image: np.ndarray  # uint8 (H, W, 3)
    mask: np.ndarray | None = None  # bool (H, W), the object, for shapes
    label: str | None = None  # the shape's class, for shapes


IMAGE_SOURCES = ("Sample photo", "Synthetic shape", "Upload", "Camera")


@st.cache_data(show_spinner=False, max_entries=64)
def _shape_image(shape_class: str, seed: int, size: int):
    from cnnviz.data import make_shapes

    shapes = make_shapes(1, size=size, seed=seed, classes=[shape_class])
    return (shapes.images[0] * 255).round().astype(np.uint8), shapes.masks[0]


@st.cache_resource(show_spinner=False)
def _samples() -> dict[str, np.ndarray]:
    from cnnviz.images import sample_images

    return sample_images()


def _decode_upload(data: bytes, name: str, slot: str) -> None:
    """Decode an uploaded image once and keep it for every page of the session."""
    from cnnviz.images import fit_for_demos, load_image

    store = _persist_store()
    try:
        image, note = fit_for_demos(load_image(data))
        store[slot] = (name, image, note)
    except CnnvizError as error:
        store.pop(slot, None)
        st.error(f"{name}: {error}", icon=":material/error:")


def image_picker(key: str = "image", *, label: str = "Image",
                 default_source: str = "Sample photo",
                 default_shape: str = "circle") -> ImageChoice:
    """Pick an image in the sidebar: a sample photo, a synthetic shape, an upload or
    a camera photo. The choice is remembered across pages of the session; the
    page's defaults apply until the student changes them."""
    from cnnviz.data import SHAPE_CLASSES

    with st.sidebar:
        st.markdown(f"**{label}**")
        source = st.radio("Source", IMAGE_SOURCES, horizontal=True,
                          **_remembered(f"{key}_source", default_source))
        store = _persist_store()
        choice = None
        if source == "Synthetic shape":
            shape_class = st.selectbox(
                "Shape", SHAPE_CLASSES,
                **_remembered(f"{key}_shape", default_shape, f"{key}_source"))
            seed = st.number_input("Random seed", 0, 10_000, step=1,
                                   **_remembered(f"{key}_shape_seed", 0, f"{key}_source"))
            image, mask = _shape_image(shape_class, int(seed), 64)
            choice = ImageChoice(f"{shape_class} (seed {seed})", image, mask, shape_class)
        elif source in ("Upload", "Camera"):
            slot = f"{key}_{source.lower()}_image"
            if source == "Upload":
                file = st.file_uploader("Your image", type=None, key=f"{key}_upload_widget",
                                        help="PNG, JPEG, GIF, WebP, TIFF, BMP… up to 50 MB")
            else:
                file = st.camera_input("Take a photo", key=f"{key}_camera_widget")
            if file is not None and store.get(f"{slot}_id") != file.file_id:
                store[f"{slot}_id"] = file.file_id
                _decode_upload(file.getvalue(), file.name, slot)
            if slot in store:
                name, image, note = store[slot]
                if note:
                    st.caption(note)
                choice = ImageChoice(name, image)
            else:
                st.caption("Until you add one, the sample photo below is used.")
        if choice is None:
            samples = _samples()
            names = list(samples)
            sample = st.selectbox("Sample photo", names,
                                  **_remembered(f"{key}_sample", names[0], f"{key}_source"))
            choice = ImageChoice(sample, samples[sample])
        st.image(choice.image, caption=choice.name, width="stretch")
    return choice


@st.cache_resource(show_spinner=False, ttl=60)
def _model_infos():
    from cnnviz.models import available_models

    return available_models()


def _register_upload(key: str) -> None:
    """Callback of the model uploader: load the file safely and select it."""
    from cnnviz.models import register_user_model

    file = st.session_state.get(f"{key}_upload_widget")
    store = _persist_store()
    store.pop(f"{key}_upload_error", None)
    if file is None:
        return
    try:
        name = register_user_model(file.getvalue(), filename=file.name)
    except CnnvizError as error:
        store[f"{key}_upload_error"] = f"{file.name}: {error}"
        return
    store.setdefault("user_models", [])
    if name not in store["user_models"]:
        store["user_models"].append(name)
    st.session_state[key] = store[key] = name


def model_picker(key: str = "model", *, label: str = "Model",
                 allow_upload: bool = True) -> str:
    """Pick a model that can be used now; explain why the others cannot.

    With ``allow_upload`` a student can add their own ``.keras`` image classifier;
    it is loaded in Keras' safe mode and offered in this session only.
    """
    from cnnviz.models import _USER_MODELS

    infos = _model_infos()
    titles = {info.name: info.title for info in infos if info.usable}
    store = _persist_store()
    store["user_models"] = [n for n in store.get("user_models", []) if n in _USER_MODELS]
    if allow_upload:
        titles |= {n: f"Your model: {n.split(':', 2)[2]}" for n in store["user_models"]}
    if store.get(key) not in titles:  # e.g. an uploaded model that was evicted
        store.pop(key, None)
    with st.sidebar:
        name = st.selectbox(label, list(titles), format_func=titles.get,
                            **_remembered(key, next(iter(titles))))
        if allow_upload:
            with st.expander("Use your own .keras model"):
                st.file_uploader(
                    "A Keras image classifier saved with model.save('name.keras')",
                    type=["keras"], key=f"{key}_upload_widget",
                    on_change=_register_upload, args=(key,),
                    help="Loaded in Keras' safe mode: files with code (Lambda layers) "
                         "are refused.")
                if store.get(f"{key}_upload_error"):
                    st.error(store[f"{key}_upload_error"], icon=":material/error:")
        unavailable = [info for info in infos if not info.usable]
        if unavailable:
            with st.expander("Why are some models missing?"):
                for info in unavailable:
                    st.markdown(f"**{info.title}**: {info.reason}")
    return name


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(name: str) -> keras.Model:
    """The shared, read-only model ``name``: never train it, freeze it or change it.

    Every session gets the same object. Clone it before changing anything
    (``keras.models.clone_model`` and ``set_weights``).
    """
    from cnnviz.models import load_model

    return load_model(name)


@st.cache_resource(show_spinner=False)
def result_store(experiment: str):
    """Finished training results of one page, shared by all sessions (data only,
    no models), keyed by the settings that produced them."""
    from cnnviz.train import ResultStore

    return ResultStore(max_entries=32)


_TRAINING_SLOTS = threading.BoundedSemaphore(1)


@contextmanager
def training_slot(poll_seconds: float = 0.5) -> Iterator[None]:
    """Let one training run at a time in this server process; others wait visibly.

    On a shared 2-core machine two trainings at once make both slow and every
    other student's page sluggish; a queue keeps the probing pages responsive.
    """
    if not _TRAINING_SLOTS.acquire(blocking=False):
        note = st.info("Another training is running on this server; yours starts as soon "
                       "as it finishes…", icon=":material/hourglass_top:")
        while not _TRAINING_SLOTS.acquire(timeout=poll_seconds):
            time.sleep(0)  # each wait is a point where Streamlit can stop this script
        note.empty()
    try:
        yield
    finally:
        _TRAINING_SLOTS.release()


def __getattr__(name: str):
    # KerasProgress imports keras; load it only for pages that train.
    if name == "KerasProgress":
        from cnnviz.ui.progress import KerasProgress

        return KerasProgress
    raise AttributeError(name)


def page_link_for(path: str) -> None:
    """A link to one of the app's pages, with the label and icon of the navigation."""
    from cnnviz.ui.navigation import PAGES

    page = next(p for p in PAGES if p.path == path)
    st.page_link(page.path, label=page.label, icon=page.icon)
