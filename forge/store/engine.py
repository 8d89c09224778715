"""Engine creation and automatic Alembic migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from forge.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def _on_sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys, and its folder is created."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"FORGE_DATABASE_URL is not a valid SQLAlchemy URL: {url!r}.",
            "Use e.g. sqlite:////path/forge.db or postgresql+psycopg://user:pass@host/db.",
        ) from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, object] = {"pool_pre_ping": not is_sqlite}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError(
            f"No database driver for {parsed.drivername!r}: {exc}.",
            "For PostgreSQL install the extra: pip install 'scenario-forge[postgres]' and use postgresql+psycopg://...",
        ) from exc
    if is_sqlite:
        event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; a no-op when already there."""
    config = _alembic_config(engine)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except OperationalError as exc:
        safe = engine.url.render_as_string(hide_password=True)
        raise ConfigError(
            f"Cannot open the database at {safe}: {exc.orig}.",
            "Check FORGE_DATABASE_URL, that the server is running, and that you can write there.",
        ) from exc


MIGRATION_LOCK_KEY = 0x5CE7A210  # any fixed number: the PostgreSQL advisory lock for our migrations


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations across processes (the bot and the CLI may start together).

    pysqlite runs DDL outside transactions, so on SQLite a file lock beside the
    database does it; on PostgreSQL an advisory lock.
    """
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        try:
            import fcntl
        except ImportError:  # Windows: no file locks in the stdlib; first use is rarely concurrent there
            yield
            return
        with open(f"{url.database}.migrate.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
    else:
        yield


class HeldLock:
    """A lock this process holds until `release()` (or until it exits: the OS or the server frees it)."""

    def __init__(self, release: Callable[[], None] = lambda: None) -> None:
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


def try_process_lock(engine: Engine, name: str, key: int) -> HeldLock | None:
    """Take a named lock without waiting, for as long as this process lives; None if another holds it.

    A file lock beside a SQLite database (its users share a machine), a session advisory lock on
    PostgreSQL (held on a connection kept out of the pool). Other databases get a lock that always succeeds.
    """
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        try:
            import fcntl
        except ImportError:  # Windows: no file locks in the stdlib
            return HeldLock()
        handle = open(f"{url.database}.{name}.lock", "a")  # noqa: SIM115 (held open while the lock is held)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return HeldLock(handle.close)  # closing the file releases the lock
    if url.get_backend_name() == "postgresql":
        conn = engine.connect()
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            conn.close()
            return None
        conn.commit()

        def release() -> None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except SQLAlchemyError:  # the connection is gone, and the lock with it
                pass
            finally:
                conn.close()

        return HeldLock(release)
    return HeldLock()


def ensure_schema(engine: Engine) -> None:
    """Migrate on first use, so users never run a setup step."""
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        safe = engine.url.render_as_string(hide_password=True)
        raise ConfigError(
            f"Cannot open the database at {safe}: {exc.orig}.",
            "Check FORGE_DATABASE_URL, that the server is running, and that you can write there.",
        ) from exc
    if current != head_revision():
        with migration_lock(engine):
            if current_revision(engine) != head_revision():  # another process may have just done it
                upgrade(engine)
