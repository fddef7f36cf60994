"""Kernel-scoped tokens: what a kernel started by this server uses to reach sleeptime.

A kernel gets `JUPYTER_SLEEPTIME_URL`, `JUPYTER_SLEEPTIME_KERNEL_ID` and
`JUPYTER_SLEEPTIME_TOKEN` in its environment. The token is an HMAC of the kernel id under a
secret that lives only in this server process, so it grants that kernel's own
`sleeptime/api/kernels/<id>/…` routes and nothing else — not other kernels, not the
server's own API. User code in the kernel never needs the server's real token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from .. import protocol

log = logging.getLogger(__name__)

HEADER = protocol.KERNEL_TOKEN_HEADER
ENV_URL = protocol.ENV_URL
ENV_KERNEL = protocol.ENV_KERNEL_ID
ENV_TOKEN = protocol.ENV_TOKEN


class KernelTokens:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def token_for(self, kernel_id: str) -> str:
        return hmac.new(self._secret, kernel_id.encode(), hashlib.sha256).hexdigest()

    def verify(self, kernel_id: str, token: str) -> bool:
        return hmac.compare_digest(self.token_for(kernel_id), token)

    def env_for(self, kernel_id: str, url: str) -> dict[str, str]:
        return {ENV_URL: url, ENV_KERNEL: kernel_id, ENV_TOKEN: self.token_for(kernel_id)}

    def install(self, kernel_manager: Any, url: Callable[[], str]) -> bool:
        """Add the variables to every kernel the server starts from now on.

        jupyter_server builds kernel launch arguments in `_kernel_start_kwargs`; wrapping it is
        the one place that sees the kernel id before the process starts. Older servers lack it:
        their kernels find the server through `list_running_servers()` instead."""
        original = getattr(kernel_manager, "_kernel_start_kwargs", None)
        if original is None:
            log.info("sleeptime: this jupyter_server gives kernels no sleeptime token")
            return False

        def start_kwargs(**kwargs: Any) -> dict[str, Any]:
            launch = original(**kwargs)
            kernel_id = launch.get("kernel_id") or str(uuid.uuid4())
            launch["kernel_id"] = kernel_id
            env = dict(launch.get("env") or os.environ)
            env.update(self.env_for(kernel_id, url()))
            launch["env"] = env
            return launch

        kernel_manager._kernel_start_kwargs = start_kwargs
        return True
