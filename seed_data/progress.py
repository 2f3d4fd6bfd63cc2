"""A one-line progress bar on stderr, drawn only when stderr is a terminal.

CI logs and pipes get no carriage-return noise, only the final summary line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_S = 0.1


class ProgressBar:
    """Callable as a loader `Progress`: (step, rows loaded, total rows)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.perf_counter()
        self.drawn = 0.0
        self.step = ""

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (step == self.step and now - self.drawn < REDRAW_S):
            return
        self.step, self.drawn = step, now
        filled = WIDTH * done // max(total, 1)
        self.stream.write(
            f"\r\033[Kseed [{'#' * filled}{'.' * (WIDTH - filled)}] {done:,}/{total:,} rows"
            f" · {step} · {now - self.started:.1f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar so the summary line starts clean."""
        if self.enabled and self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
