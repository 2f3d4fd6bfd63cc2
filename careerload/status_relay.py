"""The master's output: copied into locust.log, its status lines shown on the terminal, its last words kept.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import TextIO

from foundation.rundir import STATUS_PREFIX


# Locust's line when --expect-workers-max-wait runs out, and the plugin's waiting status line.
GAVE_UP_WAITING = "Gave up waiting for workers to connect"
WAITING_FOR_WORKERS = re.compile(r"waiting for workers: (\d+) of (\d+) connected")
# Without a terminal (CI logs) print the status line at most this often.
STATUS_EVERY_S_NO_TTY = 5.0


class StatusRelay(threading.Thread):
    """Copies the master's output into locust.log and shows its status lines on the terminal."""

    def __init__(self, stream: TextIO, log_path: Path, terminal: TextIO) -> None:
        super().__init__(daemon=True)
        self.stream, self.log_path, self.terminal = stream, log_path, terminal
        self.tty = terminal.isatty()
        self.last_shown = 0.0
        self.last_lines: list[str] = []  # the master's last words, for a one-line error
        self.workers_connected: int | None = None  # from the master's "waiting for workers" lines
        self.gave_up_waiting = False  # Locust's --expect-workers-max-wait ran out

    def run(self) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            for line in self.stream:
                log.write(line)
                log.flush()
                if line.startswith(STATUS_PREFIX):
                    waiting = WAITING_FOR_WORKERS.search(line)
                    if waiting:
                        self.workers_connected = int(waiting.group(1))
                    self.show(line[len(STATUS_PREFIX):].rstrip())
                elif line.strip():
                    if GAVE_UP_WAITING in line:
                        self.gave_up_waiting = True
                    self.last_lines = [*self.last_lines[-2:], line.strip()]
        if self.tty:
            self.terminal.write("\n")

    def show(self, status: str) -> None:
        if self.tty:
            self.terminal.write("\r" + status[: os.get_terminal_size(self.terminal.fileno()).columns - 1].ljust(60))
            self.terminal.flush()
        elif time.monotonic() - self.last_shown >= STATUS_EVERY_S_NO_TTY:
            self.last_shown = time.monotonic()
            print(status, file=self.terminal, flush=True)
