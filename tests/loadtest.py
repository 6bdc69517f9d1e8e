"""Many students at once: concurrent browser sessions walking through the pages.

Each session is its own browser context (its own Streamlit session). It opens
the home page, picks its *own* synthetic shape (class and seed differ per
session) in the image picker, then moves through the pages by the sidebar
links — as a student does — timing how long each page's script takes to
finish and checking, on every page with an image picker, that the picked
image is still its own. The server's resident memory is sampled meanwhile.

Used by ``tests/test_browser.py`` (short, in CI: three pages) and
``benchmarks/bench_load.py`` (every page, several rounds).
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from appdriver import CHROMIUM, CHROMIUM_ARGS, DONE, EXCEPTION, page_url_path

from cnnviz.data import SHAPE_CLASSES
from cnnviz.ui.navigation import PAGES


@dataclass
class LoadReport:
    sessions: int
    visits: int = 0
    errors: list[str] = field(default_factory=list)
    isolation_failures: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # page label -> seconds
    by_round: dict[int, dict[str, list[float]]] = field(default_factory=dict)  # the same, per round
    peak_rss_mb: float = 0.0
    wall_seconds: float = 0.0

    def percentile(self, label: str, q: float) -> float:
        values = self.latencies.get(label, [])
        return _percentile(values, q) if values else float("nan")

    def rows(self, round_: int | None = None) -> list[dict]:
        """p50/p95/max seconds per page, over every round or over round ``round_``."""
        latencies = self.latencies if round_ is None else self.by_round.get(round_, {})
        return [
            {"page": label, "visits": len(values),
             "p50_s": round(statistics.median(values), 2),
             "p95_s": round(_percentile(values, 0.95), 2),
             "max_s": round(max(values), 2)}
            for label, values in latencies.items()
        ]


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def session_shape(index: int) -> tuple[str, int]:
    """The shape class and seed session ``index`` picks: different for every session."""
    return SHAPE_CLASSES[index % len(SHAPE_CLASSES)], 100 + index


async def _wait_done(page, timeout_ms: int) -> None:
    await page.wait_for_selector(DONE, timeout=timeout_ms)
    for _ in range(20):  # stay finished for a moment: a page may rerun once
        await page.wait_for_timeout(300)
        if await page.locator(DONE).count():
            return
        await page.wait_for_selector(DONE, timeout=timeout_ms)


async def _until_shown(page, text: str, timeout_ms: int) -> bool:
    try:
        await page.locator("[data-testid='stSidebar']").get_by_text(text, exact=True) \
            .first.wait_for(timeout=timeout_ms)
        return True
    except Exception:  # noqa: BLE001 - a timeout means "not shown"
        return False


async def _pick_own_shape(page, index: int, timeout_ms: int) -> bool:
    """Choose this session's shape in the sidebar picker, if the page has one.

    Each step waits until the sidebar shows its effect: under load a rerun can
    take seconds, and acting on a stale page would lose the input.
    """
    sidebar = page.locator("[data-testid='stSidebar']")
    radio = sidebar.get_by_text("Synthetic shape", exact=True)
    if not await radio.count():
        return False
    shape, seed = session_shape(index)
    for _ in range(4):
        await radio.first.click()
        combo = sidebar.get_by_role("combobox", name="Shape").first
        try:  # a click that lands while the page reruns can be lost: click again
            await combo.wait_for(timeout=min(timeout_ms, 90_000))
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            continue
        await combo.click()
        await combo.fill(shape)  # the list narrows to this one shape
        await combo.press("Enter")
        if not await _until_shown(page, f"{shape} (seed 0)", 20_000) and \
                not await _until_shown(page, f"{shape} (seed {seed})", 1_000):
            continue
        seed_box = sidebar.get_by_label("Random seed").first  # the page's main picker
        await seed_box.fill(str(seed))
        await seed_box.press("Enter")
        if await _until_shown(page, f"{shape} (seed {seed})", 30_000):
            await _wait_done(page, timeout_ms)
            return True
    raise RuntimeError(f"could not pick {shape} (seed {seed}) in the image picker")


async def _own_caption_shown(page, index: int) -> bool | None:
    """None on a page without an image picker; else whether it shows this session's
    own shape. Waits a little: right after a page switch the sidebar may still be
    drawing, while a real mix-up would never show the right caption."""
    sidebar = page.locator("[data-testid='stSidebar']")
    if not await sidebar.get_by_text("Synthetic shape", exact=True).count():
        return None  # this page has no image picker
    shape, seed = session_shape(index)
    return await _until_shown(page, f"{shape} (seed {seed})", 15_000)


async def _session(browser, base: str, index: int, rounds: int, pages: list,
                   report: LoadReport, deadline: float, timeout_ms: int) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(timeout_ms)  # clicks wait for a busy server's rerun too
    page = await context.new_page()
    picked = False
    try:
        await page.goto(base)
        await _wait_done(page, timeout_ms)
        for round_ in range(rounds):
            # sessions start on different pages so the heavy ones overlap
            order = pages[index % len(pages):] + pages[:index % len(pages)]
            for target in order:
                if time.monotonic() > deadline:
                    return
                started = time.monotonic()
                link = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']")
                await link.get_by_text(target.label, exact=True).click()
                await page.wait_for_url(f"**/{page_url_path(target.path)}*", timeout=timeout_ms)
                await page.wait_for_timeout(200)
                await _wait_done(page, timeout_ms)
                seconds = time.monotonic() - started
                report.latencies.setdefault(target.label, []).append(seconds)
                report.by_round.setdefault(round_, {}).setdefault(target.label, []).append(
                    seconds)
                report.visits += 1
                if await page.locator(EXCEPTION).count():
                    report.errors.append(f"session {index}: exception on {target.label}")
                if await page.get_by_text("Something went wrong").count():
                    report.errors.append(f"session {index}: error message on {target.label}")
                if not picked:
                    picked = await _pick_own_shape(page, index, timeout_ms)
                elif await _own_caption_shown(page, index) is False:
                    report.isolation_failures.append(
                        f"session {index} round {round_}: {target.label} lost its own image")
    except Exception as error:  # noqa: BLE001 - a failed session is a reported error
        report.errors.append(f"session {index}: {type(error).__name__}: {error}"[:300])
    finally:
        await context.close()


def _sample_rss(pid: int, report: LoadReport, stop: threading.Event) -> None:
    from pathlib import Path

    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    report.peak_rss_mb = max(report.peak_rss_mb, int(line.split()[1]) / 1024)
        except OSError:
            return
        stop.wait(0.5)


def run_load(base: str, server_pid: int, *, sessions: int = 8, rounds: int = 1,
             pages: Sequence[str] | None = None, max_seconds: float = 600,
             timeout_ms: int = 300_000) -> LoadReport:
    """Drive ``sessions`` concurrent browser sessions ``rounds`` times through ``pages``
    (page files; every page but Home when None), by the sidebar links."""
    from playwright.async_api import async_playwright

    visited = [p for p in PAGES if p.path != "streamlit_app.py"
               and (pages is None or p.path in pages)]
    report = LoadReport(sessions=sessions)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(server_pid, report, stop), daemon=True)
    sampler.start()

    async def main() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS)
            deadline = time.monotonic() + max_seconds
            await asyncio.gather(*(
                _session(browser, base, i, rounds, visited, report, deadline, timeout_ms)
                for i in range(sessions)))
            await browser.close()

    started = time.monotonic()
    try:
        asyncio.run(main())
    finally:
        stop.set()
        sampler.join(2)
    report.wall_seconds = time.monotonic() - started
    return report
