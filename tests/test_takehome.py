"""The code each page shows runs and gives the page's numbers; so does the notebook a
student downloads (executed with nbclient in one kernel shared by these tests)."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import numpy as np
import pytest
from viewpages import execute_notebook, full_view, numbers, open_app, show

from cnnviz import notebooks

CONVOLUTION = [
    "",  # the defaults: a circle cut from scene 1, matched on the two circles of scene 2
    "src=shape&shape=star&seed=3&colour=rgb&kernel=classic&classic=gabor&ksize=9&angle=45"
    "&stride=2&pad=same&row=5&col=7&channel=G",
    "sample=astronaut&size=128&kernel=own&n=3&w=1,2,1,0,0,0,-1,-2,-1&pad=number&padn=2&dil=2",
    # a patch searched in its own image; stride and dilation: no Keras check
    "size=64&pair=picked&k=5&top=10&left=20&stride=3&dil=2",
    "pair=motorcycle&size=128&colour=rgb&matches=2",  # a stereo pair, in colour
]
GRADCAM = [
    "",  # the defaults: a square and a star in one scene, the top class, the last conv layer
    "img=picked&shape=star&seed=4&cls=1&layer=block2_conv2&pool=max",  # one shape
    "objs=circle,triangle,cross&sseed=3&cls=2",  # three shapes
]


def _same(page_numbers: dict, code_numbers: dict, rel: float):
    assert page_numbers.keys() == code_numbers.keys()
    for key, value in page_numbers.items():
        if isinstance(value, float):
            assert code_numbers[key] == pytest.approx(value, rel=rel, abs=1e-4), key
        else:
            assert code_numbers[key] == value, key


def _run(code: str) -> dict:
    namespace: dict = {"__name__": "__snippet__"}
    exec(compile(code, "<the page's code>", "exec"), namespace)
    return namespace


def _pages(page: str, queries: list[str]) -> dict:
    """The page's numbers at each setting, in one AppTest session (a link with an empty
    query keeps a session's settings, so the defaults are seen first)."""
    app = open_app()
    return {query: numbers(show(app, page, query)) for query in queries}


@pytest.fixture(scope="module")
def conv_pages():
    return _pages("convolution", CONVOLUTION)


@pytest.mark.parametrize("query", CONVOLUTION)
def test_convolution_code_gives_the_pages_numbers(conv_pages, query):
    view = full_view("convolution", query)
    namespace = _run(notebooks.code(view))
    _same(conv_pages[query], namespace["numbers"], rel=1e-6)
    if "keras_response" in namespace:  # a Keras Conv2D layer computes the same map (in
        # float32: sums of thousands of products agree to float32's relative precision)
        np.testing.assert_allclose(namespace["keras_response"], namespace["response"],
                                   rtol=1e-5, atol=1e-3)
    shown = conv_pages[query]
    if not query:  # the two best matches are the two circles of scene 2, the square is not
        assert [score >= 0.5 for score in shown["object_scores"]] == [True, True, False]
        assert shown["matches"][0][:2] == shown["ncc_peak"]
    if "pair=picked" in query:  # a patch searched in its own image is found where it was cut
        assert shown["ncc_peak"] == [view["top"], view["left"]] and shown["ncc_score"] > 0.999


def test_convolution_maths_carry_the_numbers(conv_pages):
    query = CONVOLUTION[2]
    maths = notebooks.maths(full_view("convolution", query), conv_pages[query])
    out_h, out_w = conv_pages[query]["output_hw"]
    assert maths[1].endswith(f"= {out_h}") and maths[2].endswith(f"= {out_w}")
    assert f"{conv_pages[query]['pixel_value']:.4f}" in maths[3]


@pytest.fixture(scope="module")
def gradcam_pages():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")
    return _pages("gradcam", GRADCAM)


@pytest.mark.slow  # the Grad-CAM page and a GradientTape per setting: ~15 s
@pytest.mark.parametrize("query", GRADCAM)
def test_gradcam_code_gives_the_pages_numbers(gradcam_pages, query):
    namespace = _run(notebooks.code(full_view("gradcam", query)))
    _same(gradcam_pages[query], namespace["numbers"], rel=1e-3)
    # the hand-written GradientTape map is cnnviz's map
    np.testing.assert_allclose(namespace["heatmap"], namespace["steps"].cam[0], atol=1e-4)
    if not query:  # the star is predicted, and each class's map is on its own shape
        assert gradcam_pages[query]["class"] == gradcam_pages[query]["top_class"] == 3
        assert gradcam_pages[query]["peak_on_object"] is True
        assert gradcam_pages[query]["compared"] == [1, 3]  # square, star
        assert gradcam_pages[query]["points_at_object"] == [0, 1]


def test_notebook_and_data_zip_hold_the_view():
    view = full_view("convolution", CONVOLUTION[1])
    nb = json.loads(notebooks.notebook_bytes(view, link="http://host/Convolution?x=1",
                                             maths_lines=["o = 1"]))
    sources = ["".join(cell["source"]) for cell in nb["cells"]]
    code = "\n\n".join(s for s, c in zip(sources, nb["cells"]) if c["cell_type"] == "code")
    assert "angle=45" in code and "stride=2, padding='same'" in code
    assert "http://host/Convolution?x=1" in sources[0] and "$$o = 1$$" in sources[1]
    data = notebooks.data_zip({"response": np.eye(3), "image": np.zeros((2, 2, 3), np.uint8)},
                              {"peak": [0, 0]}, view, link="http://host/x")
    with zipfile.ZipFile(BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["figures.npz", "numbers.json", "response.csv",
                                              "view.json"]
        assert json.loads(archive.read("view.json"))["query"]["angle"] == "45"
        assert np.load(BytesIO(archive.read("figures.npz")))["image"].shape == (2, 2, 3)


# ------------------------------------------------------------------ notebooks
@pytest.mark.slow  # a Jupyter kernel that imports TensorFlow
@pytest.mark.parametrize("query", [CONVOLUTION[0], CONVOLUTION[2], CONVOLUTION[4]])
def test_convolution_notebook_matches_the_page(notebook_kernel, conv_pages, query):
    _same(conv_pages[query],
          execute_notebook(notebook_kernel, full_view("convolution", query)), rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("query", GRADCAM[:2])
def test_gradcam_notebook_matches_the_page(notebook_kernel, gradcam_pages, query):
    _same(gradcam_pages[query],
          execute_notebook(notebook_kernel, full_view("gradcam", query)), rel=1e-3)



# ------------------------------------------------------------------ pooling
POOLING = [
    "",  # the defaults: a circle, 2x2 max pooling, the centre unit of block2_conv2
    "src=sample&sample=astronaut&mode=average&win=3&pstride=2&layer=block3_conv1&row=2"
    "&col=13&shift=3",
]


@pytest.fixture(scope="module")
def pooling_pages():
    from cnnviz.models import builtin

    if not builtin.WEIGHTS_PATH.is_file():
        pytest.skip("the built-in model's trained weights are not there")
    return _pages("pooling", POOLING)


@pytest.mark.slow  # the Pooling page twice, and its code twice: ~40 s
@pytest.mark.parametrize("query", POOLING)
def test_pooling_code_gives_the_pages_numbers(pooling_pages, query):
    view = full_view("pooling", query)
    namespace = _run(notebooks.code(view))
    _same(pooling_pages[query], namespace["numbers"], rel=1e-4)
    np.testing.assert_allclose(np.asarray(namespace["keras_pooled"]), namespace["pooled"],
                               atol=1e-5)  # Keras's pooling layer gives the page's map
    shown = pooling_pages[query]
    assert shown["pair_head_parameters"] == {"pooled": 1285, "plain": 81925}
    if query:
        assert shown["unit"] == [2, 13] and shown["pooled_hw"][1] == \
            (shown["edge_map_hw"][1] - 3) // 2 + 1
        assert len(shown["shift_same_prediction"]) == 4
    maths = notebooks.maths(view, shown)
    assert maths[0].endswith(f"= {shown['pooled_hw'][1]}") and "81,925" in maths[2]


@pytest.mark.slow
def test_pooling_notebook_matches_the_page(notebook_kernel, pooling_pages):
    _same(pooling_pages[POOLING[1]],
          execute_notebook(notebook_kernel, full_view("pooling", POOLING[1])), rel=1e-4)
