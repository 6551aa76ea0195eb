"""`atelier`: run the platform (embedded or distributed), migrate, manage users.

The commands live by topic in this package's modules; here they are hung on the root command, in
the order `atelier --help` lists them."""

from __future__ import annotations

from atelier_platform.cli import data, docs, events, keys, running, subscriptions, users
from atelier_platform.cli.root import app, main, run

__all__ = ["app", "main", "run"]

app.command()(running.dev)
app.command()(running.migrate)
app.command()(running.serve)
app.command()(running.worker)
app.command()(running.gateway)
app.command()(running.up)
app.command()(data.seed)
app.command("openapi")(docs.dump_openapi)
app.command("config-docs")(docs.config_docs)
app.command("secrets")(docs.generate_secrets)
app.command("import")(data.import_dump)
app.command()(data.backup)
app.command()(data.restore)
app.add_typer(users.users_app, name="users")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(events.events_app, name="events")
app.add_typer(subscriptions.subscriptions_app, name="subscriptions")
