"""RunOptions: the options of one `careerload run`, a dataclass generated from foundation.options' table.

Fields, types and defaults are the table's `run` options (the scenario and the
host first, required); what is written here is only what the options mean
together (master mode, remote workers) and how run.json records them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from foundation.options import BY_DEST, RUN_OPTIONS, Option, worker_count


class _Derived:
    """What the run's options mean together; the fields come from the table."""

    workers: int
    master: bool
    expect_workers: int | None

    @property
    def expected_workers(self) -> int:
        """Workers to wait for in all: --expect-workers, else the local --workers count."""
        return self.workers if self.expect_workers is None else self.expect_workers

    @property
    def distributed(self) -> bool:
        """Master mode: any of --master, --workers, --expect-workers asks for it."""
        return self.master or self.workers > 0 or self.expected_workers > 0

    @property
    def remote_workers(self) -> bool:
        """Whether workers from other processes than ours may connect (fixed port, documented default)."""
        return self.master or self.expected_workers > self.workers

    def recorded(self) -> dict[str, Any]:
        """The options as run.json keeps them: secrets as whether they were given, paths as text."""
        out: dict[str, Any] = {}
        for option in RUN_OPTIONS:
            value = getattr(self, option.dest)
            out[option.dest] = bool(value) if option.secret else str(value) if isinstance(value, Path) else value
        out["expect_workers"] = self.expected_workers if self.distributed else 0
        return out


def _annotation(option: Option) -> Any:
    kind = bool if option.switch else int if option.type is worker_count else option.type or str
    return kind if option.default is not None or option.positional or option.required else kind | None


def _field(dest: str) -> tuple[str, Any, Any]:
    option = BY_DEST[dest]
    if option.positional or option.required:
        return dest, _annotation(option), dataclasses.field()
    return dest, _annotation(option), dataclasses.field(default=option.default)


RunOptions = dataclasses.make_dataclass(
    "RunOptions", [_field(option.dest) for option in RUN_OPTIONS], bases=(_Derived,),
    namespace={"__module__": __name__},
)
RunOptions.__doc__ = "The options of one `careerload run` (foundation.options: the `run` entries)."
