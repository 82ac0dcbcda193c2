"""End to end in a real browser: ``wfsim app`` serves the app on a free localhost port and headless
Chromium (Debian's /usr/bin/chromium, installed by ``make chromium``) is driven with Playwright as a
user would: switch a lever on, run, read the numbers and hover the chart, strengthen the lever, run
again, see the numbers and the chart change, download a table.

Set WFSIM_APP_SCREENSHOT=PATH to keep a screenshot of the page after the lever change.
"""
from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-gpu"]
FIRST_RUN_S = 300          # a cold numba cache compiles the kernel on the first run (about a minute or two)
METRIC = "Registered nurses: gap reduction FTE"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``wfsim app --port P --no-browser`` in a fresh working folder; stopped (its process group) after."""
    wfsim = Path(sys.executable).with_name("wfsim")
    assert wfsim.exists(), f"{wfsim}: the wfsim command is not installed in this environment (make test does it)"
    cwd = tmp_path_factory.mktemp("app")
    port = free_port()
    log = open(cwd / "server.log", "w+")
    proc = subprocess.Popen([str(wfsim), "app", "--port", str(port), "--no-browser"], cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        end = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"wfsim app exited with {proc.returncode}:\n{log.read()}")
            with socket.socket() as s:
                if s.connect_ex(("localhost", port)) == 0:
                    break
            if time.monotonic() > end:
                pytest.fail("wfsim app did not listen within 60 s")
            time.sleep(0.2)
        yield f"http://localhost:{port}", cwd
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium (make test does it)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(       # a fresh profile folder: its --user-data-dir
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(server[0])
            yield page
        finally:
            context.close()


def metric_value(page) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=METRIC).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def number(text: str) -> float:
    return float(text.replace(",", "").replace("£", "").replace("%", ""))


def test_change_a_lever_run_compare_and_download(page, server, tmp_path):
    expect = playwright.expect
    lever = page.locator('[data-testid="stExpander"]').filter(has_text="retention: Multiply")
    lever.locator("summary").click()
    lever.get_by_text("switch on").click()
    size = lever.get_by_role("spinbutton", name="leave rate multiplier")
    size.fill("0.9")
    size.press("Enter")
    for name, value in (("replicates", "20"), ("years", "3")):
        box = page.get_by_role("spinbutton", name=name, exact=True)
        box.fill(value)
        box.press("Enter")
    page.get_by_role("button", name="Run", exact=True).click()

    expect(page.get_by_text("done in")).to_be_visible(timeout=FIRST_RUN_S * 1000)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text=METRIC).first).to_be_visible()
    first = metric_value(page)
    assert number(first) > 0
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    expect(chart.locator("svg").first).to_be_visible()
    before = chart.screenshot()
    # hovering the fan chart shows the values of the nearest period
    chart.scroll_into_view_if_needed()
    area = chart.bounding_box()
    page.mouse.move(area["x"] + 0.6 * area["width"], area["y"] + 0.5 * area["height"])
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("median FTE")

    # a stronger lever: the numbers and the chart change
    size.fill("0.6")
    size.press("Enter")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text=METRIC).first
           .locator('[data-testid="stMetricValue"]')).not_to_have_text(first, timeout=120_000)
    expect(page.get_by_text("done in")).to_be_visible()
    second = metric_value(page)
    assert number(second) > number(first)
    page.mouse.move(0, 0)
    time.sleep(0.5)                                           # let the chart finish drawing
    assert chart.screenshot() != before
    if os.environ.get("WFSIM_APP_SCREENSHOT"):
        page.set_viewport_size({"width": 1400, "height": 2400})
        page.get_by_text(METRIC).first.scroll_into_view_if_needed()
        time.sleep(1)
        page.screenshot(path=os.environ["WFSIM_APP_SCREENSHOT"])
        page.set_viewport_size({"width": 1400, "height": 1000})

    # download the tidy percentiles: both runs, and the lever raised nurse supply
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="percentiles (CSV)").first.click()
    assert download.value.suggested_filename == "app-baseline-ics-percentiles.csv"
    table = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert set(table.run) == {"baseline", "with_levers"}
    supply = table[(table.variable == "effective_fte") & (table.profession == "registered_nurse")]
    last = supply[supply.time == supply.time.max()].groupby("run").p50.sum()
    assert last["with_levers"] > last["baseline"]
    assert (server[1] / "results" / "app").is_dir()           # results went to the server's working folder
