"""The kernel-side client: finding the server, talking to it, and the pure helpers the
magics use (option splitting, the `?` guard, footers)."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from IPython.core.error import UsageError
from IPython.core.inputtransformer2 import TransformerManager

from jupyter_sleeptime import protocol
from jupyter_sleeptime.kernel import client, render
from jupyter_sleeptime.kernel.magics import protect_questions, split_options
from jupyter_sleeptime.testing import scripted_model

from ..conftest import get_json, recorded, think


@pytest.fixture
def sleeptime_config():
    # No background thinking: the test that needs prepared answers thinks explicitly.
    return {"enabled": False}


async def _endpoint(jp_serverapp, jp_runtime_dir, kernel_id: str) -> client.Endpoint:
    """This server's endpoint for a kernel, found the way a kernel finds it."""
    jp_serverapp.write_server_info_file()
    servers = client.running_servers(str(jp_runtime_dir))
    endpoint = await asyncio.to_thread(
        client.discover, {}, f"/tmp/kernel-{kernel_id}.json", servers
    )
    assert endpoint is not None
    return endpoint


def test_env_endpoint_uses_kernel_token_and_hides_it():
    env = {
        protocol.ENV_URL: "http://127.0.0.1:8888/lab-base",
        protocol.ENV_KERNEL_ID: "k-1",
        protocol.ENV_TOKEN: "s3cret-token",
    }
    endpoint = client.discover(environ=env)
    assert endpoint is not None and endpoint.source == "env"
    assert endpoint.url("ask") == "http://127.0.0.1:8888/lab-base/sleeptime/api/kernels/k-1/ask"
    assert endpoint.headers == {protocol.KERNEL_TOKEN_HEADER: "s3cret-token"}
    assert "s3cret" not in repr(endpoint) and "s3cret" not in repr(client.SleeptimeClient(endpoint))


def test_no_server_no_endpoint(tmp_path):
    assert client.discover(environ={}, connection_file="/x/kernel-abc.json", servers=[]) is None
    assert client.discover(environ={}, connection_file="/x/other.json", servers=[]) is None
    assert client.kernel_id_from_connection_file("/r/kernel-3f2a-9b.json") == "3f2a-9b"
    # a runtime file of a process that is gone is ignored, and left in place
    stale = tmp_path / "jpserver-999999.json"
    stale.write_text(json.dumps({"url": "http://localhost:1/", "pid": 2**22 + 7}))
    assert client.running_servers(str(tmp_path)) == []
    assert stale.exists()


async def test_discovers_the_server_that_knows_the_kernel(
    jp_serverapp, start_kernel, jp_runtime_dir
):
    kernel = await start_kernel()
    jp_serverapp.write_server_info_file()
    servers = client.running_servers(str(jp_runtime_dir))
    assert [s["pid"] for s in servers] == [os.getpid()]
    unknown = {"url": "http://127.0.0.1:9/", "token": "x", "pid": os.getpid()}
    # Blocking HTTP, as in the kernel: off the event loop that runs the server.
    endpoint = await asyncio.to_thread(
        client.discover, {}, f"/tmp/kernel-{kernel.kernel_id}.json", [unknown, *servers]
    )
    assert endpoint is not None and endpoint.source == "discovered"
    assert endpoint.headers["Authorization"].startswith("token ")
    state = await asyncio.to_thread(client.SleeptimeClient(endpoint).state)
    assert state["kernel_id"] == kernel.kernel_id
    # a server that does not run this kernel is not picked
    missing = await asyncio.to_thread(client.discover, {}, "/tmp/kernel-nope.json", servers)
    assert missing is None
    # errors are events, in words, with the HTTP status
    events = await asyncio.to_thread(
        lambda: list(client.SleeptimeClient(endpoint).ask("   ", "sleep"))
    )
    assert events[-1]["type"] == "error" and "400" in events[-1]["message"]


def test_ask_cells_are_recognised():
    assert protocol.is_ask_cell("%ask What is x?")
    assert protocol.is_ask_cell("%%ask --baseline\nwhy?\nimport os")
    assert protocol.is_ask_cell("%load_ext jupyter_sleeptime\n# comment\n%ask a\n%ask b")
    assert protocol.is_ask_cell("get_ipython().run_line_magic('ask', 'x')")
    assert not protocol.is_ask_cell("x = 1\n%ask what is x")
    assert not protocol.is_ask_cell("%asking")
    assert not protocol.is_ask_cell("")


def test_options_then_the_question_verbatim():
    assert split_options("--baseline What's   'this'?") == (["--baseline"], "What's   'this'?")
    assert split_options("-m openai/gpt-4o-mini --raw how?") == (
        ["-m", "openai/gpt-4o-mini", "--raw"],
        "how?",
    )
    assert split_options("--budget -- --why is it?") == (["--budget"], "--why is it?")
    assert split_options("-1 is odd?") == ([], "-1 is odd?")
    with pytest.raises(UsageError):
        split_options("--model")


def test_question_mark_is_not_a_help_request():
    manager = TransformerManager()
    manager.cleanup_transforms.append(protect_questions)
    code = manager.transform_cell("if True:\n    %ask What is df.shape?\n%ask?\n")
    assert "run_line_magic('ask', 'What is df.shape?')" in code
    assert "pinfo" in code.splitlines()[-1]  # `%ask?` alone is still help
    assert "run_cell_magic('ask'" in manager.transform_cell("%%ask\nWhat is x?")


async def test_prepared_answer_names_its_question_and_fresh_asks_the_model(
    jp_fetch, start_kernel, jp_serverapp, jp_runtime_dir
):
    kernel = await start_kernel()
    await kernel.execute("revenue = 1234")
    await recorded(jp_fetch, kernel.kernel_id, "revenue = 1234")
    await think(jp_fetch, kernel.kernel_id, request_timeout=120)
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    item = next(a for a in state["insights"]["anticipated"] if "revenue" in a["question"])
    ask = client.SleeptimeClient(await _endpoint(jp_serverapp, jp_runtime_dir, kernel.kernel_id))
    reworded = item["question"].lower().rstrip("?")
    assert reworded != item["question"]

    # The server matched the reworded question to the prepared one and says which.
    prepared = await asyncio.to_thread(lambda: list(ask.ask(reworded)))
    done = prepared[-1]
    assert done["type"] == "done" and done["source"] == "anticipated", prepared
    assert done["matched"] == item["question"]
    assert done["answer"] == item["answer"]
    assert not [c for c in scripted_model.control.calls if c["task"] == "answer"]

    # fresh=True: the same question goes to the model, streamed.
    fresh = await asyncio.to_thread(lambda: list(ask.ask(reworded, fresh=True)))
    done = fresh[-1]
    assert done["type"] == "done" and done["source"] == "model", fresh
    assert "matched" not in done and done["answer"] != item["answer"]
    assert len([e for e in fresh if e["type"] == "token"]) >= 2
    asked = [c for c in scripted_model.control.calls if c["task"] == "answer"]
    assert len(asked) == 1 and reworded in asked[0]["messages"][-1]["content"]


def test_footers():
    hit = {"source": "anticipated", "usage": {}, "latency_ms": 12.4, "matched": "What is x?"}
    assert render.footer(hit) == "_⚡ prepared answer to: 'What is x?' · 0 tokens · 12 ms_"
    # Markdown in the matched question is escaped; plain text keeps it as it is.
    odd = {**hit, "matched": "What is  df_sales\n[0]?"}
    assert render.footer(odd) == (
        "_⚡ prepared answer to: 'What is df\\_sales \\[0\\]?' · 0 tokens · 12 ms_"
    )
    assert render.footer(odd, markdown=False) == (
        "⚡ prepared answer to: 'What is df_sales [0]?' · 0 tokens · 12 ms"
    )
    # A server that names no matched question still gets a prepared-answer footer.
    assert render.footer({**hit, "matched": None}) == "_⚡ prepared answer · 0 tokens · 12 ms_"
    done = {
        "source": "model",
        "model": "sleeptime-local/qwen2.5_coder",
        "mode": "baseline",
        "usage": {"prompt_tokens": 812, "completion_tokens": 64, "cached_tokens": 500},
        "ttft_ms": 1234,
        "latency_ms": 4800,
    }
    assert render.footer(done) == (
        "_model sleeptime-local/qwen2.5\\_coder · baseline · 812 prompt + 64 completion tokens "
        "(500 cached) · first token 1.2 s · 4.8 s_"
    )
    assert render.footer({**done, "mode": "baseline"}, inprocess=True, markdown=False).startswith(
        "in-process (no server): query time only · model sleeptime-local/qwen2.5_coder · 812"
    )


def test_fresh_hint_repeats_the_question_as_a_command():
    assert render.fresh_command("  What is x? ") == "%ask --fresh What is x?"
    # a leading dash would be read as an option; a multi-line question stays a %%ask cell
    assert render.fresh_command("-1 is odd?") == "%ask --fresh -- -1 is odd?"
    assert render.fresh_command("Why?\nimport os") == "%%ask --fresh\nWhy?\nimport os"
    assert split_options("--fresh -- -1 is odd?") == (["--fresh"], "-1 is odd?")

    assert render.fresh_hint("What is x?") == "_Ask the model instead:_ `%ask --fresh What is x?`"
    assert render.fresh_hint("What is x?", markdown=False) == (
        "ask the model instead: %ask --fresh What is x?"
    )
    # backticks in the question: a longer code-span fence, so the command shows verbatim
    assert render.fresh_hint("Why `df`?") == "_Ask the model instead:_ ``%ask --fresh Why `df`?``"
    assert render.fresh_hint("a\nb") == "_Ask the model instead:_\n\n```\n%%ask --fresh\na\nb\n```"
