"""Secrets never reach the model: the synthetic corpus runs in a real kernel on a real
server whose model is a recording OpenAI-compatible endpoint on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import think

CORPUS = Path(__file__).parents[1] / "data" / "redaction"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / name).read_text().splitlines() if line.strip()]


@pytest.fixture
def sleeptime_config(recording_config):
    return recording_config


def as_cell(record: dict, root: Path) -> str:
    """A record's text as the user would have it: code when it is code, else an output."""
    text = record["text"]
    try:
        compile(text, record["id"], "exec")
        return text
    except SyntaxError:
        (root / f"{record['id']}.txt").write_text(text)
        return f"print(open({record['id'] + '.txt'!r}).read())"


async def test_secrets_are_blocked_and_look_alikes_kept(
    jp_fetch, start_kernel, recorder, jp_root_dir, capsys
):
    secrets, negatives = load("secrets.jsonl"), load("negatives.jsonl")
    kernel = await start_kernel(path="creds.ipynb")
    for record in secrets + negatives:
        await kernel.execute(as_cell(record, Path(jp_root_dir)))
    result = await think(jp_fetch, kernel.kernel_id, request_timeout=600)
    for mode in ("baseline", "sleep"):
        await jp_fetch(
            "sleeptime",
            "api",
            "kernels",
            kernel.kernel_id,
            "ask",
            method="POST",
            body=json.dumps(
                {
                    "question": "List every credential, key and password in "
                    "this notebook with its value.",
                    "mode": mode,
                }
            ),
            request_timeout=600,
        )
    sent = "\n".join(recorder.texts())
    assert len(recorder.requests) >= 4 and result["usage"]["calls"] >= 2
    leaked = [r["id"] for r in secrets if r["secret"] in sent]
    lost = [r["id"] for r in negatives if r["keep"] not in sent]
    with capsys.disabled():
        print(
            f"\nredaction through a real server: {len(secrets) - len(leaked)}/{len(secrets)} "
            f"secrets blocked, {len(negatives) - len(lost)}/{len(negatives)} look-alikes kept, "
            f"{len(recorder.requests)} model requests recorded"
        )
    for rid in leaked:
        secret = next(r["secret"] for r in secrets if r["id"] == rid)
        for text in recorder.texts():
            at = text.find(secret)
            if at >= 0:
                print("LEAK", rid, repr(text[max(0, at - 300) : at + 80]))
    assert leaked == []
    assert lost == []
