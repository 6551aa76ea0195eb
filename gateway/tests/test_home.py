"""`GET /`: where everything is — a page of links for a browser, the same links as JSON
for any other client; the development pages only where they are served."""

from __future__ import annotations

import re


async def test_the_root_lists_the_docs_the_console_and_the_health(start_gateway) -> None:
    async with start_gateway(dev_endpoints=True) as gateway:
        answer = await gateway.client.get("/")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        links = {name: link["href"] for name, link in answer.json()["links"].items()}
        assert links == {"docs": "/api/docs", "redoc": "/api/redoc", "schema": "/api/schema", "console": "/console",
                         "health": "/api/health", "mailbox": "/api/dev/mailbox"}
        assert answer.json()["api"] == "/api/v1"
        for href in links.values():  # each one answers (the health once the stand-in services do)
            assert (await gateway.client.get(href)).status_code == 200, href
        page = await gateway.client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert sorted(re.findall(r'href="([^"]+)"', page.text)) == sorted(links.values())
        assert "script-src" not in page.headers["content-security-policy"]  # no script at all: default-src 'none'


async def test_without_the_dev_endpoints_the_mailbox_is_not_listed(start_gateway) -> None:
    async with start_gateway() as gateway:
        assert "mailbox" not in (await gateway.client.get("/")).json()["links"]
