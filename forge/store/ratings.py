"""Datastore methods for ratings and their aggregates (mixed into Datastore)."""

from __future__ import annotations


class RatingQueries:
    """Rating upserts, aggregates and review queues. Methods use `self.session()` from Datastore."""
