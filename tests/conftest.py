"""Shared fixtures: a real Jupyter server with the extension (pytest-jupyter), real
ipykernel kernels driven over the server's websocket as a frontend would, and the
scripted model registered through LiteLLM's custom-provider API."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from jupyter_sleeptime import protocol
from jupyter_sleeptime.testing import scripted_model
from jupyter_sleeptime.testing.harness import execute_over

pytest_plugins = ["pytest_jupyter.jupyter_server"]

SCRIPTED = "sleeptime-scripted/test"


@pytest.fixture(autouse=True)
def _litellm_logging_settled(jp_asyncio_loop):
    """LiteLLM logs every async call through one worker task on the loop that made the call,
    and every test here gets a new loop. A worker left pending on a closed loop fails with
    "Event loop is closed" whenever the garbage collector reaches it, inside whatever runs at
    that moment; on Python 3.11 that was once pytest's own source parsing, which then aborted
    the whole run (INTERNALERROR, "AST constructor recursion depth mismatch"). So the worker
    finishes its queue and stops while the test's loop is still open (this fixture's teardown
    runs before the loop fixture's)."""
    yield
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER as worker

    async def settle() -> None:
        await asyncio.wait_for(worker.flush(), 10)
        await worker.stop(timeout=5)

    loop = getattr(worker, "_bound_loop", None)
    if loop is not None and not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(settle())


@pytest.fixture(autouse=True)
def _reset_scripted_model():
    scripted_model.control.reset()
    yield
    scripted_model.control.reset()


@pytest.fixture
def sleeptime_config() -> dict[str, Any]:
    """Override in a test module to change SleeptimeApp traits."""
    return {}


@pytest.fixture
def jp_server_config(tmp_path, sleeptime_config):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_sleeptime": True}},
        "SleeptimeApp": {
            "model": SCRIPTED,
            "store_path": str(tmp_path / "sleeptime.db"),
            "idle_seconds": 0.3,
            # A loaded CI core may need more than the 15 ms default to summarise every
            # variable; server tests check facts, the budget itself is tested in introspect/.
            "digest_budget_ms": 250.0,
            **sleeptime_config,
        },
    }


@pytest.fixture
def sleeptime_app(jp_serverapp):
    return jp_serverapp.web_app.settings["sleeptime_app"]


@pytest.fixture
def service(jp_serverapp):
    return jp_serverapp.web_app.settings["sleeptime"]


class KernelDriver:
    """Runs code in a kernel through the server's websocket, as JupyterLab does."""

    def __init__(self, ws: Any, kernel_id: str) -> None:
        self.ws = ws
        self.kernel_id = kernel_id
        self.session = uuid.uuid4().hex

    async def execute(self, code: str, timeout: float = 60) -> dict[str, Any]:
        return await execute_over(self.ws, self.session, code, timeout)


@pytest.fixture
def start_kernel(jp_fetch, jp_ws_fetch):
    sockets: list[Any] = []

    async def start(path: str | None = None) -> KernelDriver:
        if path:
            response = await jp_fetch(
                "api",
                "sessions",
                method="POST",
                body=json.dumps(
                    {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}
                ),
                request_timeout=120,
            )
            kernel_id = json.loads(response.body)["kernel"]["id"]
        else:
            response = await jp_fetch(
                "api",
                "kernels",
                method="POST",
                body=json.dumps({"name": "python3"}),
                request_timeout=120,
            )
            kernel_id = json.loads(response.body)["id"]
        ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
        sockets.append(ws)
        driver = KernelDriver(ws, kernel_id)
        await observed(jp_fetch, driver)
        return driver

    yield start
    for ws in sockets:
        ws.close()


async def observed(jp_fetch, driver: KernelDriver, attempts: int = 20) -> None:
    """Run `pass` until the extension has recorded one more: the kernel is up and the
    extension hears its iopub. Subscriptions made while a kernel (re)starts, ours and the
    server's websocket alike, can miss its first messages; a user is never that fast, a
    test is."""
    before = await passes(jp_fetch, driver.kernel_id)

    async def recorded() -> bool:
        return await passes(jp_fetch, driver.kernel_id) > before

    for _ in range(attempts):
        try:  # the websocket can miss the idle of a kernel just (re)started, as we can
            await driver.execute("pass", timeout=5)
        except (asyncio.TimeoutError, TimeoutError):
            continue
        try:
            await wait_for(recorded, timeout=1.5)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the extension never recorded an execution of {driver.kernel_id}")


async def passes(jp_fetch, kernel_id: str) -> int:
    """How many `pass` executions the extension has recorded as finished."""
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel_id)
    return sum(1 for e in state["executions"] if e["source"] == "pass" and e["status"])


async def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll until `predicate()` (sync or async) is truthy; returns its value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def get_json(jp_fetch, *parts: str, **kwargs: Any) -> Any:
    response = await jp_fetch(*parts, **kwargs)
    return json.loads(response.body)


async def think(jp_fetch, kernel_id: str, **kwargs: Any) -> Any:
    """POST kernels/{id}/think {"wait": true}: run the pending idle-time work now."""
    return await get_json(
        jp_fetch,
        "sleeptime",
        "api",
        "kernels",
        kernel_id,
        "think",
        method="POST",
        body=json.dumps({"wait": True}),
        **kwargs,
    )


async def recorded(jp_fetch, kernel_id: str, source: str) -> None:
    """Wait until the server's observer has an execution holding `source` as finished: the
    execute reply can reach the test before the server has seen the kernel go idle."""

    async def done() -> bool:
        state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel_id)
        return any(source in e["source"] and e["status"] for e in state["executions"])

    await wait_for(done)


# -- the fast lane: `python -m pytest -m "not slow"` ----------------------------------------------
# Slow tests are marked here, by file, by test name and by what they use, so test modules
# need no edits; CI runs everything. Measured on 2 cores with `--durations`.
SLOW_FILES = {
    "test_browser.py": "JupyterLab in a real headless Chromium",
    "test_e2e_local_model.py": "the embedded model thinking for real",
    "test_load.py": "the load test",
    "server/test_restart.py": "server processes killed and restarted",
    "server/test_redaction_e2e.py": "the redaction corpus through a real server",
}
SLOW_TESTS = {
    "server/test_privacy.py::test_privacy_holds_after_a_server_restart": "two server processes",
    "server/test_store_faults.py::test_a_server_starts_on_a_corrupt_store_and_keeps_the_file": (
        "a server process"
    ),
}
SLOW_MARKERS = {"local_model": "the embedded model loaded for real"}
SLOW_FIXTURES = {"bench_run": "`jupyter sleeptime bench` end to end"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        path = os.path.relpath(str(item.path), here).replace(os.sep, "/")
        name = f"{path}::{getattr(item, 'originalname', None) or item.name}"
        if (
            path in SLOW_FILES
            or name in SLOW_TESTS
            or any(item.get_closest_marker(marker) for marker in SLOW_MARKERS)
            or set(getattr(item, "fixturenames", ())) & SLOW_FIXTURES.keys()
        ):
            item.add_marker(pytest.mark.slow)


async def ask(jp_fetch, kernel_id: str, question: str, mode: str = "sleep", **body: Any) -> list:
    """POST kernels/{id}/ask; the NDJSON events, each checked against the protocol."""
    headers = body.pop("headers", None) or {}
    response = await jp_fetch(
        "sleeptime",
        "api",
        "kernels",
        kernel_id,
        "ask",
        method="POST",
        body=json.dumps({"question": question, "mode": mode, **body}),
        headers=headers,
        request_timeout=body.pop("request_timeout", 120),
    )
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    lines = response.body.decode().splitlines()
    return [protocol.parse_event(line) for line in lines if line.strip()]


# -- PostgreSQL for the store suite: the Debian `postgresql` package (.ci/run installs it) ------
@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server on loopback for the session. Outside CI a machine
    without it skips the Postgres tests; with CI=true they fail instead."""
    try:
        from jupyter_sleeptime.testing.postgres import PostgresServer, PostgresUnavailable
    except ImportError as exc:  # psycopg or SQLAlchemy missing
        missing: Exception = exc
    else:
        try:
            server = PostgresServer().start()
        except PostgresUnavailable as exc:
            missing = exc
        else:
            yield server
            server.stop()
            return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI runs the store tests on PostgreSQL, which is missing: {missing}")
    pytest.skip(f"PostgreSQL is not installed here ({missing}); CI installs it")


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()
