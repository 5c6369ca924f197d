"""/docs works where it is served: a real headless Chromium opens the Swagger UI of the local
runtime, runs "Try it out" on GET /sessions, and sees the API's 200 (the servers entry is `/`, so
the request goes to the API itself, not to a /v1 path that does not exist locally).

The browser is Debian's `chromium` (`apt-get install chromium`) or one Playwright downloaded
(`.venv/bin/python -m playwright install chromium`), driven by Playwright's Python package (in the
dev group). Without either browser the test is skipped, and says so.
"""

from __future__ import annotations

import os
import shutil

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_MS = 60_000


def _browser(playwright) -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    bundled = playwright.chromium.executable_path  # where `playwright install chromium` puts it
    return bundled if bundled and os.path.exists(bundled) else None


def test_try_it_out_in_the_swagger_ui_gets_a_200(local_api_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
    requests.put(
        f"{local_api_url}/sessions/swagger-ui-check", json={"session_type": "agent", "user_id": "ui"}, timeout=30
    ).raise_for_status()
    with sync_api.sync_playwright() as playwright:
        executable = _browser(playwright)
        if executable is None:
            pytest.skip(
                "no Chromium found: `apt-get install chromium` (Debian) or "
                "`.venv/bin/python -m playwright install chromium`"
            )
        # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            api_calls = []
            page.on("response", lambda response: api_calls.append((response.url, response.status)))
            page.goto(f"{local_api_url}/docs")
            summary = page.locator(".opblock-get .opblock-summary-path[data-path='/sessions']").first
            summary.click()
            operation = page.locator(".opblock.is-open").first
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table tr.response .response-col_status").first
            status.wait_for()
            assert status.inner_text().strip() == "200"
            # The browser called the API at the root (the servers entry `/`), and got its 200.
            assert (f"{local_api_url}/sessions", 200) in [(url.split("?")[0], code) for url, code in api_calls]
        finally:
            browser.close()
