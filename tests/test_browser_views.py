"""Links in a real browser: set a page's state through its widgets, copy "Link to this
view", open it in a new browser context (a student's browser) and find the same numbers;
a link with bad settings opens with a notice, never an exception."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from appdriver import (
    EXCEPTION,
    app_server,
    browser,
    choose,
    require_chromium,
    slide_to,
    wait_until_done,
)
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS", ROOT / "shots"))

require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1280, "height": 720}
SKIP = "Show without guessing"
POINTWISE_TAB = "What does a 1x1 conv do?"
ACTIVATION_TABS = ("Early vs deep layers", "Every channel of a layer", "Two images side by side")


@pytest.fixture(scope="module")
def app():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_server(log_path=SHOTS / "server-views.log") as (base, _), browser() as chromium:
        yield base, chromium


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def _link(page) -> str:
    page.get_by_role("button", name="Link to this view").click()
    body = page.locator("[data-testid='stPopoverBody']")
    body.wait_for()
    url = re.search(r"http\S+", body.inner_text()).group(0)
    page.keyboard.press("Escape")
    return url


def _open_in_new_browser(chromium, url):
    """A student's browser: a new context (no cookies, no session). Returns the page and
    the seconds from the address to the finished page."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    wait_until_done(page)
    return page, time.perf_counter() - start


def _slider_steps(page, label: str, steps: int):
    thumb = page.locator("[data-testid='stSlider']").filter(has_text=label).get_by_role("slider")
    thumb.focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(1000)  # the slider sends its value after a debounce
    wait_until_done(page)


def _convolution_numbers(text: str) -> tuple:
    size = re.search(r"→ output (\d+x\d+)", text).group(1)
    pixel = re.search(r"Output pixel \(row (\d+), col (\d+)\).*?Sum of all (\d+) products = "
                      r"(-?[\d.]+)", text, re.S).groups()
    return size, pixel


def _show_without_guessing(page):
    """Skip every predict-then-reveal question, so the page shows all its results (a
    click that lands while the page reruns is lost: it is tried again)."""
    skip = page.locator("button", has_text="Show without guessing")
    skip.first.wait_for(timeout=60_000)  # the page has questions: wait until they are drawn
    for _ in range(8):
        left = skip.count()
        if not left:
            return
        skip.first.click()
        try:
            expect(skip).to_have_count(left - 1, timeout=10_000)
        except AssertionError:
            continue
        wait_until_done(page)
    raise AssertionError("the questions kept asking")


def test_convolution_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{base}/Convolution")
    wait_until_done(page)
    page.get_by_text("A classic kernel").click()
    wait_until_done(page)
    _slider_steps(page, "Stride", 1)
    _slider_steps(page, "Dilation", 2)
    page.get_by_text("colour (3 channels)").click()
    wait_until_done(page)
    assert page.locator(EXCEPTION).count() == 0
    _show_without_guessing(page)
    numbers = _read(page, _convolution_numbers)
    url = _link(page)
    assert "colour=rgb" in url and "kernel=classic" in url and "stride=2" in url \
        and "dil=3" in url
    assert page.url == url  # the address bar shows the same view
    copy, seconds = _open_in_new_browser(chromium, url)
    print(f"\nConvolution link opened in {seconds:.1f} s: {url}")
    assert copy.locator(EXCEPTION).count() == 0
    _show_without_guessing(copy)
    assert _read(copy, _convolution_numbers) == numbers
    assert "This link:" not in _main_text(copy)
    copy.screenshot(path=str(SHOTS / "Convolution-link.png"))
    # the notebook a student downloads holds this view's code
    copy.get_by_text("The code and the maths of this view").click()
    with copy.expect_download() as download:
        copy.get_by_role("button", name="Download as notebook").click()
    notebook = json.loads(Path(download.value.path()).read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"])
    assert "conv.to_float(image)" in code and "stride=2, padding='valid', dilation=3" in code
    assert url in "".join(notebook["cells"][0]["source"])
    context.close()
    copy.context.close()


def _matching_numbers(text: str) -> tuple:
    best = re.search(r"Best match at row \d+, col \d+ \(score [\d.]+\), [^;]*", text).group(0)
    raw = re.search(r"The raw weighted sum peaks [^:]*", text).group(0)
    return best, raw, _convolution_numbers(text)


def test_a_matching_view_opens_the_same_matches_in_a_new_browser(app):
    base, chromium = app
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{base}/Convolution")
    wait_until_done(page)
    choose(page, "Cut the patch from", re.compile(r"^Photos: cut from the left camera"))
    _slider_steps(page, "Patch left column", 3)
    _slider_steps(page, "Stride", 1)
    _show_without_guessing(page)
    assert page.locator(EXCEPTION).count() == 0
    numbers = _read(page, _matching_numbers)
    assert "columns left of where it was cut in the left camera's photo" in numbers[0]
    url = _link(page)
    assert "pair=motorcycle" in url and "left=178" in url and "stride=2" in url
    copy, _ = _open_in_new_browser(chromium, url)
    assert copy.locator(EXCEPTION).count() == 0
    _show_without_guessing(copy)
    assert _read(copy, _matching_numbers) == numbers
    copy.screenshot(path=str(SHOTS / "Convolution-matching-link.png"))
    context.close()
    copy.context.close()


def _gradcam_numbers(text: str) -> tuple:
    logit = re.search(r"The logit of (\w+) is (-?[\d.]+)", text).groups()
    layer = re.search(r"Layer (\w+) outputs (\d+) feature maps of (\d+×\d+)", text).groups()
    return logit, layer


def test_gradcam_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{base}/Grad-CAM")
    wait_until_done(page, timeout_ms=240_000)
    # another scene: three shapes, seed 1
    shapes = page.locator("[data-testid='stMultiSelect']").filter(
        has_text="Shapes in the scene").locator("input")
    shapes.click()
    shapes.fill("circle")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_until_done(page)
    page.locator("[data-testid='stNumberInput']").filter(has_text="Scene seed") \
        .get_by_test_id("stNumberInputStepUp").click()
    wait_until_done(page)
    choose(page, "Explain the class", re.compile(r"^triangle"))
    page.get_by_text("max (for comparison)").click()
    wait_until_done(page)
    assert page.locator(EXCEPTION).count() == 0
    numbers = _read(page, _gradcam_numbers)
    assert numbers[0][0] == "triangle"
    url = _link(page)
    assert "objs=square,star,circle" in url and "sseed=1" in url
    assert "cls=2" in url and "pool=max" in url
    copy, seconds = _open_in_new_browser(chromium, url)
    print(f"\nGrad-CAM link opened in {seconds:.1f} s (warm server): {url}")
    assert copy.locator(EXCEPTION).count() == 0
    assert _read(copy, _gradcam_numbers) == numbers
    chips = copy.locator("[data-testid='stMultiSelect']").filter(has_text="Shapes in the scene")
    assert "circle" in chips.inner_text()
    assert copy.locator("[data-testid='stNumberInput']").filter(has_text="Scene seed") \
        .locator("input").input_value() == "1"
    copy.screenshot(path=str(SHOTS / "Grad-CAM-link.png"))
    context.close()
    copy.context.close()


def _pooling_numbers(text: str) -> tuple:
    cut = re.search(r"cutting ([\d,]+) positions to ([\d,]+)", text).groups()
    unit = re.search(r"Unit \((\d+), (\d+)\) of (\w+) can see a (\d+x\d+) square", text)
    shift = re.search(r"Shifted by up to (\d+) px, the feature maps change by (\d+%–\d+%)",
                      text).groups()
    return cut, unit.groups() if unit else None, shift


def test_pooling_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{base}/Pooling_and_Receptive_Fields")
    wait_until_done(page, timeout_ms=240_000)
    _slider_steps(page, "Window", 1)  # 3x3 windows; the stride stays 2
    choose(page, "Layer of the shapes CNN", re.compile(r"^block3_conv1$"))
    _slider_steps(page, "Shift the image right", 2)
    _show_without_guessing(page)
    assert page.locator(EXCEPTION).count() == 0
    numbers = _read(page, _pooling_numbers)
    assert numbers[2][0] == "10" and numbers[1][2] == "block3_conv1"
    url = _link(page)
    assert "win=3" in url and "layer=block3_conv1" in url and "shift=10" in url
    copy, seconds = _open_in_new_browser(chromium, url)
    print(f"\nPooling link opened in {seconds:.1f} s: {url}")
    assert copy.locator(EXCEPTION).count() == 0
    _show_without_guessing(copy)
    assert _read(copy, _pooling_numbers) == numbers
    assert "This link:" not in _main_text(copy)
    copy.screenshot(path=str(SHOTS / "Pooling-link.png"), full_page=True)
    context.close()
    copy.context.close()


@pytest.mark.parametrize("path,words", [
    ("Pooling_and_Receptive_Fields?win=9&layer=block9&down=dilate",
     ["pooling window 9 is not between 2 and 4", "layer 'block9' is not a convolution",
      "downsampling 'dilate' is not one of"]),
    ("Convolution?dil=99&kernel=sobel&zoom=1",
     ["dilation 99 is not between 1 and 8", "kernel 'sobel' is not one of"]),
    ("Convolution?pair=mirror&target=blob&matches=0",
     ["image pair 'mirror' is not one of", "shape cut 'blob' is not one of",
      "matches marked 0 is not between 1 and 5"]),
    ("Grad-CAM?layer=block9_conv&cls=42&model=vgg99&src=camera&objs=ring,circle",
     ["target layer 'block9_conv' is not a layer of shapes_cnn",
      "class 42 is not a class number of shapes_cnn", "model 'vgg99' is not a model",
      "'ring' is not a shape class shapes_cnn knows"]),
    ("Architecture?pwl=nope&k=500&act=elu",
     ["'nope' is not a layer of shapes_cnn", "500 is not between 1 and 64",
      "'elu' is not one of"]),
    ("Augmentation?layers=flip,warp&ep=999&lr=5&flip_mode=diagonal",
     ["'warp' is not", "epochs 999 is not between", "learning rate '5' is not one of",
      "'diagonal' is not one of"]),
    ("Activations?layers=block1_conv1,block9&mc=999&pn=7",
     ["'block9' is not a listed layer of shapes_cnn", "probe images 7 is not between"]),
    ("Filters?layer=nope&lr=5&cont=99&steps=5&n=2",  # few steps: the fallback is cheap
     ["layer 'nope' is not a layer of shapes_cnn", "learning rate '5' is not one of",
      "times continued 99 is not between 0 and 20"]),
    ("Gradcam?layer=block2_conv2", ["was not found"]),  # a page renamed or mistyped
    ("Transfer_Learning?n=500&task=mars&lr3=9",  # corrected, and not run until Run
     ["training images per class 500 is not between 3 and 100", "new task 'mars' is not",
      "phase 3 learning rate '9' is not one of", "Press Run"]),
])
def test_a_bad_link_gives_a_notice_and_no_exception(app, path, words):
    base, chromium = app
    page, _ = _open_in_new_browser(chromium, f"{base}/{path}")
    text = _main_text(page)
    assert page.locator(EXCEPTION).count() == 0
    assert "Something went wrong" not in text
    for word in words:
        assert word in text
    page.context.close()


def _expect_stride(page, url_end: str, value: str):
    """Wait until the address and the Stride slider show a view (a rerun may still be
    on its way after a history step)."""
    expect(page).to_have_url(re.compile(re.escape(url_end) + "$"), timeout=60_000)
    expect(page.locator("[data-testid='stSlider']").filter(has_text="Stride").locator(
        "[data-testid='stSliderThumbValue']")).to_have_text(value, timeout=60_000)
    wait_until_done(page)


def test_back_button_steps_through_views_and_a_page_comes_back_as_left(app):
    base, chromium = app
    page, _ = _open_in_new_browser(chromium, f"{base}/Convolution")
    _slider_steps(page, "Stride", 1)
    _expect_stride(page, "/Convolution?stride=2", "2")
    _slider_steps(page, "Stride", 1)
    _expect_stride(page, "/Convolution?stride=3", "3")
    page.go_back()
    _expect_stride(page, "/Convolution?stride=2", "2")
    page.go_back()
    _expect_stride(page, "/Convolution", "1")  # a bare address: the defaults
    page.go_forward()
    _expect_stride(page, "/Convolution?stride=2", "2")
    sidebar = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']")
    sidebar.get_by_text("Home", exact=True).click()
    wait_until_done(page)
    sidebar.get_by_text("Convolution", exact=True).click()
    _expect_stride(page, "/Convolution?stride=2", "2")  # the page as the student left it
    assert page.locator(EXCEPTION).count() == 0
    page.context.close()


# ------------------------------------------------- Activations and Filters
def _settle(page):
    page.wait_for_timeout(400)  # let the rerun a click asked for start
    wait_until_done(page, timeout_ms=240_000)
    assert page.locator(EXCEPTION).count() == 0


def _skip_questions(page, tabs=()):
    """Show every result without guessing, in each of ``tabs`` in turn (a question in a
    hidden tab has no visible button), ending on the first tab."""
    for tab in [*tabs[1:], *tabs[:1]] or [None]:
        if tab:
            page.get_by_role("tab", name=tab).click()
        buttons = page.get_by_role("button", name=SKIP)
        for _ in range(8):
            left = buttons.count()
            if not left:
                break
            buttons.first.click()
            try:  # a click that lands while the page reruns is lost: it is tried again
                expect(buttons).to_have_count(left - 1, timeout=10_000)
            except AssertionError:
                continue
            _settle(page)
    _settle(page)


def _read(page, numbers, timeout_s: float = 120.0):
    """``numbers(text of the page)`` once the page shows them: on a loaded machine the
    last rerun can still be drawing when the script state says it finished."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return numbers(_main_text(page))
        except AttributeError:  # a pattern not on the page (yet)
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(1000)


def _open(chromium, url):
    """A new browser on ``url``, its questions' rerun settled."""
    page, seconds = _open_in_new_browser(chromium, url)
    _settle(page)
    return page, seconds


def _pick(page, label: str, option: str):
    choose(page, label, option)
    _settle(page)


def _activation_numbers(text: str) -> tuple:
    enlarged = re.search(r"Enlarged: (\w+), channel (\d+)", text).groups()
    probe = re.search(r"reads the shape from (\w+) at (\d+)% and from (\w+) at (\d+)%",
                      text).groups()
    zeros = re.search(r"Zeros, counted after each non-linearity, go from (\d+)% in (\w+) "
                      r"to (\d+)% in (\w+)", text).groups()
    return enlarged, probe, zeros


def test_activations_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    page, _ = _open(chromium, f"{base}/Activations")
    page.get_by_text("the layer's range (see which are strong)").click()
    _settle(page)
    page.get_by_role("tab", name="Two images side by side").click()
    _pick(page, "Layer to compare", "block3_conv1")
    page.get_by_role("tab", name="Every channel of a layer").click()
    _pick(page, "Layer to browse", "block2_conv2")
    _skip_questions(page, ACTIVATION_TABS)
    numbers = _read(page, _activation_numbers)
    url = _link(page)
    assert "scale=layer" in url and "pair=block3_conv1" in url and "all=block2_conv2" in url
    copy, seconds = _open(chromium, url)
    print(f"\nActivations link opened in {seconds:.1f} s: {url}")
    _skip_questions(copy, ACTIVATION_TABS)
    assert _read(copy, _activation_numbers) == numbers
    assert "This link:" not in _main_text(copy)
    copy.screenshot(path=str(SHOTS / "Activations-link.png"))
    page.context.close()
    copy.context.close()


def _filter_numbers(text: str) -> tuple:
    head = re.search(r"(\w+): (\d+) filters after (\d+) steps", text).groups()
    settings = re.search(r"learning rate ([\d.]+), seed (\d+), steps ([\d +]+)\.", text).groups()
    return head, settings


def test_filters_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    page, _ = _open(chromium, f"{base}/Filters?layer=block1_conv2&steps=10")  # a lecturer's
    main = page.locator("[data-testid='stMain']")
    slide_to(page, "How many", 4)  # 16 -> 4 filters
    # on a loaded machine the rerun may start after the settle: wait for its result
    expect(main).to_contain_text("block1_conv2: 4 filters after 10 steps", timeout=240_000)
    _settle(page)
    page.get_by_role("button", name=re.compile("^Continue")).click()
    expect(main).to_contain_text("block1_conv2: 4 filters after 20 steps", timeout=240_000)
    _settle(page)
    numbers = _read(page, _filter_numbers)
    assert numbers[0] == ("block1_conv2", "4", "20")
    url = _link(page)
    assert "layer=block1_conv2" in url and "n=4" in url and "cont=1" in url
    copy, seconds = _open(chromium, url)
    print(f"\nFilters link opened in {seconds:.1f} s: {url}")
    assert _read(copy, _filter_numbers) == numbers
    copy.screenshot(path=str(SHOTS / "Filters-link.png"))
    page.context.close()
    copy.context.close()


# ------------------------------------------------- Augmentation
def _augmentation_numbers(page) -> tuple:
    """The per-layer check's table and the preview's draw, as the page shows them."""
    table = page.locator("[data-testid='stTable']").first.inner_text()
    return re.search(r"\(draw (\d+)\)", _main_text(page)).group(1), table


def test_augmentation_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    page, _ = _open(chromium, f"{base}/Augmentation")
    _pick(page, "Flip: Direction", "horizontal")
    draw = page.locator("[data-testid='stNumberInput']").filter(has_text="Random draw") \
        .locator("input")
    draw.fill("3")
    draw.press("Enter")
    _settle(page)
    _skip_questions(page)
    numbers = _augmentation_numbers(page)
    assert numbers[0] == "3" and "RandomFlip" in numbers[1]
    url = _link(page)
    assert "flip_mode=horizontal" in url and "draw=3" in url
    copy, seconds = _open(chromium, url)
    print(f"\nAugmentation link opened in {seconds:.1f} s: {url}")
    _skip_questions(copy)
    assert _augmentation_numbers(copy) == numbers
    copy.screenshot(path=str(SHOTS / "Augmentation-link.png"))
    page.context.close()
    copy.context.close()


# ------------------------------------------------- Architecture
def _pointwise_numbers(page) -> tuple:
    """What the 1x1 tab says: the map, K, the output size and the checked pixel."""
    page.get_by_role("tab", name=POINTWISE_TAB).click()
    page.wait_for_timeout(300)
    text = _main_text(page)
    sizes = re.search(r"(\w+) gives a (\d+x\d+x\d+) map for .*?; a 1x1 conv with (\d+) filters "
                      r"turns it into (\d+x\d+x\d+)", text).groups()
    pixel = re.search(r"own output at \((\d+), (\d+)\)", text).groups()
    return sizes, pixel


def _builder_parameters(page) -> str:
    """The builder's parameter count (its tab is the one a page opens on)."""
    return re.search(r"Parameters\s+([\d,]+)", _main_text(page)).group(1)


def test_architecture_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    net = "32x32x1,conv-8-k5,maxpool-2,flatten,dense-10-linear"
    page, _ = _open(chromium, f"{base}/Architecture?pwl=block2_conv2&net={net}")  # a lecturer's
    parameters = _builder_parameters(page)
    assert parameters == "20,698"  # 5*5*1*8 + 8, then 16*16*8 -> 10: 2,048*10 + 10
    page.get_by_role("tab", name=POINTWISE_TAB).click()
    slide_to(page, "Output channels K", 5)  # 15 -> 5 output channels
    _settle(page)
    numbers = _pointwise_numbers(page)
    assert numbers[0] == ("block2_conv2", "32x32x32", "5", "32x32x5")
    page.get_by_role("button", name="Link to this view").click()
    body = page.locator("[data-testid='stPopoverBody']")
    body.wait_for()
    url = re.search(r"http\S+", body.inner_text()).group(0)
    assert "pwl=block2_conv2" in url and "k=5" in url and f"net={net}" in url
    copy, seconds = _open(chromium, url)
    print(f"\nArchitecture link opened in {seconds:.1f} s: {url}")
    assert _builder_parameters(copy) == parameters
    assert _pointwise_numbers(copy) == numbers
    assert "This link:" not in _main_text(copy)
    copy.screenshot(path=str(SHOTS / "Architecture-link.png"))


# ------------------------------------------------- Transfer learning
def _transfer_numbers(text: str) -> tuple:
    return tuple(re.search(rf"{label}\s+([+-]?\d+(%| pts))", text).group(1)
                 for label in ("Transfer", "Scratch", "Gain"))


def test_transfer_link_runs_once_and_opens_the_same_result_in_a_new_browser(app):
    """Tiny settings from a link train once; the link of that view, opened in another
    browser, shows the same numbers (the result is shared by settings)."""
    base, chromium = app
    page, _ = _open_in_new_browser(chromium, f"{base}/Transfer_Learning?n=3&ep2=1&ep3=1"
                                             "&nval=10&tseed=3")
    # the run trains on the server first (minutes on a loaded machine), then asks
    page.locator("button", has_text="Show without guessing").first.wait_for(timeout=900_000)
    _show_without_guessing(page)
    assert page.locator(EXCEPTION).count() == 0
    numbers = _read(page, _transfer_numbers)
    url = _link(page)
    assert "n=3" in url and "tseed=3" in url
    copy, seconds = _open_in_new_browser(chromium, url)
    _show_without_guessing(copy)
    print(f"\nTransfer link opened in {seconds:.1f} s: {url}")
    assert copy.locator(EXCEPTION).count() == 0
    assert _read(copy, _transfer_numbers) == numbers
    copy.screenshot(path=str(SHOTS / "Transfer-link.png"))
    page.context.close()
    copy.context.close()
