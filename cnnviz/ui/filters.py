"""Streamlit helpers of the Filters page: cached gradient-ascent runs (each continuation
cached on top of the last), receptive fields, first-layer kernels, and the count of
"continue" presses that is part of the view."""

from __future__ import annotations

import streamlit as st

from cnnviz import filters, receptive
from cnnviz.errors import ModelError
from cnnviz.ui.resources import get_model

SIZE = 128  # px of the shown images (models with a fixed input are optimised at it)
CONTINUED = "flt_cont"  # session key of the view's "cont": how many times continued
_REQUEST = "_flt_request"


@st.cache_data(max_entries=8, show_spinner=False)
def receptive_fields_of(model_name: str) -> dict:
    """Receptive fields by layer, or none when the model's input has no fixed size."""
    try:
        return {r.name: r for r in receptive.receptive_fields(get_model(model_name))}
    except ModelError:
        return {}


@st.cache_data(max_entries=8, show_spinner=False)
def kernels_of(model_name: str):
    return filters.first_layer_kernels(get_model(model_name))


@st.cache_data(max_entries=32, show_spinner=False)
def top_filters(model_name: str, x, layer: str, n: int) -> list[int]:
    return filters.most_active_filters(get_model(model_name), layer, x, n)


@st.cache_data(max_entries=12, show_spinner=False)
def optimise(model_name, layer, indices, chunks, lr, seed, regs):
    """Results per explicit settings. ``chunks``: the steps of each run in turn, each
    continuing the previous one (cached too), so a progress bar can move between them
    and "continue" only computes the new steps."""
    start = None
    if len(chunks) > 1:
        start = optimise(model_name, layer, indices, chunks[:-1], lr, seed, regs)
    return filters.visualize_with_history(
        get_model(model_name), layer, list(indices), size=SIZE, steps=chunks[-1],
        learning_rate=lr, seed=seed, preprocess=filters.preprocess_mode(model_name),
        start=start, **dict(regs))


def split(steps: int) -> tuple[int, ...]:
    """40 -> (10, 10, 10, 10): about four chunks of at least 10 steps."""
    size = max(10, -(-steps // 4))
    return (size,) * (steps // size) + ((steps % size,) if steps % size else ())


def run(model_name, layer, indices, schedule, lr, seed, regs):
    """The result of ``schedule`` (steps of the first run, then of each continuation),
    with a progress bar that moves between cached chunks."""
    chunks = tuple(c for part in schedule for c in split(part))
    bar = st.progress(0.0, text="Optimising…")
    for k in range(1, len(chunks) + 1):
        result = optimise(model_name, layer, indices, chunks[:k], lr, seed, regs)
        bar.progress(k / len(chunks), text=f"Step {sum(chunks[:k])} of {sum(chunks)} for "
                                           f"{len(indices)} filters")
    bar.empty()
    return result


def kernel_picture(kernels, *, side: int = 60, pad: int = 6):
    """The first layer's kernels (k, kh, kw, 3) as one picture: each kernel enlarged to
    about ``side`` pixels, every weight a block (no blur), 8 to a row (16 when there are
    more than 16), big enough to read on a projector."""
    import numpy as np

    from cnnviz.figures.maps import tile_grid
    from cnnviz.images import enlarge

    factor = max(1, side // kernels.shape[1])
    enlarged = np.stack([enlarge(kernel, factor) for kernel in kernels])
    return tile_grid(enlarged, cols=8 if len(kernels) <= 16 else 16, pad=pad)


def continued(view, request) -> int:
    """How many times the run was continued: kept while ``request`` (every setting but
    this one) stays the same, 0 when it changes, a link's value when a link arrives."""
    if st.session_state.get(_REQUEST) != request:
        st.session_state[_REQUEST] = request
        st.session_state[CONTINUED] = 0
    view.seed("cont", CONTINUED)  # a link's value wins
    return int(st.session_state[CONTINUED])


def continue_once() -> None:
    """The "continue" button's callback: one more run of the same steps."""
    st.session_state[CONTINUED] = st.session_state.get(CONTINUED, 0) + 1
