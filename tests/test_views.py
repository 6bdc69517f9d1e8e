"""A view is data: round trips through a query string, defaults left out, and every bad
or stale parameter opens the nearest valid view with a notice, never an exception."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz import nettext, views

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ["cat (Chelsea)", "coffee cup", "astronaut"]
LAYERS = ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1",
          "block3_conv2"]
CONTEXT = {
    "convolution": {"samples": SAMPLES, "image_hw": (300, 451)},
    "gradcam": {"samples": SAMPLES, "models": ["shapes_cnn", "mobilenet_v2"],
                "classes": ["circle", "square", "triangle", "star", "cross"],
                "layers": LAYERS, "default_layer": "block3_conv2",
                "stages": ("block1_conv2", "block2_conv2", "block3_conv2"), "top_class": 0},
}
SHAPES_LAYERS = ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2",
                 "block2_pool", "block3_conv1", "block3_conv2"]
SHAPES_FACTS = {"samples": SAMPLES, "models": ["shapes_cnn", "mobilenet_v2"],
                "model": "shapes_cnn", "layers": SHAPES_LAYERS, "big": False,
                "channels": dict(zip(SHAPES_LAYERS, [16, 16, 16, 32, 32, 32, 64, 64]))}
CONTEXT["activations"] = {**SHAPES_FACTS, "default_kinds": ("conv", "pool"),
                          "kinds": {n: "pool" if "pool" in n else "conv" for n in SHAPES_LAYERS}}
CONTEXT["filters"] = SHAPES_FACTS
CONTEXT["pooling"] = {"samples": SAMPLES, "rf_layers": SHAPES_LAYERS,
                      "rf_hw": dict(zip(SHAPES_LAYERS, [(64, 64)] * 2 + [(32, 32)] * 3
                                        + [(16, 16)] * 3))}
CONTEXT["augmentation"] = {"samples": SAMPLES}
CONTEXT["architecture"] = {**SHAPES_FACTS, "sizes": dict(zip(SHAPES_LAYERS, [
    (64, 64), (64, 64), (32, 32), (32, 32), (32, 32), (16, 16), (16, 16), (16, 16)]))}
CONTEXT["transfer"] = {"bases": ["shapes_cnn", "mobilenet_v2"]}
TINY_VGG = ("64x64x3,conv-16,conv-16,maxpool-2,conv-32,conv-32,maxpool-2,conv-64,conv-64,"
            "maxpool-2,flatten,dense-64,dropout-0.5,dense-5-linear")  # the builder's default


def _parse(page, query):
    return views.parse(page, query, CONTEXT[page])


@pytest.mark.parametrize("page", list(views.SPECS))
def test_defaults_give_an_empty_query(page):
    view, notices = _parse(page, "")
    assert notices == []
    assert views.to_query(view) == ""
    assert views.link("http://host:8501/", view) == \
        f"http://host:8501/{views.spec(page).url_name}"


ROUND_TRIPS = {
    "convolution": [
        "src=shape&shape=star&seed=7&colour=rgb&size=128&pair=picked&k=9&top=3&left=40"
        "&stride=2&dil=3&row=4&col=5&channel=B",
        "target=star&decoy=cross&scene=7&k=30&matches=5",
        "size=128&pair=motorcycle&top=40&left=10",
        "sample=astronaut&kernel=classic&classic=gabor&ksize=11&angle=45&pad=same",
        "kernel=own&n=5&w=" + ",".join(["0.5"] * 12 + ["-2"] + ["0.25"] * 12)
        + "&pad=number&padn=3",
    ],
    "gradcam": [
        "model=mobilenet_v2&img=picked&src=sample&sample=coffee-cup&cls=3&layer=block2_conv2"
        "&pool=max",
        "img=picked&shape=cross&seed=12&cmp=gradcam,occlusion&lm=layercam"
        "&lys=block1_conv1,block3_conv2&sm=hirescam&sanity=1&pn=120&pm=gradcam,saliency&pg=1"
        "&dm=layercam",
        "objs=circle,star,cross&sseed=9&cls=1&sn=200&sk=3&sp=gradcam,saliency&sg=1",
    ],
    "activations": [
        "src=sample&sample=astronaut&kinds=conv&layers=block1_conv2,block3_conv1&scale=layer"
        "&ml=block3_conv1&mc=5&all=block3_conv1&rank=16&pair=block2_conv1&src2=sample"
        "&sample2=coffee-cup&pn=200&pseed=4",
        "shape=star&seed=3&layers=block2_pool&shape2=cross&seed2=9",
    ],
    "filters": [
        "layer=block3_conv1&how=top&n=5&steps=25&lr=3&aseed=2&fourier=1&jitter=0&rzoom=0.1"
        "&rrot=12&blur=0&sigma=0.5&tv=0.3&l2=1&cont=2",
        "model=mobilenet_v2&src=sample&sample=astronaut&first=7&n=9",
    ],
    "pooling": [
        "src=sample&sample=astronaut&layer=block3_conv1&row=3&col=15&mode=average&win=3"
        "&pstride=1&blocks=5&convs=1&ksize=7&down=stride&insize=64&shift=4&ntrain=500"
        "&epochs=2&seeds=1&pair=1",
        "shape=star&seed=3&win=4",
    ],
    "augmentation": [
        "layers=crop,rotation,erasing&crop_fraction=0.6&rotation_factor=0.25"
        "&erasing_probability=0.8&erasing_scale=0.3&draw=4&ds=textures&n=20&ep=30&eseed=5"
        "&seeds=1&bs=32&lr=0.0003",
        "src=sample&sample=coffee-cup&layers=flip&flip_mode=horizontal&ds=zip",
    ],
    "architecture": [
        "src=shape&shape=star&seed=3&pwl=block2_conv2&k=5&row=3&col=30&bh=14&bw=14&bcin=64"
        "&bcout=64&bk=3&bb=8&incb=inception_10&depth=12&act=sigmoid&bn=0&steps=20"
        "&model=mobilenet_v2",
        "net=32x32x1,conv1x1-8-tanh,maxpool-3-s1-valid,residual-8-s2,inception-4,gap,dropout-0.3"
        ",dense-10-linear&k=5",
    ],
    "transfer": ["task=textures&n=24&recipe=no_freeze&lr3=0.001&tseed=1&scratch=0",
                 "base=mobilenet_v2&head=hidden&top=5&ep2=3&ep3=0&nval=20"],
}


@pytest.mark.parametrize("page,query", [(p, q) for p, qs in ROUND_TRIPS.items() for q in qs])
def test_a_view_round_trips_through_its_query(page, query):
    view, notices = _parse(page, query)
    assert notices == []
    # the query it writes is the same settings, in the spec's order, and reads back equal
    written = views.to_query(view)
    assert views.core.parse_query(written) == views.core.parse_query(query)
    again, notices = _parse(page, written)
    assert notices == [] and again.values == view.values


def test_values_in_a_view_are_typed():
    view, _ = _parse("convolution", ROUND_TRIPS["convolution"][0])
    assert view["seed"] == 7 and view["size"] == 128 and view["row"] == 4
    assert view["src"] == "shape" and "sample" not in view  # sample does not apply to a shape
    view, _ = _parse("gradcam", ROUND_TRIPS["gradcam"][1])
    assert view["cmp"] == ("gradcam", "occlusion") and view["sanity"] is True
    view, _ = _parse("gradcam", ROUND_TRIPS["gradcam"][0])
    assert view["sample"] == "coffee cup"  # its URL slug names the photo


def test_default_values_are_left_out():
    view, _ = _parse("convolution", "stride=1&dil=1&kernel=patch&src=sample&stride=3")
    assert views.to_query(view) == "stride=3"
    # a default that depends on the image is left out too: the patch's default place
    view, _ = _parse("convolution", "pair=picked&k=15&top=56&left=85")  # works at 170x256
    assert views.to_query(view) == "pair=picked"
    # the patch around scene 1's shape, and the front wheel of the stereo pair
    view, _ = _parse("convolution", "k=46&top=66&left=31")
    assert views.to_query(view) == ""
    view, _ = _parse("convolution", "pair=motorcycle&k=64&top=92&left=175")
    assert views.to_query(view) == "pair=motorcycle"


BAD = {
    "convolution": [
        # (query, setting, the value shown, words of the notice)
        ("dil=12", "dil", 8, "dilation 12 is not between 1 and 8; showing 8"),
        ("stride=0", "stride", 1, "stride 0 is not between 1 and 8; showing 1"),
        ("stride=two", "stride", 1, "stride 'two' is not a whole number; showing 1"),
        ("angle=31&kernel=classic&classic=gabor", "angle", 30, "not on the slider's steps"),
        ("size=300", "size", 256, "working size '300' is not one of 64, 128"),
        ("kernel=sobel", "kernel", "patch", "kernel 'sobel' is not one of patch, classic, own"),
        ("classic=unsharp&kernel=classic", "classic", "vertical edges (x gradient)",
         "classic kernel 'unsharp' is not one of"),
        ("k=200", "k", 64, "patch size 200 is not a patch size that fits the image"),
        ("pair=picked&top=1000", "top", 170 - 15,
         "patch top row 1000 is not a row where the patch fits"),
        ("top=1000", "top", 128 - 46, "patch top row 1000 is not a row where the patch fits"),
        ("pair=mirror", "pair", "shapes", "image pair 'mirror' is not one of shapes, motorcycle"),
        ("target=blob", "target", "circle", "shape cut 'blob' is not one of circle"),
        ("decoy=circle", "decoy", "square", "other shape 'circle' is not a shape other than"),
        ("matches=9", "matches", 5, "matches marked 9 is not between 1 and 5; showing 5"),
        ("scene=-1", "scene", 0, "scenes' seed -1 is not between 0 and 10000"),
        ("src=upload", "src", "sample", "image source 'upload' is not a source a link can"),
        ("sample=lena", "sample", "cat (Chelsea)", "sample photo 'lena' is not one of the"),
        ("src=shape&shape=blob", "shape", "circle", "shape 'blob' is not one of circle"),
        ("src=shape&seed=-5", "seed", 0, "shape seed -5 is not between 0 and 10000"),
        ("kernel=own&w=1,2,3", "w", tuple([-1.0, 0.0, 1.0] * 3), "has 3 numbers, not 9"),
        ("kernel=own&w=1,x,3", "w", tuple([-1.0, 0.0, 1.0] * 3), "not numbers separated by"),
        ("pair=picked&row=9999", "row", 155, "output row 9999 is not a row of the response"),
        ("row=9999", "row", 82, "output row 9999 is not a row of the response map"),
        ("pad=number&padn=99", "padn", 64, "padding pixels 99 is not between 0 and 64"),
    ],
    "gradcam": [
        ("layer=block9_conv", "layer", "block3_conv2",
         "target layer 'block9_conv' is not a layer of shapes_cnn with a map; showing "
         "'block3_conv2'"),
        ("cls=7", "cls", 0, "class 7 is not a class number of shapes_cnn; showing 0"),
        ("cls=-1", "cls", 0, "class -1 is not a class number"),
        ("model=vgg16", "model", "shapes_cnn", "model 'vgg16' is not a model this server can"),
        ("model=user:abc:mine.keras", "model", "shapes_cnn", "is not a model this server"),
        ("pool=median", "pool", "mean", "gradient pooling 'median' is not one of mean, max"),
        ("cmp=gradcam,magic", "cmp", ("gradcam",), "'magic' is not an attribution method"),
        ("cmp=magic,wand", "cmp", views.gradcam.FAST, "are not an attribution method"),
        ("lys=block1_conv1,nope", "lys", ("block1_conv1",), "'nope' is not a layer of"),
        ("pn=55", "pn", 60, "not on the slider's steps"),
        ("sanity=maybe", "sanity", False, "sanity check run 'maybe' is not 1 or 0"),
        ("lm=saliency", "lm", "gradcam", "'saliency' is not a CAM method"),
        ("objs=ring,circle", "objs", ("circle",), "'ring' is not a shape class shapes_cnn"),
        ("img=photo", "img", "scene", "image 'photo' is not an image shapes_cnn can explain"),
        ("sseed=-3", "sseed", 0, "scene seed -3 is not between 0 and 10000"),
        ("sk=5", "sk", 3, "shapes per scene 5 is not between 2 and 3"),
    ],
    "activations": [
        ("layers=block1_conv1,block9", "layers", ("block1_conv1",),
         "'block9' is not a listed layer of shapes_cnn"),
        ("ml=block2_pool", "ml", "block1_conv1", "is not one of the layers shown"),
        ("layers=block3_conv2&mc=99", "mc", 63, "channel 99 is not a channel of that layer"),
        ("rank=100&layers=block3_conv2", "rank", 32, "is not between 0 and 32"),
        ("pn=240", "pn", 200, "not on the slider's steps"),
    ],
    "filters": [
        ("layer=nope", "layer", "block2_conv2", "layer 'nope' is not a layer of shapes_cnn"),
        ("n=100&layer=block1_conv1", "n", 16, "how many filters 100 is not between 1 and 16"),
        ("first=40", "first", 31, "first filter 40 is not a filter of that layer"),
        ("lr=5", "lr", 10.0, "learning rate '5' is not one of 1, 3, 10, 30"),
        ("cont=50", "cont", 20, "times continued 50 is not between 0 and 20"),
    ],
    "pooling": [
        ("layer=block9_conv", "layer", "block2_conv2", "is not a convolution or pooling layer"),
        ("layer=block3_conv2&row=40", "row", 15, "unit row 40 is not a row of the layer's map"),
        ("win=9", "win", 4, "pooling window 9 is not between 2 and 4; showing 4"),
        ("down=dilate", "down", "pool", "downsampling 'dilate' is not one of pool, stride"),
        ("ntrain=2000", "ntrain", 1500, "training images '2000' is not one of"),
        ("seeds=5", "seeds", 3, "seeds 5 is not between 1 and 3; showing 3"),
    ],
    "augmentation": [
        ("layers=flip,warp", "layers", ("flip",), "'warp' is not one of"),
        ("flip_mode=diagonal", "flip_mode", "horizontal_and_vertical",
         "'diagonal' is not one of"),
        ("rotation_factor=0.9", "rotation_factor", 0.5, "is not between 0 and 0.5"),
        ("ds=imagenet", "ds", "shapes", "dataset 'imagenet' is not a dataset of the page"),
        ("ep=17", "ep", 15, "not on the slider's steps"),
        ("seeds=9", "seeds", 2, "seeds per arm '9' is not one of 1, 2, 3"),
    ],
    "architecture": [
        ("net=64x64x3,pool-2", "net", TINY_VGG, "network: layer 1 'pool-2': 'pool' is not a "
         "layer type (one of conv, conv1x1, maxpool, avgpool, batchnorm, dropout, inception, "
         "residual, gap, gmp, flatten, dense); showing the Tiny VGG preset"),
        ("net=64x64x3,conv-0", "net", TINY_VGG, "filters 0 is not between 1 and 2048; showing"),
        ("net=conv-16", "net", TINY_VGG, "network: the input: it starts with 'conv-16', not"),
        ("net=", "net", TINY_VGG, "network: the network's text is empty"),
        ("net=8x8x1" + ",gap" * 41, "net", TINY_VGG, "the network has 41 layers; a link holds "
         "at most 40; showing the Tiny VGG preset"),
    ],
}


@pytest.mark.parametrize("page,query,name,shown,words",
                         [(p, *case) for p, cases in BAD.items() for case in cases])
def test_a_bad_or_stale_value_gives_the_nearest_view_and_a_notice(page, query, name, shown,
                                                                   words):
    view, notices = _parse(page, query)
    assert view[name] == shown
    assert len(notices) == 1 and words in notices[0], notices
    # what the page then writes is valid: it reads back with no notice
    assert _parse(page, views.to_query(view))[1] == []


def test_an_unknown_or_unused_parameter_is_ignored_with_a_notice():
    view, notices = _parse("convolution", "stride=2&zoom=3&angle=30")
    assert view["stride"] == 2 and "zoom" not in view.values and "angle" not in view.values
    assert notices == ["'zoom' is not a setting of the Convolution page; ignored",
                       "Gabor angle does not apply to this view; ignored"]
    # the app's own switches (the presenter view, a lesson) are not a page's settings
    assert _parse("convolution", "present=1&stride=2")[1] == []
    assert _parse("gradcam", "lesson=course&step=12&class=K7Q2&teach=1&cls=2")[1] == []


@pytest.mark.parametrize("query", [
    "&&&", "=", "stride", "stride=", "w=", "kernel=own&w=nan,1,2,3,4,5,6,7,8", "row=1e999",
    "cmp=", "cls=3.5", "size=", "%ZZ", "seed=" + "9" * 400, "lys=,,,", "src=&sample=",
    "net=,-,x", "net=1x1x1,conv-" + "9" * 400,
])
@pytest.mark.parametrize("page", list(views.SPECS))
def test_garbage_never_raises(page, query):
    view, notices = _parse(page, query)
    assert _parse(page, views.to_query(view))[1] == []


def test_checks_that_need_an_unknown_fact_are_skipped():
    """A lesson file can be checked without a model: what needs one is not judged."""
    view, notices = views.parse("gradcam", "layer=block2_conv2&cls=3&pool=median", {})
    assert view["layer"] == "block2_conv2" and view["cls"] == 3
    assert notices == ["gradient pooling 'median' is not one of mean, max; showing 'mean'"]


def test_typed_values_resolve_like_a_query():
    view, notices = views.resolve("convolution", {"stride": 20, "kernel": "own", "n": 3},
                                  CONTEXT["convolution"])
    assert view["stride"] == 8 and notices == ["stride 20 is not between 1 and 8; showing 8"]
    assert view["w"] == (-1.0, 0.0, 1.0) * 3


def test_a_network_is_written_the_way_the_builder_writes_it():
    view, notices = views.resolve("architecture", {"net": " 32X32x1, Conv8 ,maxpool2"},
                                  CONTEXT["architecture"])
    assert notices == [] and view["net"] == "32x32x1,conv-8,maxpool-2"
    assert views.to_query(view) == "net=32x32x1,conv-8,maxpool-2"  # commas stay readable
    # a preset that is not the default is written out; the default preset is not
    from cnnviz import architecture

    lenet = nettext.net_text(*reversed(architecture.preset("LeNet-5")))
    assert views.to_query(_parse("architecture", "net=" + lenet)[0]) == "net=" + lenet
    assert views.to_query(_parse("architecture", "net=" + TINY_VGG)[0]) == ""


def test_a_link_whose_page_was_not_found_is_matched_by_its_settings():
    assert [p.page for p in views.pages_for("layer=block2_conv2&cls=3")] == ["gradcam"]
    assert [p.page for p in views.pages_for("?stride=2&present=1")] == ["convolution"]
    assert len(views.pages_for("src=shape&shape=star")) == len(  # the shared ones
        [spec for spec in views.SPECS.values() if "src" in spec.names])
    assert views.pages_for("zoom=2") == [] and views.pages_for("present=1") == []


def test_specs_match_the_pages_and_their_pickers():
    from cnnviz.ui import IMAGE_SOURCES
    from cnnviz.ui.navigation import PAGES

    assert set(views.SOURCES.values()) <= set(IMAGE_SOURCES)

    paths = {page.path for page in PAGES}
    for spec in views.SPECS.values():
        assert spec.path in paths
        if "src" in spec.names:  # the Transfer page trains on datasets, not on one image
            assert set(spec.param("src").valid) == set(views.SOURCES)


def test_docs_are_generated_from_the_specs():
    assert (ROOT / "docs" / "views.md").read_text() == views.docs(), \
        "docs/views.md is stale: run python -m cnnviz.views"


def test_architecture_view_follows_the_layer_and_the_experiment():
    from cnnviz import residual

    view, notices = _parse("architecture", "pwl=block3_conv1&row=40&act=elu&depth=99")
    assert view["row"] == 15 and view["act"] == "relu" and view["depth"] == 60
    assert len(notices) == 3
    defaults = residual.Settings()
    view, _ = _parse("architecture", "")
    assert (view["depth"], view["act"], view["bn"], view["steps"]) == (
        defaults.depth, defaults.activation, defaults.batchnorm, defaults.steps)
    assert view["row"] == view["col"] == 8  # the middle of block3_conv1's 16x16 map


def test_importing_views_stays_light():
    code = ("import sys, cnnviz.views, cnnviz.notebooks; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'streamlit', 'nbformat') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
