"""What the `%ask` magic and the ask widget share: which backend answers, and how one
answer goes from a question to the screen.

A backend is either the HTTP client of the Jupyter server that runs this kernel
(`client.SleeptimeClient`: the server thought about the notebook while it was idle) or,
when there is no such server, the engine running inside the kernel at query time only
(`inprocess.InProcessBackend`). Both have the same interface — `inprocess`, `state()`,
`ask(question, mode=, model=, fresh=)` streaming protocol events — so nothing past
`get_backend` cares which one it has.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from .. import protocol
from . import client as _client
from . import inprocess as _inprocess
from .render import AnswerView


class Backend(Protocol):
    inprocess: bool

    def state(self) -> dict[str, Any]: ...

    def ask(
        self, question: str, mode: str = "sleep", model: str | None = None, fresh: bool = False
    ) -> Iterator[dict[str, Any]]: ...


_backend: Backend | None = None


def get_backend(shell: Any = None, refresh: bool = False) -> Backend:
    """The server client for this kernel, or the in-process engine when there is no server.
    Found once and kept; `refresh=True` (or `forget_backend()`) looks again."""
    global _backend
    if _backend is None or refresh:
        endpoint = _client.discover()
        if endpoint is not None:
            _backend = _client.SleeptimeClient(endpoint)
        else:
            if shell is None:
                from IPython import get_ipython

                shell = get_ipython()
            _backend = _inprocess.backend(shell)
    return _backend


def forget_backend() -> None:
    """Look for the server again on the next question (it restarted, or went away)."""
    global _backend
    _backend = None


def _rediscoverable(backend: Backend) -> bool:
    """A server found through the runtime files may come back elsewhere; one named in the
    kernel's environment (it started this kernel) stays where it is."""
    endpoint = getattr(backend, "endpoint", None)
    return not backend.inprocess and getattr(endpoint, "source", None) == "discovered"


def note_unreachable(backend: Backend) -> None:
    """The server did not answer: look for it again next time, when that can help."""
    if backend is _backend and _rediscoverable(backend):
        forget_backend()


def watch(events: Iterable[dict[str, Any]], backend: Backend) -> Iterator[dict[str, Any]]:
    """Pass events through; a server that vanished is looked up again next time."""
    for event in events:
        if event.get("type") == "error" and event.get("unreachable"):
            note_unreachable(backend)
        yield event


def stream_into(events: Iterable[dict[str, Any]], view: AnswerView) -> dict[str, Any] | None:
    """Feed a backend's event stream into a view (already started); returns the `done`
    event, or None when the answer failed (the view then shows why)."""
    for event in events:
        kind = event.get("type")
        if kind == "token":
            view.token(str(event.get("text", "")))
        elif kind == "done":
            view.finish(event)
            return event
        elif kind == "error":
            view.fail(str(event.get("message") or "the answer failed."))
            return None
        elif protocol.is_final(event):
            view.fail(f"the server answered with a {kind} event, not an answer.")
            return None
    view.fail("no answer came back.")
    return None


def answer(
    question: str,
    view: AnswerView,
    *,
    mode: str = "sleep",
    model: str | None = None,
    fresh: bool = False,
    backend: Backend | None = None,
    shell: Any = None,
) -> dict[str, Any] | None:
    """Ask `question` and render the answer into `view`; returns the `done` event.

    Never raises but for KeyboardInterrupt (the view says "interrupted." first, and
    closing the stream stops the server's answer): a failure is a message in the view."""
    view.start()
    try:
        backend = backend or get_backend(shell)
    except Exception as exc:  # discovery itself must never surface as a traceback
        view.fail(f"could not set up: {type(exc).__name__}: {exc}")
        return None
    view.inprocess = backend.inprocess
    events = backend.ask(question, mode=mode, model=model, fresh=fresh)
    try:
        done = stream_into(watch(events, backend), view)
    except KeyboardInterrupt:
        view.fail("interrupted.")
        raise
    except Exception as exc:  # a bug here is still a message in the view, not a traceback
        view.fail(f"{type(exc).__name__}: {exc}")
        done = None
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
    return done


def fetch_state(backend: Backend) -> dict[str, Any]:
    """The backend's prepared state (`GET kernels/<id>`); a server that did not answer is
    looked up again next time."""
    try:
        return backend.state()
    except _client.Unreachable:
        note_unreachable(backend)
        raise


__all__ = [
    "Backend",
    "answer",
    "fetch_state",
    "forget_backend",
    "get_backend",
    "note_unreachable",
    "stream_into",
    "watch",
]
