"""Python sources: arguments of calls to APIs that take credentials (chosen by the callee's
words), typed passwords, generated-looking literals, keys handed to classes, and dataflow
from a literal to a credential sink."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator

from .lexer import SITE_WINDOW, STR_GROUPS, Arg, call_args, site_at, tokens
from .names import (
    ID_WORDS,
    NAME_TOKEN,
    NOT_SECRET_LAST,
    WEAK_WORDS,
    grade_name,
    is_id_name,
    value_ok,
)
from .shapes import (
    ALGORITHM,
    EMAIL,
    MIXED,
    identity_like,
    key_like,
    login_password_ok,
    password_like,
    strongly_random,
    typed_password,
)
from .values import CODE_WORDS, Span, is_placeholder, looks_like_secret, word_set

# -- what an API does with its arguments, from its name ----------------------------------

_LOGIN_WORDS = word_set(
    "login logon signin authenticate bind password passwd credential credentials plain basic"
)
_CONNECT_WORDS = word_set(
    """
    connect connection ftp sftp smtp imap pop ssh redis mysql postgres psycopg mongo ldap smb
    amqp kafka
    """
)
_CLIENT_WORDS = word_set("client api sdk session service bot hub oauth auth token key secret")
_CRYPTO_WORDS = word_set(
    "jwt jose jws jwe hmac fernet aes des cipher totp hotp otp nacl itsdangerous paseto"
)
_CRYPTO_SUFFIXES = ("serializer", "signer")
_PAYLOAD_FIRST = word_set("encode decode sign verify dumps loads")  # (payload, key, …)


@functools.lru_cache(maxsize=2048)
def _callee_role(callee: str) -> str | None:
    """ "login" (user, password…), "connect" (host, user, password…), "client" (keys),
    "crypto" (signing keys) or None, from the words of a dotted callee name."""
    parts = callee.split(".")
    last = [t.lower() for t in NAME_TOKEN.findall(parts[-1]) if not t.isdigit()]
    every = [t.lower() for p in parts for t in NAME_TOKEN.findall(p) if not t.isdigit()]
    if not last or any(t in ID_WORDS for t in last):
        return None
    if last[-1] in NOT_SECRET_LAST and last[-1] not in ("login", "user"):
        return None  # initialize_secret_manager(…), get_token_count(…)
    serializer = parts[-1][:1].isupper() and last[-1].endswith(_CRYPTO_SUFFIXES)  # classes only
    if (any(t in _CRYPTO_WORDS for t in every) or serializer) and last[-1] not in (
        "encrypt",
        "decrypt",
        "compare",
        "digest",
        "hexdigest",
    ):
        return "crypto"  # jwt.encode(payload, key), hmac.new(key, …), Fernet(key)
    if any(t in _LOGIN_WORDS for t in last) or ("sign" in last and "in" in last):
        return "login"
    if any(t in _CONNECT_WORDS for t in last):
        return "connect"
    if any(t in _CLIENT_WORDS for t in last):
        return "client"
    return None


# -- context passes ----------------------------------------------------------------------------

_REVERSED_CALLEE = re.compile(r"[ \t]*([\w.]+)")


def _calls(text: str) -> Iterator[tuple[str, int, int]]:
    """(dotted callee, start of the callee, position of "(") for each call in the text.
    Read backwards from each "(" in the reversed text: ten times faster than a forward
    pattern that must try every identifier. A leading "." is a method on a literal."""
    rev, n = text[::-1], len(text)
    at = text.find("(")
    while at >= 0:
        m = _REVERSED_CALLEE.match(rev, n - at)
        if m is not None:
            yield m.group(1)[::-1], n - m.end(), at
        at = text.find("(", at + 1)


_CALL_LIMIT = 1500  # characters of one call's arguments read, at most


def call_spans(text: str, spans: list[Span], sinks: list[tuple[str, str]]) -> None:
    """Values handed to APIs that take credentials (positional or keyword, any layout)."""
    budget = 4 * len(text) + 20_000  # bounds the work on pathological input: login(login(…
    for callee, start, paren in _calls(text):
        last = callee.rsplit(".", 1)[-1].lower()
        if last in _TYPING:
            _typing_spans(text, start, paren, spans)
            continue
        role = _callee_role(callee)
        if role is None:
            continue
        if text[max(0, start - 4) : start] == "def " or callee.startswith("."):
            continue  # a definition's parameters, or a method on a literal ("x".encode())
        if budget <= 0:
            break
        budget -= _CALL_LIMIT
        args = call_args(text, paren, _CALL_LIMIT)
        positional = [a for a in args if a.kw is None]
        for a in args:
            if a.kw is not None:
                _role_keyword(text, a, role, spans, sinks)
                continue
            if role == "crypto":
                if a.index == 0 and last in _PAYLOAD_FIRST:
                    continue
                kind, test = "secret", _crypto_key_ok
            elif role == "client" or a.index == 0:
                kind, test = "credential", key_like
            elif role == "login" and a is positional[-1]:
                kind, test = "password", login_password_ok
            else:
                kind, test = "password", password_like
            value = a.literal(text)
            if value is not None:
                if test(value):
                    spans.extend((s, e, kind) for s, e, _ in a.lits)
            elif a.name and not a.other:
                sinks.append((a.name, kind))


# browser automation typing into a field: the field says what is typed
_TYPING = word_set("send_keys type fill type_text set_value input_text fill_in press_sequentially")
_PASSWORD_FIELD = re.compile(r"pass(?:word|wd|phrase)?|pwd|(?<![a-z])pw(?![a-z])", re.I)


def _typing_spans(text: str, start: int, paren: int, spans: list[Span]) -> None:
    """driver.find_element(By.ID, "password").send_keys("…"), pw_field.send_keys("…"),
    page.fill("#password", "…"): what is typed into a password field is a password."""
    line = text[max(text.rfind("\n", 0, start) + 1, start - 160) : paren]
    args = call_args(text, paren, 600)
    values = [(a, a.literal(text)) for a in args if a.kw is None]
    field = _PASSWORD_FIELD.search(line) or any(
        v is not None and _PASSWORD_FIELD.search(v) for _, v in values
    )
    if not field:
        return
    for a, v in values:
        if v is not None and not _PASSWORD_FIELD.search(v) and login_password_ok(v):
            spans.extend((s, e, "password") for s, e, _ in a.lits)


def _role_keyword(
    text: str, a: Arg, role: str, spans: list[Span], sinks: list[tuple[str, str]]
) -> None:
    graded = grade_name(a.kw or "")
    if graded is None or is_id_name(a.kw):
        return
    grade, kind = graded
    value = a.literal(text)
    if value is not None:
        # in a credential call a bare `token=`, `key=`, `auth=` means a credential: no length
        # norm applies (a compound name, key_management_system=, keeps its grade)
        if a.kw and a.kw.lower() in WEAK_WORDS:
            grade = "strong"
        if value_ok(value, grade, kind, quoted=True):
            spans.extend((s, e, kind) for s, e, _ in a.lits)
    elif a.items is not None:
        tuple_spans(text, a.items, spans)
    elif a.name and not a.other:
        sinks.append((a.name, kind))


def tuple_spans(text: str, items: list[Arg], spans: list[Span]) -> None:
    """auth=("user", "password"): everything after the user."""
    for it in items[1:]:
        v = it.literal(text)
        if v is not None and not is_placeholder(v) and len(v) >= 3:
            spans.extend((s, e, "password") for s, e, _ in it.lits)


def _crypto_key_ok(value: str) -> bool:
    if is_placeholder(value) or len(value) < 6 or value.count(" ") >= 2:
        return False
    return not ALGORITHM.fullmatch(value) and not identity_like(value)


_QUOTED_LIT = re.compile(r"""(["'])(?P<v>[^"'\s\\]{8,512})\1""")  # starts with a quote: fast


def literal_spans(text: str, spans: list[Span]) -> None:
    """Generated-looking string literals anywhere in code, and passwords after a user name
    in any call: kept only when the name around them says id, hash or revision."""
    budget = 2 * len(text) + 20_000  # characters lexed back from literals, at most
    for m in _QUOTED_LIT.finditer(text):
        if budget <= 0:
            break
        before = text[max(0, m.start() - 3) : m.start()]
        if before[-1:].isalnum() and not re.fullmatch(r"(?:^|\W)[rRbBuU]{1,2}", before):
            continue  # a quote inside a word: it's, don't
        v = m.group("v")
        random = strongly_random(v)
        if not random and not (_after_literal(text, m.start()) and typed_password(v)):
            continue
        budget -= min(SITE_WINDOW, m.start() - text.rfind("\n", 0, m.start()))
        site = site_at(text, m.start())
        if random:
            names = (site.callee, site.kw, site.key, site.target)
            if not any(is_id_name(n) for n in names):
                spans.append((m.start("v"), m.end("v"), "credential" if site.callee else "secret"))
        elif (
            site.callee
            and site.index >= 1
            and site.prev
            and _user_like(site.prev)
            and MIXED.match(v)  # upper, lower and digits: not an option value like +i6t-x
            and site.callee.rsplit(".", 1)[-1] not in _GETTERS
        ):
            spans.append((m.start("v"), m.end("v"), "password"))


def constructor_spans(text: str, spans: list[Span]) -> None:
    """A long hex or base64 literal handed first to a constructor (OWM("9f3c…"),
    Account.from_key(…)): client configuration, unless the class names an id or a hash."""
    for m in _FIRST_ARG_KEY.finditer(text):
        head = text[max(0, m.start() - 80) : m.start()]
        name = _REVERSED_CALLEE.match(head[::-1])
        callee = name.group(1)[::-1].rsplit(".", 1)[-1] if name else ""
        if not (callee[:1].isupper() or callee in ("from_key", "from_secret")):
            continue
        if is_id_name(callee) or not looks_like_secret(m.group("v").removeprefix("0x"), 32):
            continue
        spans.append((m.start("v"), m.end("v"), "credential"))


_FIRST_ARG_KEY = re.compile(r"\([ \t]*[bBrR]?([\"'])(?P<v>(?:0x)?[A-Za-z0-9+/=_\-]{32,512})\1")


_GETTERS = word_set("get pop setdefault getattr getenv replace sub format join split startswith")


def _after_literal(text: str, pos: int) -> bool:
    """Does a literal argument come just before? ("user", "…" """
    before = text[max(0, pos - 80) : pos].rstrip()
    return before.endswith(",") and before[:-1].rstrip().endswith(("'", '"'))


def _user_like(value: str) -> bool:
    return bool(EMAIL.fullmatch(value) or re.fullmatch(r"[A-Za-z][\w.\-]{0,39}", value))


# -- dataflow: a literal bound to a name that is then handed to a credential sink --------------


# `name = "…"`, `a, b = "…", "…"`, `name: str = '…'` (digest lines too), value quoted
_ASSIGN_LITERAL = re.compile(  # also a traceback's source line: "      2 pw = '…'"
    r"^[ \t]*(?:-*>[ \t]*)?(?:\d+[ \t]+)?"
    r"(?P<t>[A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)*)[ \t]*(?::[^=\n]{1,40})?=(?!=)"
    r"[ \t]*(?=[rRbBuU]{0,2}[\"'])",
    re.M,
)


def dataflow_spans(text: str, sinks: list[tuple[str, str]], spans: list[Span]) -> None:
    """Literals bound to names that are later handed to a credential sink."""
    wanted: dict[str, list[str]] = {}  # a name may reach several sinks: each kind is tried
    for name, kind in sinks:
        if name not in CODE_WORDS and kind not in wanted.setdefault(name, []):
            wanted[name].append(kind)
    for m in itertools.islice(_ASSIGN_LITERAL.finditer(text), 5000):  # one pass, any names
        targets = [t.strip() for t in m.group("t").split(",")]
        for i, name in enumerate(targets):
            kinds = wanted.get(name)
            if not kinds:
                continue
            values = _literal_list(text, m.end())
            if len(values) != len(targets):
                break
            lits = values[i]
            value = "".join(text[s:e] for s, e in lits)
            sink = next((k for k in kinds if _sink_value_ok(value, k)), None)
            if sink is not None:
                spans.extend((s, e, sink) for s, e in lits)


def _literal_list(text: str, pos: int) -> list[list[tuple[int, int]]]:
    """`"a", "b"` (or one literal) up to the end of the line; [] if anything else is there."""
    out: list[list[tuple[int, int]]] = [[]]
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    for m in tokens(text, pos, end):
        kind = m.lastgroup
        if kind in STR_GROUPS and "f" not in (m.group("pre") or "").lower():
            out[-1].append(m.span(kind))
        elif m.group() == "," and out[-1]:
            out.append([])
        else:
            return []
    return [v for v in out if v]


def _sink_value_ok(value: str, kind: str) -> bool:
    if is_placeholder(value) or len(value) < 4:
        return False
    if kind == "password":
        return login_password_ok(value)
    if kind == "secret" and not identity_like(value):
        return key_like(value) or password_like(value)
    return key_like(value)
