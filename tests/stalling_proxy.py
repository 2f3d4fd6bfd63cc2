"""A TCP proxy on 127.0.0.1 that stalls all traffic for S seconds every P seconds, or slows every request down.

    python tests/stalling_proxy.py --target 127.0.0.1:8000 --stall 2 --every 10
    python tests/stalling_proxy.py --target 127.0.0.1:8000 --delay-ms 20   # then "delay 300" on stdin

prints `listening on <port>` once it accepts connections. Bytes flow freely
for P - S seconds, then nothing moves either way for S seconds (connections
stay open, new ones are accepted and wait, data is held, not lost), and so on,
counted from the proxy's start. With `--delay-ms D` instead, every chunk the
client sends (an HTTP request, on a kept-alive connection) waits D ms before it
goes upstream; a line `delay N` on the proxy's stdin changes D to N from then
on, so a test can make the backend slower at a moment it chooses (after a
spike, say). The test's backend is the session's real one:
only the network in front of it stalls, the way a stop-the-world pause, a
saturated connection pool or a lost route looks from the load generator.

`stalling_proxy(...)` and `delaying_proxy(...)` start it as its own process
(stopped by PID on exit); tests/conftest.py's `stalling_target` fixture hands
the first to tests.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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


class Delay:
    """A fixed wait before each chunk from the client goes upstream, changed by `delay N` lines on stdin."""

    def __init__(self, delay_ms: float) -> None:
        self.delay_s = delay_ms / 1000
        self.follower: asyncio.Future | None = None

    async def gate(self) -> None:
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)

    async def follow(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            command, _, value = line.decode().partition(" ")
            if command == "delay":
                self.delay_s = float(value) / 1000
                print(f"delay {value.strip()}", flush=True)


class Free:
    """No fault: the direction the delay does not apply to."""

    async def gate(self) -> None:
        return None


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stalls: Stalls | Delay | Free) -> None:
    try:
        while data := await reader.read(CHUNK):
            await stalls.gate()
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _serve(target_host: str, target_port: int, fault: Stalls | Delay) -> None:
    # a stall holds both directions; a delay holds each request on its way in, the response flows freely
    back = fault if isinstance(fault, Stalls) else Free()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if isinstance(fault, Stalls):
            await fault.gate()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pump(client_reader, upstream_writer, fault), _pump(upstream_reader, client_writer, back))

    if isinstance(fault, Delay):
        stdin = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
        fault.follower = asyncio.ensure_future(fault.follow(stdin))  # held: the loop keeps only a weak reference
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


@contextmanager
def _proxy(target_url: str, fault: list[str]) -> Iterator[tuple[str, subprocess.Popen]]:
    hostport = target_url.split("://", 1)[1].rstrip("/")
    proc = subprocess.Popen([sys.executable, __file__, "--target", hostport, *fault],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the proxy did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[-1])}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def stalling_proxy(target_url: str, stall_s: float, every_s: float) -> Iterator[str]:
    """The stalling proxy as its own process in front of `target_url` (http://host:port); yields the proxy's URL."""
    with _proxy(target_url, ["--stall", str(stall_s), "--every", str(every_s)]) as (url, _):
        yield url


@contextmanager
def delaying_proxy(target_url: str, delay_ms: float) -> Iterator[tuple[str, Callable[[float], None]]]:
    """The delaying proxy in front of `target_url`: yields its URL and a function setting the delay (ms) from now."""
    with _proxy(target_url, ["--delay-ms", str(delay_ms)]) as (url, proc):
        def set_delay(new_ms: float) -> None:
            proc.stdin.write(f"delay {new_ms}\n")
            proc.stdin.flush()
            if proc.stdout.readline().strip() != f"delay {new_ms}":  # applied before the caller goes on
                raise RuntimeError("the delaying proxy did not take the new delay")
        yield url, set_delay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", required=True, help="host:port of the backend")
    parser.add_argument("--stall", type=float, help="seconds every stall lasts")
    parser.add_argument("--every", type=float, help="seconds from one stall's start to the next")
    parser.add_argument("--delay-ms", type=float, help="instead of stalls: wait this long before each request")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    if args.delay_ms is not None:
        asyncio.run(_serve(host, int(port), Delay(args.delay_ms)))
        return
    if args.stall is None or args.every is None or not 0 < args.stall < args.every:
        parser.error("--stall and --every: --stall must be > 0 and shorter than --every (or give --delay-ms)")
    asyncio.run(_serve(host, int(port), Stalls(args.stall, args.every)))


if __name__ == "__main__":
    main()
