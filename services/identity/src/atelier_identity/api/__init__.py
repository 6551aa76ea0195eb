"""Identity's HTTP API; the routers are gathered in `api.main`."""
