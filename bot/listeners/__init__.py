"""Listeners: one module per Slack surface, each with `register(app)` mapping ids to `handle_*` functions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.blocks import build_error, build_failure
from forge.errors import ForgeError

log = logging.getLogger(__name__)


@contextmanager
def replying_errors(reply: Callable[..., Any]) -> Iterator[None]:
    """A ForgeError becomes an ephemeral reply naming the fix; anything else is logged and apologised for."""
    try:
        yield
    except ForgeError as exc:
        reply(**build_error(exc))
    except Exception:
        log.exception("Slack handler failed")
        reply(**build_failure())
