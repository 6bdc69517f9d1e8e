"""Tables for the home page: what models and data are ready.

Nothing here imports TensorFlow: model and dataset status come from file checks
(and, for downloads, a short cached reachability probe).
"""

from __future__ import annotations


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
