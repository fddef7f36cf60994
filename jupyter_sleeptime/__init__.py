"""jupyter-sleeptime: sleep-time compute for Jupyter."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import SleeptimeApp

    return [{"module": "jupyter_sleeptime", "app": SleeptimeApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-sleeptime"}]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext jupyter_sleeptime`: registers %ask / %%ask in the kernel."""
    from .kernel.magics import load_ipython_extension as load

    load(ipython)


def ask_widget() -> Any:
    """Display the ask widget (anticipated questions, ask box, next steps) in a notebook."""
    from .kernel.widget import show

    return show()
