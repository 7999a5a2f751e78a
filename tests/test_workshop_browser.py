"""The workshop app in a real browser: Playwright driving Debian's Chromium, offline.

One server for the module (``python -m pathways_sim.viz.server``, the code behind
``pathways-sim workshop``); a fresh page (a fresh session) per test. Every request
the page makes to anything but the local server is refused and recorded, so the
tests fail if the page needs the internet. Screenshots go to
``test-output/workshop/`` (and also to ``$WORKSHOP_DOCS_IMG``, e.g. ``docs/img``,
when that is set). The two timings the issue asks for - server up, and a step
plus redraw with 2,000 clients on the board - are written to
``test-output/workshop/timings.json``.

Chromium is Debian's (``apt-get install chromium``), launched by path; browsers
are never downloaded. Without it (or Playwright) the tests skip, except under CI
(``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PATHWAYS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output" / "workshop"
DOCS_IMG = os.environ.get("WORKSHOP_DOCS_IMG")
VIEWPORT = {"width": 1920, "height": 1080}
SERVER_UP_TARGET_S = 5.0
STEP_TARGET_MS = 250.0
# Timings are asserted within SLACK x target, and the slack grows with the load on the
# machine (`make test` runs two test workers on two cores, and CI machines are shared), so
# the test guards against regressions without failing on a busy machine. Set
# PATHWAYS_TIMING_SLACK=1 to hold the targets exactly (on an otherwise idle machine).
SLACK = float(os.environ.get("PATHWAYS_TIMING_SLACK", "2"))


def _slack() -> float:
    """SLACK, times the load per core above 1 (1-minute load average)."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        load = 1.0
    return SLACK * max(1.0, load)

pytestmark = pytest.mark.xdist_group("workshop-browser")


def _missing(reason: str):
    """Skip the whole module with one line saying why, or fail it under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the install
    _missing("playwright is not installed (pip install -c constraints.txt -e '.[dev]')")
if not Path(CHROMIUM).exists():  # pragma: no cover
    _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _save(name: str, shot, page: Page | None = None, height: int | None = None) -> None:
    """Save a screenshot (``height``: make the window that tall first, to show it all)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"workshop-{name}.png"
    if page is not None and height:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        time.sleep(0.5)
    shot(path=str(path))
    if page is not None and height:
        page.set_viewport_size(VIEWPORT)
    if DOCS_IMG:
        folder = Path(DOCS_IMG)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / path.name)


def _record(**timings) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(timings)
    path.write_text(json.dumps(data, indent=2) + "\n")


class Server:
    def __init__(self, url: str, up_s: float, proc: subprocess.Popen, log: Path) -> None:
        self.url, self.up_s, self.proc, self.log = url, up_s, proc, log


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLARA_")}
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pathways_sim.viz.server", "medium", "--port", str(port),
             "--seed", "1"], cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = t0 + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() > deadline:
            proc.kill()
            pytest.fail(f"workshop server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    up = time.perf_counter() - t0
    _record(server_up_s=round(up, 2))
    yield Server(url, up, proc, log)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport=VIEWPORT)
    outside: list[str] = []
    errors: list[str] = []

    def route(r):
        u = r.request.url
        if u.startswith(server.url) or u.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(u)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    pg.goto(server.url)
    pg.wait_for_selector(".pw-board-A img", timeout=60_000)
    pg.first_render_s = time.perf_counter() - t0
    yield pg
    context.close()
    assert outside == [], f"the page asked for the internet: {outside}"
    assert errors == [], f"errors in the page: {errors}"


# ----------------------------------------------------------------------------- helpers


def week(page: Page) -> int:
    return int(re.search(r"Week (\d+)", page.locator(".pw-week").inner_text()).group(1))


def wait_week(page: Page, n: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "n => { const m = document.querySelector('.pw-week').innerText.match(/Week (\\d+)/);"
        " return m && +m[1] >= n; }", arg=n, timeout=timeout)


def img_src(page: Page, name: str) -> str:
    return page.locator(f".pw-{name} img").get_attribute("src")


def wait_text(page: Page, selector: str, text: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
        arg=[selector, text], timeout=timeout)


def wait_changed(page: Page, selector: str, old: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "([s, old]) => { const e = document.querySelector(s); return e && e.innerText !== old; }",
        arg=[selector, old], timeout=timeout)


def fan_ready(page: Page, timeout: float = 90_000) -> None:
    wait_text(page, ".pw-fan-status", "10-90%", timeout)


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def skip_year(page: Page) -> None:
    w = week(page)
    page.locator(".pw-skip-52").click()
    wait_week(page, w + 52)


def choose(page: Page, lever: str, option: str) -> None:
    page.locator(f".pw-lever-{lever} .v-select__slot").click()
    page.get_by_role("option", name=option, exact=True).click()


# ----------------------------------------------------------------------------- tests


def test_page_loads_offline_with_board_charts_levers_and_cards(page, server):
    assert "Pathways to work" in page.locator(".v-toolbar__title").first.inner_text()
    assert week(page) == 0
    for name in ("board-A", "charts-A"):
        box = page.locator(f".pw-{name} img").bounding_box()
        assert box and box["width"] > 800, name
    for key in ("service_model", "regime", "jcp", "training", "caseload", "posts", "referrals",
                "client_mix", "share_at_risk"):
        assert page.locator(f".pw-lever-{key}").count() == 1, key
    assert page.locator(".pw-card-button").count() >= 10
    # which model: the shipped calibration by default, at its posterior point
    model = page.locator(".pw-calibration").inner_text()
    assert model.startswith("Calibration: ") and "posterior point" in model, model
    for name in ("Reset", "Step", "▶"):
        assert button(page, name).is_visible()
    _record(first_render_s=round(page.first_render_s, 2))
    _save("start", page.screenshot)


def test_step_advances_the_week_and_moves_dots(page):
    skip_year(page)
    board, lanes = img_src(page, "board-A"), page.locator(".pw-lanes-A").inner_text()
    button(page, "Step").click()
    wait_week(page, 53)
    assert week(page) == 53
    page.wait_for_function("s => document.querySelector('.pw-board-A img').src !== s", arg=board)
    wait_changed(page, ".pw-lanes-A", lanes)  # clients changed lanes
    _save("board", page.locator(".pw-board-A").screenshot)


def test_play_pause_and_reset(page):
    button(page, "▶").click()
    wait_week(page, 3, timeout=90_000)
    button(page, "❚❚").click(timeout=60_000)
    # a loaded machine may still be delivering frames drawn before the click
    button(page, "▶").wait_for(timeout=90_000)
    time.sleep(2.0)  # a week in flight when the click came may still arrive
    stopped = week(page)
    time.sleep(2.0)
    assert stopped >= 3 and week(page) == stopped
    button(page, "Reset").click()
    wait_text(page, ".pw-week", "Week 0 of", timeout=60_000)


def test_a_lever_change_takes_effect_and_shows_its_source(page):
    skip_year(page)
    lanes = page.locator(".pw-lanes-A").inner_text()
    page.locator(".pw-lever-jcp input").click(force=True)
    wait_text(page, ".pw-changes-A", "jcp.partnership: no → yes")
    assert week(page) == 52  # replayed to the same week
    wait_changed(page, ".pw-lanes-A", lanes)  # more referrals (from JCP) on the board
    choose(page, "regime", "Paid for job starts")
    wait_text(page, ".pw-changes-A", "funding.regime: block → pbr_job")
    page.locator(".pw-lever-regime .pw-info").hover()
    tip = page.locator(".v-tooltip__content.menuable__content__active")
    tip.wait_for(timeout=10_000)
    text = tip.inner_text()
    assert "What the funder pays for" in text and "Evidence:" in text
    _save("lever-tooltip", page.screenshot)


def test_a_scenario_card_loads(page):
    page.locator(".pw-card-pbr_job_outcomes").click()
    wait_text(page, ".pw-levers", "Payment by results on job outcomes")
    wait_text(page, ".pw-lever-regime", "Paid for job starts")
    wait_text(page, ".pw-changes-A", "No changes from the scenario card")


def test_ab_mode_shows_two_boards_and_the_difference(page):
    page.locator(".pw-ab input").click(force=True)
    page.wait_for_selector(".pw-board-B img", timeout=30_000)
    page.wait_for_selector(".pw-diff img", timeout=30_000)
    assert page.locator(".pw-board-A img").count() == 1
    wait_text(page, ".pw-levers", "Set levers for")
    page.locator(".pw-card-pbr_job_outcomes").click()  # into B, the side being edited
    wait_text(page, ".pw-levers", "B: Payment by results on job outcomes")
    skip_year(page)
    wait_text(page, ".pw-diff-text", "payments -")  # B pays for results, A does not
    if DOCS_IMG:  # pictures for the guide: with the fan
        fan_ready(page)
        time.sleep(0.5)
    _save("ab", page.screenshot, page, height=1750)
    _save("diff", page.locator(".pw-diff").screenshot)


def test_step_and_redraw_with_2000_clients_is_fast(page, server):
    skip_year(page)
    skip_year(page)
    page.wait_for_function(  # the caption comes after the pictures, in the same redraw
        "() => { const m = document.querySelector('.pw-lanes-A').innerText"
        ".match(/([\\d,]+) dots/); return m && +m[1].replace(/,/g, '') >= 1900; }",
        timeout=30_000)
    caption = page.locator(".pw-lanes-A").inner_text()
    dots = int(re.search(r"([\d,]+) dots", caption).group(1).replace(",", ""))
    assert dots >= 1900, (week(page), caption)
    fan_ready(page)
    _save("single", page.screenshot, page, height=1400)
    times = page.evaluate("""async (n) => {
        const out = [];
        const q = s => document.querySelector(s);
        for (let i = 0; i < n; i++) {
            const week = q('.pw-week').innerText, board = q('.pw-board-A img').src,
                  charts = q('.pw-charts-A img').src;
            const step = [...document.querySelectorAll('button')]
                .find(b => b.innerText.trim().toLowerCase() === 'step');
            const t0 = performance.now();
            step.click();
            await new Promise(done => {
                const check = () => {
                    const b = q('.pw-board-A img'), c = q('.pw-charts-A img');
                    if (q('.pw-week').innerText !== week && b.src !== board && c.src !== charts
                        && b.complete && c.complete) done(); else requestAnimationFrame(check);
                };
                check();
            });
            out.push(performance.now() - t0);
            await new Promise(r => setTimeout(r, 150));
        }
        return out;
    }""", 10)
    median = statistics.median(times)
    slack = _slack()
    _record(step_redraw_ms_median=round(median, 1), step_redraw_ms_max=round(max(times), 1),
            step_redraw_ms_all=[round(t, 1) for t in times], dots_on_board=dots,
            load_per_core=round(os.getloadavg()[0] / (os.cpu_count() or 1), 2),
            timing_slack=round(slack, 2))
    print(f"\nserver up {server.up_s:.2f} s; step + redraw median {median:.0f} ms "
          f"(max {max(times):.0f} ms) with {dots} dots; slack {slack:.1f}")
    assert median <= STEP_TARGET_MS * slack, times
    assert server.up_s <= SERVER_UP_TARGET_S * slack
