"""Observe one kernel's iopub channel, never drive it.

iopub is pub/sub: subscribing cannot disturb the kernel or the browser. `execute_input`
marks a user execution (silent requests, ours included, publish none), outputs follow by
parent msg id, and `status: idle` with that parent ends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jupyter_client.session import Session

from ..engine.sleeptime_engine import SleeptimeEngine
from ..engine.state.records import Output
from ..protocol import is_ask_cell

log = logging.getLogger(__name__)

OUTPUT_TYPES = ("stream", "execute_result", "display_data", "update_display_data", "error")


def output_from_message(msg_type: str, content: dict[str, Any]) -> Output:
    if msg_type == "stream":
        return Output("stream", text=content.get("text", ""), name=content.get("name"))
    if msg_type == "error":
        return Output(
            "error",
            ename=content.get("ename"),
            evalue=content.get("evalue"),
            traceback=list(content.get("traceback") or []),
        )
    data = content.get("data") or {}
    text = data.get("text/plain") or data.get("text/markdown") or ""
    return Output(
        "display_data" if msg_type == "update_display_data" else msg_type,
        text=str(text),
        mime_types=sorted(data),
    )


class KernelWatcher:
    def __init__(
        self,
        engine: SleeptimeEngine,
        kernel: Any,
        kernel_id: str,
        notebook_for: Callable[[str], str],
        ignore: set[str],
        on_idle: Callable[[str, bool], None],
    ) -> None:
        self.engine = engine
        self.kernel = kernel
        self.kernel_id = kernel_id
        self.notebook_for = notebook_for
        self.ignore = ignore  # msg ids of our own silent requests
        self.on_idle = on_idle
        # The server tracks the state since the kernel started; a watcher attached later
        # would otherwise wait for a status message the kernel already sent.
        self.execution_state = getattr(kernel, "execution_state", None) or "starting"
        self.asks: set[str] = set()
        self.stream: Any = None
        self.heard = False
        self.session = Session(config=kernel.session.config, key=kernel.session.key)

    def start(self) -> None:
        self.heard = False  # until this subscription receives its first message
        self.stream = self.kernel.connect_iopub()
        self.stream.on_recv(self._on_recv)

    def resubscribe(self) -> None:
        """A fresh SUB socket. A subscription made while the kernel starts can be lost for
        good (the socket is connected yet hears nothing: JEP 65); a new one is not."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.stream is not None:
            try:
                self.stream.on_recv(None)
                self.stream.close()
            except Exception:  # closing a dead kernel's socket may fail; nothing to keep
                pass
            self.stream = None

    def _on_recv(self, msg_list: list[bytes]) -> None:
        self.heard = True
        try:
            _, fed = self.session.feed_identities(msg_list)
            msg = self.session.deserialize(fed)
            self.handle(msg)
        except Exception:  # one bad message must not stop observation
            log.exception("sleeptime: could not handle an iopub message from %s", self.kernel_id)

    def handle(self, msg: dict[str, Any]) -> None:
        msg_type = msg["header"]["msg_type"]
        parent = (msg.get("parent_header") or {}).get("msg_id")
        content = msg.get("content") or {}
        state = content.get("execution_state") if msg_type == "status" else None
        if parent in self.ignore:  # our own silent requests and nudges: not the user's state
            if state == "idle":
                self.ignore.discard(parent)
            return
        # The state follows the kernel's status for every other message: an ask cell's `busy`
        # arrives before its `execute_input` says it is an ask, so its `idle` must count too.
        if state:
            self._track_state(state)
        if parent in self.asks:  # a cell that only asks: not a change of the notebook
            if state == "idle":
                self.asks.discard(parent)
                self.engine.kernel_idle(self.kernel_id, self.notebook_for(self.kernel_id))
                self.on_idle(self.kernel_id, False)
            return
        if msg_type == "execute_input" and is_ask_cell(content.get("code", "")):
            self.asks.add(parent)
            return
        if msg_type == "execute_input":
            self.engine.execution_started(
                self.kernel_id,
                self.notebook_for(self.kernel_id),
                parent,
                content.get("execution_count"),
                content.get("code", ""),
            )
        elif msg_type in OUTPUT_TYPES:
            self.engine.add_output(self.kernel_id, parent, output_from_message(msg_type, content))
        elif msg_type == "clear_output":
            pass  # the last outputs stay as context; a model needs what the user last saw
        elif state == "idle":
            was_user = self.engine.is_running(self.kernel_id, parent)
            notebook = self.notebook_for(self.kernel_id)
            if was_user:
                self.engine.execution_finished(self.kernel_id, notebook, parent)
            else:
                self.engine.kernel_idle(self.kernel_id, notebook)
            self.on_idle(self.kernel_id, was_user)

    def _track_state(self, state: str) -> None:
        if state == "starting" and self.execution_state != "starting":
            self.engine.kernel_lost(self.kernel_id, "the kernel restarted")
        self.execution_state = state
