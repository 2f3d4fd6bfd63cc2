"""pyarrow for the Locust processes, without numpy: the Parquet raw log's encoder.

`import pyarrow` imports numpy when numpy is installed (pyarrow 26 does, for its
numpy interop), and a Locust worker must not load numpy (tests/test_layers.py:
start-up time and about 13 MiB per process, for nothing the writer uses; see
DESIGN.md). pyarrow treats numpy as optional at run time (verified with
pyarrow 26, the version pyproject.toml requires): hiding it while pyarrow is
imported gives a pyarrow whose builders, Parquet writer and reader work from
Python lists alone (measured with `import pyarrow.parquet` in a fresh
interpreter: 0.14 s and 49 MiB peak RSS without numpy, 0.18 s and 62 MiB
with it). numpy stays importable afterwards; only pyarrow's numpy interop is
off in this process, and nothing in a Locust process uses it. When numpy (or
pyarrow) is already loaded, as in a test process, pyarrow is imported as usual.

Imported lazily, by the first raw log a process opens: `locust -f locustfiles`
without --run-dir never loads pyarrow.
"""

from __future__ import annotations

import sys
from types import ModuleType

from foundation import rundir


def arrow() -> tuple[ModuleType, ModuleType]:
    """(pyarrow, pyarrow.parquet), imported without numpy unless numpy is already loaded."""
    hide = "numpy" not in sys.modules and "pyarrow" not in sys.modules
    if hide:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # makes `import numpy` raise ImportError
    try:
        import pyarrow
        import pyarrow.parquet
    finally:
        if hide:
            del sys.modules["numpy"]
    return pyarrow, pyarrow.parquet


def request_log_schema() -> object:
    """The Parquet raw log's Arrow schema (foundation.rundir.REQUEST_LOG_ARROW_TYPES)."""
    pa, _ = arrow()
    return pa.schema([(column, pa.type_for_alias(rundir.REQUEST_LOG_ARROW_TYPES[column]))
                      for column in rundir.REQUEST_LOG_COLUMNS])
