"""Secrets assembled or set at run time: ``"%s:%s" % (user, token)``, ``"{}:{}".format(…)``
and ``f"{user}:{token}"`` building a Basic/Authorization value; cookie and header setters
(``session.cookies.set("sessionid", "…")``, ``headers["X-Api-Key"] = "…"``); connection
settings whose fields were swapped (a ``port`` that holds the password)."""

from __future__ import annotations

import re

from .names import grade_name
from .shapes import identity_like, key_like, login_password_ok, strongly_random, typed_password
from .values import Span, is_placeholder, is_reference, is_wordy, word_set

_NAME_OR_LIT = r"(?:(?P<{n}>[A-Za-z_][\w.]*)|[bru]?[\"'](?P<{n}l>[^\"'\r\n]{{1,256}})[\"'])"
_ARGS = r"[ \t]*" + _NAME_OR_LIT.format(n="a") + r"[ \t]*,[ \t]*" + _NAME_OR_LIT.format(n="b")
_PAIR_FORMAT = r"[\"'](?:%s|\{0?\}):(?:%s|\{1?\})[\"'][ \t]*"
_PERCENT_PAIR = re.compile(_PAIR_FORMAT + r"%[ \t]*\(" + _ARGS + r"[ \t]*,?[ \t]*\)")
_FORMAT_PAIR = re.compile(_PAIR_FORMAT + r"\.format\(" + _ARGS + r"[ \t]*\)")
_FSTRING_PAIR = re.compile(  # "f" first: a literal start is found fast
    r"f[\"'](?:\{(?P<a>[A-Za-z_][\w.]*)\}|(?P<al>[\w.@+\-]{1,64})):\{(?P<b>[A-Za-z_][\w.]*)\}[\"']"
)
_AUTH_WORDS = re.compile(r"basic|authoriz|b64encode|base64|encodebytes|auth", re.I)


def pair_builder_spans(text: str, found: list[Span], sinks: list[tuple[str, str]]) -> None:
    """ "user:password" built from two parts, where an auth value is made: the second part
    (a literal here, or the name's literal wherever it is bound) is a password."""
    patterns = [
        pattern
        for pattern, needles in (
            (_PERCENT_PAIR, ("%s:%s",)),
            (_FORMAT_PAIR, ("}:{",)),
            (_FSTRING_PAIR, ('f"', "f'")),
        )
        if any(n in text for n in needles)
    ]
    for pattern in patterns:
        for m in pattern.finditer(text):
            if pattern is _FSTRING_PAIR and m.start() and text[m.start() - 1].isalnum():
                continue  # "elf'…", not an f-string
            name, literal = m.group("b"), m.groupdict().get("bl")
            around = text[max(0, m.start() - 200) : m.end() + 300]
            if not _AUTH_WORDS.search(around) and not (name and grade_name(name)):
                continue  # "%s:%s" % (host, port)
            if name:
                sinks.append((name.rsplit(".", 1)[-1], "password"))
            elif literal and login_password_ok(literal):
                found.append((m.start("bl"), m.end("bl"), "password"))


_Q = r"[bru]?(?P<q>[\"'])(?P<v>[^\"'\r\n]{4,1024})(?P=q)"
_HEADER_ITEM = re.compile(
    r"headers\[[ \t]*[\"'](?P<name>[\w\-]{2,60})[\"'][ \t]*\][ \t]*=[ \t]*" + _Q
)
_HEADER_CALL = re.compile(
    r"(?:headers\.update|\.putheader|\.add_header|\.set_header)\([ \t]*\{?[ \t]*"
    r"[\"'](?P<name>[\w\-]{2,60})[\"'][ \t]*[:,][ \t]*" + _Q
)
_COOKIE_SET = re.compile(
    r"(?:cookies\.set|set_cookie|add_cookie|cookies\.update)\([ \t]*\{?[ \t]*"
    r"(?:[\"']name[\"'][ \t]*:[ \t]*)?[\"'](?P<name>[^\"'\r\n]{1,80})[\"'][ \t]*[,:][ \t]*"
    r"(?:[\"']value[\"'][ \t]*:[ \t]*)?(?:value[ \t]*=[ \t]*)?" + _Q
)
_HEADER_WORDS = re.compile(r"auth|key|token|secret|session|cookie|signature|password|csrf", re.I)


def _setter_value_ok(value: str) -> bool:
    if is_placeholder(value) or is_reference(value):
        return False
    return typed_password(value) or key_like(value) or not is_wordy(value)


def setter_spans(text: str, found: list[Span]) -> None:
    """Values given to a secret-named header, and to any cookie."""
    for pattern, needle in ((_HEADER_ITEM, "headers["), (_HEADER_CALL, "header")):
        if needle not in text:
            continue
        for m in pattern.finditer(text):
            if _HEADER_WORDS.search(m.group("name")) and _setter_value_ok(m.group("v")):
                found.append((m.start("v"), m.end("v"), "secret"))
    if "cookie" in text or "Cookie" in text:
        for m in _COOKIE_SET.finditer(text):
            if _setter_value_ok(m.group("v")) and len(m.group("v")) >= 8:
                found.append((m.start("v"), m.end("v"), "session_cookie"))


# connection settings: host, port, user, database … a value in the wrong field
_CONN_KEYS = word_set(
    "host hostname server port user username login database dbname db schema password passwd"
)
_CONN_FIELDS = sorted(_CONN_KEYS - {"password", "passwd"})
_FIELD_AT = re.compile(r"[\"']?(?P<k>[A-Za-z_]\w{0,30})[\"']?[ \t]*[:=](?!=)[ \t]*" + _Q)


def _fields(text: str, lower: str) -> list[re.Match[str]]:
    """`"port": "…"`, `port="…"`: fields named like connection settings, found by name."""
    out = []
    for key in _CONN_FIELDS:
        at = lower.find(key)
        while at >= 0:
            start = at - 1 if at and text[at - 1] in "\"'" else at
            before = text[start - 1 : start]
            m = _FIELD_AT.match(text, start)
            if (
                m is not None
                and m.group("k").lower() == key
                and not (before.isalnum() or before in "_.")
            ):
                out.append(m)
            at = lower.find(key, at + len(key))
    return out


_KEY = re.compile(r"[\"']?(?P<k>[A-Za-z_]\w{0,30})[\"']?[ \t]*[:=](?!=)")


def connection_field_spans(text: str, lower: str, found: list[Span]) -> None:
    """In a dict or call that holds connection settings (two or more of host, port, user,
    database, password), a typed password or a key in any field that is not a secret name
    (those the keyword rule reads): fields swapped by mistake still hold the password."""
    for m in _fields(text, lower):
        key = m.group("k").lower()
        value = m.group("v")
        if is_placeholder(value) or identity_like(value):
            continue
        if key == "port" and value.isdigit():
            continue
        if not (typed_password(value) or strongly_random(value) or key_like(value)):
            continue
        opened = max(text.rfind("{", 0, m.start()), text.rfind("(", 0, m.start()))
        if opened < 0 or m.start() - opened > 600:
            continue
        keys = {
            f.group("k").lower() for f in _KEY.finditer(text, opened, min(len(text), m.end() + 600))
        }
        if len(keys & _CONN_KEYS) >= 2:
            found.append((m.start("v"), m.end("v"), "password"))
