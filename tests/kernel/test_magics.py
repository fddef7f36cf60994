"""`%ask` / `%%ask` and the ask widget, run as cells in real kernels: against a real Jupyter
server with the extension (the scripted model answers), and in-process without a server."""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import pytest

from jupyter_sleeptime.kernel.render import md_escape
from jupyter_sleeptime.testing import scripted_model
from jupyter_sleeptime.testing.harness import execute_over

from ..conftest import SCRIPTED, get_json, recorded, think, wait_for

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def sleeptime_config():
    # No background thinking: these tests think explicitly (POST think), so what the scripted
    # model is asked, and when, is deterministic.
    return {"enabled": False}


async def run(kernel: Any, code: str, timeout: float = 120) -> dict[str, Any]:
    """Execute a cell over the server's websocket and keep every output message, display
    updates included; `final` maps each display id to its latest data."""
    result = await execute_over(kernel.ws, kernel.session, code, timeout)
    messages = result["outputs"]
    return {"reply": result["reply"], "messages": messages, **_views(messages)}


def _views(messages: list[dict[str, Any]]) -> dict[str, Any]:
    final: dict[str, dict[str, Any]] = {}
    for m in messages:
        display_id = (m.get("transient") or {}).get("display_id")
        if display_id and m["type"] in ("display_data", "update_display_data"):
            final[display_id] = m["data"]
    markdown = [d.get("text/markdown", "") for d in final.values()]
    stdout = "".join(m.get("text", "") for m in messages if m["type"] == "stream")
    return {
        "final": final,
        "markdown": "\n".join(markdown),
        "stdout": stdout,
        "updates": sum(m["type"] == "update_display_data" for m in messages),
    }


def assert_clean(result: dict[str, Any]) -> None:
    assert result["reply"]["status"] == "ok", result["reply"]
    assert not [m for m in result["messages"] if m["type"] == "error"]
    assert "Traceback" not in json.dumps(result["messages"])


async def query_calls(jp_fetch) -> int:
    status = await get_json(jp_fetch, "sleeptime", "api", "status")
    return int((status["usage"].get("query") or {}).get("calls", 0))


def kernel_token(jp_serverapp, kernel_id: str) -> str | None:
    tokens = jp_serverapp.web_app.settings.get("sleeptime_tokens")
    return tokens.token_for(kernel_id) if tokens is not None else None


# -- against the server ---------------------------------------------------------------------------
async def test_ask_line_and_cell_magics_stream_markdown(jp_fetch, start_kernel, jp_serverapp):
    kernel = await start_kernel()
    await kernel.execute("churn_rate = 0.93\nlabels = ['a', 'b']")
    await recorded(jp_fetch, kernel.kernel_id, "labels = ")
    scripted_model.control.token_delay = 0.02  # a few tokens per update: the answer streams

    # In one cell with %load_ext: the line ending in "?" is still a question, not a help call.
    line = await run(kernel, "%load_ext jupyter_sleeptime\n%ask Which labels exist?")
    assert_clean(line)
    assert len(line["final"]) == 1  # one output, updated in place
    assert line["updates"] >= 2
    answer, _, footer = line["markdown"].rpartition("\n\n")
    assert "labels" in answer and "'b'" in answer
    assert footer.startswith("_model sleeptime-scripted/test") and footer.endswith("_")
    assert "prompt +" in footer and "completion tokens" in footer and "first token" in footer
    assert "baseline" not in footer

    cell = await run(kernel, "%%ask --baseline\nchurn_rate,\nplease?")
    assert_clean(cell)
    assert "0.93" in cell["markdown"]
    assert " · baseline · " in cell["markdown"]

    token = kernel_token(jp_serverapp, kernel.kernel_id)
    if token:  # the kernel's credential never reaches an output
        assert token not in json.dumps(line["messages"] + cell["messages"])
    asked = [c for c in scripted_model.control.calls if c["task"] == "answer"]
    assert len(asked) == 2


async def test_ask_without_question_shows_widget(jp_fetch, start_kernel):
    kernel = await start_kernel()
    result = await run(kernel, "%load_ext jupyter_sleeptime\n%ask")
    assert_clean(result)
    displays = [m for m in result["messages"] if m["type"] == "display_data"]
    views = [m for m in displays if WIDGET_MIME in m["data"]]
    assert len(views) == 1
    # The widget asks too, from a callback: here called directly, as its button would.
    await kernel.execute("widget_count = 41")
    await recorded(jp_fetch, kernel.kernel_id, "widget_count = 41")
    result = await run(
        kernel,
        (
            "from jupyter_sleeptime.kernel.widget import AskWidget\n"
            "w = AskWidget()\n"
            "done = w.ask('widget_count, please?')\n"
            "shown = w.answer.outputs[0]['data']['text/markdown']\n"
            "print(done['source'], '|', w.answer_text, '|', shown)"
        ),
    )
    assert_clean(result)
    source, text, markdown = (s.strip() for s in result["stdout"].split("|"))
    assert source == "model" and "41" in text
    assert markdown.endswith("_") and "completion tokens" in markdown


async def test_anticipated_question_answered_without_model(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute(
        "%load_ext jupyter_sleeptime\n"
        "import pandas as pd\nsales = pd.DataFrame({'units': range(50)})\ntotal = 1234"
    )
    await recorded(jp_fetch, kernel.kernel_id, "total = 1234")
    await think(jp_fetch, kernel.kernel_id, request_timeout=120)
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    anticipated = state["insights"]["anticipated"]
    assert anticipated
    item = next((a for a in anticipated if "sales" in a["question"]), anticipated[0])
    shown_question = md_escape(item["question"])  # as Markdown shows it: "What is \`sales\`?"
    before = await query_calls(jp_fetch)

    # Verbatim and reworded: both are the prepared answer, which names the prepared question
    # the server matched and offers the command that asks the model instead.
    reworded = item["question"].upper().replace("?", "") + " !!"
    both = await run(kernel, f"%ask {item['question']}\n%ask   {reworded}")
    assert_clean(both)
    assert len(both["final"]) == 2
    for data, asked in zip(both["final"].values(), (item["question"], reworded), strict=True):
        answer, footer, hint = data["text/markdown"].split("\n\n")
        assert answer == item["answer"].strip()
        assert footer.startswith(f"_⚡ prepared answer to: '{shown_question}' · 0 tokens · ")
        fence = "``" if "`" in asked else "`"  # a code span around a question with backticks
        assert hint == f"_Ask the model instead:_ {fence}%ask --fresh {asked}{fence}"
    assert await query_calls(jp_fetch) == before
    assert not [c for c in scripted_model.control.calls if c["task"] == "answer"]

    # Asking is no change to the notebook: the next cell still gets the prepared answer.
    await asyncio.sleep(0.5)  # the server's observer has seen the %ask cell finish
    after = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    assert after["state_version"] == state["state_version"]
    assert all("%ask" not in e["source"] for e in after["executions"])

    # --raw: the same provenance and hint, as plain text.
    raw = await run(kernel, f"%ask --raw {reworded}")
    assert_clean(raw)
    assert re.fullmatch(
        re.escape(item["answer"])
        + re.escape(f"\n\n⚡ prepared answer to: '{item['question']}' · 0 tokens · ")
        + r"\d+ ms\n"
        + re.escape(f"ask the model instead: %ask --fresh {reworded}\n"),
        raw["stdout"],
    ), raw["stdout"]

    # The command the hint offers (alone in its cell: other code would change the notebook
    # and so retire the prepared answers): the same question, answered by the model.
    fresh = await run(kernel, f"%ask --fresh {reworded}")
    assert_clean(fresh)
    answer, _, footer = fresh["markdown"].rpartition("\n\n")
    assert answer.strip() != item["answer"].strip()
    assert footer.startswith("_model sleeptime-scripted/test · ") and "completion tokens" in footer
    assert "prepared answer" not in fresh["markdown"] and "--fresh" not in fresh["markdown"]
    assert await query_calls(jp_fetch) == before + 1
    asked = [c for c in scripted_model.control.calls if c["task"] == "answer"]
    assert len(asked) == 1 and reworded in asked[0]["messages"][-1]["content"]

    # And without --fresh the prepared answer is still there.
    again = await run(kernel, f"%ask {reworded}")
    assert_clean(again)
    assert item["answer"].strip() in again["markdown"]
    assert f"prepared answer to: '{shown_question}'" in again["markdown"]

    await assert_widget_chip_then_fresh(kernel, item)
    assert await query_calls(jp_fetch) == before + 2


async def assert_widget_chip_then_fresh(kernel: Any, item: dict[str, str]) -> None:
    """The widget offers a prepared question as a button: a click asks the server, which
    answers from the prepared answer; "Ask the model instead" asks again, fresh."""
    clicked = await run(
        kernel,
        (
            "from jupyter_sleeptime.kernel.widget import AskWidget\n"
            "w = AskWidget()\n"
            "print(w.fresh_button.layout.display)\n"
            f"[b for b in w.suggested.children if b.tooltip == {item['question']!r}][0].click()\n"
            # repr: a prepared answer may span lines (a value card)
            "print(w.last_done['source'], '|', w.last_done['matched'], '|', repr(w.answer_text))\n"
            "print(w.answer.outputs[0]['data']['text/markdown'].rpartition('\\n\\n')[2])\n"
            "print(w.fresh_button.layout.display)\n"
            "w.fresh_button.click()\n"
            "print(w.last_done['source'], '|', w.question.value, '|', w.fresh_button.layout.display)\n"
        ),
    )
    assert_clean(clicked)
    hidden, prepared, shown, visible, model = clicked["stdout"].strip().splitlines()
    assert hidden == "none"
    assert prepared == f"anticipated | {item['question']} | {item['answer'].strip()!r}"
    shown_question = md_escape(item["question"])
    assert shown.startswith(f"_⚡ prepared answer to: '{shown_question}' · 0 tokens · ")
    assert visible == "None"
    assert model == f"model | {item['question']} | none"


async def test_model_error_is_a_readable_message(start_kernel):
    kernel = await start_kernel()
    await kernel.execute("%load_ext jupyter_sleeptime\nx = 1")
    scripted_model.control.fail_next = 1
    result = await run(kernel, "%ask Why is x 1?")
    assert_clean(result)
    assert "⚠ sleeptime:" in result["markdown"]
    assert "failed" in result["markdown"] and "sleeptime-scripted/test" in result["markdown"]
    # and the next question works again
    result = await run(kernel, "%ask Why is x 1?")
    assert "⚠" not in result["markdown"] and "completion tokens" in result["markdown"]


async def test_interrupt_stops_a_streaming_answer(jp_fetch, start_kernel):
    kernel = await start_kernel()
    await kernel.execute("%load_ext jupyter_sleeptime\nslow_value = 7")
    await recorded(jp_fetch, kernel.kernel_id, "slow_value = 7")
    scripted_model.control.token_delay = 0.5
    cell = asyncio.ensure_future(run(kernel, "%ask slow_value?"))
    await wait_for(lambda: [c for c in scripted_model.control.calls if c["task"] == "answer"])
    await asyncio.sleep(0.3)
    await jp_fetch("api", "kernels", kernel.kernel_id, "interrupt", method="POST", body="")
    result = await asyncio.wait_for(cell, 30)
    assert result["reply"]["status"] == "error" and result["reply"]["ename"] == "KeyboardInterrupt"
    assert result["markdown"].endswith("**⚠ sleeptime: interrupted.**")
    # the kernel and the server are fine afterwards
    scripted_model.control.token_delay = 0
    again = await run(kernel, "%ask slow_value?")
    assert_clean(again)
    assert "7" in again["markdown"]


async def test_kernel_token_only_opens_its_own_kernel(
    jp_fetch, start_kernel, jp_serverapp, http_server_client, jp_base_url
):
    if jp_serverapp.web_app.settings.get("sleeptime_tokens") is None:
        pytest.xfail("the server gives kernels no scoped token yet")
    first = await start_kernel()
    second = await start_kernel()
    # From inside the first kernel: its own routes answer, the second kernel's refuse.
    result = await run(
        first,
        (
            "from jupyter_sleeptime.kernel import client\n"
            "ep = client.discover()\n"
            f"other = client.Endpoint(ep.base_url, {second.kernel_id!r}, ep.source, ep.headers)\n"
            "try:\n"
            "    client.SleeptimeClient(other).state()\n"
            "    print('ALLOWED')\n"
            "except client.SleeptimeError as e:\n"
            "    print('REFUSED', e)\n"
            "print(ep.source, client.SleeptimeClient(ep).state()['kernel_id'])\n"
            "print(repr(ep))\n"
        ),
    )
    assert_clean(result)
    lines = result["stdout"].splitlines()
    assert lines[0].startswith("REFUSED") and "403" in lines[0]
    assert lines[1] == f"env {first.kernel_id}"
    token = kernel_token(jp_serverapp, first.kernel_id)
    assert token not in result["stdout"]

    # The same token, with no other credential, on the server's routes.
    async def fetch(path: str, method: str = "GET", body: str | None = None) -> int:
        response = await http_server_client.fetch(
            f"{jp_base_url}sleeptime/api/{path}",
            method=method,
            body=body,
            headers={"X-Sleeptime-Kernel-Token": token},
            raise_error=False,
        )
        return response.code

    assert await fetch(f"kernels/{first.kernel_id}") == 200
    assert await fetch(f"kernels/{second.kernel_id}") == 403
    ask = json.dumps({"question": "What?", "mode": "sleep"})
    assert await fetch(f"kernels/{second.kernel_id}/ask", "POST", ask) == 403
    assert await fetch("status") == 403


# -- without a server -----------------------------------------------------------------------------
def test_inprocess_fallback_without_server(jp_environ, tmp_path):
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_SLEEPTIME_")}
    env.update({"JUPYTER_SLEEPTIME_MODEL": SCRIPTED, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    km, kc = start_new_kernel(kernel_name="python3", env=env, startup_timeout=120)
    try:
        messages: list[dict[str, Any]] = []

        def cell(code: str) -> dict[str, Any]:
            messages.clear()
            reply = kc.execute_interactive(
                code,
                timeout=180,
                output_hook=lambda m: messages.append({"type": m["msg_type"], **m["content"]}),
            )
            return {"reply": reply["content"], "messages": list(messages), **_views(messages)}

        cell("%load_ext jupyter_sleeptime\nscore = 0.93\nscore")
        cell("1/0")
        result = cell("%ask What is score?")
        assert_clean(result)
        answer, _, footer = result["markdown"].rpartition("\n\n")
        assert "0.93" in answer
        assert footer.startswith("_in-process (no server): query time only · model ")
        assert "completion tokens" in footer
        # --fresh reaches the in-process engine too (nothing is prepared here anyway).
        result = cell("%ask --fresh What is score?")
        assert_clean(result)
        assert "0.93" in result["markdown"] and "prepared answer" not in result["markdown"]

        # The history it read: no %ask cell, the error noted, the digest computed in-kernel.
        result = cell(
            "from jupyter_sleeptime.kernel import backend, inprocess\n"
            "b = inprocess.backend(get_ipython())\n"
            "print(type(backend.get_backend()).__name__)\n"
            "ex = b._run(b._ensure_engine()).store.executions(b.notebook)\n"
            "print([e.source.splitlines()[0] for e in ex])\n"
            "print([e.status for e in ex])\n"
            "print([v['name'] for v in b._digest().variables])\n"
        )
        assert_clean(result)
        kind, sources, statuses, names = result["stdout"].splitlines()
        assert kind == "InProcessBackend"
        assert sources == str(["%load_ext jupyter_sleeptime", "1/0"])
        assert statuses == str(["ok", "error"])
        assert "score" in names and "'b'" in names
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_quickstart_notebook_is_clean():
    import nbformat

    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "quickstart.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert 8 <= len(code) <= 14
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[-1].source.startswith("%load_ext jupyter_sleeptime\n%ask ")
