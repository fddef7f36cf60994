"""URLs: a password in the userinfo (``scheme://user:pw@host``), tokens in webhook paths and
query parameters holding a random value (``?appid=<hex>``, signed URLs)."""

from __future__ import annotations

import re

from .names import NAME_TOKEN, NOT_SECRET_LAST, grade_name, is_id_name, value_ok
from .rules import Ctx, Rule, rule
from .shapes import strongly_random, typed_password
from .values import Span, is_placeholder, is_wordy, looks_like_secret, word_set

_SCHEME_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,20}$")
_URL_PASSWORD_PLACEHOLDERS = word_set("password pass pwd passwd secret pw p x")


def check_url_password(value: str, ctx: Ctx) -> str | None:
    start = ctx.m.start()
    if not _SCHEME_BEFORE.search(ctx.text, max(0, start - 21), start):
        return None
    if value.lower() in _URL_PASSWORD_PLACEHOLDERS or is_placeholder(value):
        return None
    if re.fullmatch(r"\d{1,5}", value):  # host:port@… is not a password
        return None
    if value == ctx.group("user"):  # postgres:postgres@localhost, guest:guest — defaults
        return None
    return ""


def path_secret(value: str, ctx: Ctx) -> str | None:
    return "" if strongly_random(value) or looks_like_secret(value, 24) else None


# query strings: ?access_token=...&
_QUERY_TAIL = re.compile(r"(?P<name>[A-Za-z_][\w.\-]*)=(?P<qv>[^&#\s'\"<>]{1,1024})")


def query_span(text: str, s: int) -> tuple[int, int, str] | None:
    m = _QUERY_TAIL.match(text, s)
    if m is None:
        return None
    graded = grade_name(m.group("name"))
    value = m.group("qv")
    if graded is None or not value_ok(value, *graded):
        return None
    return m.start("qv"), m.end("qv"), graded[1]


# query strings: any parameter holding a random value, unless it is named like an id or hash
_QUERY_ANY = re.compile(r"[?&](?P<name>[A-Za-z_][\w.\-]*)=(?P<v>[^&#\s'\"<>`]{12,1024})")
_QUERY_PUBLIC = word_set(
    """
    q query search v ver cursor page after before next prev redirect callback lang locale
    sort order fields filter format units symbol
    """
)


def query_any_spans(text: str, spans: list[Span], sinks: list[tuple[str, str]]) -> None:
    for m in _QUERY_ANY.finditer(text):
        name, v = m.group("name"), m.group("v")
        tokens = [t.lower() for t in NAME_TOKEN.findall(name) if not t.isdigit()]
        if not tokens or tokens[-1] in _QUERY_PUBLIC or is_id_name(name):
            continue
        if tokens[-1] in NOT_SECRET_LAST and grade_name(name) is None:
            continue
        if v.startswith("{") and v.endswith("}") and v[1:-1].isidentifier():
            if grade_name(name) is not None or len(tokens) == 1:
                sinks.append((v[1:-1], "secret"))  # f"…&appid={k}"
            continue
        if looks_like_secret(v, 16) or (grade_name(name) and looks_like_secret(v, 12)):
            spans.append((m.start("v"), m.end("v"), "secret"))


URL_PASSWORD_RULES: tuple[Rule, ...] = (
    rule(
        "url_password",
        # the password may hold an unencoded "@": the last "@" before the host wins
        r"://(?P<user>[^\s:/?#@'\"<>;]*):(?P<v>[^\s/'\"<>;]{1,256})@(?=[A-Za-z0-9\[])",
        ("v",),
        ("://",),
        check=check_url_password,
    ),
)

# webhooks and tokens in a URL path: hooks.zapier.com/hooks/catch/123/<secret>/
URL_PATH_RULES: tuple[Rule, ...] = (
    rule(
        "secret",
        r"/(?:hooks?|webhooks?|tokens?|secrets?|keys?)/(?:[\w\-]+/){0,3}?"
        r"(?P<v>[A-Za-z0-9_\-]{20,128})(?![A-Za-z0-9_\-])",
        ("v",),
        ("/hook", "/webhook", "/token", "/secret", "/key"),
        check=path_secret,
    ),
)


# A token alone in the userinfo: https://<token>@pkgs.example.com/simple (pip, git)
def _userinfo_token(value: str, ctx: Ctx) -> str | None:
    if is_placeholder(value) or EMAIL_USER.fullmatch(value):
        return None
    ok = strongly_random(value) or looks_like_secret(value, 12) or typed_password(value)
    return "" if ok else None


EMAIL_USER = re.compile(r"[a-z][a-z0-9._\-]{0,30}")  # git@, deploy@, first.last@

URL_TOKEN_RULES: tuple[Rule, ...] = (
    rule(
        "url_token",
        r"://(?P<v>[^\s:/?#@'\"<>;]{8,256})@(?=[A-Za-z0-9\[])",
        ("v",),
        ("://",),
        check=_userinfo_token,
    ),
)

# Parameters that carry a signature or a credential in any URL (markdown links and images,
# HTML src/href, printed URLs): the name decides, any value that is not a placeholder goes.
_SIGNED_NAMES = word_set(
    """
    x-amz-signature x-amz-security-token x-amz-credential x-goog-signature x-goog-credential
    signature sig token access_token id_token refresh_token auth_token api_key apikey key
    client_secret secret password passwd pwd code sas_token sv_sig
    """
)
_SIGNED_PARAM = re.compile(r"[?&](?P<name>[A-Za-z][\w.\-]*)=(?P<v>[^&#\s'\"<>`)\]]{6,4096})")


def signed_query_spans(text: str, found: list[Span]) -> None:
    if "=" not in text:
        return
    for m in _SIGNED_PARAM.finditer(text):
        name, v = m.group("name").lower(), m.group("v")
        if name not in _SIGNED_NAMES or is_placeholder(v) or v.startswith("{"):
            continue
        if name in ("key", "code", "token", "sig", "signature") and is_wordy(v):
            continue  # ?key=temperature, ?code=fr
        found.append((m.start("v"), m.end("v"), "signed_url" if "sig" in name else "secret"))
