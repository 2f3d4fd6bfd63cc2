"""k6 `options.thresholds` -> the scenario's `[k6.thresholds]` table, checked by the loader's own parser.

The expressions are written as k6 wrote them, so the scenario file reads like
the script; each one is parsed with scenarios.k6_thresholds here, and one the
loader would refuse (a custom metric, `p(97)`, a tag it cannot map) is a note
and a comment instead of a line that breaks the scenario.

A `{name:...}` tag filter is rewritten to careerload's endpoint form
(scenarios.k6_thresholds.rewrite_selector) from the script's requests.
"""

from __future__ import annotations

from typing import Any

from scenarios.k6_thresholds import parse_expression, rewrite_selector
from scenarios.k6.options import OptionsError, duration_s
from scenarios.k6.untranslatable import Note
from scenarios.thresholds import ScenarioError

def translate(raw: Any, line: int, names: list[tuple[str, str, str]]) -> tuple[dict[str, list[Any]], list[Note]]:
    """(selector -> entries to write, notes) for a script's options.thresholds."""
    notes: list[Note] = []
    if not isinstance(raw, dict):
        return {}, [Note(line, "options.thresholds is not an object: not translated")]
    out: dict[str, list[Any]] = {}
    for selector, entries in raw.items():
        target = rewrite_selector(selector, names)
        for entry in entries if isinstance(entries, list) else [entries]:
            written = _entry(entry)
            try:
                if written is None:
                    raise ScenarioError(f"{entry!r} is not a threshold expression or object")
                expression = written if isinstance(written, str) else written["threshold"]
                grace = written.get("delayAbortEval", 0) if isinstance(written, dict) else 0
                parse_expression(target, expression, f"options.thresholds[{selector!r}]")
                if isinstance(written, dict) and "delayAbortEval" in written:
                    written["delayAbortEval"] = f"{duration_s(grace, 'delayAbortEval'):g}s"
            except (ScenarioError, OptionsError) as exc:
                notes.append(Note(line, f"threshold not translated: {exc}"))
                continue
            out.setdefault(target, []).append(written)
    return out, notes


def _entry(entry: Any) -> str | dict[str, Any] | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("threshold"), str):
        return {k: v for k, v in entry.items() if k in ("threshold", "abortOnFail", "delayAbortEval")}
    return None
