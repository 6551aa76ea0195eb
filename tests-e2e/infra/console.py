"""Steps of the console's browser tests (tests-e2e/staff): a staffer signs in and out, opens an
order, answers a confirmation, and hears the status line."""

from __future__ import annotations

from typing import Any

from infra.journeys import PASSWORD
from playwright.async_api import TimeoutError as PlaywrightTimeout

SCREEN = {"viewport": {"width": 1366, "height": 768}}  # a laptop's screen


async def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/console")
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Console sections").wait_for()


async def sign_out(page: Any) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("heading", name="Staff sign-in").wait_for()


async def status_says(page: Any, text: str) -> None:
    """The polite live region (what a screen reader announces) says `text`. When it does not, the
    failure says what the page showed instead: the status, the alert, the address and the heading."""
    try:
        await page.get_by_role("status").filter(has_text=text).wait_for()
    except PlaywrightTimeout:
        shown = await page.evaluate("""() => ({
            status: document.getElementById("status")?.textContent,
            alert: document.getElementById("alert")?.hidden ? null : document.getElementById("alert")?.textContent,
            hash: location.hash, heading: document.querySelector("#view h1")?.textContent,
            busy: !!document.querySelector("#view [aria-busy=true]")})""")
        raise AssertionError(f"the status never said {text!r}; the page showed {shown}") from None


async def open_order(page: Any, email: str, number: str) -> None:
    await page.get_by_role("link", name="Orders", exact=True).click()
    await page.get_by_label("Customer email").fill(email)
    await page.get_by_role("button", name="Search").click()
    await status_says(page, "1 orders found")
    await page.get_by_role("link", name=number).click()
    await page.get_by_role("heading", name=f"Order {number}").wait_for()


async def confirm(page: Any, title: str, button: str) -> None:
    """Answer the confirmation dialog titled `title` with `button`."""
    dialog = page.get_by_role("dialog", name=title)
    await dialog.wait_for()
    await dialog.get_by_role("button", name=button).click()
    await dialog.wait_for(state="detached")


async def visit(page: Any, url: str) -> None:
    """Open `url`, a console page (`…/console#/orders`), and wait until it is drawn: the router
    replaced the view's content, and no section of it is still loading."""
    await page.evaluate("() => { const old = document.querySelector('#view > *'); if (old) old.dataset.left = '1'; }")
    await page.goto(url)
    await page.locator("#view > div:not([aria-busy]):not([data-left])").wait_for()
    await page.wait_for_function("!document.querySelector('#view [aria-busy=\"true\"]')")
