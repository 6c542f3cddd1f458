"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server.

Playwright's sync API runs an event loop while a browser is open, so tests create their data
first and open the browser last (Django refuses ORM calls from inside a running loop).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import ConsoleMessage, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class CspViolation(AssertionError):
    """The page did something its Content-Security-Policy refused (so it is broken for users)."""


# Chromium logs most refusals to the console itself, but not an eval a library tried and caught
# (Ajv compiling a schema, say): the page's securitypolicyviolation event reports every one.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy refused ${event.effectiveDirective} ` +
    `(${event.blockedURI}) at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def csp_violations(page: Page, found: list[str] | None = None) -> list[str]:
    """Collects, for the page's life, Content-Security-Policy refusals (scripts, styles, images,
    workers, eval) as their console messages, into ``found`` (or a new list) and returns it."""
    found = [] if found is None else found
    page.add_init_script(REPORT_VIOLATIONS)

    def seen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", seen)
    return found


@contextmanager
def browser_page(locale: str = "en-US") -> Iterator[Page]:
    """A fresh page; a test that ends with the page having broken the Content-Security-Policy
    (orchestrator/security_headers.py) fails with the refusals."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale=locale)
            page = context.new_page()
            page.set_default_timeout(20_000)
            violations = csp_violations(page)
            yield page
            if violations:
                raise CspViolation("\n".join(violations))
        finally:
            browser.close()


def sign_in(page: Page, base_url: str, username: str, password: str, path: str = "/app/") -> None:
    page.goto(f"{base_url}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
