"""Cached loaders and shared server resources: models, sample images, stored
training results, and the one training slot of this server process.

Everything cached here is shared by every session; none of it may be changed
by a page (clone a model before training it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
