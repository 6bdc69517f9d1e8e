"""Measure a rendered page for the layout rule: text that does not fit, Plotly text too
small for a projector, and where the page's main figure starts.

:func:`measure` runs one script in the browser and returns plain data; the
tests (``tests/test_layout.py``) turn it into violations, and a developer can
print them for a page with ``python tests/layoutcheck.py PAGE``.

What counts as a violation:

- **clipped text**: an element holding text (a label, heading, paragraph, metric,
  selectbox or number value, tab label, caption, multiselect chip, ``st.table``
  cell…) whose content is wider than its box (``scrollWidth > clientWidth + 1``):
  it is cut with an ellipsis, scrolls, or spills over its neighbour; or whose box
  reaches past the side of an ancestor that hides overflow (chips in a full
  multiselect, tabs past the end of their row). Inline elements have no box of
  their own; their nearest block ancestor is measured. Code blocks are measured
  too (a line that scrolls sideways is hidden on a projector).
- **hidden table columns**: an ``st.dataframe`` draws its cells on a canvas, so
  its text cannot be measured; its scroller is, and a frame narrower than its
  columns hides the rightmost ones.
- **small chart text**: Plotly SVG text (ticks, titles, legends, colour bars,
  annotations) with a computed font size under :data:`MIN_FONT_PX`.
- **chart text cut off**: Plotly text reaching outside its chart's SVG.
- **main figure below the fold**: the top of ``.st-key-main-figure`` (a container
  made with ``st.container(key="main-figure")``, see ``cnnviz.ui.layout``)
  measured from the top of the app's scrolling content, more than
  ``FOLD_PX - MIN_VISIBLE_PX``: at least a real part of it must be on the first screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from appdriver import wait_until_done

MIN_FONT_PX = 14
FOLD_PX = 720
MIN_VISIBLE_PX = 200
MAIN_FIGURE = ".st-key-main-figure"

_MEASURE = r"""
({minFont}) => {
  const app = document.querySelector("[data-testid='stApp']");
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return false;
    if (r.right <= 0 || r.left >= window.innerWidth) return false;  // e.g. a folded sidebar
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden") return false;
      if (s.clip && s.clip !== "auto") return false;  // visually hidden, for screen readers
    }
    return true;
  };
  const short = (text) => {
    const t = (text || "").replace(/\s+/g, " ").trim();
    return t.length > 90 ? t.slice(0, 87) + "…" : t;
  };
  const where = (el) => {
    const ids = [];
    for (let e = el; e && e !== app; e = e.parentElement) {
      if (e.dataset && e.dataset.testid && !ids.includes(e.dataset.testid)) {
        ids.push(e.dataset.testid);
      }
      if (ids.length === 2) break;
    }
    const side = el.closest("[data-testid='stSidebar']") ? "sidebar " : "";
    return side + (ids.join(" in ") || el.tagName.toLowerCase());
  };
  const skip = "[data-testid='stSkipToContent'], [data-testid='stPlotlyChart'], " +
               "[data-testid='stDataFrame'], [data-testid='stTooltipContent'], " +
               "[data-testid='stCode'], svg, .katex, " +
               "[data-testid='stHeaderActionElements']";
  const clipped = [];
  const seen = new Set();
  const clipper = (box) => {  // the nearest ancestor that cuts the box off sideways
    const r = box.getBoundingClientRect();
    for (let a = box.parentElement; a && a !== app; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === "visible") continue;
      if (a.clientWidth <= 2 || a.clientHeight <= 2) return null;  // screen-reader text
      const left = a.getBoundingClientRect().left + a.clientLeft;
      if (r.right > left + a.clientWidth + 1 || r.left < left - 1) {
        return {a, need: Math.round(r.width), have: Math.round(left + a.clientWidth - r.left)};
      }
    }
    return null;
  };
  const check = (box, text, kind) => {
    if (seen.has(box)) return;
    seen.add(box);
    if (!visible(box)) return;
    if (box.scrollWidth > box.clientWidth + 1) {
      clipped.push({kind, element: where(box), text: short(text),
                    need: box.scrollWidth, have: box.clientWidth});
      return;
    }
    const cut = clipper(box);
    if (cut) {
      clipped.push({kind: kind + " cut off by " + where(cut.a), element: where(box),
                    text: short(text), need: cut.need, have: Math.max(cut.have, 0)});
    }
  };
  const walker = document.createTreeWalker(app, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    let box = node.parentElement;
    if (!box || box.closest(skip) || box.closest("style, script, noscript")) continue;
    while (box.parentElement && getComputedStyle(box).display.startsWith("inline") &&
           getComputedStyle(box).display !== "inline-block") {
      box = box.parentElement;
    }
    check(box, box.innerText || node.textContent, "text");
  }
  for (const input of app.querySelectorAll("input[type='text'], input:not([type])," +
                                            " input[type='number'], textarea")) {
    if (input.value) check(input, input.value, "value");
  }
  for (const pre of app.querySelectorAll("[data-testid='stCode'] pre")) {
    check(pre, pre.innerText.split("\n").reduce((a, b) => (b.length > a.length ? b : a), ""),
          "code");
  }
  for (const frame of app.querySelectorAll("[data-testid='stDataFrame']")) {
    const scroller = frame.querySelector(".dvn-scroller");
    if (scroller && visible(frame) && scroller.scrollWidth > scroller.clientWidth + 1) {
      clipped.push({kind: "table columns", element: where(frame),
                    text: "st.dataframe wider than its frame: right-hand columns hidden",
                    need: scroller.scrollWidth, have: scroller.clientWidth});
    }
  }

  const small = [], outside = [];
  let charts = 0;
  for (const chart of app.querySelectorAll("[data-testid='stPlotlyChart']")) {
    if (!visible(chart)) continue;
    const svg = chart.querySelector("svg.main-svg");
    if (!svg) continue;
    charts += 1;
    const frame = svg.getBoundingClientRect();
    const title = short((chart.querySelector(".gtitle") || {}).textContent || "");
    for (const text of chart.querySelectorAll("svg text")) {
      if (!text.textContent.trim() || !visible(text)) continue;
      const part = (text.getAttribute("class") || text.parentElement.getAttribute("class") ||
                    "text").split(" ")[0];
      const size = parseFloat(getComputedStyle(text).fontSize);
      if (size < minFont) {
        small.push({element: `chart "${title}" ${part}`, text: short(text.textContent),
                    size});
      }
      const r = text.getBoundingClientRect();
      if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 ||
          r.bottom > frame.bottom + 1) {
        outside.push({element: `chart "${title}" ${part}`, text: short(text.textContent)});
      }
    }
  }

  let mainTop = null;
  const main = document.querySelector("MAIN_FIGURE");
  if (main) {
    let top = main.getBoundingClientRect().top;
    for (let e = main.parentElement; e; e = e.parentElement) top += e.scrollTop || 0;
    mainTop = Math.round(top);
  }
  return {clipped, small, outside, charts, mainTop,
          exceptions: app.querySelectorAll("[data-testid='stException']").length};
}
""".replace("MAIN_FIGURE", MAIN_FIGURE)

_SCROLL_TO_TOP = """() => {
  for (const e of document.querySelectorAll("*")) { if (e.scrollTop) e.scrollTop = 0; }
}"""

_CHART_TEXTS = """() => {
  const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")];
  const drawn = charts.filter((c) => c.querySelector("svg.main-svg text"));
  return {charts: charts.length, drawn: drawn.length,  // a chart still loading is a skeleton
          loading: document.querySelectorAll("[data-testid='stSkeleton']").length,
          texts: document.querySelectorAll("[data-testid='stPlotlyChart'] svg text").length};
}"""


@dataclass(frozen=True)
class Violation:
    page: str
    viewport: str
    rule: str
    element: str
    text: str

    def __str__(self) -> str:
        return f"{self.page} @ {self.viewport}: {self.rule}: {self.element}: {self.text!r}"


def wait_ready(page, timeout_ms: int = 300_000) -> None:
    """Wait until the page's script has run (its sidebar is drawn) and has finished."""
    wait_until_done(page, timeout_ms=timeout_ms)
    page.wait_for_selector("[data-testid='stSidebarUserContent'] [data-testid='stPageLink']",
                           timeout=timeout_ms)
    wait_until_done(page, timeout_ms=timeout_ms)


def measure(page) -> dict:
    """The raw measurements of the page shown in a Playwright ``page``, with every tab
    of every ``st.tabs`` opened in turn (a hidden tab's content has no size)."""
    _wait_for_charts(page)
    found = page.evaluate(_MEASURE, {"minFont": MIN_FONT_PX})
    groups = page.locator("[data-testid='stTabs']")
    for g in range(groups.count()):
        tabs = groups.nth(g).locator("[data-testid='stTab']")
        for i in range(1, tabs.count()):
            tabs.nth(i).click()
            _wait_for_charts(page)
            more = page.evaluate(_MEASURE, {"minFont": MIN_FONT_PX})
            for key in ("clipped", "small", "outside"):
                found[key] += [item for item in more[key] if item not in found[key]]
        if tabs.count() > 1:
            tabs.first.click()
    page.evaluate(_SCROLL_TO_TOP)  # a click scrolls its tab into view
    return found


def _wait_for_charts(page, timeout_ms: int = 30_000) -> None:
    """Plotly draws a chart's SVG first and its text a moment later: wait until every
    chart has text and the number of chart texts has stopped changing."""
    last, waited = None, 0
    while waited < timeout_ms:
        state = page.evaluate(_CHART_TEXTS)
        if state["drawn"] == state["charts"] and not state["loading"] and state == last:
            return
        last = state
        page.wait_for_timeout(400)
        waited += 400
    raise TimeoutError(f"the page's Plotly charts did not finish drawing: {last}")


def text_violations(name: str, viewport: str, found: dict) -> list[Violation]:
    """Clipped text, hidden table columns, small or cut-off chart text."""
    out = [Violation(name, viewport, f"clipped {c['kind']} ({c['need']} px in {c['have']})",
                     c["element"], c["text"]) for c in found["clipped"]]
    out += [Violation(name, viewport, f"chart text {s['size']:g} px < {MIN_FONT_PX}",
                      s["element"], s["text"]) for s in found["small"]]
    out += [Violation(name, viewport, "chart text cut off", o["element"], o["text"])
            for o in found["outside"]]
    return out


def fold_violations(name: str, viewport: str, found: dict) -> list[Violation]:
    """The main figure missing, or starting too far down to be seen on the first screen."""
    top = found["mainTop"]
    if top is None:
        return [Violation(name, viewport, "no main figure", MAIN_FIGURE,
                          "mark it with ui.layout (st.container(key='main-figure'))")]
    if top > FOLD_PX - MIN_VISIBLE_PX:
        return [Violation(name, viewport, f"main figure starts at {top} px", MAIN_FIGURE,
                          f"at most {FOLD_PX - MIN_VISIBLE_PX} px, so that "
                          f"{MIN_VISIBLE_PX} px of it show above {FOLD_PX} px")]
    return []


if __name__ == "__main__":  # print every violation of the pages named on the command line
    import sys

    from appdriver import app_server, browser, page_url_path

    present = "--present" in sys.argv  # the presenter view, at 1280x720 only
    sizes = ((1280, 720),) if present else ((1280, 720), (1440, 900))
    with app_server() as (base, _), browser() as chromium:
        tab = chromium.new_page(viewport={"width": 1280, "height": 720})
        for page_file in (arg for arg in sys.argv[1:] if arg != "--present"):
            tab.set_viewport_size({"width": 1280, "height": 720})
            tab.goto(f"{base}/{page_url_path(page_file)}" + ("?present=1" if present else ""))
            for width, height in sizes:
                tab.set_viewport_size({"width": width, "height": height})
                wait_ready(tab)
                found = measure(tab)
                label = f"{width}x{height}" + (" presenter" if present else "")
                for violation in (text_violations(page_file, label, found)
                                  + fold_violations(page_file, label, found)):
                    print(violation)
