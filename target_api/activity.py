"""The activity log every write appends to (read back by GET /logs and the dashboard)."""

from __future__ import annotations

from psycopg import AsyncConnection


async def log_activity(
    conn: AsyncConnection, user_id: int, action: str, entity_type: str, entity_id: int | None, details: str | None = None
) -> None:
    """Append one row; call inside the write's transaction so both commit together."""
    await conn.execute(
        "INSERT INTO activity_logs (user_id, action, entity_type, entity_id, details) VALUES (%s, %s, %s, %s, %s)",
        (user_id, action, entity_type, entity_id, details),
    )
