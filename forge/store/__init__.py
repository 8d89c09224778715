"""Persistence: SQLAlchemy tables, the Datastore and Alembic migrations."""

from forge.store.datastore import Datastore, ImportReport

__all__ = ["Datastore", "ImportReport"]
