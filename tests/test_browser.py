"""What a person looks at, in a real browser: Locust's web UI with careerload's picker and panel, and report.html.

Headless Debian Chromium driven by Playwright (tests/browser_support.py). The
load is bounded: the smoke personas, 3 users at most, a scenario time-scaled
to seconds, against the session's loopback stack. Screenshots of every step go
to the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from browser_support import CHROMIUM, CHROMIUM_ARGS, ensure_chromium
from foundation.processes import free_port
from test_personas_support import CLI, REPO, careerload, seed_accounts

SEED_USERS = 5


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    why = ensure_chromium()
    if why:
        pytest.skip(why)
    # A fresh user-data-dir: a clean profile per session, nothing remembered between runs.
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 1000})
        yield context
        context.close()


@pytest.fixture(scope="module")
def host(target_url: str, database_url: str) -> str:
    seed_accounts(database_url, SEED_USERS, 30)
    return target_url


def wait_for_page(page: Page, url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            page.goto(url)
            return
        except Exception:  # noqa: BLE001 - the web UI is not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def aggregated_requests(page: Page) -> int:
    """The request count of the Aggregated row of Locust's statistics table, as the page shows it."""
    row = page.get_by_role("row").filter(has_text="Aggregated").first
    cells = row.get_by_role("cell").all_inner_texts()
    return int(cells[2].replace(",", ""))


def test_the_web_ui_plays_what_the_picker_says_and_links_the_report(
        browser: BrowserContext, host: str, tmp_path: Path) -> None:
    # Started with a file: the picker must show it, not the built-in default.
    started_with = tmp_path / "quick.toml"
    started_with.write_text((REPO / "scenarios" / "smoke.toml").read_text().replace(
        'question = "', 'name = "quick"\nquestion = "Quick: ', 1))
    port, out = free_port(), tmp_path / "web"
    proc = subprocess.Popen([*CLI, "run", str(started_with), "--host", host, "--web", "--web-port", str(port),
                             "--out", str(out), "--seed-users", str(SEED_USERS), "--think-time-scale", "0.1"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    page = browser.new_page()
    try:
        wait_for_page(page, f"http://127.0.0.1:{port}/")
        panel = page.locator("#careerload-panel")
        expect(panel.locator("#careerload-scenario")).to_contain_text("Will play: quick")
        expect(panel.locator("#careerload-shape")).to_contain_text("peak 2 users")
        page.get_by_role("button", name="Custom parameters").click()
        assert page.locator("select#scenario").input_value() == str(started_with.resolve())
        page.screenshot(path=tmp_path / "1-started-with-a-file.png", full_page=True)

        # Another scenario, peak users and time scale, chosen in the form before START.
        page.locator("select#scenario").select_option("smoke")
        page.locator('input[name="peakUsers"]').fill("3")
        page.locator('input[name="timeScale"]').fill("0.5")
        expect(panel.locator("#careerload-scenario")).to_contain_text("Will play: smoke")
        expect(panel.locator("#careerload-shape")).to_contain_text("peak 3 users")
        expect(panel.locator("#careerload-shape")).to_contain_text("15 s")
        page.screenshot(path=tmp_path / "2-smoke-chosen.png", full_page=True)

        page.get_by_role("button", name="Start").click()
        expect(panel.locator("#careerload-scenario")).to_contain_text("Playing: smoke", timeout=10_000)
        expect(page.get_by_role("row").filter(has_text="Aggregated").first).to_be_visible(timeout=15_000)
        first = aggregated_requests(page)
        deadline = time.monotonic() + 15
        while aggregated_requests(page) <= first and time.monotonic() < deadline:
            time.sleep(0.5)
        assert aggregated_requests(page) > first, "the statistics did not move"
        page.screenshot(path=tmp_path / "3-running.png", full_page=True)

        page.get_by_role("button", name="Stop").click()
        link = page.locator("#careerload-report")
        expect(link).to_be_visible(timeout=60_000)
        page.screenshot(path=tmp_path / "4-stopped-report-linked.png", full_page=True)
        document = json.loads((out / "run.json").read_text())
        assert document["scenario"] == "smoke" and document["status"] == "complete"
        assert document["options"]["time_scale"] == 0.5 and document["options"]["peak_users"] == 3
        assert document["aborted"] == "stopped from the web UI"
        assert document["shape"]["duration_s"] == 15 and max(s["target"] for s in document["shape"]["stages"]) == 3

        link.click()
        expect(page.locator("h1")).to_contain_text("smoke")
        page.screenshot(path=tmp_path / "5-report-from-the-link.png", full_page=True)

        # A second START would mix two tests in one run directory: refused with a sentence.
        refused = page.request.post(f"http://127.0.0.1:{port}/swarm", form={"scenario": "smoke"}).json()
        assert not refused["success"] and "new `careerload run`" in refused["message"]
    finally:
        page.close()
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode in (0, 1), output
    assert "Ctrl-C: closing the web UI" in output and "verdict" in output, output
    document = json.loads((out / "run.json").read_text())
    assert document["aborted"] == "stopped from the web UI", "Ctrl-C after STOP interrupted nothing"


def test_report_html_is_whole_offline_with_thresholds_first(browser: BrowserContext, host: str, tmp_path: Path) -> None:
    # Two personas whose latencies differ by orders of magnitude, so the per-persona chart has two lines.
    scenario = tmp_path / "two-personas.toml"
    scenario.write_text((REPO / "scenarios" / "smoke.toml").read_text().replace(
        "BrowsingUser = 1", "BrowsingUser = 1\nAIGenerationUser = 1"))
    out = tmp_path / "run"
    result = careerload("run", str(scenario), "--host", host, "--time-scale", "0.3", "--think-time-scale", "0.1",
                        "--seed-users", str(SEED_USERS), "--out", str(out))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    url = (out / "report.html").resolve().as_uri()
    page.goto(url)
    page.wait_for_load_state("load")
    assert errors == []
    assert [r for r in requests if r != url] == [], "report.html must be self-contained"
    images: list[dict[str, Any]] = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => ({alt: i.alt, width: i.naturalWidth, complete: i.complete}))")
    assert images and all(i["complete"] and i["width"] > 0 for i in images), images
    assert any("per persona" in i["alt"] for i in images), [i["alt"] for i in images]
    # What a person reads first: the verdict, then the thresholds; a table of contents to the rest.
    headings = page.locator("h2").all_inner_texts()
    assert headings[:2] == ["Contents", "Thresholds"], headings
    expect(page.locator("table#thresholds-table tbody tr").first).to_be_visible()
    assert page.locator("nav#contents a").count() >= 5
    for href in page.locator("nav#contents a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(href).count() == 1, href
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    page.close()


def test_the_web_login_keeps_out_a_wrong_password(browser: BrowserContext, host: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CAREERLOAD_WEB_PASSWORD": "right horse"}
    proc = subprocess.Popen([*CLI, "run", "smoke", "--host", host, "--web", "--web-port", str(port), "--web-login",
                             "--out", str(tmp_path / "web")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    page = browser.new_page()
    try:
        wait_for_page(page, f"http://127.0.0.1:{port}/")
        assert page.request.get(f"http://127.0.0.1:{port}/careerload/state", max_redirects=0).status == 302
        for password, admitted in (("wrong", False), ("right horse", True)):
            page.goto(f"http://127.0.0.1:{port}/login")
            page.locator('input[name="username"]').fill("careerload")
            page.locator('input[name="password"]').fill(password)
            page.get_by_role("button", name="Login").click()
            if admitted:
                expect(page.locator("#careerload-scenario")).to_contain_text("Will play: smoke")
            else:
                expect(page.get_by_text("Wrong user name or password")).to_be_visible()
        page.screenshot(path=tmp_path / "logged-in.png", full_page=True)
    finally:
        page.close()
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
