"""Screenshot app pages in headless Chromium: `python scripts/screenshot.py PAGE... --out DIR`.

Starts its own server on a free port. Exits non-zero if a page shows an exception.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from appdriver import (  # noqa: E402
    EXCEPTION,
    app_server,
    browser,
    page_url_path,
    screenshot_whole_app,
    wait_until_done,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", default=["streamlit_app.py"])
    parser.add_argument("--out", default="shots")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with app_server(log_path=out / "server.log") as (base, _), browser() as chromium:
        context = chromium.new_context(viewport={"width": args.width, "height": args.height})
        for page_file in args.pages:
            page = context.new_page()
            page.goto(f"{base}/{page_url_path(page_file)}")
            wait_until_done(page)
            name = page_url_path(page_file) or "Home"
            path = out / f"{name}.png"
            screenshot_whole_app(page, str(path))
            errors = page.locator(EXCEPTION).count()
            failures += bool(errors)
            print(f"{path}  exceptions={errors}")
            page.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
