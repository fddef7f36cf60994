"""`SleeptimeApp`: the jupyter-server extension. It only wires: traits → engine config,
the service into tornado settings, the handlers, and the kernel event listener."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Float, Int, TraitError, Unicode, default, validate

from ..engine.model.providers import quiet_logs
from ..engine.sleeptime_engine import EngineConfig
from ..protocol import SettingsView
from . import mcp, mcp_tools, views
from .handlers import handlers
from .service import KERNEL_ACTIONS, SleeptimeService
from .tokens import KernelTokens


class SleeptimeApp(ExtensionApp):
    name = "jupyter_sleeptime"
    description = "Sleep-time compute for Jupyter: think while the kernel is idle."

    model = Unicode(
        help="LiteLLM model id for answers (e.g. openai/gpt-4o-mini). Empty: the embedded "
        "local model. Env: JUPYTER_SLEEPTIME_MODEL."
    ).tag(config=True)
    sleep_model = Unicode(
        help="LiteLLM model id for idle-time thinking; empty: same as `model`. "
        "Env: JUPYTER_SLEEPTIME_SLEEP_MODEL."
    ).tag(config=True)
    model_kwargs = Dict(
        help="Extra keyword arguments for every LiteLLM call (api_base, api_key, ...). "
        "JUPYTER_SLEEPTIME_API_BASE sets api_base. Keep keys in the environment."
    ).tag(config=True)
    idle_seconds = Float(
        3.0, help="Seconds of kernel idle after an execution before thinking."
    ).tag(config=True)
    max_tokens_per_hour = Int(
        200_000, help="Token budget per rolling hour for all model calls; 0 = unlimited."
    ).tag(config=True)
    anticipate_k = Int(5, help="How many likely questions to prepare answers for.").tag(config=True)
    store_path = Unicode(help="SQLite file for what sleeptime records and thinks.").tag(config=True)
    db_url = Unicode(
        help="SQLAlchemy URL of the store, e.g. postgresql://user@host/sleeptime for a team "
        "(each user's records stay in a schema of their own). Empty: the SQLite file at "
        "store_path. Env: JUPYTER_SLEEPTIME_DB_URL."
    ).tag(config=True)
    share_insights = Bool(
        False,
        help="Reuse explanations and error diagnoses that another user of the same share_scope "
        "got for an identical cell (same source, outputs and model), and offer this user's. "
        "Only cells in which nothing was redacted or skipped; never outputs or values.",
    ).tag(config=True)
    share_scope = Unicode(
        help="Who shares insights: users with the same scope (a course or team name)."
    ).tag(config=True)
    redact_secrets = Bool(True, help="Redact secrets before every model call.").tag(config=True)
    enabled = Bool(True, help="Think while idle. When False, only explicit requests run.").tag(
        config=True
    )
    digest_budget_ms = Float(15.0, help="Time budget of the kernel digest, in ms.").tag(config=True)
    prefix_cache_bytes = Int(
        512 * 1024 * 1024,
        help="Memory for the embedded model's prefilled notebook prefixes (one per notebook, "
        "least recently used dropped first); 0 keeps none.",
    ).tag(config=True)

    @default("model")
    def _default_model(self) -> str:
        return os.environ.get("JUPYTER_SLEEPTIME_MODEL", "")

    @default("sleep_model")
    def _default_sleep_model(self) -> str:
        return os.environ.get("JUPYTER_SLEEPTIME_SLEEP_MODEL", "")

    @default("model_kwargs")
    def _default_model_kwargs(self) -> dict[str, Any]:
        api_base = os.environ.get("JUPYTER_SLEEPTIME_API_BASE")
        return {"api_base": api_base} if api_base else {}

    @default("db_url")
    def _default_db_url(self) -> str:
        return os.environ.get("JUPYTER_SLEEPTIME_DB_URL", "")

    @default("store_path")
    def _default_store_path(self) -> str:
        return str(Path(jupyter_data_dir()) / "sleeptime" / "sleeptime.db")

    @validate("model", "sleep_model")
    def _validate_model(self, proposal: Any) -> str:
        value = proposal["value"].strip()
        if value and "/" not in value:
            raise TraitError(
                f"{proposal['trait'].name}={value!r}: use a LiteLLM id with a provider prefix, "
                "e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama/llama3."
            )
        return value

    @validate("idle_seconds")
    def _validate_idle(self, proposal: Any) -> float:
        if not 0 <= proposal["value"] <= 3600:
            raise TraitError("idle_seconds must be between 0 and 3600.")
        return float(proposal["value"])

    @validate("max_tokens_per_hour")
    def _validate_budget(self, proposal: Any) -> int:
        if proposal["value"] < 0:
            raise TraitError("max_tokens_per_hour must be 0 (unlimited) or more.")
        return proposal["value"]

    @validate("anticipate_k")
    def _validate_k(self, proposal: Any) -> int:
        if not 0 <= proposal["value"] <= 20:
            raise TraitError("anticipate_k must be between 0 and 20.")
        return proposal["value"]

    @validate("model_kwargs")
    def _validate_kwargs(self, proposal: Any) -> dict[str, Any]:
        value = dict(proposal["value"])
        reserved = {"model", "messages", "stream"} & set(value)
        if reserved:
            raise TraitError(f"model_kwargs may not set {', '.join(sorted(reserved))}.")
        return value

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            store_path=self.store_path,
            db_url=self.db_url,
            share_insights=self.share_insights,
            share_scope=self.share_scope,
            model=self.model,
            sleep_model=self.sleep_model,
            model_kwargs=self.model_kwargs,
            idle_seconds=self.idle_seconds,
            max_tokens_per_hour=self.max_tokens_per_hour,
            anticipate_k=self.anticipate_k,
            redact_secrets=self.redact_secrets,
            enabled=self.enabled,
            prefix_cache_bytes=self.prefix_cache_bytes,
        )

    def initialize_settings(self) -> None:
        quiet_logs(self.serverapp.log_level > logging.DEBUG)
        self._configured = {"model": self.model, "sleep_model": self.sleep_model}
        self.service = SleeptimeService(
            self.engine_config(),
            self.serverapp.kernel_manager,
            self.serverapp.session_manager,
            self.serverapp.web_app.settings if self.serverapp.web_app else self.settings,
            digest_budget_ms=self.digest_budget_ms,
            digest_delay=min(0.5, self.idle_seconds),
        )
        self.tokens = KernelTokens()
        self.tokens.install(self.serverapp.kernel_manager, lambda: self.serverapp.connection_url)
        self.mcp = mcp.McpEndpoint()
        mcp_tools.install(self.service)
        self.settings.update(
            {
                "sleeptime": self.service,
                "sleeptime_app": self,
                "sleeptime_tokens": self.tokens,
                "sleeptime_mcp": self.mcp,
            }
        )
        event_logger = getattr(self.serverapp, "event_logger", None)
        if event_logger is not None:
            event_logger.add_listener(schema_id=KERNEL_ACTIONS, listener=self._on_kernel_action)

    async def _on_kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        self.service.on_kernel_action(data)

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers() + mcp.handlers())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        self.service.start()

    async def stop_extension(self) -> None:
        await self.mcp.stop()
        await self.service.stop()

    # -- settings route -------------------------------------------------------------------------
    def public_settings(self) -> SettingsView:
        return views.settings(self.service.engine)

    def apply_settings(self, values: dict[str, Any]) -> SettingsView:
        """Settings from the JupyterLab Settings Editor; validated by the traits themselves."""
        unknown = set(values) - {"model", "sleep_model", "idle_seconds", "enabled"}
        if unknown:
            raise ValueError(f"Unknown settings: {', '.join(sorted(unknown))}.")
        try:
            for key, value in values.items():
                if key in ("model", "sleep_model") and value is None:
                    value = self._configured[key]  # cleared in the UI: back to config/env
                setattr(self, key, value)
        except TraitError as exc:
            raise ValueError(str(exc)) from exc
        engine = self.service.engine
        engine.reconfigure(
            model=self.model,
            sleep_model=self.sleep_model,
            idle_seconds=self.idle_seconds,
            enabled=self.enabled,
        )
        return self.public_settings()
