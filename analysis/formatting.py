"""How numbers read in the reports: one definition so HTML, Markdown and JUnit agree."""

from __future__ import annotations

from typing import Any

from scenarios.thresholds import HIGHER_IS_BETTER, LATENCY_METRICS


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f} %"


def rps(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def metric_value(metric: str, value: float | None) -> str:
    """A threshold level or observation in its metric's unit."""
    if value is None:
        return "–"
    if metric in LATENCY_METRICS or metric == "db_mean_ms":
        return f"{ms(value)} ms"
    if metric in ("failure_ratio", "cache_hit_rate"):
        return ratio(value)
    return f"{rps(value)} req/s"


def level(result: dict[str, Any], which: str) -> str:
    """'≤ 500 ms' / '≥ 20.0 req/s': the direction is part of the level."""
    value = result[which]
    if value is None:
        return "–"
    op = "≥" if result["metric"] in HIGHER_IS_BETTER else "≤"
    return f"{op} {metric_value(result['metric'], value)}"


def endpoint_label(row: dict[str, Any]) -> str:
    return f"{row['method']} {row['name']}" if row.get("method") else row["name"]
