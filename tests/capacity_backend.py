"""A backend with a known capacity, for the capacity tests: at most K requests at once, each at least M ms.

Plain asyncio (no framework): one task per connection, HTTP/1.1 keep-alive,
and a semaphore of K around every job list; a request holds its slot for M ms
of sleep, so the capacity is K x 1000 / M requests/s whatever else the machine
is doing (sleep-bound, not CPU-bound: two cores shared with other load tests
do not move it). Requests beyond K wait for a slot (a queue, as a thread pool
or a connection pool makes one).

It speaks what the capacity tests' profile needs: `GET /api/v1/health` and
`GET /api/v1/jobs` (an empty page envelope); everything else is 404 (so there
is no /openapi.json and the profile check is skipped).

    python tests/capacity_backend.py --port P --concurrency K --service-ms M
"""

from __future__ import annotations

import argparse
import asyncio
import json

ENVELOPE = {"items": [], "total": 0, "page": 1, "page_size": 20, "total_pages": 0, "has_next": False,
            "has_prev": False}


def response(status: int, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    reason = {200: "OK", 404: "Not Found"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: keep-alive\r\n\r\n").encode() + payload


async def serve(port: int, concurrency: int, service_s: float) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                               if line.lower().startswith("content-length:")), 0)
                if length:
                    await reader.readexactly(length)
                path = target.split("?", 1)[0]
                if method == "GET" and path == "/api/v1/jobs":
                    async with slots:
                        await asyncio.sleep(service_s)
                    writer.write(response(200, ENVELOPE))
                elif path == "/api/v1/health":
                    writer.write(response(200, {"status": "ok"}))
                else:
                    writer.write(response(404, {"detail": "Not Found"}))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--service-ms", type=float, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.concurrency, args.service_ms / 1000.0))


if __name__ == "__main__":
    main()
