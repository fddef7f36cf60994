"""The MCP tools, driven by the `mcp` SDK's own client over streamable HTTP against a real
Jupyter server with the extension and real kernels, after a thinking run with the scripted
model: every tool answers from prepared state, nothing runs in the kernel, Jupyter's
authentication guards the endpoint, and the notebook's privacy settings and the redaction
hold on this path too. The stdio bridge answers through the same endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tornado.httpclient import HTTPClientError

from jupyter_sleeptime import protocol
from jupyter_sleeptime.server import mcp_tools

from ..conftest import get_json, recorded, think

TOOLS = {
    "list_notebooks",
    "notebook_overview",
    "name_fact",
    "error_card",
    "explain_cell",
    "next_steps",
    "ask",
}
SECRET = "sk-proj-Q7vT2mX9kLr4pW8nZb3yHc6JdF1sGa5E0uKi"
MARKER = "marker-5d1e8b07"
CELLS = [
    "rows = [3, 1, 4, 1, 5, 9, 2, 6]",
    "total = sum(rows)",
    f"OPENAI_API_KEY = {SECRET!r}",
    f"hidden = {MARKER!r}",  # tagged sleeptime-skip
    "print('value:', hidden)",
    "total = total + 100\nscale = total / len(rows)",
    "import pandas as pd\nframe = pd.DataFrame({'x': rows})",
    "ratio = total / missing_count",  # NameError
]
SKIPPED = 3


def write_notebook(path: Path, *, opted_out: bool = False) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.cells[SKIPPED].metadata["tags"] = ["sleeptime-skip"]
    if opted_out:
        nb.metadata["sleeptime"] = {"enabled": False}
    nbformat.write(nb, path)


@pytest.fixture
def mcp_url(http_server_client, jp_base_url) -> str:
    return http_server_client.get_url(jp_base_url + "sleeptime/mcp")


@pytest.fixture
def token(jp_serverapp) -> str:
    return jp_serverapp.identity_provider.token


@asynccontextmanager
async def connect(url: str, token: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"token {token}"} if token else {}
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def call(client: Client, tool: str, /, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


async def run_cells(jp_fetch, start_kernel, jp_root_dir, name: str, **kw: Any) -> Any:
    write_notebook(Path(jp_root_dir) / name, **kw)
    kernel = await start_kernel(path=name)
    for cell in CELLS:
        await kernel.execute(cell)
    await recorded(jp_fetch, kernel.kernel_id, "missing_count")
    return kernel


def counts(state: dict[str, Any]) -> dict[str, int]:
    """Execution count of each cell, by its source."""
    return {e["source"]: e["execution_count"] for e in state["executions"]}


async def test_every_tool_answers_from_prepared_state(
    jp_fetch, start_kernel, jp_root_dir, jp_serverapp, mcp_url, token
):
    kernel = await run_cells(jp_fetch, start_kernel, jp_root_dir, "work.ipynb")
    result = await think(jp_fetch, kernel.kernel_id, request_timeout=120)
    assert result["usage"]["calls"] >= 3
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    n = counts(state)
    assert SECRET in json.dumps(state)  # planted: what follows shows the tools hide it
    km = jp_serverapp.kernel_manager
    activity = km.get_kernel(kernel.kernel_id).last_activity
    seen: list[dict[str, Any]] = []

    async with connect(mcp_url, token) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert set(listed) == TOOLS
        assert listed["name_fact"].input_schema["required"] == ["notebook", "name"]
        assert listed["error_card"].input_schema["required"] == ["notebook"]
        assert all(t.annotations and t.annotations.read_only_hint for t in listed.values())

        notebooks = await call(client, "list_notebooks")
        seen.append(notebooks)
        [entry] = [nb for nb in notebooks["notebooks"] if nb["path"] == "work.ipynb"]
        assert entry["kernel_id"] == kernel.kernel_id and entry["shared"] is True
        assert entry["execution_state"] == "idle" and entry["last_run"]
        assert entry["cells"] == len(CELLS) - 1 + 1  # + the `pass` that proved observation

        overview = await call(client, "notebook_overview", notebook="work.ipynb")
        seen.append(overview)
        assert overview["source"] == "prepared" and overview["memory"]["text"]
        names = {v["name"]: v for v in overview["names"]}
        assert names["total"]["summary"].startswith("131") or "131" in names["total"]["summary"]
        assert [e["ename"] for e in overview["errors"]] == ["NameError"]
        assert overview["newest_results"][-1]["status"] == "error"
        assert (
            "What is `total`?" in overview["prepared_questions"] or overview["prepared_questions"]
        )

        fact = await call(client, "name_fact", notebook=kernel.kernel_id, name="total")
        seen.append(fact)
        assert fact["source"] == "facts" and "131" in fact["summary"]
        assert fact["set_in"] == n["total = total + 100\nscale = total / len(rows)"]
        assert [h["execution_count"] for h in fact["history"]] == [n["total = sum(rows)"]]
        assert "131" in fact["text"]
        # The card is the REST facts entry (with `fitted_on` and whatever else facts add).
        [rest] = [f for f in state["facts"]["names"] if f["name"] == "total"]
        rest["code"] = rest.pop("source")
        assert {k: v for k, v in fact.items() if k not in ("text", "source")} == rest

        card = await call(client, "error_card", notebook="work.ipynb")
        seen.append(card)
        assert card["card"]["ename"] == "NameError"
        assert card["card"]["execution_count"] == n["ratio = total / missing_count"]
        assert "missing_count" in card["text"] and card["diagnosis"]
        none = await call(client, "error_card", notebook="work.ipynb", cell=n["total = sum(rows)"])
        assert none["card"] is None and "did not fail" in none["message"]

        cell = n["total = sum(rows)"]
        explained = await call(client, "explain_cell", notebook="work.ipynb", cell=cell)
        seen.append(explained)
        assert explained["code"] == "total = sum(rows)"
        assert "total" in explained["explanation"] and explained["source"] == "prepared"

        steps = await call(client, "next_steps", notebook="work.ipynb")
        seen.append(steps)
        assert steps["steps"] and all(s["title"] and s["code"] for s in steps["steps"])
        assert "frame" in steps["steps"][0]["code"]

        prepared = await call(client, "ask", notebook="work.ipynb", question="What is total?")
        seen.append(prepared)
        assert prepared["source"] == "facts" and prepared["matched"]
        assert "131" in prepared["answer"]
        question = "Summarise in two sentences what this notebook does."
        held = await call(
            client, "ask", notebook="work.ipynb", question=question, prepared_only=True
        )
        assert held["answer"] is None and held["source"] is None
        modelled = await call(client, "ask", notebook="work.ipynb", question=question)
        seen.append(modelled)
        assert modelled["source"] == "model" and modelled["answer"]
        assert "matched" not in modelled

        refused = await client.call_tool("name_fact", {"notebook": "work.ipynb", "name": "nope"})
        assert refused.is_error and "Known names" in refused.content[0].text

    text = json.dumps(seen)
    assert SECRET not in text  # the planted secret: redacted on the way out
    assert MARKER not in text  # the skipped cell's value, also where another cell printed it
    assert "hidden" not in names and "OPENAI_API_KEY" in names
    after = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    assert len(after["executions"]) == len(state["executions"])
    assert km.get_kernel(kernel.kernel_id).last_activity == activity  # the kernel heard nothing


async def test_a_skipped_cell_stays_out(jp_fetch, start_kernel, jp_root_dir, mcp_url, token):
    kernel = await run_cells(jp_fetch, start_kernel, jp_root_dir, "skip.ipynb")
    await think(jp_fetch, kernel.kernel_id, request_timeout=120)
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    skipped = counts(state)[CELLS[SKIPPED]]
    async with connect(mcp_url, token) as client:
        explained = await client.call_tool(
            "explain_cell", {"notebook": "skip.ipynb", "cell": skipped}
        )
        assert explained.is_error and "sleeptime-skip" in explained.content[0].text
        fact = await client.call_tool("name_fact", {"notebook": "skip.ipynb", "name": "hidden"})
        assert fact.is_error
        answer = await call(client, "ask", notebook="skip.ipynb", question="What is hidden?")
        results = await call(client, "notebook_overview", notebook="skip.ipynb")
    assert MARKER not in json.dumps([answer, results, fact.content[0].text])
    printed = [r for r in results["newest_results"] if r["last_line"].startswith("print")]
    assert printed and "[REDACTED:skipped_cell]" in printed[0]["output"]


async def test_the_endpoint_needs_jupyters_authentication(
    jp_fetch, start_kernel, http_server_client, jp_base_url, mcp_url, jp_serverapp
):
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    path = jp_base_url + "sleeptime/mcp"
    with pytest.raises(HTTPClientError) as refused:
        await http_server_client.fetch(
            path, method="POST", body=json.dumps(request), headers=headers
        )
    assert refused.value.code == 403
    # A kernel's own token opens only that kernel's REST routes, never the MCP endpoint.
    kernel = await start_kernel()
    kernel_token = jp_serverapp.web_app.settings["sleeptime_tokens"].token_for(kernel.kernel_id)
    with pytest.raises(HTTPClientError) as refused:
        await http_server_client.fetch(
            path,
            method="POST",
            body=json.dumps(request),
            headers={**headers, protocol.KERNEL_TOKEN_HEADER: kernel_token},
        )
    assert refused.value.code == 403
    with pytest.raises(Exception):  # noqa: B017 - the SDK client fails to connect: any error
        async with connect(mcp_url, None) as client:
            await client.list_tools()
    # The stdio bridge says so before it starts relaying.
    bridge = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "jupyter_sleeptime.cli", "mcp"],
        *["--url", http_server_client.get_url(jp_base_url), "--token", "wrong"],
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(bridge.communicate(), 60)
    assert bridge.returncode == 1 and b"refused the token" in stderr


async def test_an_opted_out_notebook_is_refused(
    jp_fetch, start_kernel, jp_root_dir, mcp_url, token
):
    kernel = await run_cells(jp_fetch, start_kernel, jp_root_dir, "private.ipynb", opted_out=True)
    async with connect(mcp_url, token) as client:
        notebooks = await call(client, "list_notebooks")
        [entry] = [nb for nb in notebooks["notebooks"] if nb["kernel_id"] == kernel.kernel_id]
        assert entry["shared"] is False and entry["cells"] is None
        for name, arguments in [
            ("notebook_overview", {}),
            ("name_fact", {"name": "total"}),
            ("error_card", {}),
            ("explain_cell", {"cell": 1}),
            ("next_steps", {}),
            ("ask", {"question": "What is total?"}),
        ]:
            result = await client.call_tool(name, {"notebook": "private.ipynb", **arguments})
            assert result.is_error, name
            message = result.content[0].text
            assert "not shared with agents" in message and '"enabled": false' in message
            assert "131" not in message


async def test_the_stdio_bridge_answers(
    jp_fetch, start_kernel, jp_root_dir, http_server_client, jp_base_url, token
):
    await run_cells(jp_fetch, start_kernel, jp_root_dir, "bridge.ipynb")
    env = {
        **os.environ,
        protocol.ENV_URL: http_server_client.get_url(jp_base_url),
        "JUPYTER_TOKEN": token,
    }
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "jupyter_sleeptime.cli", "mcp"], env=env
    )
    async with Client(server, read_timeout_seconds=60) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        fact = await call(client, "name_fact", notebook="bridge.ipynb", name="rows")
    assert fact["source"] == "facts" and "[3, 1, 4" in fact["text"]


@pytest.fixture
def with_jupyter_server_mcp(sleeptime_config, jp_server_config):
    """The server also runs `jupyter-server-mcp` (as Jupyter AI 3 sets it up), on a free port."""
    pytest.importorskip("jupyter_server_mcp")
    from jupyter_sleeptime.testing.harness import free_port

    port = free_port()
    jp_server_config["ServerApp"]["jpserver_extensions"]["jupyter_server_mcp"] = True
    jp_server_config["MCPExtensionApp"] = {"mcp_port": port}
    return port


async def test_jupyter_server_mcp_finds_the_tools(
    with_jupyter_server_mcp, jp_serverapp, jp_fetch, start_kernel, jp_root_dir
):
    await jp_serverapp.extension_manager.start_extension("jupyter_server_mcp")  # as `start` does
    kernel = await run_cells(jp_fetch, start_kernel, jp_root_dir, "jsm.ipynb")
    async with Client(f"http://localhost:{with_jupyter_server_mcp}/mcp") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names >= TOOLS
        result = await client.call_tool("list_notebooks", {})
        assert not result.is_error, result.content
        listed = json.loads(result.content[0].text)
        assert kernel.kernel_id in {nb["kernel_id"] for nb in listed["notebooks"]}
        fact = await client.call_tool(
            "name_fact", {"notebook": "jsm.ipynb", "name": "OPENAI_API_KEY"}
        )
        assert SECRET not in fact.content[0].text and "OPENAI_API_KEY" in fact.content[0].text


@pytest.mark.slow
async def test_the_secrets_corpus_never_leaves_through_the_tools(
    jp_fetch, start_kernel, jp_root_dir, mcp_url, token, capsys
):
    """The red-team corpus of the model boundary, through this path: every record runs in a
    real kernel, then every tool reads every cell and every name."""
    from .test_redaction_e2e import as_cell, load

    secrets, negatives = load("secrets.jsonl"), load("negatives.jsonl")
    kernel = await start_kernel(path="creds.ipynb")
    for record in secrets + negatives:
        await kernel.execute(as_cell(record, Path(jp_root_dir)))
    await think(jp_fetch, kernel.kernel_id, request_timeout=600)
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    seen: list[str] = []
    async with connect(mcp_url, token) as client:

        async def read(tool: str, **arguments: Any) -> None:
            result = await client.call_tool(tool, {"notebook": "creds.ipynb", **arguments})
            seen.append(result.content[0].text if result.content else "")

        await read("notebook_overview")
        await read("next_steps")
        for execution in state["executions"]:
            if execution["execution_count"] is not None:
                await read("explain_cell", cell=execution["execution_count"])
                await read("error_card", cell=execution["execution_count"])
        for name in state["facts"]["names"]:
            await read("name_fact", name=name["name"])
    text = "\n".join(seen)
    leaked = [r["id"] for r in secrets if r["secret"] in text]
    kept = [r["id"] for r in negatives if r["keep"] in text]
    with capsys.disabled():
        print(
            f"\nsecrets through MCP: {len(secrets) - len(leaked)}/{len(secrets)} blocked in "
            f"{len(seen)} tool results ({len(text):,} characters); "
            f"{len(kept)}/{len(negatives)} look-alikes shown"
        )
    for rid in leaked:  # where it showed, to fix the rule that missed it
        secret = next(r["secret"] for r in secrets if r["id"] == rid)
        for shown in seen:
            at = shown.find(secret)
            if at >= 0:
                print("LEAK", rid, repr(shown[max(0, at - 300) : at + 80]))
    assert len(seen) > len(secrets)
    assert leaked == []


def test_the_entry_point_offers_the_same_tools():
    """What `jupyter-server-mcp` loads from the `jupyter_server_mcp.tools` entry point."""
    from importlib.metadata import entry_points

    [entry] = [e for e in entry_points(group="jupyter_server_mcp.tools") if "sleeptime" in e.name]
    specs = entry.load()()
    functions = []
    for spec in specs:
        module, _, name = spec.partition(":")
        functions.append(getattr(__import__(module, fromlist=[name]), name))
    assert {f.__name__ for f in functions} == TOOLS
    assert tuple(functions) == mcp_tools.TOOLS
