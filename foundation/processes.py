"""Child-process plumbing shared by the embedded stack and the Locust runner."""

from __future__ import annotations

import ctypes
import ipaddress
import signal
import socket

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether a listening address is this machine only ("" and "*" mean every interface, so no)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """In a child (`preexec_fn`): SIGTERM when the parent dies, however it dies (Linux PR_SET_PDEATHSIG).

    Our children run in their own sessions, so a terminal's Ctrl-C reaches only
    the parent, which stops them in order; without this a parent killed with
    SIGKILL would leave its servers and load generators running.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
