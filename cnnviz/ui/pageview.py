"""A page's view in its URL: open a shared link, seed the widgets from it, keep the
address bar up to date, and offer "Link to this view".

The view itself (parameter names, checks, defaults) is ``cnnviz.views``; this
module only moves it between the URL and the widgets.

Why plain ``st.query_params`` and not widgets with ``bind="query-params"``
(Streamlit 1.67), read in its source and tried here:

- a bound widget silently drops a value it cannot use (an unknown option, a
  number out of range) and shows its default; a student who opens a stale link
  must be told what changed, so every value goes through ``views.parse``, which
  returns the nearest valid view *and* a notice per change;
- what is valid depends on other settings and on run-time facts (a patch's
  top row on the patch size and the image, a layer on the model); a bound
  widget only knows its own options at the moment it is drawn;
- the URL name is the widget's key, so keys such as ``gc_class_{model}`` could not
  be bound, and a bound selectbox stores its *formatted* label: a label with a
  live number in it ("circle (p = 97%)") would break every link;
- not every setting is a widget: the clicked pixel of a map, a kernel typed in
  a data editor;
- the shared pickers remember a student's choice across pages
  (``cnnviz.ui.state``); a value from a link must become that choice, or the
  remembered one comes back on the next run.

So a page reads ``st.query_params`` once when a link arrives (a query string
that differs from the one this page last wrote), applies it, and writes the
current view back with ``st.query_params`` at the end of every run (each change
is a step in the browser's history). A page switch from the sidebar arrives with
an empty query string: the page comes back as the student left it (Streamlit
forgets a page's widgets when it is left), with the image and model chosen since;
the back and forward buttons arrive as another query string of the same page and
are applied like a link (back to a bare address: the defaults).

On a page::

    view = ui.page_view("convolution", prefix="conv_")  # first, after page_setup
    choice = ui.image_picker()                  # the pickers show a link's image
    view.settle(**views.convolution.facts(choice.image))   # check the link against now
    st.title(...)
    view.bar()                                  # notices and "Link to this view" go here
    stride = st.slider("Stride", 1, 8, **view.widget("stride"))   # key "conv_stride"
    view.set("row", None)                       # a setting that is not a widget
    view.publish()                              # the address bar and the link show the view
    view.take_home(numbers, arrays)             # the code, the maths, notebook, data
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnviz import views
from cnnviz.ui import state
from cnnviz.ui.resources import model_infos, sample_photos
from cnnviz.ui.setup import rerun_of_the_same_page
from cnnviz.views.core import check, encode

_WRITTEN = "_cnnviz_view_query"  # {page: the query string this page last wrote}
#: the shared pickers' widget keys (cnnviz.ui.pickers), by view parameter
PICKER_KEYS = {"src": "image_source", "sample": "image_sample", "shape": "image_shape",
               "seed": "image_shape_seed", "model": "model"}
_UPLOAD_SOURCES = ("Upload", "Camera")


def _shared_context() -> dict:
    return {"samples": list(sample_photos()),
            "models": [info.name for info in model_infos() if info.usable]}


def _current_query() -> dict[str, str]:
    return {key: st.query_params[key] for key in st.query_params}


class PageView:
    """The view of one page during one run (see the module docstring for the calls)."""

    def __init__(self, page: str, *, prefix: str):
        self.spec = views.spec(page)
        self.prefix = prefix
        self.context = _shared_context()
        self.notices: list[str] = []
        self.view: views.View | None = None  # the view published at the end of the run
        self.link = ""
        self._link_notes: list[str] = []
        self._keys: dict[str, str] = {}  # parameter -> widget key, as drawn this run
        self._set: dict[str, Any] = {}
        self._bar = None
        page_query = {k: v for k, v in _current_query().items() if k not in views.APP_PARAMS}
        written = st.session_state.setdefault(_WRITTEN, {})
        self._link: views.View | None = None
        self._applied: set[str] = set()
        self._quiet = False  # a view restored after a page switch: no notices
        self._incoming: dict | None = None
        if page_query != views.core.parse_query(written.get(page, "")):  # in any order
            if page_query or rerun_of_the_same_page():  # a link, or back to a bare address
                self._incoming = page_query
            else:  # back from another page: this page's last view, with today's image
                self._incoming, self._quiet = self._restored(written[page]), True
        if self._incoming is not None:
            written[page] = encode(page_query)  # applied once, even if the run stops
            self._link, self.notices = self._parse()
            if not self._quiet:
                self._choose_pickers(self._link)

    def _restored(self, query: str) -> dict:
        """The page's last view, its image and model replaced by the student's current
        choice (made on another page since)."""
        saved = {k: v for k, v in views.core.parse_query(query).items() if k not in PICKER_KEYS}
        tokens = {label: token for token, label in views.SOURCES.items()}
        for name, key in PICKER_KEYS.items():
            value = state.chosen(key)
            if name == "src":
                value = tokens.get(value)
            if name in self.spec.names and value is not None:
                saved[name] = self.spec.param(name).text(value)
        return saved

    def _parse(self) -> tuple[views.View, list[str]]:
        view, notices = views.parse(self.spec.page, self._incoming, self.context)
        return view, [] if self._quiet else notices

    # ------------------------------------------------------------ reading a link
    def _choose_pickers(self, link: views.View) -> None:
        """Make a link's image and model the student's choice in the shared pickers."""
        for name, key in PICKER_KEYS.items():
            if name in link:
                value = link[name]
                state.choose(key, views.SOURCES[value] if name == "src" else value)

    def settle(self, **facts) -> None:
        """Check a link's page settings against the facts known now (the image's size,
        the model's layers...); call it once the pickers have run."""
        self.context.update(facts)
        if self._incoming is not None:
            self._link, self.notices = self._parse()

    def linked(self, name: str, default=None):
        """A setting's value from the link that opened the page (once), else ``default``."""
        if self._link is None or name in self._applied or name not in self._link:
            return default
        self._applied.add(name)
        return self._link[name]

    def _values(self) -> dict[str, Any]:
        """The values of the settings drawn so far this run."""
        values = self._shared_values()
        for name, key in self._keys.items():
            if key in st.session_state:
                values[name] = st.session_state[key]
        values.update(self._set)
        return values

    def _shared_values(self) -> dict[str, Any]:
        source = st.session_state.get(PICKER_KEYS["src"])
        tokens = {label: token for token, label in views.SOURCES.items()}
        values = {name: st.session_state[key] for name, key in PICKER_KEYS.items()
                  if name != "src" and key in st.session_state}
        values["src"] = tokens.get(source, "sample")
        return values

    # ------------------------------------------------------------ widgets
    def widget(self, name: str, key: str | None = None) -> dict:
        """Keyword arguments for the widget of setting ``name`` (its options must be the
        setting's values): its key, with its value set from a link, kept valid when
        what it depends on changed, or its default the first time it is drawn."""
        key = key or f"{self.prefix}{name}"
        self.seed(name, key)
        return {"key": key}

    def seed(self, name: str, key: str) -> None:
        """Put setting ``name`` into session state under ``key`` before its widget is
        drawn: the link's value, else the current one made valid, else the default."""
        param = self.spec.param(name)
        values = self._values()
        self._keys[name] = key
        linked = self.linked(name, _NOTHING)
        if linked is not _NOTHING:
            if linked is None:  # "computed" (the peak, the top class): the widget's own default
                st.session_state.pop(key, None)
            else:
                st.session_state[key] = _as_widget_value(param, linked)
            return
        if key in st.session_state and st.session_state[key] is not None:
            current = _as_view_value(param, st.session_state[key])
            valid, _ = check(param, current, self.context, values)
            if valid is not None and valid != current:
                st.session_state[key] = _as_widget_value(param, valid)
            return
        _, default = check(param, None, self.context, values)
        if default is not None:
            st.session_state[key] = _as_widget_value(param, default)

    def pick(self, prefix: str, event, shape, peak, *, names=("row", "col")):
        """A pixel picked on a map (``cnnviz.ui.picks.resolve_pick``) that is part of the
        view: a link's pixel is picked first; until the student picks one, the pick
        follows the map's peak, which stays out of the URL. Returns (row, col, version
        of the sliders' keys)."""
        from cnnviz.ui.picks import resolve_pick

        peak = tuple(int(v) for v in peak)
        version = st.session_state.get(f"{prefix}_ver", 0)
        keys = [f"{prefix}_{axis}_{version}" for axis in ("row", "col")]
        linked = [self.linked(name, _NOTHING) for name in names]
        if tuple(st.session_state.get(key) for key in keys) == \
                st.session_state.get(f"{prefix}_peak"):
            linked = [None if value is _NOTHING else value for value in linked]
        for key, value in zip(keys, linked):  # a link's pixel; None follows the peak
            if value is None:
                st.session_state.pop(key, None)
            elif value is not _NOTHING:
                st.session_state[key] = value
        row, col, version = resolve_pick(prefix, event, shape, peak)
        st.session_state[f"{prefix}_peak"] = peak
        at_peak = (row, col) == peak
        for name, value in zip(names, (row, col)):
            self.set(name, None if at_peak else value)
        return row, col, version

    def set(self, name: str, value) -> None:
        """Record a setting that is not a widget (a clicked pixel, a typed kernel)."""
        self._set[name] = value

    # ------------------------------------------------------------ writing it back
    def bar(self) -> None:
        """Reserve the place, under the title, for the notices and the link control."""
        self._bar = st.container()

    def _portable(self, values: dict) -> dict:
        """The values a link can carry: an upload or a user model becomes the fallback the
        link opens on, and the link says so."""
        self._link_notes = []
        source = st.session_state.get(PICKER_KEYS["src"])
        if source in _UPLOAD_SOURCES:
            sample = st.session_state.get(PICKER_KEYS["sample"]) or \
                state.chosen(PICKER_KEYS["sample"]) or self.context["samples"][0]
            values.update(src="sample", sample=sample)
            what = "uploaded image" if source == "Upload" else "camera photo"
            self._link_notes.append(f"Your {what} isn't in the link (it stays in your "
                                    f"session); the link opens on the sample photo '{sample}'.")
        if "model" in self.spec.names and values.get("model") not in self.context["models"]:
            fallback = self.spec.param("model").default
            values["model"] = fallback
            self._link_notes.append(f"Your uploaded model isn't in the link; the link opens "
                                    f"on '{fallback}', and settings that don't fit it are "
                                    "adjusted there.")
        return values

    def publish(self) -> views.View:
        """Write the view as drawn into the address bar, show the notices and the link."""
        values = self._portable(self._values())
        self.view, _ = views.resolve(self.spec.page, values, self.context)
        query = self.view.query()
        written = st.session_state.setdefault(_WRITTEN, {})
        written[self.spec.page] = encode(query)
        keep = {k: v for k, v in _current_query().items() if k in views.APP_PARAMS}
        if _current_query() != {**query, **keep}:
            st.query_params.from_dict({**query, **keep})
        self.link = views.link(_base_url(self.spec), self.view)
        self._draw_bar()
        return self.view

    def _draw_bar(self) -> None:
        place = self._bar if self._bar is not None else st.container()
        with place:
            if self.notices:
                st.warning("  \n".join(f"This link: {notice}." for notice in self.notices),
                           icon=":material/link_off:")
            with st.popover("Link to this view", icon=":material/link:"):
                st.caption("Copy this address: it opens this page with the same settings, "
                           "figures and numbers, in any browser.")
                st.code(self.link, language=None, wrap_lines=True)
                for note in self._link_notes:
                    st.caption(note)

    def take_home(self, numbers: dict, arrays: dict) -> None:
        """The code and the maths of this view, with the notebook and the figures' data
        to download (call after :meth:`publish`)."""
        from cnnviz.ui.takehome import take_home

        take_home(self.view, numbers, arrays, link=self.link)


_NOTHING = object()


def _as_view_value(param: views.Param, value):
    return tuple(value) if param.kind in ("choices", "floats") else value


def _as_widget_value(param: views.Param, value):
    """A multiselect holds a list; a view holds a tuple (hashable, comparable)."""
    return list(value) if param.kind in ("choices", "floats") else value


def _base_url(spec: views.PageSpec) -> str:
    """The app's address as the browser sees it, without the page path."""
    url = (st.context.url or "").split("?")[0].rstrip("/")
    if not url:
        return "http://localhost:8501"
    return url.removesuffix("/" + spec.url_name)


def page_view(page: str, *, prefix: str) -> PageView:
    """Open page ``page``'s view: call it right after ``page_setup``, before the pickers,
    so that a link's image and model are what the pickers show."""
    return PageView(page, prefix=prefix)


def lost_link_notice() -> None:
    """On the home page: a link whose page was not found (Streamlit then runs the home
    page, keeping the query) is offered to the page its settings belong to."""
    query = {k: v for k, v in _current_query().items() if k not in views.APP_PARAMS}
    if not query:
        return
    pages = views.pages_for(query)
    if not pages:
        st.warning("This link's page was not found, and its settings belong to no page of "
                   "this app: pick a page from the menu.", icon=":material/link_off:")
        return
    st.warning("This link's page was not found (it may have been renamed). Its settings "
               "belong to the page below: open it with them.", icon=":material/link_off:")
    for page in pages:
        st.page_link(page.path, label=f"{page.title}, with this link's settings",
                     icon=":material/arrow_forward:", query_params=query)
