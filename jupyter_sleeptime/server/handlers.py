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

from .. import __version__
from ..engine.answerer import MODES
from ..engine.document import OptedOut
from ..engine.llm import ModelError
from ..engine.store import StoreError
from . import tokens
from .service import SleeptimeService, UnknownKernel

KERNEL_ID = r"(?P<kernel_id>[\w-]+)"


class SleeptimeHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = "sleeptime"

    @property
    def service(self) -> SleeptimeService:
        return self.settings["sleeptime"]

    async def prepare(self) -> None:  # type: ignore[override]
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
        await self.service.refresh_paths()
        self.finish(self.service.status(__version__))


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
        body = self.body()
        question = body.get("question")
        mode = body.get("mode", "sleep")
        model = body.get("model") or None
        if model is not None and (not isinstance(model, str) or "/" not in model):
            raise web.HTTPError(
                400, "'model' must be a LiteLLM model id such as openai/gpt-4o-mini."
            )
        cold = body.get("cold", False)  # benchmark: start a local model from an empty KV cache
        if not isinstance(cold, bool):
            raise web.HTTPError(400, "'cold' must be true or false.")
        fresh = body.get("fresh", False)  # skip prepared answers: "ask the model instead"
        dry_run = body.get("dry_run", False)  # show what would be sent; no model call
        for flag, value in (("fresh", fresh), ("dry_run", dry_run)):
            if not isinstance(value, bool):
                raise web.HTTPError(400, f"'{flag}' must be true or false.")
        if not isinstance(question, str) or not question.strip():
            raise web.HTTPError(400, "'question' must be a non-empty string.")
        if mode not in MODES:
            raise web.HTTPError(400, f"'mode' must be one of {', '.join(MODES)}.")
        self.kernel(kernel_id)
        self.set_header("Content-Type", "application/x-ndjson; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        await self.service.refresh_paths()
        notebook = self.service.notebook_for(kernel_id)

        async def emit(event: dict[str, Any]) -> None:
            self.write(json.dumps(event) + "\n")
            await self.flush()

        started = time.perf_counter()
        try:
            if dry_run:
                await emit(await self.service.engine.dry_run(notebook, question.strip(), mode))
                self.finish()
                return
            answer = await self.service.engine.ask(
                notebook,
                question.strip(),
                mode,
                lambda text: emit({"type": "token", "text": text}),
                model=model,
                cold=cold,
                fresh=fresh,
            )
            event = answer.to_event()
        except StreamClosedError:
            return  # the asker went away; the usage is recorded all the same
        except (ModelError, OptedOut) as exc:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            event = {"type": "error", "message": str(exc), "latency_ms": elapsed}
            if isinstance(exc, OptedOut):
                event["reason"] = "opted_out"
        except Exception as exc:
            self.log.exception("sleeptime ask failed")
            event = {"type": "error", "message": f"Answering failed: {type(exc).__name__}: {exc}"}
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


def handlers(base: str = "sleeptime/api") -> list[tuple[str, type]]:
    return [
        (rf"/{base}/status", StatusHandler),
        (rf"/{base}/settings", SettingsHandler),
        (rf"/{base}/kernels/{KERNEL_ID}", KernelHandler),
        (rf"/{base}/kernels/{KERNEL_ID}/think", ThinkHandler),
        (rf"/{base}/kernels/{KERNEL_ID}/ask", AskHandler),
    ]
