"""Prompt templates: text files next to the code that uses them ($name placeholders)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath(f"{name}.txt").read_text("utf-8"))


def render(name: str, **values: object) -> str:
    return template(name).safe_substitute({k: str(v) for k, v in values.items()})


def system() -> str:
    return template("system").template.strip()
