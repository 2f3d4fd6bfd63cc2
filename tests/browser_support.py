"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright, no browser download.

The set-up installs the package when it is missing and the tests run as root
(`.ci/run` on a fresh machine); otherwise, or when apt cannot reach its
archive, the tests are skipped with the exact reason. Chromium is started
with background networking off: on this closed network its own update, sync
and component connections would be refused, and each would be noise in a
test that counts the page's requests.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
APT_TIMEOUT_S = 300
LOCK = Path("/tmp/careerload-chromium-install.lock")  # pytest-xdist processes install one at a time


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], capture_output=True, text=True, timeout=APT_TIMEOUT_S, env=env)


def ensure_chromium() -> str | None:
    """None when /usr/bin/chromium is there (installed now if need be); else why the browser tests are skipped."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    if os.geteuid() != 0:
        return (f"browser tests need {CHROMIUM} (Debian's chromium package) and the test set-up installs it only "
                "as root: run `apt-get install -y chromium` as root, or the tests as root")
    if shutil.which("apt-get") is None:
        return f"browser tests need {CHROMIUM}; there is no apt-get on this machine to install Debian's chromium"
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(CHROMIUM, os.X_OK):
            return None
        try:
            done = _apt("install", "-y", "-q", "chromium")
            if done.returncode != 0:  # a fresh machine has no package lists yet
                _apt("update", "-q")
                done = _apt("install", "-y", "-q", "chromium")
        except subprocess.TimeoutExpired:
            return f"browser tests need {CHROMIUM}: apt-get install chromium took more than {APT_TIMEOUT_S} s"
        if done.returncode != 0 or not os.access(CHROMIUM, os.X_OK):
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"browser tests need {CHROMIUM}: apt-get install chromium failed ({last[0]})"
    return None
