"""The real app in a real browser: every page opened by its URL in headless Chromium.

An instructor shares a link to a page; that page must open on its own, with the
shared sidebar, and without an exception. Screenshots land in ``shots/`` (or
``$CNNVIZ_SHOTS``) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appdriver import (
    CHROMIUM,
    EXCEPTION,
    app_server,
    browser,
    page_url_path,
    screenshot_whole_app,
    wait_until_done,
)

from cnnviz.ui.navigation import PAGES

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("CNNVIZ_SHOTS", ROOT / "shots"))

if not Path(CHROMIUM).exists():
    if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: the browser tests must run here")
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_server(log_path=SHOTS / "server.log") as (base, process), browser() as chromium:
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        yield base, context, process
        context.close()


@pytest.mark.parametrize("page_file", [p.path for p in PAGES])
def test_page_opens_by_its_url(app, page_file):
    base, context, _ = app
    page = context.new_page()
    try:
        page.goto(f"{base}/{page_url_path(page_file)}")
        wait_until_done(page, timeout_ms=240_000)
        name = page_url_path(page_file) or "Home"
        screenshot_whole_app(page, str(SHOTS / f"{name}.png"))
        assert page.locator(EXCEPTION).count() == 0
        # the shared sidebar with the grouped navigation is there on every page
        sidebar = page.locator("[data-testid='stSidebar']")
        assert sidebar.get_by_text("cnnviz").count() >= 1
        links = sidebar.locator("[data-testid='stPageLink']")
        assert links.count() == len(PAGES)
        # the legacy page list is hidden
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        apology = page.get_by_text("Something went wrong")
        assert apology.count() == 0
    finally:
        page.close()


def test_navigation_link_opens_another_page(app):
    base, context, _ = app
    page = context.new_page()
    try:
        page.goto(base)
        wait_until_done(page)
        pages = [p for p in PAGES if p.path != "streamlit_app.py"]
        if not pages:
            pytest.skip("no concept page yet")
        target = pages[0]
        page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").get_by_text(
            target.label, exact=True).click()
        page.wait_for_url(f"**/{page_url_path(target.path)}")
        wait_until_done(page, timeout_ms=240_000)
        assert page.locator(EXCEPTION).count() == 0
    finally:
        page.close()
