"""The Architecture lab's network builder: an editable table of layers kept in the session
and carried by the page's link (the view's ``net``).

A preset loads a network; the student edits cells, adds and deletes rows, and
moves a layer up or down. Loading or moving replaces the table, so the editor
gets a new key each time (``arch_editor_{version}``) and starts from the new rows.

The whole builder survives a visit to another page: the table lives in session
state (``st.data_editor`` has no ``persist_state``), the preset and input-shape
widgets keep their values with ``persist_state="session"`` (their keys exist on
this page only, so Streamlit restores them on the first run back).

The link: a link that opens the page (and the page's own last view, on the way back
from another page) loads its network into the table; every run publishes the table
as it is, so "Link to this view" carries the student's edits.
"""

from __future__ import annotations

from dataclasses import fields

import pandas as pd
import streamlit as st

from cnnviz import architecture, nettext
from cnnviz.architecture import LayerSpec
from cnnviz.views import architecture as arch_view

_STATE = "_cnnviz_builder"


def _layers() -> dict:
    """The session's table: its records, its version, and (first time) the input shape."""
    if _STATE not in st.session_state:
        shape, spec = architecture.preset(arch_view.START_PRESET)
        st.session_state.arch_h, st.session_state.arch_w, st.session_state.arch_c = shape
        st.session_state[_STATE] = {"records": architecture.spec_to_dicts(spec), "version": 0}
    return st.session_state[_STATE]


def _replace(records: list[dict], shape: tuple[int, int, int] | None = None) -> None:
    layers = _layers()
    layers["records"] = records
    layers["version"] += 1
    if shape is not None:
        st.session_state.arch_h, st.session_state.arch_w, st.session_state.arch_c = shape


def _bounds(setting: str) -> dict:
    """A setting's range, the same as a link's (``architecture.LIMITS``)."""
    low, high = architecture.LIMITS[setting]
    return {"min_value": low, "max_value": high}


def _column_config(kind_labels: list[str]) -> dict:
    # Fixed widths (px) that add up to less than the page's 820 px at 1280: left to
    # size themselves the columns grow wider than the table and the last ones hide.
    column = st.column_config
    return {
        "kind": column.SelectboxColumn("layer", options=kind_labels, required=True,
                                       width=180, default=architecture.KINDS["conv"]),
        "filters": column.NumberColumn("filters / units", **_bounds("filters"), step=1,
                                       default=16, width=110),
        "kernel": column.NumberColumn("kernel", **_bounds("kernel"), step=1, default=3, width=70),
        "stride": column.NumberColumn("stride", **_bounds("stride"), step=1, default=1, width=70),
        "padding": column.SelectboxColumn("padding", options=list(architecture.PADDINGS),
                                          default="same", width=90),
        "activation": column.SelectboxColumn("activation",
                                             options=list(architecture.ACTIVATIONS),
                                             default="relu", width=100),
        "rate": column.NumberColumn("dropout rate", **_bounds("rate"), step=0.05,
                                    default=0.25, width=110),
    }


def layer_builder(view) -> tuple[list[LayerSpec], tuple[int, int, int]]:
    """Draw the builder, starting from the network of a link that opened the page; put
    the network as edited into ``view`` (a ``PageView``) and return it with its input
    shape (H, W, C)."""
    layers = _layers()
    linked = view.linked("net")
    if linked is not None:  # a valid network: the view checked it
        shape, spec = nettext.parse_net(linked)
        _replace(architecture.spec_to_dicts(spec), shape)
    kind_of = {label: kind for kind, label in architecture.KINDS.items()}
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1], vertical_alignment="bottom")
    preset_name = c1.selectbox("Start from a preset", list(architecture.PRESETS),
                               index=list(architecture.PRESETS).index(arch_view.START_PRESET),
                               key="arch_preset", persist_state="session")
    if c2.button("Load preset", key="arch_load", icon=":material/download:"):
        shape, spec = architecture.preset(preset_name)
        _replace(architecture.spec_to_dicts(spec), shape)
    h_in = c3.number_input("Input height", *architecture.INPUT_LIMITS["height"], key="arch_h",
                           persist_state="session")
    w_in = c4.number_input("Input width", *architecture.INPUT_LIMITS["width"], key="arch_w",
                           persist_state="session")
    c_in = c5.number_input("Channels", *architecture.INPUT_LIMITS["channels"], key="arch_c",
                           persist_state="session")
    input_shape = (int(h_in), int(w_in), int(c_in))

    base = pd.DataFrame(
        architecture.editor_records(architecture.spec_from_dicts(layers["records"])),
        columns=[f.name for f in fields(LayerSpec)])
    base["kind"] = base["kind"].map(architecture.KINDS)
    base.index = range(1, len(base) + 1)
    edited = st.data_editor(base, key=f"arch_editor_{layers['version']}", num_rows="dynamic",
                            width="stretch", hide_index=False, height=38 * (len(base) + 2),
                            column_config=_column_config(list(kind_of)))
    st.caption("Edit any cell; add a layer with the **+** row at the bottom, delete rows by "
               "selecting them (left edge) and pressing the bin. Settings a layer does not use "
               "stay blank; a blank cell takes the default when you change the layer type.")
    records = edited.assign(kind=edited["kind"].map(kind_of)).to_dict("records")
    spec = architecture.spec_from_dicts(records)
    if spec:
        _move_buttons(architecture.spec_to_dicts(spec))
    _publish(view, spec, input_shape)
    return spec, input_shape


def _publish(view, spec: list[LayerSpec], input_shape: tuple[int, int, int]) -> None:
    """The table as the view's network; one a link cannot carry (too many layers) is
    said, and the link carries the default network instead."""
    try:
        view.set("net", arch_view.net(nettext.net_text(spec, input_shape)))
    except ValueError as error:
        default = view.spec.param("net").default
        view.set("net", default)
        st.warning(f"This network cannot travel in a link: {error}. \"Link to this view\" "
                   f"opens on {arch_view.PRESET_NETS[default]}.", icon=":material/link_off:")


def _move_buttons(current: list[dict]) -> None:
    """Move one layer up or down: the table is replaced and the page runs again."""
    m1, m2, m3, _ = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
    move = m1.number_input("Move layer #", 1, len(current), 1, key="arch_move")
    if m2.button("Up", key="arch_up", icon=":material/arrow_upward:") and move > 1:
        current[move - 2], current[move - 1] = current[move - 1], current[move - 2]
        _replace(current)
        st.rerun()
    if m3.button("Down", key="arch_down", icon=":material/arrow_downward:") \
            and move < len(current):
        current[move - 1], current[move] = current[move], current[move - 1]
        _replace(current)
        st.rerun()
