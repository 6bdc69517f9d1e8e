"""The code the Architecture lab shows runs and gives the page's numbers; so does the
notebook a student downloads (nbclient)."""

from __future__ import annotations

import pytest
from viewpages import execute_notebook, full_view, notices, numbers, open_app, show

from cnnviz import notebooks

# a short residual run in both (the page's default, 50 layers x 40 steps, is benchmarked)
QUERIES = [
    "depth=10&steps=10",
    "src=shape&shape=star&seed=3&pwl=block2_conv2&k=5&row=3&col=30&bh=14&bcin=64&bk=3&bb=8"
    "&incb=inception_10&depth=10&steps=10&act=sigmoid&bn=0"
    "&net=32x32x1,conv-8-k5,maxpool-2,residual-8-s2,gap,dense-10-linear",
]


@pytest.fixture(scope="module", autouse=True)
def trained():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")


@pytest.fixture(scope="module")
def app():
    return open_app(timeout=240)


@pytest.fixture(scope="module")
def pages(app):
    return {query: numbers(show(app, "architecture", query)) for query in QUERIES}


def test_a_stale_link_opens_the_nearest_view_with_notices(app):
    at = show(app, "architecture", "pwl=no_such_layer&k=999&act=elu&bk=4")
    said = " ".join(notices(at))
    assert "no_such_layer" in said and "999" in said and "elu" in said
    assert not at.exception and not [e.value for e in at.error]
    assert at.selectbox(key="pw_layer").value == "block3_conv1"
    assert at.slider(key="pw_k").value == 64


def _same(page_numbers: dict, code_numbers: dict):
    assert page_numbers.keys() == code_numbers.keys()
    for key, value in page_numbers.items():
        if isinstance(value, (float, list)):
            assert code_numbers[key] == pytest.approx(value, rel=1e-4, abs=1e-4), key
        else:
            assert code_numbers[key] == value, key


@pytest.mark.slow  # the page twice, then its code, which trains both 10-layer nets (~10 s)
@pytest.mark.parametrize("query", QUERIES)
def test_architecture_code_gives_the_pages_numbers(pages, query):
    view = full_view("architecture", query)
    namespace: dict = {"__name__": "__snippet__"}
    exec(compile(notebooks.code(view), "<the page's code>", "exec"), namespace)
    _same(pages[query], namespace["numbers"])
    assert namespace["result"]["settings"]["depth"] == 10
    maths = notebooks.maths(view, pages[query])
    assert f"{pages[query]['pointwise_params']:,}" in maths[0]
    if "pwl" in query:
        assert pages[query]["pointwise_in"] == [32, 32, 32]
        assert pages[query]["pointwise_params"] == 32 * 5 + 5
        assert pages[query]["branch_channels"]["1x1"] == 24
        assert pages[query]["network_output"] == "10"  # the link's network, not the preset
    else:
        assert pages[query]["network_output"] == "5"


@pytest.mark.slow  # a Jupyter kernel that imports TensorFlow and trains both nets
def test_architecture_notebook_matches_the_page(notebook_kernel, pages):
    query = QUERIES[1]
    _same(pages[query], execute_notebook(notebook_kernel, full_view("architecture", query)))
