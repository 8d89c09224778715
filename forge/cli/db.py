"""`scenario-forge db upgrade|current`."""

from __future__ import annotations

import click

from forge.cli._common import emit_json, err_console, load_settings
from forge.store.engine import current_revision, head_revision, make_engine, upgrade


@click.group("db")
def db_group() -> None:
    """Database maintenance (migrations also run automatically on first use)."""


@db_group.command("upgrade", epilog="\b\nExample:\n  FORGE_DATABASE_URL=postgresql+psycopg://forge@localhost/forge scenario-forge db upgrade")
def upgrade_cmd() -> None:
    """Apply pending migrations to the configured database."""
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url())
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    safe = engine.url.render_as_string(hide_password=True)
    if before == after:
        err_console.print(f"{safe} is up to date (revision {after}).", highlight=False)
    else:
        err_console.print(f"Upgraded {safe} from {before or 'empty'} to {after}.", highlight=False)


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True)
def current_cmd(as_json: bool) -> None:
    """Show the database URL and its migration revision."""
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url())
    safe = engine.url.render_as_string(hide_password=True)
    info = {"url": safe, "revision": current_revision(engine), "head": head_revision()}
    if as_json:
        emit_json(info)
    else:
        err_console.print(f"{safe}: revision {info['revision'] or 'empty'} (head {info['head']})", highlight=False)


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
