"""Single keypresses on a terminal, whole lines otherwise, for `scenario-forge review`.

On a TTY the terminal goes into cbreak mode once for the whole session (not per key), so a key typed
while the next scenario is being drawn is kept, and Ctrl-C still raises KeyboardInterrupt. When stdin
is a pipe or file each line is one answer, so scripts and tests can drive the review too.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any, TextIO

try:  # POSIX terminals
    import termios
    import tty
except ImportError:  # pragma: no cover - Windows
    termios = None  # type: ignore[assignment]
    tty = None  # type: ignore[assignment]

ESC = "\x1b"
CTRL_D = "\x04"


class KeyReader:
    """Reads one key (`read_key`) or one line (`read_line`); None means the input has ended."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdin
        self.is_terminal = _isatty(self.stream)
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        if self.is_terminal and termios is not None:
            self._fd = self.stream.fileno()
            self._saved = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd, termios.TCSANOW)  # TCSANOW: do not discard keys already typed
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._restore()

    def _restore(self) -> None:
        if self._fd is not None and self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def read_key(self) -> str | None:
        """One key, without Enter on a terminal; the first character of a line otherwise."""
        if self._fd is not None:
            data = os.read(self._fd, 1)
            if not data or data == CTRL_D.encode():
                return None
            key = data.decode("latin-1")
            if key == ESC:  # arrow and function keys send escape sequences: drop the rest
                termios.tcflush(self._fd, termios.TCIFLUSH)
            return key
        if self.is_terminal and os.name == "nt":  # pragma: no cover - Windows console
            import msvcrt

            key = msvcrt.getwch()
            return None if key in (CTRL_D, "\x1a") else key
        line = self.stream.readline()
        if not line:
            return None
        return line.strip()[:1]

    def read_line(self) -> str | None:
        """A whole line with echo and editing, even in the middle of a keypress session."""
        if self._fd is not None and self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)
            try:
                data = os.read(self._fd, 65536)  # canonical mode: returns one edited line
            finally:
                tty.setcbreak(self._fd, termios.TCSANOW)
            if not data:
                return None
            return data.decode("utf-8", errors="replace").rstrip("\r\n")
        line = self.stream.readline()
        if not line:
            return None
        return line.rstrip("\r\n")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
