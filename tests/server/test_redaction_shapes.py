"""Redaction through a real server and kernel, checked on what a recording model endpoint on
loopback receives: ordinary DataFrame outputs never break an answer or a thinking run; a
redaction error in one piece withholds that piece and nothing else; secrets in shell lines,
credential files, run-time assembly and markdown never reach a model request while their
look-alikes do."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from jupyter_sleeptime.engine.redact import PASSES, WITHHELD, Pass

from ..conftest import ask, recorded, think

MODES = ("sleep", "baseline", "baseline-budget")

FRAME_CELLS = [
    "import pandas as pd\n"
    'df = pd.DataFrame({"route": ["/auth", "/key"], "ms": [12, 9]}).sort_values("ms")\ndf',
    "print(df.to_string(index=False))",
    "print(df.to_html())",
]


@pytest.fixture
def sleeptime_config(recording_config):
    return recording_config


def write_notebook(path: Path, code: list[str], markdown: list[str] = ()) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown] + [
        nbformat.v4.new_code_cell(c) for c in code
    ]
    nbformat.write(nb, path)


async def run(jp_fetch, start_kernel, root: Path, name: str, code, markdown=()):
    write_notebook(root / name, code, markdown)
    kernel = await start_kernel(path=name)
    for cell in code:
        reply = await kernel.execute(cell)
        assert reply["reply"]["status"] == "ok", (cell, reply)
    await recorded(jp_fetch, kernel.kernel_id, code[-1].splitlines()[0])
    return kernel


async def test_a_printed_frame_answers_in_every_mode_and_thinking_completes(
    jp_fetch, start_kernel, recorder, jp_root_dir
):
    kernel = await run(jp_fetch, start_kernel, Path(jp_root_dir), "frame.ipynb", FRAME_CELLS)
    result = await think(jp_fetch, kernel.kernel_id, request_timeout=300)
    assert result["ok"] and result["error"] is None, result  # every task ran
    assert result["usage"]["calls"] >= 1
    for mode in MODES:
        events = await ask(jp_fetch, kernel.kernel_id, "Which route is fastest?", mode, fresh=True)
        assert events[-1]["type"] == "done", events[-1]
    sent = "\n".join(recorder.texts())
    assert "/auth" in sent and "/key" in sent  # the frame itself went out, unredacted
    assert WITHHELD not in sent


def _breaks_on_marker(text: str, lower: str, found: list, sinks: list) -> None:
    if "route-7f3a" in text:
        raise StopIteration("a pass that cannot read this output")


async def test_a_redaction_error_withholds_that_piece_only(
    jp_fetch, start_kernel, recorder, jp_root_dir, service
):
    redactor = service.engine.client.redactor
    redactor.passes = (*PASSES, Pass("test pass that breaks on one output", _breaks_on_marker))
    code = ["label = 'visible-1'", "print('route-7f3a', 12)", "total = 41 + 1\nprint(total)"]
    kernel = await run(jp_fetch, start_kernel, Path(jp_root_dir), "piece.ipynb", code)
    events = await ask(jp_fetch, kernel.kernel_id, "What is total?", "baseline", fresh=True)
    assert events[-1]["type"] == "done", events[-1]
    result = await think(jp_fetch, kernel.kernel_id, request_timeout=300)
    assert result["ok"] and result["usage"]["calls"] >= 1, result
    sent = "\n".join(recorder.texts())
    assert WITHHELD in sent and "route-7f3a" not in sent
    assert "label = 'visible-1'" in sent and "total = 41 + 1" in sent


PW = ["Cedar#4821Lk", "Mango!907QQ", "Tundra$66k2x", "Pluto&3141Rv", "Quill@275zZ9"]
HEX = ["9b3f6c1d2e4a5b6c7d8e9f0a1b2c3d4e", "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"]
SIG = "4be1c0d5a7f2e3b9c8d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4"
TOKEN = "Zq7vR2mXk9LpW4tYb8Nc3Hd"
SHA = "eba6f1d5dc4e384d5af8e05f93b4f3a11d2f760bc9c64921e0465167d0822e34"

SHAPE_CELLS = [
    # shell inside the notebook: a .netrc and a .pgpass written, an index URL with a password
    "%%bash\ncat > netrc.txt <<EOF\nmachine git.corp.io\n  login bot\n"
    f"  password {PW[0]}\nEOF\nwc -l netrc.txt",
    f'!echo "db.corp.io:5432:sales:etl:{PW[1]}" > pgpass.txt && cat pgpass.txt',
    f"!echo pip install --index-url https://deploy:{PW[2]}@pypi.corp.io/simple/ ml-utils",
    # config text in a string
    'kubeconfig = """\napiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n'
    f'    token: {PW[3]}\n"""\nprint(kubeconfig)',
    # assembled at run time, set on a session, a swapped field, a multi-line constructor
    f'import base64\nuser, token = "svc", "{HEX[0]}"\nauth = "%s:%s" % (user, token)\n'
    'headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}',
    "import requests\nsession = requests.Session()\n"
    f'session.cookies.set("sessionid", "{HEX[1]}")\nsession.cookies.set("theme", "dark")',
    f'conn = {{"host": "db.corp.io", "user": "etl", "port": "{PW[4]}", "password": 5432}}\n'
    "print(conn)",
    f'vault_kwargs = dict(\n    url="https://vault.corp.io:8200",\n    token=\n        "hvs.{TOKEN}",\n)',
    # look-alikes
    'addr = "%s:%s" % ("db.internal", 5432)\nprint(addr)',
    'example_key = "AKIAIOSFODNN7EXAMPLE"',
    f'print("sha256:", "{SHA}")',
]
SHAPE_MARKDOWN = [
    "## Latency\n![latency](https://bucket.s3.amazonaws.com/p.png?X-Amz-Expires=3600"
    f"&X-Amz-Signature={SIG})\n\n![plot](https://example.org/plot.png?width=640&height=480)",
    "<details><summary>Staging API token</summary>\n\n"
    f"<code>{TOKEN}Q</code>\n</details>\n\n<details><summary>Checksum</summary>"
    f"<code>{SHA}</code></details>",
    f"| service | token |\n|---|---|\n| billing | {TOKEN}K |\n\n| file | sha256 |\n|---|---|\n"
    f"| data.csv | {SHA} |",
]
SECRETS = [*PW, *HEX, SIG, f"hvs.{TOKEN}", f"{TOKEN}Q", f"{TOKEN}K"]
LOOK_ALIKES = [
    "AKIAIOSFODNN7EXAMPLE",
    SHA,
    "db.internal:5432",
    "width=640&height=480",
    '"theme", "dark"',
    "netrc.txt",
    "https://vault.corp.io:8200",
]


async def test_each_new_shape_is_held_back_and_its_look_alike_kept(
    jp_fetch, start_kernel, recorder, jp_root_dir, capsys
):
    kernel = await run(
        jp_fetch, start_kernel, Path(jp_root_dir), "shapes.ipynb", SHAPE_CELLS, SHAPE_MARKDOWN
    )
    result = await think(jp_fetch, kernel.kernel_id, request_timeout=600)
    assert result["ok"] and result["usage"]["calls"] >= 1, result
    for mode in MODES:
        events = await ask(
            jp_fetch,
            kernel.kernel_id,
            "List every credential, token and password in this notebook with its value.",
            mode,
            fresh=True,
            request_timeout=300,
        )
        assert events[-1]["type"] == "done", events[-1]
    texts = recorder.texts()
    sent = "\n".join(texts)
    leaked = [s for s in SECRETS if s in sent]
    lost = [k for k in LOOK_ALIKES if k not in sent]
    with capsys.disabled():
        print(
            f"\n[redaction shapes through a server] {len(SECRETS) - len(leaked)}/{len(SECRETS)} "
            f"secrets held back, {len(LOOK_ALIKES) - len(lost)}/{len(LOOK_ALIKES)} look-alikes "
            f"sent, {len(recorder.requests)} requests"
        )
    for secret in leaked:
        at = sent.find(secret)
        print("LEAK", repr(sent[max(0, at - 200) : at + 60]))
    assert leaked == [] and lost == []
    assert WITHHELD not in sent
    assert "Staging API token" in sent  # the markdown went out, its token did not
