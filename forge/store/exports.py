"""Datastore methods that stream scenarios for export (mixed into Datastore)."""

from __future__ import annotations


class ExportQueries:
    """Streaming, filtered scenario queries for exports. Methods use `self.session()` from Datastore."""
