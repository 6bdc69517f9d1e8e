"""A kernel typed by hand, cell by cell, that is part of the page's view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz.ui import state
from cnnviz.views.convolution import edge_kernel


def kernel_editor(view, n: int) -> np.ndarray:
    """An n×n table of weights to edit, float (n, n). It starts as a vertical-edge
    detector, or as the kernel of the link that opened the page; what the student
    types goes into the view (``w``).

    A data editor cannot be set from session state, so a link's kernel becomes the
    editor's starting table under a new key.
    """
    store = state.session_dict("typed_kernel")
    linked = view.linked("w")
    if linked is not None and len(linked) == n * n:
        store["start"] = tuple(linked)
        store["version"] = store.get("version", 0) + 1
    start = store.get("start")
    start = np.reshape(start, (n, n)) if start is not None and len(start) == n * n \
        else edge_kernel(n)
    edited = st.data_editor(pd.DataFrame(start, columns=[str(i) for i in range(n)]),
                            key=f"conv_own_{n}_{store.get('version', 0)}", width="content")
    kernel = edited.astype(float).fillna(0.0).to_numpy()
    view.set("w", tuple(float(v) for v in kernel.ravel()))
    return kernel
