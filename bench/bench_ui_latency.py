"""ui_latency: action → settled page in real Chromium, p50 / p95 over 5 repeats, on the demo clinic and on
5,000 patients / 20,000 cases, with the ratio to a bare Streamlit page switch measured in the same run.

Settled: the server has finished the run the action started (RunWatch), the page's own heading is on
screen, no element is left from the previous run (data-stale), no skeleton stands in for an element still
loading, and Streamlit's running indicator is gone. Goal (README):
p95 <= 1.0 s on the demo, <= 1.5 s at 5,000 patients, no interaction above 3x the bare switch.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.bench_cold_start import CHROMIUM_ARGS, _free_port, _healthy
from bench.common import Result

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5
PASSWORD = "spravato-demo"
# A skeleton stands in for an element whose code the browser is still loading (a table, a chart, a select).
SETTLED = ("() => !document.querySelector('[data-testid=stStatusWidget]')"
           " && !document.querySelector('[data-stale=true]')"
           " && !document.querySelector('[data-testid=stSkeleton]')")
BARE_APP = '''
import streamlit as st
def one():
    st.title("One")
def two():
    st.title("Two")
st.navigation([st.Page(one, title="One"), st.Page(two, title="Two")]).run()
'''


@contextmanager
def _server(script: Path, env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.headless",
             "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while not _healthy(port):
                if time.monotonic() > deadline or server.poll() is not None:
                    log.seek(0)
                    last = log.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
                    raise RuntimeError(f"the server did not become healthy: {last[0]}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


class RunWatch:
    """The app's finished runs, as the server reports them over the page's websocket (fragment runs aside).

    Streamlit shows its running indicator only after a delay, and the app root's script state may not change on
    screen for a short run, so neither proves that the run an action started has ended; the server's message does.
    """

    def __init__(self, page: Any) -> None:
        self.finished = 0
        page.on("websocket", lambda socket: socket.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, bytes | bytearray):
            message = ForwardMsg.FromString(bytes(payload))
            if (message.WhichOneof("type") == "script_finished"
                    and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY):
                self.finished += 1

    def wait_beyond(self, page: Any, seen: int) -> None:
        deadline = time.monotonic() + 120
        while self.finished <= seen:
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not finish a run after the action")
            page.wait_for_timeout(5)  # lets Playwright deliver the page's websocket frames


WATCHES: dict[int, RunWatch] = {}


def _new_page(context: Any) -> Any:
    """A page whose app runs are counted (RunWatch), before it opens the app."""
    page = context.new_page()
    WATCHES[id(page)] = RunWatch(page)
    return page


def _settle(page: Any, heading: str, *, after_run: int | None = None) -> None:
    """`heading` is a page title, or "role:name" for another element that proves the page is there; `after_run`:
    the count of finished runs before the action, which a run must go beyond."""
    role, _, name = heading.rpartition(":") if ":" in heading else ("heading", "", heading)
    if after_run is not None:
        WATCHES[id(page)].wait_beyond(page, after_run)
    page.get_by_role(role, name=name).first.wait_for(timeout=120_000)
    page.wait_for_function(SETTLED, timeout=120_000)


def _timed(samples: dict[str, list[float]], name: str, action: Callable[[], None], page: Any, heading: str,
           *, new_document: bool = False) -> None:
    """Time `action` to the settled page (`new_document`: the action loads the page again, which no watch outlives)."""
    seen = None if new_document else WATCHES[id(page)].finished
    start = time.perf_counter()
    action()
    _settle(page, heading, after_run=seen)
    samples.setdefault(name, []).append((time.perf_counter() - start) * 1000)


def _sidebar(page: Any, title: str) -> Callable[[], None]:
    return lambda: page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title, exact=True).click()


def _sign_in(page: Any, base: str, username: str) -> Callable[[], None]:
    def act() -> None:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(base)
    page.get_by_label("Username").wait_for(timeout=300_000)
    return act


def _billing_round(browser: Any, base: str, samples: dict[str, list[float]]) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = _new_page(context)
    _timed(samples, "sign-in → Today (billing)", _sign_in(page, base, "billing"), page, "Today")
    _timed(samples, "sidebar → Patients", _sidebar(page, "Patients"), page, "Patients")
    _timed(samples, "open a patient record", lambda: page.get_by_role("button", name="Open record").click(),
           page, "button:Back to the patient list")
    _timed(samples, "record tab (Trials)", lambda: page.get_by_role("tab", name="Trials").click(), page,
           "button:Back to the patient list")
    _timed(samples, "sidebar → PA worklist", _sidebar(page, "PA worklist"), page, "Prior authorization worklist")
    _timed(samples, "sidebar → Needs a PA", _sidebar(page, "Needs a PA"), page, "Needs a PA")
    seen = WATCHES[id(page)].finished
    page.get_by_role("tab", name="Authorizations to renew").click()
    _settle(page, "Needs a PA", after_run=seen)
    _timed(samples, "open a PA case", lambda: page.get_by_role("button", name="Open case").first.click(), page,
           "tab:Checklist")
    _timed(samples, "case tab (Status & decisions)",
           lambda: page.get_by_role("tab", name="Status & decisions").click(), page, "tab:Checklist")
    context.close()


def _nurse_round(browser: Any, base: str, samples: dict[str, list[float]]) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = _new_page(context)
    _timed(samples, "sign-in → Today (nurse)", _sign_in(page, base, "nurse"), page, "Today")
    _timed(samples, "sidebar → Session log", _sidebar(page, "Session log"), page, "Session log")
    _timed(samples, "sidebar → REMS dashboard", _sidebar(page, "REMS dashboard"), page, "REMS dashboard")
    context.close()


def _bare_round(browser: Any, base: str, samples: dict[str, list[float]]) -> None:
    page = _new_page(browser)
    page.goto(base)
    _settle(page, "One")
    for title in ("Two", "One"):
        _timed(samples, "bare Streamlit page switch", _sidebar(page, title), page, title)
    # Sign-in ends in a full page load (the server sets the sign-in cookie on a redirect): its floor is a reload.
    _timed(samples, "bare Streamlit page load", page.reload, page, "One", new_document=True)
    page.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _large_clinic(data_dir: str) -> str:
    """The demo accounts and clinic plus 5,000 patients / 20,000 cases bulk-loaded."""
    from sqlmodel import Session, select

    from bench.bench_worklist_render import _seed
    from desk.database import make_engine
    from desk.demo import load_demo
    from desk.models import User

    url = f"sqlite:///{data_dir}/large.sqlite3"
    _seed(url, patients=5_000, cases=20_000)
    engine = make_engine(url)
    with Session(engine) as session:
        for user in session.exec(select(User).where(User.username == "bench")).all():
            session.delete(user)
        session.commit()
    load_demo(engine)
    engine.dispose()
    return url


def _measure(browser: Any, base: str, repeats: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    for number in range(repeats + 1):  # the first round warms the server and is dropped
        round_samples: dict[str, list[float]] = {}
        _billing_round(browser, base, round_samples)
        _nurse_round(browser, base, round_samples)
        if number > 0:
            for name, values in round_samples.items():
                samples.setdefault(name, []).extend(values)
    return samples


def run(quick: bool) -> Iterator[Result]:
    from playwright.sync_api import sync_playwright

    repeats = 2 if quick else REPEATS
    sizes = ["demo"] if quick else ["demo", "5k"]
    with tempfile.TemporaryDirectory() as data_dir, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        bare_script = Path(data_dir) / "bare.py"
        bare_script.write_text(BARE_APP, encoding="utf-8")
        floor: dict[str, list[float]] = {}
        with _server(bare_script, dict(os.environ)) as base:
            for _ in range(repeats + 1):
                _bare_round(browser, base, floor)
        bare = floor["bare Streamlit page switch"][2:]
        floor_p50 = statistics.median(bare)
        yield Result("ui_latency", "bare Streamlit page switch p50", floor_p50, "ms")
        yield Result("ui_latency", "bare Streamlit page switch p95", _percentile(bare, 0.95), "ms")
        loads = floor["bare Streamlit page load"][1:]
        yield Result("ui_latency", "bare Streamlit page load p50", statistics.median(loads), "ms")
        yield Result("ui_latency", "bare Streamlit page load p95", _percentile(loads, 0.95), "ms")
        for size in sizes:
            env = {**os.environ, "DESK_DATA_DIR": data_dir, "DESK_DEMO": "1"}
            env.pop("DATABASE_URL", None)
            if size == "5k":
                # Demo mode, as on the demo clinic: the bulk-loaded file holds the demo accounts and their published
                # password, which the desk refuses to serve outside demo mode.
                env["DATABASE_URL"] = _large_clinic(data_dir)
            else:
                env["DATABASE_URL"] = f"sqlite:///{data_dir}/demo.sqlite3"
            with _server(ROOT / "server.py", env) as base:  # server.py: the sign-in cookie routes
                samples = _measure(browser, base, repeats)
            for name, values in samples.items():
                yield Result("ui_latency", f"{size}: {name} p50", statistics.median(values), "ms", floor_p50)
                yield Result("ui_latency", f"{size}: {name} p95", _percentile(values, 0.95), "ms", floor_p50)
        browser.close()
