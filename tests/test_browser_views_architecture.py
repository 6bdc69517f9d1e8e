"""Links of the Architecture lab in a real browser: set a non-default 1x1 demo through
the widgets, copy "Link to this view", open it in a new browser context and find the
same numbers; a link with bad settings opens with a notice, never an exception."""

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
TAB = "What does a 1x1 conv do?"


@pytest.fixture(scope="module")
def app():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_server(log_path=SHOTS / "server-views-arch.log") as (base, _), \
            browser() as chromium:
        yield base, chromium


def _settle(page):
    page.wait_for_timeout(400)  # let the rerun a click asked for start
    wait_until_done(page, timeout_ms=240_000)
    assert page.locator(EXCEPTION).count() == 0


def _open(chromium, url):
    page = chromium.new_context(viewport=VIEWPORT).new_page()
    start = time.perf_counter()
    page.goto(url)
    _settle(page)
    return page, time.perf_counter() - start


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def _pointwise_numbers(page) -> tuple:
    """What the 1x1 tab says: the map, K, the output size and the checked pixel."""
    page.get_by_role("tab", name=TAB).click()
    page.wait_for_timeout(300)
    text = _main_text(page)
    sizes = re.search(r"(\w+) gives a (\d+x\d+x\d+) map for .*?; a 1x1 conv with (\d+) filters "
                      r"turns it into (\d+x\d+x\d+)", text).groups()
    pixel = re.search(r"own output at \((\d+), (\d+)\)", text).groups()
    return sizes, pixel


def test_architecture_link_opens_the_same_view_in_a_new_browser(app):
    base, chromium = app
    page, _ = _open(chromium, f"{base}/Architecture?pwl=block2_conv2")  # a lecturer's link
    page.get_by_role("tab", name=TAB).click()
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="Output channels K") \
        .get_by_role("slider")
    thumb.focus()
    for _ in range(10):  # 15 -> 5 output channels
        page.keyboard.press("ArrowLeft")
    _settle(page)
    numbers = _pointwise_numbers(page)
    assert numbers[0] == ("block2_conv2", "32x32x32", "5", "32x32x5")
    page.get_by_role("button", name="Link to this view").click()
    body = page.locator("[data-testid='stPopoverBody']")
    body.wait_for()
    url = re.search(r"http\S+", body.inner_text()).group(0)
    assert "pwl=block2_conv2" in url and "k=5" in url
    copy, seconds = _open(chromium, url)
    print(f"\nArchitecture link opened in {seconds:.1f} s: {url}")
    assert _pointwise_numbers(copy) == numbers
    assert "This link:" not in _main_text(copy)
    copy.screenshot(path=str(SHOTS / "Architecture-link.png"))
    page.context.close()
    copy.context.close()


def test_a_bad_link_gives_a_notice_and_no_exception(app):
    base, chromium = app
    page, _ = _open(chromium, f"{base}/Architecture?pwl=nope&k=500&act=elu")
    text = _main_text(page)
    assert page.locator(EXCEPTION).count() == 0
    for word in ("'nope' is not a layer of shapes_cnn", "500 is not between 1 and 64",
                 "'elu' is not one of"):
        assert word in text, word
    page.context.close()
