"""The sidebar pickers every probing page shares: the image and the model.

A choice made on one page is the choice on the next (see ``cnnviz.ui.state``);
uploads are decoded once and kept for the session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.ui import state
from cnnviz.ui.resources import model_infos, sample_photos, shape_image


@dataclass(frozen=True)
class ImageChoice:
    """The image a student picked, with its ground truth when it is a shape."""

    name: str
    image: np.ndarray  # uint8 (H, W, 3)
    mask: np.ndarray | None = None  # bool (H, W), the object, for shapes
    label: str | None = None  # the shape's class, for shapes


IMAGE_SOURCES = ("Sample photo", "Synthetic shape", "Upload", "Camera")


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
                          **state.across_pages(f"{key}_source", default_source))
        choice = None
        if source == "Synthetic shape":
            shape_class = st.selectbox(
                "Shape", SHAPE_CLASSES,
                **state.across_pages(f"{key}_shape", default_shape, f"{key}_source"))
            seed = st.number_input(
                "Random seed", 0, 10_000, step=1,
                **state.across_pages(f"{key}_shape_seed", 0, f"{key}_source"))
            image, mask = shape_image(shape_class, int(seed), 64)
            choice = ImageChoice(f"{shape_class} (seed {seed})", image, mask, shape_class)
        elif source in ("Upload", "Camera"):
            choice = _uploaded_image(key, source)
        if choice is None:
            samples = sample_photos()
            names = list(samples)
            sample = st.selectbox(
                "Sample photo", names,
                **state.across_pages(f"{key}_sample", names[0], f"{key}_source"))
            choice = ImageChoice(sample, samples[sample])
        st.image(choice.image, caption=choice.name, width="stretch")
    return choice


def _uploaded_image(key: str, source: str) -> ImageChoice | None:
    """The student's upload or camera photo, decoded once and kept for the session
    (the file itself is gone once a page without the picker has run)."""
    if source == "Upload":
        file = st.file_uploader("Your image", type=None, key=f"{key}_upload_widget",
                                help="PNG, JPEG, GIF, WebP, TIFF, BMP… up to 50 MB")
    else:
        file = st.camera_input("Take a photo", key=f"{key}_camera_widget")
    uploads = state.session_dict("uploaded_images")
    slot = f"{key}_{source.lower()}"
    if file is not None and uploads.get(f"{slot}_file_id") != file.file_id:
        uploads[f"{slot}_file_id"] = file.file_id
        _decode_upload(file.getvalue(), file.name, uploads, slot)
    if slot not in uploads:
        st.caption("Until you add one, the sample photo below is used.")
        return None
    name, image, note = uploads[slot]
    if note:
        st.caption(note)
    return ImageChoice(name, image)


def _decode_upload(data: bytes, name: str, uploads: dict, slot: str) -> None:
    from cnnviz.images import fit_for_demos, load_image

    try:
        image, note = fit_for_demos(load_image(data))
        uploads[slot] = (name, image, note)
    except CnnvizError as error:
        uploads.pop(slot, None)
        st.error(f"{name}: {error}", icon=":material/error:")


def model_picker(key: str = "model", *, label: str = "Model",
                 allow_upload: bool = True) -> str:
    """Pick a model that can be used now; explain why the others cannot.

    With ``allow_upload`` a student can add their own ``.keras`` image classifier;
    it is loaded in Keras' safe mode and offered in this session only.
    """
    from cnnviz.models import user_model_names

    infos = model_infos()
    # "Shapes CNN (built-in, 5 shape classes)": the name in the box (the sidebar is
    # narrow), the part in brackets under it
    titles = {info.name: info.title.partition(" (")[0] for info in infos if info.usable}
    notes = {info.name: info.title.partition(" (")[2].rstrip(")") for info in infos}
    uploads = state.session_dict(f"{key}_uploads")
    in_memory = set(user_model_names())
    uploads["names"] = [n for n in uploads.get("names", []) if n in in_memory]
    if allow_upload:
        titles |= {n: f"Your model: {n.split(':', 2)[2]}" for n in uploads["names"]}
    if state.chosen(key) not in titles:  # e.g. an uploaded model that was evicted
        state.forget(key)
    with st.sidebar:
        name = st.selectbox(label, list(titles), format_func=titles.get,
                            **state.across_pages(key, next(iter(titles))))
        if notes.get(name):
            st.caption(notes[name])
        if allow_upload:
            with st.expander("Use your own .keras model"):
                st.file_uploader(
                    "A Keras image classifier saved with model.save('name.keras')",
                    type=["keras"], key=f"{key}_upload_widget",
                    on_change=_register_upload, args=(key,),
                    help="Loaded in Keras' safe mode: files with code (Lambda layers) "
                         "are refused.")
                if uploads.get("error"):
                    st.error(uploads["error"], icon=":material/error:")
        unavailable = [info for info in infos if not info.usable]
        if unavailable:
            with st.expander("Why are some models missing?"):
                for info in unavailable:
                    st.markdown(f"**{info.title}**: {info.reason}")
    return name


def _register_upload(key: str) -> None:
    """Callback of the model uploader: load the file safely and select it."""
    from cnnviz.models import register_user_model

    file = st.session_state.get(f"{key}_upload_widget")
    uploads = state.session_dict(f"{key}_uploads")
    uploads.pop("error", None)
    if file is None:
        return
    try:
        name = register_user_model(file.getvalue(), filename=file.name)
    except CnnvizError as error:
        uploads["error"] = f"{file.name}: {error}"
        return
    names = uploads.setdefault("names", [])
    if name not in names:
        names.append(name)
    state.choose(key, name)
