"""Open a page with a view at a query string in AppTest and read what it shows: its
numbers (the take-home panel's JSON), its notices, the URL it writes; and the full
view a query names, as the page resolves it (shared by the take-home and link tests)."""

from __future__ import annotations

import ast
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz import views

ROOT = Path(__file__).resolve().parents[1]


def open_app(timeout: int = 180) -> AppTest:
    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout).run()


def show(at: AppTest, page: str, query: str | dict) -> AppTest:
    """Open ``page`` (a view id) as a link with ``query`` would, in this AppTest session."""
    at.query_params = dict(views.core.parse_query(query)) if isinstance(query, str) \
        else dict(query)
    at.switch_page(views.spec(page).path).run()
    assert not at.exception, at.exception
    return at


def numbers(at: AppTest) -> dict:
    """The numbers the page shows in its take-home panel (what its code prints last)."""
    shown = [c.value for c in at.code if c.value.startswith("{")]
    return ast.literal_eval(shown[-1])


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("This link:")]


def full_view(page: str, query: str | dict) -> views.View:
    """The view a query names, checked against the same facts the page uses."""
    context = views.image_context()
    first, _ = views.parse(page, query, context)
    if page == "convolution":
        context.update(views.convolution.facts(views.picked_image(first)[0]))
    elif page == "architecture":
        from cnnviz import models

        context.update(views.architecture.facts(models.load_model(views.architecture.DEMO_MODEL)))
    elif page in ("gradcam", "activations", "filters"):
        from cnnviz import models

        context["models"] = [first["model"]]
        facts = getattr(views, page).facts
        context.update(facts(models.load_model(first["model"]), first["model"]))
    elif page == "pooling":
        from cnnviz import models, receptive

        context.update(views.pooling.facts(receptive.window_layers(
            models.load_model(views.pooling.MODEL))))
    return views.parse(page, query, context)[0]


def execute_notebook(kernel, view) -> dict:
    """Run the notebook a page offers for ``view`` in ``kernel``; the numbers it prints last."""
    import nbformat
    from nbclient import NotebookClient

    from cnnviz import notebooks

    nb = nbformat.reads(notebooks.notebook_bytes(view).decode(), as_version=4)
    NotebookClient(nb, km=kernel, timeout=300,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    printed = "".join(out.get("text", "") for out in nb.cells[-1].outputs
                      if out.output_type == "stream")
    return ast.literal_eval(printed.strip().splitlines()[-1])
