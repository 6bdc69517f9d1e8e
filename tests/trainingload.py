"""Three students press "Train both" at the same moment while a fourth keeps probing.

Two of them ask for identical settings, the third for another seed. Trainings are
jobs in the server's pool (one at a time by default): the identical pair share one
run (one of them is told so), the other settings wait in the queue with a visible
position, all three get their results, and the fourth student's convolution page
keeps answering. Used by ``tests/test_browser.py`` and
``benchmarks/bench_training_concurrency.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from appdriver import CHROMIUM, CHROMIUM_ARGS, DONE, EXCEPTION, page_url_path

TRAIN_PAGE = "pages/4_Augmentation.py"
PROBE_PAGE = "pages/1_Convolution.py"
WAITING = "ahead of yours"
JOINED = "you share their run"
LIVE = "Stop training"
FINISHED = "will augmentation raise validation accuracy"  # asked once the result is in
#: the seed each trainer asks for: the first two alike, the third different
SEEDS = (0, 0, 1)


@dataclass
class TrainingLoadReport:
    seeds: list[int] = field(default_factory=list)  # per trainer, in the order they finished
    waited: list[bool] = field(default_factory=list)  # saw its queue position
    joined: list[bool] = field(default_factory=list)  # was told it shares another's run
    live: list[bool] = field(default_factory=list)  # saw the run in progress (Stop button)
    finished: list[bool] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    probe_seconds: list[float] = field(default_factory=list)  # while training ran
    idle_probe_seconds: list[float] = field(default_factory=list)  # before training
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        def p(values, q):
            values = sorted(values)
            return round(values[min(len(values) - 1, int(q * (len(values) - 1)))], 2) \
                if values else None
        return {
            "trainers_finished": sum(self.finished), "trainers_that_waited": sum(self.waited),
            "trainers_that_joined": sum(self.joined),
            "train_seconds": [round(s, 1) for s in self.train_seconds],
            "probe_p50_idle_s": p(self.idle_probe_seconds, 0.5),
            "probe_p50_during_training_s": p(self.probe_seconds, 0.5),
            "probe_p95_during_training_s": p(self.probe_seconds, 0.95),
            "probe_reruns_during_training": len(self.probe_seconds),
            "errors": len(self.errors),
        }


async def _done(page, timeout_ms=300_000):
    await page.wait_for_selector(DONE, timeout=timeout_ms)
    await page.wait_for_timeout(300)
    await page.wait_for_selector(DONE, timeout=timeout_ms)


async def _set_slider_to_minimum(page, label: str) -> None:
    slider = page.get_by_role("slider", name=label)
    if not await slider.count():
        slider = page.locator("[data-testid='stSlider']").filter(has_text=label) \
            .get_by_role("slider")
    await slider.first.focus()
    await slider.first.press("Home")


async def _trainer(browser, base, report: TrainingLoadReport, start: asyncio.Event,
                   seed: int, minimum_settings: bool) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        # the smallest run has one seed per arm (a link sets it; the page runs 2 by default)
        await page.goto(f"{base}/{page_url_path(TRAIN_PAGE)}"
                        + ("?seeds=1" if minimum_settings else ""))
        await _done(page)
        if minimum_settings:
            for label in ("Training images per class", "Epochs"):
                await _set_slider_to_minimum(page, label)
        seed_box = page.locator("[data-testid='stForm']").get_by_label("First seed")
        await seed_box.fill(str(seed))
        await seed_box.press("Tab")
        await start.wait()
        started = time.monotonic()
        await page.get_by_role("button", name="Train both").click()
        seen = {"waited": False, "joined": False, "live": False}
        deadline = started + 900
        while time.monotonic() < deadline:
            for name, text in (("waited", WAITING), ("joined", JOINED), ("live", LIVE)):
                if not seen[name] and await page.get_by_text(text).count():
                    seen[name] = True
            if await page.get_by_text(FINISHED).count():
                break
            if await page.locator(EXCEPTION).count():
                report.errors.append("exception on the training page")
                break
            await page.wait_for_timeout(200)
        report.seeds.append(seed)
        report.finished.append(bool(await page.get_by_text(FINISHED).count()))
        report.waited.append(seen["waited"])
        report.joined.append(seen["joined"])
        report.live.append(seen["live"])
        report.train_seconds.append(time.monotonic() - started)
    finally:
        await context.close()


async def _prober(browser, base, report: TrainingLoadReport, start: asyncio.Event,
                  training_over) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{base}/{page_url_path(PROBE_PAGE)}")
        await _done(page)

        async def rerun() -> float:
            began = time.monotonic()
            await page.locator("body").press("r")
            await page.wait_for_timeout(100)
            await _done(page)
            if await page.locator(EXCEPTION).count():
                report.errors.append("exception on the probing page")
            return time.monotonic() - began

        for _ in range(3):
            report.idle_probe_seconds.append(await rerun())
        start.set()
        await asyncio.sleep(1.0)
        while not training_over():
            report.probe_seconds.append(await rerun())
            await asyncio.sleep(0.5)
    finally:
        await context.close()


def run_training_load(base: str, *, minimum_settings: bool = True) -> TrainingLoadReport:
    from playwright.async_api import async_playwright

    report = TrainingLoadReport()

    async def main() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS)
            start = asyncio.Event()
            trainers = [asyncio.create_task(_trainer(browser, base, report, start, seed,
                                                     minimum_settings)) for seed in SEEDS]
            prober = asyncio.create_task(_prober(
                browser, base, report, start, lambda: all(t.done() for t in trainers)))
            await asyncio.gather(*trainers, prober)
            await browser.close()

    asyncio.run(main())
    report.idle_probe_seconds = report.idle_probe_seconds or [statistics.nan]
    return report
