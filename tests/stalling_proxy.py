"""A TCP proxy on 127.0.0.1 that stalls all traffic for S seconds every P seconds: a backend that hangs now and then.

    python tests/stalling_proxy.py --target 127.0.0.1:8000 --stall 2 --every 10

prints `listening on <port>` once it accepts connections. Bytes flow freely
for P - S seconds, then nothing moves either way for S seconds (connections
stay open, new ones are accepted and wait, data is held, not lost), and so on,
counted from the proxy's start. The test's backend is the session's real one:
only the network in front of it stalls, the way a stop-the-world pause, a
saturated connection pool or a lost route looks from the load generator.

`stalling_proxy(...)` starts it as its own process (stopped by PID on exit);
tests/conftest.py's `stalling_target` fixture hands it to tests.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK = 65536


class Stalls:
    """When the traffic stalls: [k*every + (every - stall), (k+1)*every) seconds after the start."""

    def __init__(self, stall_s: float, every_s: float) -> None:
        self.stall_s, self.every_s, self.start = stall_s, every_s, time.monotonic()

    def remaining(self) -> float:
        """Seconds until traffic may flow again (0 when it may now)."""
        phase = (time.monotonic() - self.start) % self.every_s
        return max(self.every_s - phase, 0.0) if phase >= self.every_s - self.stall_s else 0.0

    async def gate(self) -> None:
        while (wait := self.remaining()) > 0:
            await asyncio.sleep(wait)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stalls: Stalls) -> None:
    try:
        while data := await reader.read(CHUNK):
            await stalls.gate()
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _serve(target_host: str, target_port: int, stalls: Stalls) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        await stalls.gate()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pump(client_reader, upstream_writer, stalls), _pump(upstream_reader, client_writer, stalls))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


@contextmanager
def stalling_proxy(target_url: str, stall_s: float, every_s: float) -> Iterator[str]:
    """The proxy as its own process in front of `target_url` (http://host:port); yields the proxy's URL."""
    hostport = target_url.split("://", 1)[1].rstrip("/")
    proc = subprocess.Popen([sys.executable, __file__, "--target", hostport, "--stall", str(stall_s),
                             "--every", str(every_s)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the stalling proxy did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[-1])}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", required=True, help="host:port of the backend")
    parser.add_argument("--stall", type=float, required=True, help="seconds every stall lasts")
    parser.add_argument("--every", type=float, required=True, help="seconds from one stall's start to the next")
    args = parser.parse_args()
    if not 0 < args.stall < args.every:
        parser.error("--stall must be > 0 and shorter than --every")
    host, _, port = args.target.rpartition(":")
    asyncio.run(_serve(host, int(port), Stalls(args.stall, args.every)))


if __name__ == "__main__":
    main()
