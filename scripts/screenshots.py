"""Take the README's screenshots from a freshly seeded studio in Debian's Chromium.

Run: .venv/bin/python scripts/screenshots.py   (writes docs/screenshots/*.png)
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio import create_app, migrate  # noqa: E402
from studio.db import get_database  # noqa: E402
from studio.demo import DEMO_PASSWORD, seed_demo  # noqa: E402

# (file name, who signs in, path, full page?)
SHOTS: list[tuple[str, str, str]] = [
    ("home-marketer", "mara@demo.studio", "/"),
    ("offers", "mara@demo.studio", "/offers/"),
    ("offer-variants", "mara@demo.studio", "/offers/refill_savings"),
    ("ruleset-editor", "sam@demo.studio", "/rules/retail_banking"),
    ("samples", "sam@demo.studio", "/interactions/"),
    ("matrix", "sam@demo.studio", "/interactions/matrix?ruleset=retail_banking"),
    ("bundles", "rita@demo.studio", "/bundles/"),
    ("admin-people", "alex@demo.studio", "/admin/users"),
]


def main() -> None:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/studio.sqlite3"
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": Path(folder) / "instance"})
        with app.app_context():
            session = get_database(app).session()
            seed_demo(session)
            session.close()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=["--disable-gpu", "--disable-quic", "--disable-background-networking"],
            )
            for name, email, path in SHOTS:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/sign-in")
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / f"{name}.png"))
                page.close()
                print(f"wrote docs/screenshots/{name}.png")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
