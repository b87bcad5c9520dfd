"""Browser tests: Playwright's sync API drives the system Chromium against pytest-django's live server.

The browser is the Debian package's (`/usr/bin/chromium`, or BROWSER_PATH); `playwright install` is never
used (it downloads a browser, and this machine has no internet). Where the browser is missing the tests are
skipped, except in CI (CI=true), where they fail: the CI machine must run them.

Every step saves a full-page screenshot into test-artifacts/browser/ (git-ignored) and asserts that the
page logged no console error and had no failed request.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.conftest import reload_migrated_data

BROWSER_PATH = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCALE = "nl-BE"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "secret-pass-1"  # tests.factories.UserFactory's


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run in CI)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def _async_unsafe_allowed() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in the test thread, and Django's ORM refuses to run
    in such a thread unless told otherwise: allowed while the browser runs, and only then."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _migrated_data(transactional_db: None) -> None:
    """live_server needs transactional tests, and each of those empties every table when it ends: the tests
    here start from the migrated data whatever ran before them."""
    reload_migrated_data()


@pytest.fixture(scope="module", autouse=True)
def _migrated_data_after(django_db_blocker: Any) -> Iterator[None]:
    """...and leave it behind them for the tests that follow."""
    yield
    with django_db_blocker.unblock():
        reload_migrated_data()


@pytest.fixture
def browser(transactional_db: None) -> Iterator[Any]:
    """A Chromium per test, started after the test database is ready and stopped before it is emptied.

    While Playwright runs, Django keeps the thread's database connections apart from those outside it (the
    thread looks async to asgiref), so the database's setup and teardown must happen outside that time.
    """
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -r requirements-dev.txt)")
    if not (os.path.isfile(BROWSER_PATH) and os.access(BROWSER_PATH, os.X_OK)):
        _unavailable(f"no browser at {BROWSER_PATH} (apt-get install chromium, or set BROWSER_PATH)")
    from django.db import connections

    with _async_unsafe_allowed():
        playwright = sync_playwright().start()
        try:
            try:
                browser = playwright.chromium.launch(executable_path=BROWSER_PATH, args=BROWSER_ARGS)
            except Error as error:
                _unavailable(f"the browser at {BROWSER_PATH} does not start: {error.message.splitlines()[0]}")
            yield browser
            browser.close()
        finally:
            connections.close_all()  # those the test opened while Playwright ran
            playwright.stop()


class PortalPage:
    """A browser tab on the live server that records console errors and failed requests."""

    def __init__(self, page: Any, base_url: str, prefix: str = "") -> None:
        self.page = page
        self.base_url = base_url
        self.prefix = prefix
        self.problems: list[str] = []
        page.set_default_timeout(10_000)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def _request_failed(self, request: Any) -> None:
        # The browser cancels what a page still loads (e.g. its icon) when the user moves on: not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> None:
        self.page.goto(self.url(path))

    def expect_path(self, path: str) -> None:
        self.page.wait_for_url(re.compile(re.escape(self.url(path)) + r"(\?.*)?$"))

    def assert_clean(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, f"{self.page.url}: " + "; ".join(problems)

    def shot(self, name: str) -> Path:
        """Check the page logged nothing wrong, then save a full-page screenshot of it."""
        self.page.wait_for_load_state("load")
        self.assert_clean()
        # Scrolled to the end, a sticky bar is drawn where it belongs, not over the middle of the page.
        self.page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.prefix}{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def fits_width(self) -> bool:
        """Nothing makes the page itself scroll sideways (wide tables scroll inside their own box)."""
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    def off_screen(self, selector: str) -> list[str]:
        """The elements matching `selector` that do not fit, whole, between the screen's left and right edges."""
        return self.page.eval_on_selector_all(
            selector,
            """elements => elements.filter(e => {
                const box = e.getBoundingClientRect();
                return box.left < 0 || box.right > window.innerWidth;
            }).map(e => e.name || e.textContent.trim())""",
        )

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        # The header has NL/EN language buttons of type submit too: use the login form's own button.
        with self.page.expect_navigation():
            self.page.click("main button.primary")
        assert "/accounts/login/" not in self.page.url, f"login of {username} failed"

    def logout(self) -> None:
        with self.page.expect_navigation():
            self.page.click("header form[action$='/logout/'] button")
        self.expect_path("/accounts/login/")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report


_failed_key = pytest.StashKey[bool]()


@pytest.fixture
def open_page(request: pytest.FixtureRequest, browser: Any, live_server: Any) -> Iterator[Callable[..., PortalPage]]:
    """open_page(viewport=..., prefix=...) -> a PortalPage in a fresh Dutch (nl-BE) browser context."""
    opened: list[tuple[Any, PortalPage]] = []

    def open_(viewport: dict[str, int] = DESKTOP, prefix: str = "") -> PortalPage:
        context = browser.new_context(locale=LOCALE, viewport=viewport, timezone_id="Europe/Brussels")
        portal = PortalPage(context.new_page(), live_server.url, prefix)
        opened.append((context, portal))
        return portal

    yield open_
    failed = request.node.stash.get(_failed_key, False)
    for index, (context, portal) in enumerate(opened):
        if failed:  # what the page showed when the test failed, for whoever reads the CI log
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                portal.page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{index}.png"), full_page=True)
        context.close()
