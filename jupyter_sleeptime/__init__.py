"""jupyter-sleeptime: sleep-time compute for Jupyter."""

from __future__ import annotations

from importlib import metadata
from typing import Any

__version__ = metadata.version("jupyter-sleeptime")  # from labextension/package.json


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
