"""Pattern rules: a compiled expression, a cheap substring check, and a check on the value
that may veto the match or name its kind. Shared checks live here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .names import grade_name, value_ok
from .values import (
    CODE_WORDS,
    DOTTED_IDENT,
    is_placeholder,
    is_wordy,
    looks_like_secret,
    shannon_entropy,
)

# --------------------------------------------------------------------------------------
# Rules: each proposes spans on the original text
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """What a rule's check sees: the original text and the match (possibly on lowercase)."""

    text: str
    m: re.Match[str]

    def group(self, name: str) -> str | None:
        """A group's text from the *original* (not lowercased) text."""
        try:
            s, e = self.m.span(name)
        except IndexError:
            return None
        return None if s < 0 else self.text[s:e]


# check(value, ctx) -> kind to use ("" keeps the rule's kind), or None to skip the match
Check = Callable[[str, Ctx], "str | None"]

ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
ALNUM_U = ALNUM | {"_"}
ALNUM_UH = ALNUM_U | {"-"}


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    groups: tuple[str, ...] = ()  # value group(s), first that matched; () = whole match
    needles: tuple[str, ...] = ()  # cheap pre-check: one must occur in the (lowered) text
    on_lower: bool = False  # match against text.lower() (needles too)
    not_after: frozenset[str] = frozenset()  # char that must not precede the match
    check: Check | None = None


def rule(
    kind: str,
    pattern: str,
    groups: tuple[str, ...] = (),
    needles: tuple[str, ...] = (),
    *,
    lower: bool = False,
    not_after: frozenset[str] = frozenset(),
    check: Check | None = None,
    flags: int = 0,
) -> Rule:
    """One row of a rule table."""
    return Rule(kind, re.compile(pattern, flags), groups, needles, lower, not_after, check)


def entropy_ok(min_bits: float) -> Check:
    def check(value: str, ctx: Ctx) -> str | None:
        ok = shannon_entropy(value) >= min_bits and not is_placeholder(value)
        return "" if ok else None

    return check


def check_mixed(value: str, ctx: Ctx) -> str | None:
    """Provider tokens with a short generic prefix: require a random-looking body."""
    body = value.split("-", 1)[-1] if value.startswith("sk-") else value
    if re.fullmatch(r"[a-z]+(?:-[a-z0-9]+)+", body):  # sk-learn-style kebab words
        return None
    if not any(c.isdigit() for c in body) or not any(c.isalpha() for c in body):
        return None
    return "" if shannon_entropy(body) >= 3.2 and not is_placeholder(value) else None


def not_placeholder(value: str, ctx: Ctx) -> str | None:
    return None if is_placeholder(value) else ""


def token_like(value: str, ctx: Ctx) -> str | None:
    v = value.rstrip("=")
    if len(v) < 8 or is_placeholder(v) or is_wordy(v):
        return None
    if ctx.text[ctx.m.end() : ctx.m.end() + 1] in ("(", "["):
        return None  # code: request.headers.get(...)
    return ""


def check_auth_header(value: str, ctx: Ctx) -> str | None:
    if token_like(value, ctx) is None:
        return None
    scheme = (ctx.group("scheme") or "").lower()
    if not scheme and ("_" in value or "." in value) and DOTTED_IDENT.fullmatch(value):
        return None  # "Authorization": auth_header  (a variable)
    return {"bearer": "bearer_token", "basic": "basic_auth"}.get(scheme, "auth_header")


def after_bot_id(value: str, ctx: Ctx) -> str | None:
    start = ctx.m.start()
    bot_id = re.search(r"(?<![A-Za-z0-9:])\d{8,10}$", ctx.text[max(0, start - 11) : start])
    return "" if bot_id else None


def query_param(value: str, ctx: Ctx) -> str | None:
    start = ctx.m.start()
    return "" if start and ctx.text[start - 1] in "?&" else None


def graded_value(value: str, ctx: Ctx) -> str | None:
    graded = grade_name(ctx.group("name") or "")
    return graded[1] if graded is not None and value_ok(value, *graded) else None


def env_value(value: str, ctx: Ctx) -> str | None:
    """Env context: any secret-like name counts; other names need a secret-shaped value."""
    if is_placeholder(value) or value in CODE_WORDS:
        return None
    graded = grade_name(ctx.group("name") or "")
    if graded is not None:
        return graded[1]
    return "secret" if looks_like_secret(value, 16) else None


def flag_value(value: str, ctx: Ctx) -> str | None:
    graded = grade_name(ctx.group("name") or "")
    if graded is None or value.startswith(("-", "$")):
        return None
    if ctx.group("sep") != "=" and value.isalpha() and value.islower():
        return None  # prose: "use the --password option"
    return graded[1] if value_ok(value, *graded) else None
