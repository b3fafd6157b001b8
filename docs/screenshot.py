"""Screenshot a gencomp page with the system's headless Chromium (the README's pictures).

    python docs/screenshot.py PAGE.html OUT.png [--width 1000] [--height 900] [--at ID]

``--height`` pixels of the page at ``--width`` (a phone: --width 390), from the top or
from the element with the id ``--at`` (e.g. chart-text).
Needs Chromium (`apt-get install chromium`) and Playwright (`make install`); no download.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--at", default="", help="start at the element with this id")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("error: no chromium; install it with apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.page.absolute().as_uri() + (f"#{args.at}" if args.at else ""), wait_until="load")
        page.screenshot(path=args.out)
        browser.close()


if __name__ == "__main__":
    main()
