"""The code the Activations and Filters pages show runs and gives the pages' numbers; so
do the notebooks a student downloads (nbclient, one kernel shared by this module)."""

from __future__ import annotations

import pytest
from viewpages import execute_notebook, full_view, numbers, open_app, show

from cnnviz import notebooks

ACTIVATIONS = [
    "",  # the defaults: a circle, three layers, the strongest map of the first enlarged
    "shape=star&seed=3&kinds=conv&layers=block1_conv2,block3_conv1&ml=block3_conv1&mc=5"
    "&pn=100&pseed=2",
]
FILTERS = [
    "layer=block1_conv2&n=4&steps=10",
    "layer=block2_conv1&how=top&n=3&steps=10&cont=1&lr=3&fourier=1&shape=cross",
]


@pytest.fixture(scope="module", autouse=True)
def trained():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")


def _pages(page: str, queries: list[str]) -> dict:
    app = open_app(timeout=240)
    return {query: numbers(show(app, page, query)) for query in queries}


def _run(code: str) -> dict:
    namespace: dict = {"__name__": "__snippet__"}
    exec(compile(code, "<the page's code>", "exec"), namespace)
    return namespace


def _same(page_numbers: dict, code_numbers: dict, rel: float):
    assert page_numbers.keys() == code_numbers.keys()
    for key, value in page_numbers.items():
        if isinstance(value, float):
            assert code_numbers[key] == pytest.approx(value, rel=rel, abs=1e-3), key
        elif isinstance(value, list) and value and isinstance(value[0], float):
            assert code_numbers[key] == pytest.approx(value, rel=rel, abs=1e-3), key
        else:
            assert code_numbers[key] == value, key


@pytest.fixture(scope="module")
def activation_pages():
    return _pages("activations", ACTIVATIONS)


@pytest.fixture(scope="module")
def filter_pages():
    return _pages("filters", FILTERS)


@pytest.mark.slow  # the page twice, then its code: a probe of every layer each (~10 s)
@pytest.mark.parametrize("query", ACTIVATIONS)
def test_activations_code_gives_the_pages_numbers(activation_pages, query):
    view = full_view("activations", query)
    namespace = _run(notebooks.code(view))
    _same(activation_pages[query], namespace["numbers"], rel=1e-4)
    if query:
        assert activation_pages[query]["enlarged"] == ["block3_conv1", 5]
        assert list(activation_pages[query]["zeros"]) == [
            "block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1",
            "block3_conv2"]
    else:  # a pooling layer after BatchNormalization: no zeros counted
        assert activation_pages[query]["zeros"]["block1_pool"] is None
    maths = notebooks.maths(view, activation_pages[query])
    best = activation_pages[query]["probe_best"]
    assert best in maths[-1] and f"{activation_pages[query]['probe_accuracy'][best]:.0%}" \
        .replace("%", r"\%") in maths[-1]


@pytest.mark.slow  # the page and its code each run gradient ascent (~8 s)
@pytest.mark.parametrize("query", FILTERS)
def test_filters_code_gives_the_pages_numbers(filter_pages, query):
    view = full_view("filters", query)
    namespace = _run(notebooks.code(view))
    _same(filter_pages[query], namespace["numbers"], rel=1e-3)
    assert filter_pages[query]["steps"] == (20 if "cont=1" in query else 10)
    maths = notebooks.maths(view, filter_pages[query])
    assert f"\\text{{steps}} = {filter_pages[query]['steps']}" in maths[1]


@pytest.mark.slow
def test_activations_notebook_matches_the_page(notebook_kernel, activation_pages):
    query = ACTIVATIONS[1]
    _same(activation_pages[query],
          execute_notebook(notebook_kernel, full_view("activations", query)), 1e-4)


@pytest.mark.slow
def test_filters_notebook_matches_the_page(notebook_kernel, filter_pages):
    query = FILTERS[1]
    _same(filter_pages[query],
          execute_notebook(notebook_kernel, full_view("filters", query)), 1e-3)
