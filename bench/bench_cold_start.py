"""cold_start: seconds from `streamlit run` to a healthy server, and to a rendered sign-in page
(first start: migrations and demo data load into a fresh SQLite file)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.common import Result

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def run(quick: bool) -> Iterator[Result]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        env = {**os.environ, "DESK_DATA_DIR": data_dir, "DESK_DEMO": "1"}
        env.pop("DATABASE_URL", None)
        start = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
             "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = start + 120
            while not _healthy(port):
                if time.perf_counter() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not become healthy")
                time.sleep(0.05)
            healthy = time.perf_counter() - start
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
                rendered = time.perf_counter() - start
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    yield Result("cold_start", "server_healthy", healthy, "s")
    yield Result("cold_start", "sign_in_rendered_first_start", rendered, "s")
