"""What the magic and the widget share: the ask stream read through `protocol`, turned into
one rendered answer (Markdown in place or raw text), and the backend looked up again when
its server went away. The server here is a real HTTP server on loopback that sends the
stream a test scripts, so a broken stream can be sent on purpose."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jupyter_sleeptime import protocol
from jupyter_sleeptime.kernel import backend, client, render

DONE = protocol.done(
    answer="x is 41.",
    source="model",
    mode="sleep",
    model="sleeptime-scripted/test",
    kind="state",
    prompt_tokens=30,
    completion_tokens=4,
    cached_tokens=0,
    ttft_ms=12,
    latency_ms=40,
)
PREPARED = protocol.done(
    answer="x is 41 (set in [3]).",
    source="anticipated",
    mode="sleep",
    model=None,
    kind="state",
    prompt_tokens=0,
    completion_tokens=0,
    cached_tokens=0,
    ttft_ms=2,
    latency_ms=2,
    matched="What is `x`?",
)


class StreamServer:
    """Answers every POST with the scripted NDJSON lines and records the requests."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                for line in outer.lines:
                    self.wfile.write(line.encode())
                    self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/base/"


@pytest.fixture
def stream_server() -> Iterator[StreamServer]:
    server = StreamServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def ask_client(stream_server: StreamServer) -> client.SleeptimeClient:
    headers = {protocol.KERNEL_TOKEN_HEADER: "kernel-secret"}
    return client.SleeptimeClient(client.Endpoint(stream_server.url, "k/1", "env", headers))


@pytest.fixture(autouse=True)
def _no_cached_backend() -> Iterator[None]:
    backend.forget_backend()
    yield
    backend.forget_backend()


def test_ask_posts_the_contract_route_and_reads_events(stream_server, ask_client):
    stream_server.lines = [protocol.ndjson(protocol.token("x is ")), "\n", protocol.ndjson(DONE)]
    events = list(ask_client.ask("What is x?", mode="baseline", fresh=True))
    assert events == [protocol.token("x is "), DONE]
    (request,) = stream_server.requests
    assert request["path"] == "/base/" + protocol.route("ask", "k%2F1")
    assert request["headers"][protocol.KERNEL_TOKEN_HEADER] == "kernel-secret"
    assert request["body"] == {"question": "What is x?", "mode": "baseline", "fresh": True}


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("{not json\n", "is not JSON"),
        ('["token", "x"]\n', "must be a JSON object"),
        ('{"type": "done", "answer": "x"}\n', "a done event lacks source"),
        ('{"type": "shrug"}\n', "unknown event type 'shrug'"),
    ],
)
def test_a_malformed_line_is_an_error_event(stream_server, ask_client, bad, says):
    # Nothing after the bad line is read: what follows may belong to a broken stream.
    stream_server.lines = [protocol.ndjson(protocol.token("x is ")), bad, protocol.ndjson(DONE)]
    events = list(ask_client.ask("What is x?"))
    assert events[0] == protocol.token("x is ")
    assert len(events) == 2 and events[1]["type"] == "error"
    assert events[1]["message"].startswith("the server sent a malformed answer (")
    assert says in events[1]["message"]

    # Rendered: the part that streamed stays, the reason follows, and nothing raises.
    out = io.StringIO()
    done = backend.answer("What is x?", render.TextAnswer(out), backend=ask_client)
    assert done is None
    assert out.getvalue() == f"x is \n\n⚠ sleeptime: {events[1]['message']}\n"


def test_a_stream_without_a_final_event_says_so(stream_server, ask_client):
    stream_server.lines = [protocol.ndjson(protocol.token("x is "))]
    events = list(ask_client.ask("What is x?"))
    assert events[-1] == protocol.error("the server closed the answer stream early.")


def test_markdown_answer_streams_in_place_then_footer_and_hint(stream_server, ask_client):
    tokens = ["x ", "is ", "41 ", "(set ", "in ", "[3])."]
    stream_server.lines = [protocol.ndjson(protocol.token(t)) for t in tokens]
    stream_server.lines.append(protocol.ndjson(PREPARED))
    shown: list[str] = []
    view = render.MarkdownAnswer(shown.append, fresh_for="what's x", interval=0)
    done = backend.answer("what's x", view, backend=ask_client)
    assert done == PREPARED
    assert shown[0] == render.WAITING
    assert shown[1 : len(tokens) + 1] == [
        "".join(tokens[: i + 1]) + render.CURSOR for i in range(len(tokens))
    ]
    answer, footer, hint = shown[-1].split("\n\n")
    assert answer == "x is 41 (set in [3])."
    assert footer.startswith("_⚡ prepared answer to: 'What is \\`x\\`?' · 0 tokens · ")
    assert hint == "_Ask the model instead:_ `%ask --fresh what's x`"


def test_raw_and_markdown_variants_say_the_same(stream_server, ask_client):
    stream_server.lines = [protocol.ndjson(protocol.token("x is 41 ")), protocol.ndjson(PREPARED)]
    out = io.StringIO()
    backend.answer("x?", render.TextAnswer(out, fresh_for="x?"), backend=ask_client)
    shown: list[str] = []
    backend.answer("x?", render.MarkdownAnswer(shown.append, fresh_for="x?"), backend=ask_client)
    # The final answer extends what streamed: only the rest is printed, once.
    assert out.getvalue() == (
        "x is 41 (set in [3]).\n\n"
        "⚡ prepared answer to: 'What is `x`?' · 0 tokens · 2 ms\n"
        "ask the model instead: %ask --fresh x?\n"
    )
    assert shown[-1] == (
        "x is 41 (set in [3]).\n\n"
        "_⚡ prepared answer to: 'What is \\`x\\`?' · 0 tokens · 2 ms_\n\n"
        "_Ask the model instead:_ `%ask --fresh x?`"
    )


def test_no_fresh_hint_without_a_question_or_for_a_model_answer():
    shown: list[str] = []
    view = render.MarkdownAnswer(shown.append)  # the widget: its button offers it
    view.finish(PREPARED)
    assert "--fresh" not in shown[-1] and "prepared answer to" in shown[-1]
    view = render.MarkdownAnswer(shown.append, fresh_for="x?")
    view.finish(DONE)
    assert "--fresh" not in shown[-1] and "model sleeptime-scripted/test" in shown[-1]


def test_a_vanished_discovered_server_is_looked_up_again(stream_server):
    gone = client.Endpoint(stream_server.url, "k-1", "discovered")
    stream_server.httpd.shutdown()
    stream_server.httpd.server_close()
    backend._backend = client.SleeptimeClient(gone)
    out = io.StringIO()
    assert backend.answer("x?", render.TextAnswer(out)) is None
    assert out.getvalue().startswith("⚠ sleeptime: cannot reach the Jupyter server at ")
    assert backend._backend is None  # the next question discovers again
    # A server named by the kernel's environment started this kernel: it is kept.
    kept = client.SleeptimeClient(client.Endpoint(stream_server.url, "k-1", "env"))
    backend._backend = kept
    backend.answer("x?", render.TextAnswer(io.StringIO()))
    assert backend._backend is kept


def test_magics_and_widget_do_not_import_each_other():
    code = (
        "import sys\n"
        "import jupyter_sleeptime.kernel.widget\n"
        "assert 'jupyter_sleeptime.kernel.magics' not in sys.modules\n"
        "del sys.modules['jupyter_sleeptime.kernel.widget']\n"
        "import jupyter_sleeptime.kernel.magics\n"
        "assert 'jupyter_sleeptime.kernel.widget' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
