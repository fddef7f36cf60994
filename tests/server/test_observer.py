"""The server extension observes real kernels and records executions, outputs, digests."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import zmq
from tornado.httpclient import HTTPClientError

from ..conftest import get_json, observed, wait_for


async def kernel_state(jp_fetch, kernel_id):
    return await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel_id)


async def test_executions_recorded_in_execution_order(jp_fetch, start_kernel):
    kernel = await start_kernel()
    # Run "cells" out of document order: the record follows the order the kernel ran them.
    await kernel.execute("b = 2\nprint('second cell', b)")
    await kernel.execute("a = 1\na + 41")
    await kernel.execute("c = a + b\nc")

    async def three():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        user = [e for e in state["executions"] if e["source"] != "pass"]
        return user if len(user) == 3 and all(e["status"] for e in user) else None

    executions = await wait_for(three)
    assert [e["source"].split("\n")[0] for e in executions] == ["b = 2", "a = 1", "c = a + b"]
    counts = [e["execution_count"] for e in executions]
    assert counts == sorted(counts) and len(set(counts)) == 3
    assert executions[0]["outputs"][0]["text"] == "second cell 2\n"
    assert executions[1]["outputs"][0]["output_type"] == "execute_result"
    assert executions[1]["outputs"][0]["text"] == "42"
    assert "text/plain" in executions[1]["outputs"][0]["mime_types"]
    assert all(e["status"] == "ok" for e in executions)


async def test_error_recorded_with_traceback(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute("def f():\n    return {}['missing']\nf()")
    state = await wait_for(lambda: _last_complete(jp_fetch, kernel.kernel_id))
    error = state["outputs"][-1]
    assert state["status"] == "error"
    assert error["ename"] == "KeyError" and "missing" in error["evalue"]
    assert any("f()" in line for line in error["traceback"])


async def _last_complete(jp_fetch, kernel_id):
    state = await kernel_state(jp_fetch, kernel_id)
    done = [e for e in state["executions"] if e["status"] and e["source"] != "pass"]
    return done[-1] if done else None


async def test_digest_shows_dataframe(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute(
        "import pandas as pd\nsales = pd.DataFrame({'region': ['n'] * 1000, 'units': range(1000)})"
    )

    async def digest_has_sales():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        names = {v["name"]: v for v in state["digest"]["variables"]}
        return names.get("sales")

    sales = await wait_for(digest_has_sales)
    assert "1000" in sales["summary"]
    assert "region" in sales["summary"] and "units" in sales["summary"]
    assert "DataFrame" in sales["type"]


async def test_digest_leaves_namespace_and_history_alone(jp_fetch, start_kernel, service):
    kernel = await start_kernel()
    await kernel.execute("x = 1\ngen = (i for i in range(3))")
    before = await kernel.execute("print(sorted(dir()), len(In))")
    for _ in range(3):
        await service.refresh_digest(kernel.kernel_id, force=True)
    after = await kernel.execute("print(sorted(dir()), len(In))")
    names_before, in_before = before["outputs"][0]["text"].rsplit(" ", 1)
    names_after, in_after = after["outputs"][0]["text"].rsplit(" ", 1)
    # IPython itself adds `_iN` for every cell the user runs; everything else must be identical.
    history = re.compile(r"'_i\d+', ")
    assert history.sub("", names_before) == history.sub("", names_after)
    assert int(in_after) == int(in_before) + 1  # only the print cell itself
    first = await kernel.execute("print(next(gen))")
    assert first["outputs"][0]["text"] == "0\n"


async def test_hanging_repr_does_not_stall_digest(jp_fetch, start_kernel, service):
    kernel = await start_kernel()
    await kernel.execute(
        "import time\nclass Slow:\n    def __repr__(self):\n        time.sleep(30)\n        return 's'\n"
        "    def __len__(self):\n        time.sleep(30)\n        return 1\nslow = Slow()"
    )
    await service.refresh_digest(kernel.kernel_id, force=True)
    state = await kernel_state(jp_fetch, kernel.kernel_id)
    assert state["digest"]["took_ms"] < 1000
    assert any(v["name"] == "slow" for v in state["digest"]["variables"])


async def test_kernel_restart_keeps_observing(jp_fetch, start_kernel, jp_ws_fetch):
    kernel = await start_kernel()
    await kernel.execute("before_restart = 1")
    await jp_fetch("api", "kernels", kernel.kernel_id, "restart", method="POST", body="{}")
    ws = await jp_ws_fetch("api", "kernels", kernel.kernel_id, "channels")
    kernel.ws = ws
    await observed(jp_fetch, kernel)
    await kernel.execute("after_restart = 2")

    async def seen():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        return [
            e for e in state["executions"] if e["source"] == "after_restart = 2" and e["status"]
        ]

    assert await wait_for(seen)
    ws.close()


async def test_unknown_kernel_is_404(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("sleeptime", "api", "kernels", "no-such-kernel")
    assert err.value.code == 404
    assert "no-such-kernel" in json.loads(err.value.response.body)["message"]


async def test_malformed_body_is_400(jp_fetch, start_kernel):
    kernel = await start_kernel()
    for body in ("{not json", "[1, 2]", json.dumps({"question": ""})):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch(
                "sleeptime", "api", "kernels", kernel.kernel_id, "ask", method="POST", body=body
            )
        assert err.value.code == 400
        assert json.loads(err.value.response.body)["message"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "status"),
        ("GET", "settings"),
        ("PUT", "settings"),
        ("GET", "kernels/k1"),
        ("POST", "kernels/k1/think"),
        ("POST", "kernels/k1/ask"),
    ],
)
async def test_routes_need_auth(jp_fetch, method, path):
    body = None if method == "GET" else "{}"
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            "sleeptime",
            "api",
            *path.split("/"),
            method=method,
            body=body,
            headers={"Authorization": ""},
        )
    assert err.value.code in (401, 403)


async def test_kernel_death_mid_cell_loses_nothing(jp_fetch, start_kernel, jp_ws_fetch):
    kernel = await start_kernel()
    await kernel.execute("kept = 1")
    # The cell kills its own kernel: no reply and no idle will ever come for it.
    dying = asyncio.ensure_future(kernel.execute("import os, time\ntime.sleep(0.3)\nos._exit(1)"))

    async def closed():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        ex = [e for e in state["executions"] if "os._exit" in e["source"]]
        return ex[0] if ex and ex[0]["status"] else None

    died = await wait_for(closed, timeout=60)
    dying.cancel()
    assert died["status"] == "error"
    assert "restarted" in died["outputs"][-1]["evalue"] or "died" in died["outputs"][-1]["evalue"]
    state = await kernel_state(jp_fetch, kernel.kernel_id)
    assert any(e["source"] == "kept = 1" and e["status"] == "ok" for e in state["executions"])
    # The restarted kernel is observed again.
    kernel.ws = await jp_ws_fetch("api", "kernels", kernel.kernel_id, "channels")
    await observed(jp_fetch, kernel)
    await kernel.execute("after = 2")

    async def after():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        return [e for e in state["executions"] if e["source"] == "after = 2" and e["status"]]

    assert await wait_for(after, timeout=60)
    kernel.ws.close()


async def test_a_subscription_that_hears_nothing_is_replaced(jp_fetch, start_kernel, service):
    """A kernel whose iopub messages stop reaching the extension's subscription would have
    every later execution go unrecorded: the watcher nudges, and subscribes afresh."""
    kernel = await start_kernel()
    watcher = service.watchers[kernel.kernel_id]
    watcher.stream.socket.setsockopt(zmq.UNSUBSCRIBE, b"")  # deaf from now on
    watcher.heard = False
    await service._confirm_hearing(kernel.kernel_id, watcher)
    assert watcher.heard
    await kernel.execute("seen = 1")

    async def recorded():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        return [e for e in state["executions"] if e["source"] == "seen = 1" and e["status"]]

    assert await wait_for(recorded, timeout=30)


async def run_all(kernel, cells: list[str], timeout: float = 120) -> None:
    """Send every cell at once and wait for each one's idle, as JupyterLab's Run All does."""
    from jupyter_sleeptime.testing.harness import execute_request

    pending = set()
    for code in cells:
        msg_id, message = execute_request(kernel.session, code)
        pending.add(msg_id)
        await kernel.ws.write_message(message)
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        remaining = max(0.1, deadline - asyncio.get_running_loop().time())
        msg = json.loads(await asyncio.wait_for(kernel.ws.read_message(), remaining))
        parent = msg.get("parent_header", {}).get("msg_id")
        if msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            pending.discard(parent)


async def test_a_run_all_that_ends_with_ask_leaves_the_kernel_idle_and_digested(
    jp_fetch, start_kernel
):
    """The last cell of a Run All only asks: the extension's state follows the kernel back to
    idle, the digest that found the kernel busy is taken at that idle, and a question about a
    name is answered from the facts without a model."""
    from ..conftest import ask

    kernel = await start_kernel()
    await run_all(
        kernel,
        [
            "%load_ext jupyter_sleeptime",
            "order_total = 1234\nregions = ['north', 'south']",
            "%ask What is order_total?",
        ],
    )

    async def idle_and_digested():
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        names = {v["name"]: v for v in state["digest"]["variables"]} if state["digest"] else {}
        ready = state["execution_state"] == "idle" and "order_total" in names
        return state if ready else None

    state = await wait_for(idle_and_digested, timeout=30)
    status = await get_json(jp_fetch, "sleeptime", "api", "status")
    (entry,) = [k for k in status["kernels"] if k["kernel_id"] == kernel.kernel_id]
    assert entry["execution_state"] == "idle"
    variables = {v["name"]: v for v in state["digest"]["variables"]}
    assert (
        variables["order_total"]["type"] == "int" and "1234" in variables["order_total"]["summary"]
    )
    assert all("%ask" not in e["source"] for e in state["executions"])

    events = await ask(jp_fetch, kernel.kernel_id, "What is order_total?")
    done = events[-1]
    assert done["type"] == "done" and done["source"] == "anticipated", done
    assert "1234" in done["answer"]
