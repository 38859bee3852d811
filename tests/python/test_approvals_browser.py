"""The approval flow in a real browser: Debian's Chromium, driven by Playwright.

The onboarding workflow runs on the example lake with the local runner (`dqc workflow run
... --wait`), asks for approval with a signed link, and waits on its task token. The approval
service (`dqc approvals serve`, on 127.0.0.1) serves the review page; the browser checks the
diff against the approved version, the diagram (rendered to SVG by the service's own Mermaid)
and the backtest counts, then approves: the workflow publishes the contract. A second run is
rejected with a reason: the workflow ends with `DqcRejected` and the reason.

Screenshots are kept in `out/test-artifacts/approvals/` (or `$DQC_TEST_ARTIFACTS`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DQC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("DQC_TEST_ARTIFACTS", ROOT / "out" / "test-artifacts")) / "approvals"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what: str, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def links(home: Path) -> list[str]:
    path = home / "notifications.jsonl"
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        found += re.findall(r"http://127\.0\.0\.1:\d+/approvals/\S+", json.loads(line)["message"])
    return found


@pytest.fixture(scope="module")
def setup(dqc_bin, tmp_path_factory):
    home = tmp_path_factory.mktemp("approvals")
    run = lambda *args: subprocess.run([str(dqc_bin), *args], cwd=ROOT, check=True, capture_output=True, text=True)
    run("example", "loans", "--rows", "3000", "--out", str(home / "lake"))
    run("approvals", "keygen", "--out", str(home / "keys.json"))
    # The approved versions: the example contracts, published earlier.
    sources = home / "artifacts" / "sources"
    sources.mkdir(parents=True)
    for table in ["dim_customer", "dim_loan", "loan_repayment_fact"]:
        shutil.copy(ROOT / "examples/loans/contracts" / f"{table}.dqc", sources / f"analytics_db.{table}.dqc")
    port = free_port()
    server = subprocess.Popen(
        [str(dqc_bin), "approvals", "serve", "--listen", f"127.0.0.1:{port}", "--home", str(home), "--keys", str(home / "keys.json")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, "the approval service")
        yield dqc_bin, home, port
    finally:
        server.kill()
        server.wait(timeout=10)


def onboard(dqc_bin, home: Path, port: int, table: str, name: str) -> subprocess.Popen:
    request = home / f"{name}.json"
    request.write_text(json.dumps({"table": table, "script_key": None, "draft_key": None, "approvers": ["ann@example.com"]}))
    return subprocess.Popen(
        [
            str(dqc_bin), "workflow", "run", "statemachines/onboard.asl.json", "--input", str(request), "--name", name,
            "--home", str(home), "--lake", str(home / "lake"), "--wait",
            "--approval-url", f"http://127.0.0.1:{port}", "--approval-keys", str(home / "keys.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    return playwright, chromium


def test_approve_in_the_browser_and_the_workflow_publishes(setup):
    dqc_bin, home, port = setup
    before = len(links(home))
    workflow = onboard(dqc_bin, home, port, "analytics_db.loan_repayment_fact", "onboard-approve")
    try:
        link = wait_until(lambda: links(home)[before:], "the approval link")[0]
        assert "token" not in link
        playwright, chromium = browser()
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(link)
            page.wait_for_selector("#diagram svg", timeout=20000)
            assert page.locator("#diff .del").count() > 0 and page.locator("#diff .add").count() > 0
            changes = page.locator("#rules td.change").all_inner_texts()
            assert {"added", "removed"} <= {c.lower() for c in changes}, changes
            counts = page.locator("#rules .violations").all_inner_texts()
            assert counts and all(c.isdigit() for c in counts), counts
            # The example lake has injected nulls in customer_id: the backtest shows them.
            assert page.locator('tr[data-rule="not_null_customer_id"] .violations').inner_text() != "0"
            assert not errors, errors
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
            page.click("#approve")
            page.wait_for_selector("#outcome")
            assert "approved" in page.locator("#outcome").inner_text()
            page.screenshot(path=str(ARTIFACTS / "approved.png"))
        finally:
            chromium.close()
            playwright.stop()
        out, err = workflow.communicate(timeout=120)
    finally:
        workflow.kill()
    assert workflow.returncode == 0, err
    published = list((home / "artifacts" / "contracts" / "loan_repayment_fact").glob("*.json"))
    assert len(published) == 1, published
    assert "published" in (home / "notifications.jsonl").read_text()


def test_reject_with_a_reason_ends_the_workflow_with_it(setup):
    dqc_bin, home, port = setup
    before = len(links(home))
    workflow = onboard(dqc_bin, home, port, "analytics_db.dim_loan", "onboard-reject")
    try:
        link = wait_until(lambda: links(home)[before:], "the approval link")[0]
        playwright, chromium = browser()
        try:
            page = chromium.new_page()
            page.goto(link)
            page.wait_for_selector("#diagram svg", timeout=20000)
            page.fill("#reason", "the status values are not agreed with finance")
            page.click("#reject")
            page.wait_for_selector("#outcome")
            assert "rejected" in page.locator("#outcome").inner_text()
            page.screenshot(path=str(ARTIFACTS / "rejected.png"))
            # Following the link again shows the decision, with nothing left to click.
            page.goto(link)
            assert "Already" in page.locator("#outcome").inner_text()
            assert page.locator("#approve").count() == 0
        finally:
            chromium.close()
            playwright.stop()
        out, err = workflow.communicate(timeout=120)
    finally:
        workflow.kill()
    assert workflow.returncode != 0
    history = subprocess.run(
        [str(dqc_bin), "workflow", "history", "onboard-reject", "--home", str(home)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "DqcRejected" in history and "not agreed with finance" in history, history[-2000:]
