"""Cached loaders and shared server resources: models and sample images.

Everything cached here is shared by every session; none of it may be changed
by a page (clone a model before training it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

if TYPE_CHECKING:
    import keras


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(name: str) -> keras.Model:
    """The shared, read-only model ``name``: never train it, freeze it or change it.

    Every session gets the same object. Copy it before changing anything
    (``cnnviz.models.copy_model``).
    """
    from cnnviz.models import load_model

    return load_model(name)


@st.cache_resource(show_spinner=False, ttl=60)
def model_infos():
    """Which models can be used now and why not; rechecked once a minute (a download
    may finish, the network may come back)."""
    from cnnviz.models import available_models

    return available_models()


@st.cache_resource(show_spinner=False)
def sample_photos() -> dict[str, np.ndarray]:
    """The sample photos that ship with scikit-image, by name."""
    from cnnviz.images import sample_images

    return sample_images()


@st.cache_data(show_spinner=False, max_entries=64)
def shape_image(shape_class: str, seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic shape as (uint8 image, bool mask of the object)."""
    from cnnviz.data import make_shapes

    shapes = make_shapes(1, size=size, seed=seed, classes=[shape_class])
    return (shapes.images[0] * 255).round().astype(np.uint8), shapes.masks[0]
