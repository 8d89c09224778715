"""Shared fixtures: an isolated user directory, datastores on SQLite and real PostgreSQL, the Forge."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from forge.bootstrap import Forge, bootstrap
from forge.config import Settings
from forge.store.datastore import Datastore

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
POSTGRES_URL = os.environ.get("FORGE_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user directory or inherits FORGE_* settings."""
    for name in list(os.environ):
        if name.startswith(("FORGE_", "OLLAMA_", "OPENAI_", "SLACK_")) and name != "FORGE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
    data = tmp_path / "forge-data"
    monkeypatch.setenv("FORGE_DATA_DIR", str(data))
    monkeypatch.setenv("FORGE_EXAMPLES_DIR", str(EXAMPLES))
    return data


def _postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("FORGE_TEST_POSTGRES_URL is not set in CI; scripts/test should have started PostgreSQL.")
        pytest.skip("PostgreSQL not available (run scripts/test, or set FORGE_TEST_POSTGRES_URL)")
    name = f"forge_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite in tmp_path, and a new database on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


@pytest.fixture
def datastore(database_url: str) -> Iterator[Datastore]:
    store = Datastore(database_url)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Datastore]:
    store = Datastore(f"sqlite:///{tmp_path / 'unit.db'}")
    yield store
    store.close()


@pytest.fixture
def forge_app(sqlite_store: Datastore, tmp_path: Path) -> Forge:
    settings = Settings(data_dir=tmp_path / "forge-data", examples_dir=EXAMPLES)
    return bootstrap(settings, sqlite_store)
