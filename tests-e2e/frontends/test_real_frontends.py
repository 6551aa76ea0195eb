"""Each product's unchanged real frontend, started as its README says, against `make dev`.

`atelier dev` runs as `make dev` runs it (embedded, http://localhost:8000, no ATELIER_* setting,
a fresh data directory); each frontend is exported from its mirror into a temporary directory,
installed with `npm install` and started with its README's command with nothing configured, and
headless Chromium (every request to a host other than localhost/127.0.0.1 aborted) signs up,
opens the mailed link as mailed, signs in, reloads, and buys or generates. The demo storefronts
put each frontend's origin on its default port and serve its profile at its default base URL
(`Storefront.compat_at_root`). What a frontend itself cannot do is asserted as what it does, and
said in the test's docstring.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from atelier_testing.browser import chromium, offline_context

pytestmark = pytest.mark.frontends

API = "http://localhost:8000"
PASSWORD = "Frontends-2026!x"
NEW_PASSWORD = "Frontends-2027!y"
# (mirror directory, the frontend's directory in it)
MARBELLE = ("KiroVasilovski+marbelle", "marbelle/frontend")
FIGUREFORGE = ("qwertypants+figureforge", "frontend")
MYCOMICS = ("60T-main+mycomics", "frontend")
MARBELLE_OWN_CDN = "https://cdnjs.cloudflare.com/ajax/libs/twemoji/"
START_SECONDS = float(os.environ.get("ATELIER_FRONTENDS_START_SECONDS", "600"))


def _port_free(port: int) -> None:
    for host in ("127.0.0.1", "::1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            if s.connect_ex((host, port)) == 0:
                pytest.fail(f"port {port} is taken on {host}: the frontend's default needs it free "
                            "(stop what listens there)", pytrace=False)


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-4000:]}", pytrace=False)
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {seconds:.0f} s:\n{log.read_text()[-4000:]}", pytrace=False)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment with nothing of Atelier's or of a frontend's configuration in it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ATELIER_", "VITE_", "NEXT_PUBLIC_", "NODE_ENV"))}
    return {**env, **extra}


@contextmanager
def _running(args: list[str], cwd: Path, env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="atelier-frontends-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def atelier_dev(workdir: Path) -> Iterator[str]:
    """`make dev`: `atelier dev` on :8000 with its defaults, in a data directory of its own."""
    _port_free(8000)
    atelier = Path(sys.executable).with_name("atelier")
    log = workdir / "atelier-dev.log"
    with _running([str(atelier), "dev", "--data-dir", str(workdir / "data")], Path.cwd(), _clean_env(), log) as p:
        _wait_http(f"{API}/health", p, log, 300)
        yield API


def _export(workdir: Path, repo: tuple[str, str]) -> Path:
    mirror = Path(os.environ["ATELIER_FRONTENDS_MIRROR"]) / repo[0] / "repo"
    if not mirror.is_dir():
        pytest.fail(f"no mirror at {mirror} (ATELIER_FRONTENDS_MIRROR)", pytrace=False)
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed", pytrace=False)
    target = workdir / repo[0]
    if not target.exists():
        target.mkdir()
        archive = subprocess.run(["git", "-C", str(mirror), "archive", "HEAD", repo[1]], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        log = workdir / f"{repo[0]}-install.log"
        with log.open("wb") as out:  # the README's first step
            done = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=target / repo[1],
                                  env=_clean_env(), stdout=out, stderr=subprocess.STDOUT, timeout=1800)
        if done.returncode != 0:
            pytest.fail(f"npm install failed:\n{log.read_text()[-4000:]}", pytrace=False)
    return target / repo[1]


@contextmanager
def frontend(workdir: Path, repo: tuple[str, str], url: str, port: int, env: Mapping[str, str] | None = None,
             before: list[list[str]] = ()) -> Iterator[Path]:
    """The frontend exported, installed and started with `npm run dev` (its README's command)."""
    source = _export(workdir, repo)
    for step in before:
        subprocess.run(step, cwd=source, check=True)
    _port_free(port)
    log = workdir / f"{repo[0]}-dev.log"
    with _running(["npm", "run", "dev"], source, _clean_env(**(env or {})), log) as process:
        _wait_http(url, process, log)
        yield source


async def mail_link(email: str, prefix: str, seen: Collection[str] = ()) -> str:
    """The first link starting with `prefix`, and not in `seen`, in the newest mail to `email` (the
    dev mailbox)."""
    async with httpx.AsyncClient(base_url=API, timeout=30) as api:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            results = (await api.get("/api/dev/mailbox", params={"to": email})).json()["results"]
            for mail in results:
                found = re.search(re.escape(prefix) + r"[^\s\"'<>]*", mail["text"])
                if found and found.group(0) not in seen:
                    return found.group(0)
            await _pause()
    raise AssertionError(f"no mail to {email} with a link to {prefix}")


async def _pause() -> None:
    await asyncio.sleep(0.3)  # between polls of what another process does


@asynccontextmanager
async def browser_page() -> AsyncIterator[tuple[Any, Any]]:
    async with chromium() as browser, offline_context(browser) as (context, watch):
        page = await context.new_page()
        page.set_default_timeout(60_000)
        yield page, watch


def _new_email(product: str) -> str:
    return f"{product}-{uuid.uuid4().hex[:10]}@example.com"


# -- Marbelle (KiroVasilovski/marbelle, marbelle/frontend: Vite on :3000, API http://localhost:8000/api/v1) --

async def test_marbelle_signs_up_verifies_signs_in_reloads_fills_its_cart_and_changes_its_password(
        atelier_dev: str, workdir: Path) -> None:
    """Its cart page's Checkout button has no handler (CartPage.tsx; the app has no order or payment
    call, apiConfig.ts: "TODO: Add orders endpoints"): the purchase ends at a priced cart."""
    site = "http://localhost:3000"
    with frontend(workdir, MARBELLE, site, 3000):
        async with browser_page() as (page, watch):
            email = _new_email("marbelle")
            await page.goto(f"{site}/register")
            await page.fill("#first_name", "Ada")
            await page.fill("#last_name", "Lovelace")
            await page.fill("#email", email)
            await page.fill("#password", PASSWORD)
            await page.fill("#password_confirm", PASSWORD)
            async with page.expect_response(lambda r: r.url == f"{API}/api/v1/auth/register/") as registered:
                await page.click("button[type=submit]")
            assert (await registered.value).status == 201, await (await registered.value).text()

            link = await mail_link(email, f"{site}/verify-email?token=")
            async with page.expect_response(lambda r: "/api/v1/auth/verify-email/" in r.url) as verified:
                await page.goto(link)  # exactly as mailed
            assert (await verified.value).ok, await (await verified.value).text()

            await page.goto(f"{site}/login")
            await page.fill("#email", email)
            await page.fill("#password", PASSWORD)
            async with page.expect_response(lambda r: r.url == f"{API}/api/v1/auth/login/") as signed_in:
                await page.click("button[type=submit]")
            assert (await signed_in.value).ok, await (await signed_in.value).text()
            await page.wait_for_function(
                "() => Object.keys(localStorage).some(k => k.includes('access_token'))")
            await page.goto(f"{site}/dashboard")
            await page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"{site}/dashboard"), page.url
            await page.reload()  # still signed in: its token is checked again (verify-token)
            await page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"{site}/dashboard"), page.url

            # A product in stock from the list its page shows (the same call, from its origin).
            async with page.expect_response(lambda r: r.url.startswith(f"{API}/api/v1/products/?")
                                            or r.url == f"{API}/api/v1/products/") as listed:
                await page.goto(f"{site}/products")
            product = next(p for p in (await (await listed.value).json())["results"] if p["in_stock"])
            await page.get_by_text(product["name"], exact=True).first.click()  # its card
            await page.wait_for_url(f"{site}/products/{product['id']}")
            async with page.expect_response(
                    lambda r: r.url == f"{API}/api/v1/cart/items/" and r.request.method == "POST") as added:
                await page.get_by_role("button", name=re.compile("add to cart", re.I)).first.click()
            assert (await added.value).ok, await (await added.value).text()
            await page.goto(f"{site}/cart")
            await page.wait_for_load_state("networkidle")
            cart = await page.locator("main").inner_text()
            assert re.search(r"\$\d+\.\d\d", cart), cart
            before = len(watch.requests)
            await page.get_by_role("button", name=re.compile("checkout", re.I)).click()
            # What its button does: nothing. A handler's request would have started within the
            # click's task, and React's re-render by the second frame after it.
            await page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            assert not [r for r in watch.requests[before:] if r.split(" ", 1)[1].startswith(API)]

            # A password change keeps this session (its original backend ended none; the app keeps
            # the tokens it holds and ignores the new pair in the answer), so a reload stays in.
            await page.goto(f"{site}/dashboard/password")
            await page.fill("#current_password", PASSWORD)
            await page.fill("#new_password", NEW_PASSWORD)
            await page.fill("#new_password_confirm", NEW_PASSWORD)
            async with page.expect_response(lambda r: r.url == f"{API}/api/v1/auth/change-password/") as changed:
                await page.locator("form button[type=submit]").click()
            assert (await changed.value).ok, await (await changed.value).text()
            async with page.expect_response(lambda r: r.url.startswith(f"{API}/api/v1/auth/")
                                            and r.request.method == "GET") as checked:
                await page.goto(f"{site}/dashboard")
            assert (await checked.value).ok, await (await checked.value).text()
            await page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"{site}/dashboard"), page.url
            # Its flag emoji come from cdnjs (a dependency's own fetch, aborted like everything that
            # would leave the machine): nothing of Atelier's.
            assert not [u for u in watch.escaped if not u.startswith(MARBELLE_OWN_CDN)], watch
            assert not watch.server_errors, watch


# -- FigureForge (qwertypants/figureforge, frontend: Vite on :5173, API http://localhost:8000/api) --

async def test_figureforge_does_not_start_without_its_env_file(atelier_dev: str, workdir: Path) -> None:
    """With nothing configured its AuthContext throws at import (`new CognitoUserPool` with no pool
    id: "Both UserPoolId and ClientId are required."): the page is blank. Its README's
    `cp .env.example .env` (placeholder values, unedited) is the step it needs: the next test."""
    site = "http://localhost:5173"
    with frontend(workdir, FIGUREFORGE, site, 5173):
        async with browser_page() as (page, watch):
            await page.goto(site)
            await page.wait_for_load_state("networkidle")
            assert any("UserPoolId" in e for e in watch.page_errors), watch.page_errors


async def test_figureforge_magic_link_sign_up_sign_in_and_a_generation(atelier_dev: str, workdir: Path) -> None:
    """Started as its README says: `cp .env.example .env` (unedited), `npm run dev`. Its sign-up
    and password pages are Cognito's (AWS, unreachable): a magic link signs a new address up and
    in. After a reload its protected pages send the customer to /login: the app's session check
    at load is Cognito's alone (AuthContext.checkAuth), whatever the API says. Generating needs an
    active subscription (its Generate page); its Pricing page pays through Stripe.js (js.stripe.com,
    unreachable), so the test makes the page's own call (`POST /api/billing/checkout-session`) and
    pays on the dev checkout; the app reads the profile only at sign-in: it signs in again."""
    site = "http://localhost:5173"

    async def magic_link_sign_in(page: Any, email: str, seen: set[str]) -> None:
        await page.goto(f"{site}/login/magic-link")
        await page.fill("input[type=email]", email)
        async with page.expect_response(lambda r: r.url.startswith(f"{API}/api/auth/magic-link/request")) as sent:
            await page.locator("button[type=submit]").click()
        assert (await sent.value).ok, await (await sent.value).text()
        link = await mail_link(email, f"{site}/auth/magic-link?code=", seen)
        seen.add(link)
        async with page.expect_response(lambda r: r.url.startswith(f"{API}/api/auth/magic-link/verify")) as ok:
            await page.goto(link)  # exactly as mailed
        assert (await ok.value).ok, await (await ok.value).text()
        await page.wait_for_url(f"{site}/generate")  # where it goes 1.5 s after a good link

    with frontend(workdir, FIGUREFORGE, site, 5173, before=[["cp", ".env.example", ".env"]]):
        async with browser_page() as (page, watch):
            email, seen = _new_email("figureforge"), set[str]()
            await magic_link_sign_in(page, email, seen)  # sign-up: the address is new
            token = await page.evaluate("() => localStorage.getItem('authToken')")
            assert token

            await page.reload()
            await page.wait_for_url(f"{site}/login")  # its Cognito-only session check (the docstring)

            async with httpx.AsyncClient(base_url=API, timeout=30) as api:
                auth = {"Authorization": f"Bearer {token}", "Origin": site}
                checkout = await api.post("/api/billing/checkout-session", headers=auth,
                                          json={"price_id": "pro_monthly"})
                assert checkout.status_code == 200 and checkout.json()["sessionId"], checkout.text
                paid = await api.post(f"{checkout.json()['url']}/pay", headers={"Accept": "application/json"})
                assert paid.status_code == 200, paid.text
                deadline = time.monotonic() + 60
                while (await api.get("/api/auth/user/", headers=auth)).json()["subscription_plan"] != "pro":
                    assert time.monotonic() < deadline, "the pro subscription never showed in the profile"
                    await _pause()

            await magic_link_sign_in(page, email, seen)  # sign-in: the profile read again
            button = page.get_by_role("button", name=re.compile(r"^Generate \d+ Image"))
            await button.wait_for()
            async with page.expect_response(lambda r: r.url == f"{API}/api/generate"
                                            and r.request.method == "POST") as started:
                await button.click()
            job = await (await started.value).json()
            assert (await started.value).ok and job.get("job_id"), job
            status = None
            while status not in ("completed", "failed"):  # the page polls its job (Generate.tsx)
                polled = await page.wait_for_event(
                    "response", lambda r: r.url.startswith(f"{API}/api/jobs/{job['job_id']}"), timeout=180_000)
                status = (await polled.json()).get("status")
            assert status == "completed", await polled.text()
            assert not watch.server_errors, watch.server_errors


# -- mycomics (60T-main/mycomics, frontend: Next.js on :3000, NEXT_PUBLIC_API_BASE_URL with no default) --

# As docs/compat.md sets it up: the page on http://127.0.0.1:3000 (the storybook storefront's origin:
# Marbelle's frontend is localhost:3000) and the API on the same site, 127.0.0.1. With the API on
# localhost the two are different sites and the browser drops the SameSite=Lax visitor cookie.
MYCOMICS_SITE = "http://127.0.0.1:3000"
MYCOMICS_API = "http://127.0.0.1:8000/compat/storybook/api/product"


async def test_mycomics_serves_its_pages_but_its_forms_call_nothing(atelier_dev: str, workdir: Path) -> None:
    """Started with its one setting (`NEXT_PUBLIC_API_BASE_URL`: it has no default) as docs/compat.md
    gives it. Its register and login forms have no submit handler and its one API client
    (services/product/product-api.ts `fetchProducts`) is called by no page: it can neither sign up,
    nor sign in, nor generate against any backend."""
    site = MYCOMICS_SITE
    env = {"NEXT_PUBLIC_API_BASE_URL": MYCOMICS_API}
    with frontend(workdir, MYCOMICS, site, 3000, env=env):
        async with browser_page() as (page, watch):
            for path in ("/", "/auth/register", "/auth/login", "/create"):
                response = await page.goto(f"{site}{path}")
                assert response is not None and response.ok, path
            await page.goto(f"{site}/auth/register")
            await page.fill("input[name=email]", _new_email("mycomics"))
            await page.fill("input[name=password]", PASSWORD)
            await page.locator("button[type=submit]").click()
            await page.wait_for_load_state("networkidle")
            assert not [r for r in watch.requests if r.split(" ", 1)[1].startswith(API)], watch.requests
            assert not watch.escaped, watch.escaped


async def test_mycomics_api_client_keeps_its_visitor_across_calls_and_reloads(atelier_dev: str, workdir: Path) -> None:
    """Its API client's calls, made from its own page as `fetchProducts` makes them (`credentials:
    'include'`, a JSON body labelled form-encoded, no trailing slash), with the set-up docs/compat.md
    gives: the anonymous visitor's book is still theirs on the next call and after a reload, and a
    customer registered from the page is still signed in after a reload."""
    env = {"NEXT_PUBLIC_API_BASE_URL": MYCOMICS_API}
    customer = f"reader{uuid.uuid4().hex[:10]}"
    with frontend(workdir, MYCOMICS, MYCOMICS_SITE, 3000, env=env):
        async with browser_page() as (page, watch):
            await page.goto(f"{MYCOMICS_SITE}/create")

            async def fetch_products(method: str, path: str, body: Any = None) -> dict[str, Any]:
                answer: dict[str, Any] = await page.evaluate("""async ([url, method, body]) => {
                    const r = await fetch(url, {method, credentials: 'include',
                        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                        body: method === 'GET' ? undefined : JSON.stringify(body ?? {})});
                    return {status: r.status, data: await r.json()};
                }""", [f"{MYCOMICS_API}{path}", method, body])
                return answer

            made = await fetch_products("POST", "/books", {"title": "Nino and the Moon", "art_style": "watercolour"})
            assert made["status"] == 201, made
            listed = await fetch_products("GET", "/books")
            assert [b["id"] for b in listed["data"]] == [made["data"]["id"]], listed
            await page.reload()
            listed = await fetch_products("GET", "/books")
            assert [b["id"] for b in listed["data"]] == [made["data"]["id"]], listed

            customer_api = MYCOMICS_API.removesuffix("/api/product") + "/api/customer"
            registered = await page.evaluate("""async ([url, body]) => {
                const r = await fetch(url, {method: 'POST', credentials: 'include',
                    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
                return {status: r.status, data: await r.json()};
            }""", [f"{customer_api}/register/", {"username": customer, "password": PASSWORD,
                                                 "email": f"{customer}@example.com"}])
            assert registered["status"] == 201 and registered["data"]["loggedIn"] is True, registered
            await page.reload()
            status = await page.evaluate("""async (url) => {
                const r = await fetch(url, {credentials: 'include'});
                return await r.json();
            }""", f"{customer_api}/status/")
            assert status["loggedIn"] is True and status["user"]["username"] == customer, status
            assert not watch.server_errors, watch.server_errors
            assert not watch.escaped, watch.escaped
