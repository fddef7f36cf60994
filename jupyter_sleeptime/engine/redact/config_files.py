"""Credential files read by their fields, wherever their text appears (a heredoc, an
``echo … > file``, a Python string, a printed file): ``.netrc`` ``password``, ``.pgpass``
``host:port:db:user:password``, ``.pypirc`` and other INI ``password =`` lines under a
``[section]``, kubeconfig and other YAML ``token:`` / ``password:`` fields."""

from __future__ import annotations

import re

from .rules import Ctx, Rule, rule
from .values import Span, is_placeholder, is_reference

# .pgpass: host:port:database:user:password, found from its port field (a literal ":" start,
# fast); the host before it has a letter (not a time of day)
_PGPASS_TAIL = re.compile(
    r":(?:\d{1,5}|\*):[\w.\-*]+:[\w.@\-*]+:(?P<v>[^\s:'\"]{4,128})(?=[\"'\s]|\\n|$)", re.M
)
_PGPASS_HOST = re.compile(r"(?:^|(?<=[\"'\s>]))[\w.\-*]*[A-Za-z*][\w.\-*]*$")


def pgpass_spans(text: str, found: list[Span]) -> None:
    for m in _PGPASS_TAIL.finditer(text):
        line_start = max(text.rfind("\n", 0, m.start()) + 1, m.start() - 253)
        if _PGPASS_HOST.search(text, line_start, m.start()) is None:
            continue
        value = m.group("v")
        if _value(value) and value != "*":
            found.append((m.start("v"), m.end("v"), "password"))


_INI_SECTION = re.compile(r"^[ \t]*\[[\w .:\-]{1,60}\][ \t]*$", re.M)
_YAML_CONTEXT = re.compile(
    r"apiVersion:|kind:[ \t]*Config|\bclusters:|\bcontexts:|\busers:|auth-provider:"
)


def _value(value: str) -> bool:
    return len(value) >= 4 and not is_placeholder(value) and not is_reference(value)


def _netrc_field(value: str, ctx: Ctx) -> str | None:
    """`password X` on a line of its own, in a file that also has `machine` or `login`."""
    start = ctx.m.start()
    before = ctx.text[max(0, start - 400) : start]
    return "" if _value(value) and ("machine" in before or "login" in before) else None


def _ini_password(value: str, ctx: Ctx) -> str | None:
    """`password = X` unquoted under a `[section]` header (.pypirc, .my.cnf, odbc.ini)."""
    start = ctx.m.start()
    section = _INI_SECTION.search(ctx.text, max(0, start - 600), start)
    return "" if section is not None and _value(value) else None


def _yaml_secret(value: str, ctx: Ctx) -> str | None:
    """`token: X` in a kubeconfig or a similar YAML document: any value that is not a
    placeholder (Kubernetes tokens and passwords come in every shape)."""
    start = ctx.m.start()
    around = ctx.text[max(0, start - 1500) : start + 200]
    return "" if _value(value) and _YAML_CONTEXT.search(around) else None


CONFIG_FILE_RULES: tuple[Rule, ...] = (
    rule(
        "password",
        r"(?:^|(?<=\\n))[ \t]*password[ \t]+(?P<v>[^\s'\"\\]+)",
        ("v",),
        ("password",),
        check=_netrc_field,
        flags=re.M,
    ),
    rule(
        "password",
        r"^[ \t]*(?:password|passwd|pass)[ \t]*[=:][ \t]*(?P<v>[^\s'\"]+)[ \t]*$",
        ("v",),
        ("pass",),
        check=_ini_password,
        flags=re.M,
    ),
    rule(
        "secret",
        r"^[ \t]*(?:-[ \t]+)?(?:token|password|id-token|refresh-token|client-secret"
        r"|client-key-data|access-token|secret)[ \t]*:[ \t]*[\"']?(?P<v>[^\s\"'#]{4,4096})",
        ("v",),
        ("token", "password", "secret", "client-key-data"),
        check=_yaml_secret,
        flags=re.M,
    ),
)
