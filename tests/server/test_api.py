"""REST routes on a real server: think, ask, status, settings, kernel tokens."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_sleeptime.testing.scripted_model import control

from ..conftest import ask, get_json, think, wait_for


# Thinking only when the test asks: with idle thinking on, a run can start between the cells
# below and diagnose the error before `think` is called, leaving it out of `ran`.
@pytest.mark.parametrize("sleeptime_config", [{"idle_seconds": 600}])
async def test_think_fills_memory_and_insights(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute(
        "import pandas as pd\nscores = pd.DataFrame({'a': range(50), 'b': range(50)})"
    )
    await kernel.execute("scores['c'] = scores.a * 2\nscores.c.sum()")
    await kernel.execute("scores.d")  # AttributeError
    result = await think(jp_fetch, kernel.kernel_id)
    assert result["ran"][:2] == ["compute_facts", "diagnose_error"]  # exact facts first
    assert {"explain_cells", "rewrite_memory", "anticipate", "next_steps"} <= set(result["ran"])
    assert result["usage"]["calls"] >= 5
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    assert "scores" in state["memory"]["text"] and state["memory"]["version"] == 1
    insights = state["insights"]
    assert len(insights["cells"]) >= 3 and len(insights["anticipated"]) >= 3
    assert insights["next_steps"][0]["code"]
    assert "AttributeError" in insights["errors"][0]["diagnosis"]
    assert state["usage"]["sleep"]["calls"] == result["usage"]["calls"]


async def test_idle_alone_triggers_thinking(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute("values = [1, 2, 3]")

    async def thought():
        state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
        return state if state["memory"]["text"] and not state["pending"] else None

    state = await wait_for(thought, timeout=30)
    assert state["last_run"]["ok"]


async def test_ask_streams_tokens_then_done(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute("import pandas as pd\ndf = pd.DataFrame({'x': range(1000)})")
    await think(jp_fetch, kernel.kernel_id)
    control.calls.clear()
    events = await ask(jp_fetch, kernel.kernel_id, "How large is df exactly, in rows?", "baseline")
    tokens = [e for e in events if e["type"] == "token"]
    done = events[-1]
    assert len(tokens) > 1 and done["type"] == "done"
    assert done["answer"] == "".join(t["text"] for t in tokens).strip()
    assert "1000" in done["answer"]
    assert done["source"] == "model" and done["mode"] == "baseline"
    assert done["usage"]["prompt_tokens"] > 0 and done["latency_ms"] >= done["ttft_ms"] >= 0


async def test_ask_anticipated_hit_has_no_model_call(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute("import pandas as pd\ndf = pd.DataFrame({'x': range(10)})")
    await think(jp_fetch, kernel.kernel_id)
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    question = state["insights"]["anticipated"][0]["question"]
    control.calls.clear()
    events = await ask(jp_fetch, kernel.kernel_id, question.lower().rstrip("?"))
    assert events[-1]["source"] == "anticipated" and control.calls == []


async def test_model_error_becomes_an_error_event(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute("a = 1")
    control.fail_next = 1
    events = await ask(jp_fetch, kernel.kernel_id, "What is a?", "baseline")
    assert events[-1]["type"] == "error"
    assert "sleeptime-scripted/test" in events[-1]["message"]
    status = await get_json(jp_fetch, "sleeptime", "api", "status")
    assert status["model_error"]


async def test_status_lists_kernels_usage_and_budget(jp_fetch, start_kernel):
    kernel = await start_kernel(path="work.ipynb")
    await kernel.execute("a = 1")
    status = await get_json(jp_fetch, "sleeptime", "api", "status")
    assert status["model"] == "sleeptime-scripted/test"
    entry = next(k for k in status["kernels"] if k["kernel_id"] == kernel.kernel_id)
    assert entry["path"] == "work.ipynb"
    assert entry["execution_state"] in ("idle", "busy")
    assert {"pending", "last_run", "thinking", "paused"} <= set(entry)
    assert set(status["usage"]) == {"sleep", "query"}
    assert status["budget"]["max_tokens_per_hour"] == 200_000


async def test_status_says_what_building_it_took(jp_fetch):
    response = await jp_fetch("sleeptime", "api", "status")
    timing = response.headers["Server-Timing"]
    assert timing.startswith("view;dur=")
    assert 0 <= float(timing.split("dur=")[1]) < 60_000


async def test_settings_round_trip_and_validation(jp_fetch, sleeptime_app):
    updated = await get_json(
        jp_fetch,
        "sleeptime",
        "api",
        "settings",
        method="PUT",
        body=json.dumps({"idle_seconds": 7, "enabled": False}),
    )
    assert updated["idle_seconds"] == 7 and updated["enabled"] is False
    assert sleeptime_app.service.engine.scheduler.idle_seconds == 7
    changed = await get_json(
        jp_fetch,
        "sleeptime",
        "api",
        "settings",
        method="PUT",
        body=json.dumps({"model": "sleeptime-scripted/other"}),
    )
    assert changed["model"] == "sleeptime-scripted/other"
    cleared = await get_json(
        jp_fetch, "sleeptime", "api", "settings", method="PUT", body=json.dumps({"model": None})
    )
    assert cleared["model"] == "sleeptime-scripted/test"  # back to the configured model
    for bad in ({"idle_seconds": -1}, {"model": "gpt4"}, {"api_key": "x"}):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("sleeptime", "api", "settings", method="PUT", body=json.dumps(bad))
        assert err.value.code == 400


async def test_kernel_token_reaches_only_its_own_kernel(jp_fetch, start_kernel, sleeptime_app):
    first = await start_kernel()
    second = await start_kernel()
    env = await first.execute("import os; print(os.environ['JUPYTER_SLEEPTIME_KERNEL_ID'])")
    assert env["outputs"][0]["text"].strip() == first.kernel_id
    token = sleeptime_app.tokens.token_for(first.kernel_id)
    header = {"X-Sleeptime-Kernel-Token": token, "Authorization": ""}
    own = await get_json(jp_fetch, "sleeptime", "api", "kernels", first.kernel_id, headers=header)
    assert own["kernel_id"] == first.kernel_id
    events = await ask(jp_fetch, first.kernel_id, "What is 1?", "baseline", headers=header)
    assert events[-1]["type"] == "done"  # POST without XSRF cookie works for the kernel client
    for parts in (("kernels", second.kernel_id), ("status",), ("settings",)):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("sleeptime", "api", *parts, headers=header)
        assert err.value.code == 403
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("api", "kernels", headers=header)  # the server's own API: no
    assert err.value.code in (401, 403)


async def test_browser_requests_need_xsrf(jp_fetch, start_kernel, jp_auth_header):
    """A browser authenticates with a cookie; its POSTs must carry the XSRF token."""
    kernel = await start_kernel()
    token = jp_auth_header["Authorization"].split()[-1]
    login = await jp_fetch(
        "sleeptime", "api", "status", params={"token": token}, headers={"Authorization": ""}
    )
    cookie = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert cookie, "the token login should set a session cookie"
    body = json.dumps({"question": "What is x?", "mode": "baseline"})
    path = ("sleeptime", "api", "kernels", kernel.kernel_id, "ask")
    state = await jp_fetch(
        "sleeptime", "api", "status", headers={"Authorization": "", "Cookie": cookie}
    )
    assert state.code == 200  # a GET with the cookie alone is fine
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            *path, method="POST", body=body, headers={"Authorization": "", "Cookie": cookie}
        )
    assert err.value.code == 403
    xsrf = "0123456789abcdef0123456789abcdef"
    ok = await jp_fetch(
        *path,
        method="POST",
        body=body,
        headers={
            "Authorization": "",
            "Cookie": f"{cookie}; _xsrf={xsrf}",
            "X-XSRFToken": xsrf,
        },
    )
    assert ok.code == 200
