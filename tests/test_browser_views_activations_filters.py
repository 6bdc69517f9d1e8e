"""Links of the Activations, Filters and Augmentation pages in a real browser: set a
non-default view through the widgets, copy "Link to this view", open it in a new browser
context and find the same numbers; a link with bad settings opens with a notice, never an
exception."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from appdriver import CHROMIUM, EXCEPTION, app_server, browser, wait_until_done

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS", ROOT / "shots"))

if not Path(CHROMIUM).exists():
    if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: the browser tests must run here")
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1280, "height": 720}
SKIP = "Show without guessing"
TABS = ("Early vs deep layers", "Every channel of a layer", "Two images side by side")


@pytest.fixture(scope="module")
def app():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_server(log_path=SHOTS / "server-views-act.log") as (base, _), \
            browser() as chromium:
        yield base, chromium


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
        for _ in range(6):
            buttons = page.get_by_role("button", name=SKIP)
            if buttons.count() == 0:
                break
            buttons.first.click()
            _settle(page)


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def _link(page) -> str:
    page.get_by_role("button", name="Link to this view").click()
    body = page.locator("[data-testid='stPopoverBody']")
    body.wait_for()
    url = re.search(r"http\S+", body.inner_text()).group(0)
    page.keyboard.press("Escape")
    return url


def _open(chromium, url):
    page = chromium.new_context(viewport=VIEWPORT).new_page()
    start = time.perf_counter()
    page.goto(url)
    wait_until_done(page, timeout_ms=240_000)
    seconds = time.perf_counter() - start
    _settle(page)
    return page, seconds


def _pick(page, label: str, option: str):
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option").filter(has_text=re.compile("^" + re.escape(option) + r"\b")).click()
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
    _skip_questions(page, TABS)
    numbers = _activation_numbers(_main_text(page))
    url = _link(page)
    assert "scale=layer" in url and "pair=block3_conv1" in url and "all=block2_conv2" in url
    copy, seconds = _open(chromium, url)
    print(f"\nActivations link opened in {seconds:.1f} s: {url}")
    _skip_questions(copy, TABS)
    assert _activation_numbers(_main_text(copy)) == numbers
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
    page, _ = _open(chromium, f"{base}/Filters?layer=block1_conv2")  # a lecturer's link
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="How many") \
        .get_by_role("slider")
    thumb.focus()
    for _ in range(12):  # 16 -> 4 filters
        page.keyboard.press("ArrowLeft")
    _settle(page)
    page.get_by_role("button", name=re.compile("^Continue")).click()
    _settle(page)
    numbers = _filter_numbers(_main_text(page))
    assert numbers[0] == ("block1_conv2", "4", "80")
    url = _link(page)
    assert "layer=block1_conv2" in url and "n=4" in url and "cont=1" in url
    copy, seconds = _open(chromium, url)
    print(f"\nFilters link opened in {seconds:.1f} s: {url}")
    assert _filter_numbers(_main_text(copy)) == numbers
    copy.screenshot(path=str(SHOTS / "Filters-link.png"))
    page.context.close()
    copy.context.close()


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


@pytest.mark.parametrize("path,words", [
    ("Augmentation?layers=flip,warp&ep=999&lr=5&flip_mode=diagonal",
     ["'warp' is not", "epochs 999 is not between", "learning rate '5' is not one of",
      "'diagonal' is not one of"]),
    ("Activations?layers=block1_conv1,block9&mc=999&pn=7",
     ["'block9' is not a listed layer of shapes_cnn", "probe images 7 is not between"]),
    ("Filters?layer=nope&lr=5&cont=99",
     ["layer 'nope' is not a layer of shapes_cnn", "learning rate '5' is not one of",
      "times continued 99 is not between 0 and 20"]),
])
def test_a_bad_link_gives_a_notice_and_no_exception(app, path, words):
    base, chromium = app
    page, _ = _open(chromium, f"{base}/{path}")
    text = _main_text(page)
    assert page.locator(EXCEPTION).count() == 0
    for word in words:
        assert word in text
    page.context.close()
