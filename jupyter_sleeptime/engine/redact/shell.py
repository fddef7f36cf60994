"""Shell: commands typed in a notebook (``!``-lines, ``%%bash`` cells, ``%env``) and the
credential files they write: ``.netrc`` fields, ``curl -u user:pw``, ``export NAME=…``,
``--password=…`` flags, ``-p…`` after tools where -p means a password."""

from __future__ import annotations

import functools
import re
from typing import Any

from .names import grade_name, value_ok
from .rules import ALNUM_U, ALNUM_UH, Ctx, Rule, env_value, flag_value, not_placeholder, rule
from .shapes import typed_password
from .values import Span, is_placeholder, is_reference

_VAL = r"(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)'|(?P<v3>[^\s'\"]+))"
_FVAL = r"(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)'|(?P<v3>[^\s'\"`,;)]+))"

# command-line tools where -p means a password (elsewhere it is a port, a path, "parents")
_PASSWORD_FLAG_TOOLS = re.compile(
    r"(?:^|[\s!$;&|])(?:mysql\w*|mariadb\w*|mycli|sshpass|docker|podman|twine|redis-cli|mongo\w*"
    r"|htpasswd|unzip|zip|7z|smbclient|lftp|sqlcmd|bcp|jfrog|helm|oc)\b"
)


def _short_flag(value: str, ctx: Ctx) -> str | None:
    start = ctx.m.start()
    line = ctx.text[max(ctx.text.rfind("\n", 0, start) + 1, start - 300) : start]
    return "" if _PASSWORD_FLAG_TOOLS.search(line) and typed_password(value) else None


NETRC_RULES: tuple[Rule, ...] = (
    # .netrc: machine host login user password secret
    rule(
        "password",
        r"login[ \t]+\S+[ \t]+password[ \t]+(?P<v>[^\s'\"]+)",
        ("v",),
        ("login",),
        not_after=ALNUM_U,
        check=not_placeholder,
    ),
    # curl -u user:password
    rule(
        "password",
        r"(?:-u|--user)[ \t]+[\"']?[^\s:'\"]+:(?P<v>[^\s'\"]+)",
        ("v",),
        ("curl",),
        not_after=ALNUM_UH,
        check=not_placeholder,
    ),
)

# %env NAME=value, %set_env, export NAME=value
ENV_RULES: tuple[Rule, ...] = (
    rule(
        "secret",
        r"%(?:set_)?env[ \t]+(?P<name>[A-Za-z_]\w*)(?:[ \t]*=[ \t]*|[ \t]+)" + _VAL,
        ("v", "v2", "v3"),
        ("%env", "%set_env"),
        check=env_value,
    ),
    rule(
        "secret",
        r"export[ \t]+(?P<name>[A-Za-z_]\w*)=" + _VAL,
        ("v", "v2", "v3"),
        ("export",),
        not_after=ALNUM_U,
        check=env_value,
    ),
)

# command-line flags: --password=..., --api-key ...
FLAG_RULES: tuple[Rule, ...] = (
    rule(
        "secret",
        r"--(?P<name>[A-Za-z][\w\-]*)(?P<sep>=|[ \t]+)" + _FVAL,
        ("v", "v2", "v3"),
        ("--",),
        not_after=ALNUM_UH,
        check=flag_value,
    ),
)

# short password flags: sshpass -p '…', mysql -pS3cret (ports and paths are not typed with
# three character classes)
SHORT_FLAG_RULES: tuple[Rule, ...] = (
    rule(
        "password",
        r"-p(?:[ \t]+|(?=[^\s-]))" + _FVAL.replace("(?P<v3>", "(?P<v3>(?!-)"),
        ("v", "v2", "v3"),
        ("-p",),
        not_after=ALNUM_UH,
        check=_short_flag,
    ),
)


# -- shell regions: `!` lines and shell cell magics, as IPython reads them -------------------

_SHELL_MAGICS = ("bash", "sh", "script", "system", "writefile", "file")
_CELL_END = re.compile(r"^(?:In|Out) \[[^\]\n]{1,16}\][^\n:]{0,40}:[ \t]*$|^Markdown:[ \t]*$", re.M)


@functools.lru_cache(maxsize=1)
def _transformer() -> Any:
    try:  # IPython's own reading of a cell: `!` lines, `x = !cmd`, cell magics
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # the engine also runs without IPython: the patterns then decide
        return None
    return TransformerManager()


@functools.lru_cache(maxsize=4096)
def _is_shell(line: str) -> bool:
    manager = _transformer()
    if manager is None:
        return True
    try:
        code = manager.transform_cell(line.strip() + "\n")
    except Exception:  # not a cell IPython can read: not a shell line it would run
        return False
    if "get_ipython().system(" in code or "get_ipython().getoutput(" in code:
        return True
    magic = re.search(r"run_cell_magic\('(\w+)', '([^']*)'", code)
    if magic is None or magic.group(1) not in _SHELL_MAGICS:
        return False
    return magic.group(1) != "script" or magic.group(2).split()[:1] in (["bash"], ["sh"])


_HEREDOC = re.compile(r"<<-?[ \t]*[\"']?(\w+)[\"']?")


def _cell_end(text: str, pos: int, labeled: bool) -> int:
    """Where a cell magic's body ends: the next cell header, or a blank line outside a heredoc
    (a prompt that does not label its cells)."""
    closing: str | None = None
    while pos < len(text):
        end = text.find("\n", pos + 1)
        end = len(text) if end < 0 else end
        line = text[pos + 1 : end] if text[pos : pos + 1] == "\n" else text[pos:end]
        if closing is not None:
            closing = None if line.strip() == closing else closing
        elif _CELL_END.fullmatch(line) or (not labeled and not line.strip()):
            return pos
        else:
            heredoc = _HEREDOC.search(line)
            closing = heredoc.group(1) if heredoc else None
        pos = end
    return len(text)


_ASSIGNED = re.compile(r"[ \t]*(?:[\w, \t]+=[ \t]*)?")
_MAGIC_START = re.compile(r"^%%[a-z]+\b[^\n]*", re.M)


def _candidates(text: str) -> list[tuple[int, int]]:
    """Lines that may be shell: `!cmd`, `x = !cmd` and cell magics, found from their "!" or
    "%%" (str.find, fast) rather than by a pattern tried at every line."""
    out = []
    at = text.find("!")
    while at >= 0:
        line_start = text.rfind("\n", 0, at) + 1
        line_end = text.find("\n", at)
        line_end = len(text) if line_end < 0 else line_end
        if text[at + 1 : at + 2] != "=" and _ASSIGNED.fullmatch(text, line_start, at):
            out.append((line_start, line_end))
            at = text.find("!", line_end)
        else:
            at = text.find("!", at + 1)
    if "%%" in text:
        out.extend(m.span() for m in _MAGIC_START.finditer(text))
    return sorted(out)


def shell_regions(text: str) -> list[tuple[int, int]]:
    """`!` lines and the bodies of shell cell magics (`%%bash`, `%%script bash`, …)."""
    if "!" not in text and "%%" not in text:
        return []
    out: list[tuple[int, int]] = []
    labeled = False  # cells under "In [n]:" headers: a magic's body runs to the next one
    for start, end in _candidates(text):
        line = text[start:end]
        if not _is_shell(line):
            continue
        if line.startswith("%%"):
            labeled = labeled or _CELL_END.search(text) is not None
            out.append((start, _cell_end(text, end, labeled)))
        else:
            out.append((start, end))
    return out


_ENV_PREFIX = re.compile(
    r"(?:^|(?<=[\s;&|(]))(?P<name>[A-Za-z_]\w*)=(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)'"
    r"|(?P<v3>[^\s'\";&|)]+))"
)
_HEADER_FLAG = re.compile(
    r"(?:-H|--header)[ \t]+[\"'](?P<name>[\w\-]{2,60}):[ \t]*(?:(?:bearer|token|basic)[ \t]+)?"
    r"(?P<v>[^\"'\r\n]{4,1024})[\"']",
    re.I,
)
_NETRC_PASSWORD = re.compile(r"(?:^|(?<=\s))password[ \t]+(?P<v>[^\s'\"\\]{4,256})", re.M)
_HEADER_WORDS = re.compile(r"auth|key|token|secret|session|cookie|signature|password", re.I)


def shell_spans(text: str, found: list[Span]) -> None:
    """In shell regions: `NAME=value cmd` assignments, `-H "X-Api-Key: …"` headers and
    `password …` fields of a .netrc being written, read by their words."""
    for a, b in shell_regions(text):
        for m in _ENV_PREFIX.finditer(text, a, b):
            group = next((g for g in ("v", "v2", "v3") if m.group(g) is not None), None)
            graded = grade_name(m.group("name"))
            if group is None or graded is None or any(c in m.group(group) for c in "([{"):
                continue  # password=os.environ["PW"]: Python in a shell region's reach
            if value_ok(m.group(group), *graded):
                found.append((m.start(group), m.end(group), graded[1]))
        for m in _HEADER_FLAG.finditer(text, a, b):
            value = m.group("v")
            named = _HEADER_WORDS.search(m.group("name"))
            if named and not is_placeholder(value) and not is_reference(value):
                found.append((m.start("v"), m.end("v"), "secret"))
        for m in _NETRC_PASSWORD.finditer(text, a, b):
            value = m.group("v")
            if not is_placeholder(value) and not is_reference(value):
                found.append((m.start("v"), m.end("v"), "password"))
