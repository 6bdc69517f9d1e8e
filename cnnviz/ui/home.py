"""Tables for the home page: concepts per page, and what models and data are ready.

Nothing here imports TensorFlow: model and dataset status come from file checks
(and, for downloads, a short cached reachability probe).
"""

from __future__ import annotations

from cnnviz.ui.navigation import CONCEPTS, PAGES, available_pages


def concept_rows() -> list[tuple[str, str, str, str, bool]]:
    """(id, concept, page label, demonstration, page exists) in course order."""
    built = {page.path for page in available_pages()}
    labels = {page.path: page.label for page in PAGES}
    return [
        (concept_id, concept, page if page in built else labels[page], demo, page in built)
        for concept_id, concept, page, demo in CONCEPTS
    ]


def model_status_rows() -> list[dict[str, str]]:
    from cnnviz.models import available_models

    return [
        {"model": info.title, "kind": info.kind,
         "status": "ready" if info.usable else "unavailable",
         "details": info.reason}
        for info in available_models()
    ]


def data_status_rows() -> list[dict[str, str]]:
    from cnnviz.data import dataset_status

    return dataset_status()
