"""REST handlers: thin, they only translate HTTP to `SleeptimeService` calls."""

from __future__ import annotations

import json
import time
from typing import Any

from jupyter_server.auth import User
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.call_context import CallContext
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.iostream import StreamClosedError

from .. import __version__, protocol
from ..engine.model.model_client import ModelError
from ..engine.state.document import OptedOut
from ..engine.state.store import StoreError
from . import tokens
from .service import SleeptimeService, UnknownKernel

KERNEL_ID = r"(?P<kernel_id>[\w-]+)"


class SleeptimeHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = "sleeptime"

    @property
    def service(self) -> SleeptimeService:
        return self.settings["sleeptime"]

    async def prepare(self) -> None:  # type: ignore[override,unused-ignore]
        token = self.request.headers.get(tokens.HEADER)
        if token is None:
            await super().prepare()
            return
        # A kernel's own token: valid only on that kernel's routes. It travels in a custom
        # header, which a browser cannot send cross-site without CORS, so no XSRF check.
        CallContext.set(CallContext.JUPYTER_HANDLER, self)
        if not self.check_host():
            raise web.HTTPError(403)
        kernel_id = self.path_kwargs.get("kernel_id")
        kernel_tokens = self.settings["sleeptime_tokens"]
        if not kernel_id or not kernel_tokens.verify(kernel_id, token):
            raise web.HTTPError(403, "This kernel token does not grant access to this route.")
        user = User(username=f"kernel-{kernel_id}", name="sleeptime kernel client")
        self.current_user = self._jupyter_current_user = user

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, StoreError):  # say what to do, not a traceback
            self.set_status(503)
            self.finish({"message": str(error), "reason": "store"})
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, StoreError):
            self.log.error("sleeptime: %s", value)
            return
        super().log_exception(typ, value, tb)

    def body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body)
        except ValueError as exc:
            raise web.HTTPError(400, f"The request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise web.HTTPError(400, "The request body must be a JSON object.")
        return data

    def kernel(self, kernel_id: str) -> None:
        try:
            self.service.require_kernel(kernel_id)
        except UnknownKernel:
            raise web.HTTPError(404, f"No running kernel with id {kernel_id}.") from None


class StatusHandler(SleeptimeHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        started = time.perf_counter()
        await self.service.refresh_paths()
        view = self.service.status(__version__)
        # What building the view took in this server (browsers show it; the load test reads
        # it to tell the server's own work from waiting for a busy machine).
        self.set_header("Server-Timing", f"view;dur={(time.perf_counter() - started) * 1000:.1f}")
        self.finish(view)


class KernelHandler(SleeptimeHandler):
    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        self.kernel(kernel_id)
        await self.service.refresh_paths()
        await self.service.load_document(self.service.notebook_for(kernel_id))
        self.finish(self.service.kernel_view(kernel_id))


class ThinkHandler(SleeptimeHandler):
    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        self.kernel(kernel_id)
        body = self.body()
        wait = body.get("wait", True)
        if not isinstance(wait, bool):
            raise web.HTTPError(400, "'wait' must be true or false.")
        await self.service.refresh_paths()
        await self.service.refresh_digest(kernel_id, force=True)
        notebook = self.service.notebook_for(kernel_id)
        if not wait:
            self.service.engine.scheduler.kernel_idle(notebook, after_execution=True)
            self.set_status(202)
            self.finish({"ran": [], "scheduled": True})
            return
        result = await self.service.engine.think(notebook)
        self.finish(result)


class AskHandler(SleeptimeHandler):
    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        try:
            request = protocol.parse_ask_request(self.body())
        except protocol.ProtocolError as exc:
            raise web.HTTPError(400, str(exc)) from exc
        self.kernel(kernel_id)
        self.set_header("Content-Type", "application/x-ndjson; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        await self.service.refresh_paths()
        notebook = self.service.notebook_for(kernel_id)
        engine = self.service.engine

        async def emit(event: protocol.AskEvent) -> None:
            self.write(protocol.ndjson(event))
            await self.flush()

        started = time.perf_counter()
        event: protocol.AskEvent
        try:
            if request.get("dry_run"):
                event = await engine.dry_run(notebook, request["question"], request["mode"])
            else:
                answer = await engine.ask(
                    notebook,
                    request["question"],
                    request["mode"],
                    lambda text: emit(protocol.token(text)),
                    model=request.get("model"),
                    cold=request.get("cold", False),
                    fresh=request.get("fresh", False),
                )
                event = protocol.done_from(answer)
        except StreamClosedError:
            return  # the asker went away; the usage is recorded all the same
        except (ModelError, OptedOut) as exc:
            reason = "opted_out" if isinstance(exc, OptedOut) else None
            elapsed = (time.perf_counter() - started) * 1000
            event = protocol.error(str(exc), reason=reason, latency_ms=elapsed)
        except Exception as exc:
            self.log.exception("sleeptime ask failed")
            event = protocol.error(f"Answering failed: {type(exc).__name__}: {exc}")
        try:
            await emit(event)
            self.finish()
        except StreamClosedError:
            pass


class SettingsHandler(SleeptimeHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(self.settings["sleeptime_app"].public_settings())

    @web.authenticated
    @authorized
    def put(self) -> None:
        try:
            updated = self.settings["sleeptime_app"].apply_settings(self.body())
        except (ValueError, TypeError) as exc:
            raise web.HTTPError(400, str(exc)) from exc
        self.finish(updated)


def handlers() -> list[tuple[str, type]]:
    """The routes of `protocol.ROUTES`, each to its handler."""
    by_route = {
        "status": StatusHandler,
        "settings": SettingsHandler,
        "kernel": KernelHandler,
        "think": ThinkHandler,
        "ask": AskHandler,
    }
    return [
        ("/" + protocol.route(name, "{kernel_id}").replace("{kernel_id}", KERNEL_ID), handler)
        for name, handler in by_route.items()
    ]
