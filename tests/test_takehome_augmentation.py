"""The code the Augmentation page shows runs and gives the page's numbers, the
experiment's included (at tiny settings); so does the notebook a student downloads."""

from __future__ import annotations

import pytest
from apppredict import skip_questions
from pagejobs import finish_jobs
from viewpages import execute_notebook, full_view, numbers, open_app, show

from cnnviz import notebooks

#: the defaults (no experiment run), then a pipeline with a crop and a tiny experiment
QUERIES = ["", "layers=crop,rotation,noise&crop_fraction=0.7&rotation_factor=0.5&draw=3"
               "&n=5&ep=5&eseed=2&bs=8&seeds=1"]


def _run(code: str) -> dict:
    namespace: dict = {"__name__": "__snippet__"}
    exec(compile(code, "<the page's code>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def app():
    return open_app()


@pytest.fixture(scope="module")
def pages(app):
    """The page's numbers at each query; at the second, after its experiment ran."""
    from cnnviz import jobs

    shown = {QUERIES[0]: numbers(show(app, "augmentation", QUERIES[0]))}
    pool = jobs.EmbeddedPool(1)
    previous = jobs.set_backend(pool)
    try:
        show(app, "augmentation", QUERIES[1])
        next(b for b in app.button if b.label == "Train both").click()
        app.run()
        finish_jobs(app, "augmentation")
        skip_questions(app)
        shown[QUERIES[1]] = numbers(app)
        return shown
    finally:
        pool.close()
        jobs.set_backend(previous)


def test_default_code_gives_the_pipeline_numbers(app):
    page = numbers(show(app, "augmentation", QUERIES[0]))
    assert page["identity_at_inference"] == [True] * len(page["layers"])
    assert "gain" not in page  # no experiment ran: the page shows no verdict numbers
    code = notebooks.code(full_view("augmentation", QUERIES[0]))
    pipeline_part = code[:code.index("# %% The experiment")]
    namespace = _run(pipeline_part)
    assert [e.name for e in namespace["effects"]] == page["layers"]


@pytest.mark.slow  # trains the tiny experiment twice (page and code): ~20 s
def test_experiment_code_gives_the_pages_numbers(pages):
    page = pages[QUERIES[1]]
    assert page["layers"] == ["RandomCrop", "Resizing", "RandomRotation", "GaussianNoise"]
    assert {"val_without", "val_with", "gain", "threshold", "verdict"} <= page.keys()
    namespace = _run(notebooks.code(full_view("augmentation", QUERIES[1])))
    assert namespace["numbers"] == page
    maths = notebooks.maths(full_view("augmentation", QUERIES[1]), page)
    assert f"{100 * page['gain']:+.1f}" in maths[-1] and page["verdict"] in maths[-1]


@pytest.mark.slow  # a Jupyter kernel that imports TensorFlow, and the tiny experiment
def test_notebook_matches_the_page(notebook_kernel, pages):
    got = execute_notebook(notebook_kernel, full_view("augmentation", QUERIES[1]))
    assert got == pages[QUERIES[1]]
