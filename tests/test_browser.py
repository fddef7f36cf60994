"""End to end in a real browser: JupyterLab + the sleeptime extension + a real server.

Starts `jupyter lab` (real server, real ipykernel, the deterministic scripted model) on a
free loopback port and drives headless Debian Chromium with playwright-core
(`ui-tests/e2e.js`, no browser download): a notebook runs three cells (the last one
fails), the sidebar shows insights after idle, a typed question gets a streamed answer,
an anticipated chip is answered by the server from the prepared answer (named as such,
end to end in under 50 ms measured in the page), "Ask the model instead" streams the
model's answer, a reworded anticipated question typed in is matched by the server, and
"Insert below" adds an unexecuted cell. Screenshots, the server log and the script's
result (with the measured latencies) go to `test-artifacts/` at the repo root.

Needs Node and Chromium (`.ci/browser-deps.sh` installs both and runs `npm ci` in
`ui-tests/`). Without them the test is skipped, except in CI (`CI=true`), where it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[1]
UI_TESTS = ROOT / "ui-tests"
SCRIPT = UI_TESTS / "e2e.js"
ARTIFACTS = ROOT / "test-artifacts"
NOTEBOOK = "sales.ipynb"
QUESTION = "Which regions are in the sales table and how many units?"
PREPARED_BUDGET_MS = 50  # click → prepared answer shown, measured in the page

CELLS = [
    "import pandas as pd\n"
    "sales = pd.DataFrame({'region': ['north', 'south', 'east', 'north'],\n"
    "                      'units': [3, 5, 2, 7]})\n"
    "sales",
    "total_units = int(sales['units'].sum())\ntotal_units",
    "sales['price'].mean()  # fails: there is no price column",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing_or_skip(what: str) -> None:
    message = f"browser e2e test needs {what} (run .ci/browser-deps.sh)"
    if _in_ci():
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def _free_port() -> int:
    # Chromium refuses some low ports (ERR_UNSAFE_PORT, all <= 10080): take one above them.
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port > 10080:
            return port
    raise RuntimeError("no free loopback port above 10080")


def _get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def _wait_for_server(proc: subprocess.Popen, base: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            status, _ = _get(f"{base}sleeptime/api/status?token={token}", timeout=3)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"jupyter lab did not answer in 90 s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what it started
        proc.wait(timeout=10)


def _write_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.fixture
def browser_tools() -> dict[str, str]:
    node = shutil.which("node")
    if not node:
        _missing_or_skip("Node (`node` on PATH)")
    chromium = _chromium()
    if not chromium:
        _missing_or_skip("Chromium (/usr/bin/chromium or CHROMIUM_PATH)")
    if not (UI_TESTS / "node_modules" / "playwright-core").is_dir():
        _missing_or_skip("playwright-core in ui-tests/node_modules (`npm ci` in ui-tests/)")
    return {"node": node, "chromium": chromium}


@pytest.fixture
def lab_server(tmp_path):
    """A real `jupyter lab` with the extension, the scripted model and a small notebook."""
    root = tmp_path / "root"
    root.mkdir()
    _write_notebook(root / NOTEBOOK)
    home = tmp_path / "jupyter"
    # No "official Jupyter news?" toast over the sidebar, and no news fetch.
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    port = _free_port()
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        # Nothing from the user's Jupyter set-up: config, data, runtime, lab settings.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
        "PYTHONUNBUFFERED": "1",
    }
    for key in (
        "JUPYTER_SLEEPTIME_MODEL",
        "JUPYTER_SLEEPTIME_SLEEP_MODEL",
        "JUPYTER_SLEEPTIME_API_BASE",
    ):
        env.pop(key, None)
    args = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--SleeptimeApp.model=sleeptime-scripted/e2e",
        "--SleeptimeApp.idle_seconds=1",
        f"--SleeptimeApp.store_path={tmp_path / 'sleeptime.db'}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log = tmp_path / "jupyter-lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_server(proc, base, token, log)
        yield {"url": base, "token": token, "log": log, "proc": proc}
    finally:
        _stop(proc)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / "browser-e2e-server.log")


def test_sidebar_in_a_real_browser(browser_tools, lab_server, tmp_path, capsys):
    for old in ARTIFACTS.glob("browser-e2e*.png"):
        old.unlink()
    result_path = tmp_path / "e2e-result.json"
    env = {
        **os.environ,
        "JUPYTER_URL": lab_server["url"],
        "JUPYTER_TOKEN": lab_server["token"],
        "NOTEBOOK": NOTEBOOK,
        "ARTIFACTS_DIR": str(ARTIFACTS),
        "RESULT_PATH": str(result_path),
        "CHROMIUM_PATH": browser_tools["chromium"],
        "QUESTION": QUESTION,
        "E2E_TIMEOUT_MS": "150000",
    }
    started = time.monotonic()
    proc = subprocess.run(
        [browser_tools["node"], str(SCRIPT)],
        cwd=UI_TESTS, env=env, capture_output=True, text=True, timeout=200,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if not result_path.exists():
        pytest.fail(
            f"e2e.js wrote no result (exit {proc.returncode}):\n{proc.stderr[-4000:]}\n"
            f"server log: {ARTIFACTS / 'browser-e2e-server.log'}"
        )
    result = json.loads(result_path.read_text())
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(result_path, ARTIFACTS / "browser-e2e-result.json")
    chip = (result.get("data") or {}).get("chip") or {}
    with capsys.disabled():
        print(f"\nbrowser e2e: {seconds:.1f} s, exit {proc.returncode}")
        for step in result["steps"]:
            mark = "ok  " if step["ok"] else "FAIL"
            print(
                f"  {mark} {step['name']} ({step['ms']} ms){'' if step['ok'] else ': ' + step['error']}"
            )
        if chip:
            print(
                f"  prepared answer in the page: {chip.get('elapsedMs')} ms from the click "
                f"(request {chip.get('requestMs')} ms, server "
                f"{(chip.get('doneEvent') or {}).get('latency_ms')} ms)"
            )
        for shot in result["screenshots"]:
            print(f"  screenshot: {shot}")
        print(f"  server log: {ARTIFACTS / 'browser-e2e-server.log'}")
        print(f"  result: {ARTIFACTS / 'browser-e2e-result.json'}")

    context = (
        f"\n--- e2e.js stderr ---\n{proc.stderr[-3000:]}\n--- result ---\n"
        f"{json.dumps(result, indent=1)[:6000]}"
    )
    assert proc.returncode == 0 and result["ok"], (
        f"browser steps failed: {result['error']}{context}"
    )
    assert result["screenshots"], "no screenshot was kept" + context
    assert not result["pageErrors"], f"uncaught errors in the page: {result['pageErrors']}"
    data = result["data"]

    # The notebook ran: three execution counts, the last cell failed.
    assert [c["executionCount"] is not None for c in data["cellsAfterRun"]] == [True] * 3

    # Insights after idle, made by the scripted model from the real prompts.
    insights = data["insights"]
    assert insights["chips"], context
    assert "How many rows does sales have?" in insights["chips"], context
    assert "KeyError" in insights["diagnosis"], context
    assert any("sales.describe()" in step for step in insights["nextSteps"]), context
    assert "Notebook memory" in insights["memory"], context

    # A typed question: streamed by the server as NDJSON tokens, answered by the model.
    typed = data["typed"]
    assert typed["question"] not in insights["chips"]
    assert typed["httpStatus"] == 200, context
    assert typed["state"] == "done" and typed["source"] == "model", context
    assert typed["text"], context
    assert typed["tokenEvents"] >= 2 and "done" in typed["eventTypes"], context
    assert typed["doneEvent"]["source"] == "model", context
    assert any(s["state"].startswith("streaming") for s in typed["uiStates"]), context
    assert typed["uiStates"][-1]["state"] == "done:model", context
    assert typed["requestBody"] == {"question": QUESTION, "mode": "sleep"}, context
    assert typed["provenance"] == "answered by the model" and not typed["askModelButton"]

    # An anticipated chip: asked of the server, which answers from the prepared answer and
    # names the prepared question it matched; end to end within the budget, in the page.
    chip = data["chip"]
    assert chip["requestBody"] == {"question": chip["question"], "mode": "sleep"}, context
    assert chip["doneEvent"]["source"] == "anticipated", context
    assert chip["doneEvent"]["matched"] == chip["question"], context
    assert chip["source"] == "anticipated" and chip["state"] == "done", context
    assert chip["provenance"].startswith(f"prepared answer to: '{chip['question']}'"), context
    assert chip["matchedAttr"] == chip["question"], context
    assert chip["text"] and chip["askModelButton"], context
    assert chip["elapsedMs"] < PREPARED_BUDGET_MS, (
        f"prepared answer took {chip['elapsedMs']} ms in the page" + context
    )

    # "Ask the model instead": the same question, fresh, streamed by the model.
    fresh = data["fresh"]
    assert fresh["requestBody"] == {
        "question": chip["question"],
        "mode": "sleep",
        "fresh": True,
    }, context
    assert fresh["httpStatus"] == 200 and fresh["tokenEvents"] >= 2, context
    assert fresh["doneEvent"]["source"] == "model" and "matched" not in fresh["doneEvent"]
    assert fresh["question"] == chip["question"], context
    assert fresh["state"] == "done" and fresh["source"] == "model", context
    assert any(s["state"].startswith("streaming") for s in fresh["uiStates"]), context
    assert fresh["text"] and fresh["text"] != chip["text"], context
    assert "prepared answer to" not in fresh["provenance"] and not fresh["askModelButton"]

    # Typed, reworded: no decision in the browser; the server matches the prepared question.
    reworded = data["reworded"]
    assert reworded["typed"] != reworded["prepared"], context
    assert reworded["requestBody"] == {"question": reworded["typed"], "mode": "sleep"}, context
    assert reworded["doneEvent"]["source"] == "anticipated", context
    assert reworded["doneEvent"]["matched"] == reworded["prepared"], context
    assert reworded["provenance"].startswith(f"prepared answer to: '{reworded['prepared']}'")

    # "Insert below": one more cell, holding the suggested code, not executed.
    insert = data["insert"]
    assert insert["code"].strip(), context
    assert insert["after"] == insert["before"] + 1, context
    cell = insert["inserted"]
    assert cell["type"] == "code", context
    assert cell["source"] == insert["code"], context
    assert cell["executionCount"] is None and cell["outputs"] == 0, context
    assert insert["kernelStatus"] == "idle", context
