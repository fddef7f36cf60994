"""Secret redaction at the LiteLLM boundary.

Every prompt passes through :class:`Redactor` before any model call (sleep time and query
time alike). Secrets are replaced in place by ``[REDACTED:<kind>]`` so that the code around
them (variable names, dict keys, URLs, headers) stays readable for the model::

    api_key = "sk-proj-…"          ->  api_key = "[REDACTED:openai_key]"
    postgres://app:hunter2@db/x    ->  postgres://app:[REDACTED:url_password]@db/x

How it works
------------
* Hand-written, pre-compiled regular expressions. All rules look at the *original* text and
  propose spans; rules run in priority order and a span that overlaps an already accepted one
  is dropped, then all accepted spans are replaced in one pass. Priority: multi-line PEM
  private keys, provider formats with a distinctive prefix (AWS, GitHub, GitLab, OpenAI,
  Anthropic, Slack, Stripe, Google, Azure, Hugging Face, PyPI, npm, Docker, SendGrid, …),
  JWTs, then context rules (``Authorization``/``Bearer``, passwords in URLs, auth tuples,
  ``.login()`` calls, ``.netrc`` lines, ``curl -u``, ``<password>…</password>``,
  ``%env``/``os.environ``/``export`` values, ``--password=…`` flags), and last the keyword
  rule: a literal next to a secret-like name (``db_password = "…"``, ``{"api_key": "…"}``,
  ``SECRET: …``, ``?access_token=…``, ``Server=…;Password=…;``, ``password    …`` rows of
  a printed pandas Series).
* The keyword rule grades names. *Strong* names (password, passwd, pwd, secret, credentials,
  api_key, access_token, client_secret, …) get any literal redacted unless it is an obvious
  placeholder (``"<your-api-key>"``, ``"YOUR_API_KEY"``, ``"xxx"``, ``"sk-..."``,
  ``"${DB_PASSWORD}"``) or, for non-password names, made of plain words
  (``api_key="llama.cpp"``, ``api_key: os.environ/OPENAI_API_KEY``). *Weak* names (key,
  token, auth, salt, signature, cookie, session) are everywhere in ordinary code
  (``sort_key``, ``eos_token``, ``key = "sepal_length"``), so their value is redacted only
  when it is shaped like a secret: ≥ 12 characters, no whitespace, not words / identifiers /
  paths / URLs / numbers / dates, Shannon entropy ≥ 3 bits per character (2.5 under 20
  characters; the measure detect-secrets uses). Names that end in a non-secret word
  (``token_count``, ``password_prompt``, ``secret_name``, ``key_path``, ``key_sha256``) or
  that name public material (``public_key``) are not secret names.
* Values that are code, not literals, are never touched: calls and subscripts
  (``getpass()``, ``os.environ["DB_PASSWORD"]``), dotted names, bare identifiers, ``None``,
  f-strings, raw-string regexes.
* Hex digests, UUIDs, commit hashes and base64 blobs that are *not* next to a secret-like
  name are kept: there is no name-less entropy scan, which in notebooks would destroy more
  useful text (dataset checksums, ids, plots) than it protects. ``data:image/png;base64,…``
  payloads in outputs are left as they are (the prompt builder normally drops images; we do
  not corrupt them here).

Known gaps (by design, to keep ordinary text intact): a secret with no name or format next
to it (``Client("AC…", "9f3c…")`` positional arguments, a bare hex token printed alone);
unquoted ``password = hunter`` in .ini files (read as a variable; ``password: hunter2``
YAML and ``PASSWORD=hunter`` .env lines are caught); short flags (``mysql -pS3cret``,
``sshpass -p``); passwords in DataFrame *columns*; API keys shorter than 8 characters;
letters-only random values next to *weak* names (``token = "KUzgKYCmfwmJKPGG"``: no digit,
under 20 characters) and a few percent of short letters-only passwords that read like
identifiers (``password: ayhgguovtz``); an unquoted password containing ``&name=`` (read
as the next form field).

detect-secrets (Yelp) was the reference for several formats and for the entropy measure, but
it is not called at run time: its scan takes ~300 ms per 50 k characters (this module:
3–8 ms), it reports findings rather than redacting, and on the test corpus its default
plugins find about a third of the secrets while flagging checksums and placeholders. The test
suite uses it, when installed, as an independent oracle on the corpus.

Speed: every pattern starts with a literal (so ``re`` can skip ahead) or sits behind a cheap
substring pre-check, and the keyword rule only looks at the places where a secret-like word
is followed by a separator.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "RedactionResult",
    "Redactor",
    "is_placeholder",
    "is_wordy",
    "looks_like_secret",
    "shannon_entropy",
]

MARKER = "[REDACTED:{kind}]"


@dataclass
class RedactionResult:
    text: str
    count: int  # secrets replaced
    kinds: list[str] = field(default_factory=list)  # e.g. ["aws_access_key", "jwt"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------------------
# Value heuristics
# --------------------------------------------------------------------------------------


def shannon_entropy(value: str) -> float:
    """Bits per character (the measure of detect-secrets' high-entropy plugins)."""
    n = len(value)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


_PLACEHOLDER_WORDS = _words(
    """
    password passwd pwd pass secret secrets changeme change_me changeit none null nil
    undefined todo tbd fixme xxx dummy placeholder example sample redacted hidden masked
    empty string str token key apikey api_key api-key your_api_key your-api-key ... *** ****
    mypassword my_password my-password mypass mysecret my-secret my_secret
    """
)

_PLACEHOLDER_RE = re.compile(
    r"""^(?:
        <[^<>]*>                              # <your-api-key>
      | \{\{?[^{}]*\}\}?                      # {password}, {{ secrets.X }}
      | \$\{[^{}]+\} | (?-i:\$[A-Z_][A-Z0-9_]*) # ${DB_PASS}, $DB_PASS
      | %\(?\w*\)?[sdr]                       # %s, %(password)s
      | \[[^\]]*\]                            # [REDACTED:x], [hidden]
      | [xX*•·.\#_\-0]+                       # xxx, ****, ...., ········
      | .*(?:\.\.\.|…|\*\*\*|REDACTED|PLACEHOLDER|CHANGE[_-]?ME|\bYOUR[_-]|^YOUR|<|>).*
      | .*(?:x{4,}|X{4,}).*                   # sk-xxxxxxxxxxxxxxxx
      | your[-_ ].* | (?:insert|enter|paste|replace|put)[-_ ](?:your|the|a|an)[-_ ].*
      | [A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:KEY|TOKEN|SECRET|PASSWORD|PASS|PWD|PASSWD)(?:_[A-Z0-9]+)*
      | .*\$\(.* | \$\d+(?:::\w+)?           # $(openssl rand -hex 32), SQL $1 parameters
    )$""",
    re.I | re.X | re.S,
)


def is_placeholder(value: str) -> bool:
    """Documentation stand-ins and template references, not real secrets."""
    v = value.strip()
    if len(v) < 2:
        return True
    if v.lower() in _PLACEHOLDER_WORDS:
        return True
    return bool(_PLACEHOLDER_RE.match(v))


_CODE_WORDS = _words(
    """
    None True False null true false nil undefined NaN nan self cls str bytes int float
    bool dict list tuple Optional Any getpass input lambda await not and or if else
    """
)
_DOTTED_IDENT = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NUMBER = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[oObB][0-7_]+|\d+(?:[.,_]\d+)*(?:[eE][-+]?\d+)?%?)"
)
_SECRET_CHARS = re.compile(r"[A-Za-z0-9+/=_\-.~!@$%^&*:?]+")
_SEGMENT_SPLIT = re.compile(r"[-_.:/+]")
_WORDY_CHARS = re.compile(r"[A-Za-z0-9_./~:= \-]+")
_WORDY_SPLIT = re.compile(r"[-_./:= ~]+")
_WORDY_SEGMENT = re.compile(r"([A-Za-z]+)(\d{0,3})")
_WORD_PIECE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_CONSONANT_RUN = re.compile(r"[b-df-hj-np-tv-xz]{5,}")
_VOWEL = re.compile(r"[aeiouy]")
_LONE_LOWER = re.compile(r"(?<![a-z])[a-z](?![a-z])")


def is_wordy(value: str) -> bool:
    """Words and identifiers rather than random characters.

    ``llama.cpp``, ``my-secret``, ``x-api-key``, ``KeyError``, ``UserAPIKeyAuth``,
    ``hunter2``, ``os.environ/OPENAI_API_KEY`` are wordy; ``9f86d081884c7d65``,
    ``Xk2pQ9rLm4…`` are not. Each segment between separators must be letters, optionally
    followed by up to three digits (or a short number), that split into word-like pieces
    (CamelCase, acronyms, lowercase words with vowels and no long consonant runs) of
    2.5+ letters on average. A random 16-character alphanumeric string passes less than
    0.5 % of the time, a 24-character one about 0.03 % (letters-only strings more often).
    """
    if not _WORDY_CHARS.fullmatch(value) or not any(c.isalpha() for c in value):
        return False
    for seg in _WORDY_SPLIT.split(value):
        if not seg:
            continue
        if seg.isdigit():
            if len(seg) > 4:
                return False
            continue
        m = _WORDY_SEGMENT.fullmatch(seg)
        if m is None:
            return False  # digits inside a segment: a8f3k2…
        letters = m.group(1)
        pieces = _WORD_PIECE.findall(letters)
        if len(pieces) > 1 and len(letters) / len(pieces) < 2.5:
            return False  # case flips too often for CamelCase
        if sum(len(p) <= 2 for p in pieces) > max(1, len(pieces) // 3):
            return False
        if len(_LONE_LOWER.findall(letters)) > 1:
            return False
        for piece in pieces:
            low = piece.lower()
            if len(low) > 16 or _CONSONANT_RUN.search(low):
                return False
            if len(low) >= 4 and not _VOWEL.search(low):
                return False
    return True


def _mostly_words(segments: list[str]) -> bool:
    """At least two real words (3+ letters) making up most of the characters."""
    words = [s for s in segments if len(s) >= 3 and is_wordy(s)]
    return len(words) >= 2 and sum(map(len, words)) >= 0.6 * sum(map(len, segments))


def looks_like_secret(value: str, min_len: int = 12) -> bool:
    """High-entropy test for values next to *weak* names (key, token, …)."""
    v = value
    if len(v) < min_len or len(v) > 4096:
        return False
    if not _SECRET_CHARS.fullmatch(v) or is_placeholder(v) or is_wordy(v):
        return False
    if "://" in v or re.search(r"\.[a-z]{2,5}$", v):
        return False  # URL, file name (paths are wordy)
    if _NUMBER.fullmatch(v) or re.fullmatch(r"[\d\-:T.+Z ]+", v):
        return False  # number, date/time
    has_digit = any(c.isdigit() for c in v)
    if not has_digit:
        # letters only: accept only random-looking mixed case, never words or CamelCase
        has_upper = any(c.isupper() for c in v)
        has_lower = any(c.islower() for c in v)
        if not (has_upper and has_lower and len(v) >= 20):
            return False
        changes = sum(1 for a, b in itertools.pairwise(v) if a.isupper() != b.isupper())
        if changes < len(v) / 4:
            return False
    segments = [s for s in _SEGMENT_SPLIT.split(v) if s]
    if len(segments) >= 2 and all(s.isalpha() or s.isdigit() or len(s) <= 4 for s in segments):
        return False  # structured identifier: bert-base-uncased, run_2024_05_v2, ISO dates
    if len(segments) >= 2 and _mostly_words(segments):
        return False  # com.github.googlei18n.cu2qu, /v1beta1/projects/
    return shannon_entropy(v) >= (3.0 if len(v) >= 20 else 2.5)


# --------------------------------------------------------------------------------------
# Name grading for the keyword rule
# --------------------------------------------------------------------------------------

_NAME_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

_PASSWORD_WORDS = _words("password passwd passwort passphrase pwd pword passcode contrasena")
# "pass" and "pw" are passwords only after a word like these: db_pass, smtp_pw, USER_PASS
# (not low_pass, first_pass, pass_through, pw_matrix)
_PASS_ABBREVIATIONS = _words("pass pw")
_PASS_PREFIXES = _words(
    """
    db database smtp mail email user admin root login ftp sftp redis mysql pg postgres
    postgresql sql mssql oracle mongo ldap proxy wifi wlan ssh vpn app api account my your
    auth basic http https svc service rabbit rabbitmq amqp broker kafka es elastic
    """
)
_PASSWORD_SUFFIXES = ("password", "passwd", "passphrase")
_STRONG_WORDS = _words(
    """
    secret secrets credential credentials creds cred apikey privatekey accesskey secretkey
    authtoken accesstoken apitoken refreshtoken clientsecret sessiontoken bearertoken
    authkey masterkey signingkey
    """
)
_STRONG_SUFFIXES = (
    "secret", "apikey", "secretkey", "privatekey", "accesskey", "authtoken", "accesstoken",
    "apitoken", "credentials",
)  # fmt: skip
_WEAK_WORDS = _words("key token auth sig signature salt cookie session hmac")
_KEY_STRONG_PREFIX = _words(
    """
    api access secret private signing encryption encrypt master auth app service account
    subscription client license admin consumer webhook deploy ssh gpg pgp hmac storage shared
    """
)
_TOKEN_STRONG_PREFIX = _words(
    """
    auth access refresh session bearer api oauth personal github gh hf slack bot id csrf xsrf
    app user admin service security jwt hub huggingface deploy registry sas pat
    """
)
_NOT_SECRET_LAST = _words(
    """
    name names id ids file filename files path paths dir directory url uri urls endpoint env
    var vars variable field fields column columns col cols count counts len length size type
    types prompt label hint policy format fmt prefix suffix regex pattern header headers arn
    version manager store scope index idx num number min max limit mode enabled disabled
    required cls class fn func function list input widget box hash hashed digest expiry
    expires expiration timeout ttl location loc provider strategy method algorithm alg
    rotation reset strength valid validator validation check error errors msg message text
    help title description desc placeholder example template style color width height
    encoding dtype shape map mapping table tables ref reference kind level levels status flag
    flags option options exists present set missing used usage rate embedding embeddings
    vocab vocabulary position positions offset offsets range distance weight weights dim dims
    span spans start end mask masks sha md crc checksum fingerprint etag dict obj object cache
    handler handlers callback resolver loader factory builder getter setter parser generator
    fetcher schema model enum test tests spec doc docs info meta metadata host port region
    user username email login backend plugin scheme allowed needed is has bytes bits chars
    words attempts retries tries age days seconds secs ms minutes hours lifetime rules
    complexity
    """
)


_NAME_PARTS = re.compile(r"[.\[\]'\"]+")


@functools.lru_cache(maxsize=4096)
def _grade_name(name: str) -> tuple[str, str] | None:
    """(grade, kind) for a secret-like name, grade in {"strong", "weak"}; else None."""
    last = _NAME_PARTS.split(name.strip(".[]'\"-"))[-1]
    tokens = [t.lower() for t in _NAME_TOKEN.findall(last) if not t.isdigit()]
    if not tokens or tokens[-1] in _NOT_SECRET_LAST or "public" in tokens or "pub" in tokens:
        return None  # public keys and key tokens are meant to be shared
    abbreviated = tokens[-1] in _PASS_ABBREVIATIONS and len(tokens) > 1
    if (abbreviated and tokens[-2] in _PASS_PREFIXES) or any(
        t in _PASSWORD_WORDS or t.endswith(_PASSWORD_SUFFIXES) for t in tokens
    ):
        return "strong", "password"
    if "secret" in tokens and "access" in tokens and "key" in tokens:
        aws = "aws" in tokens or tokens[0] == "secret"
        return "strong", "aws_secret_key" if aws else "secret"
    for i, t in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        if t in _STRONG_WORDS or t.endswith(_STRONG_SUFFIXES):
            return "strong", "api_key" if t == "apikey" else "secret"
        if t == "key" and prev in _KEY_STRONG_PREFIX:
            return "strong", "api_key" if prev == "api" else "secret"
        if t == "token" and prev in _TOKEN_STRONG_PREFIX:
            return "strong", "token"
    if any(t in _WEAK_WORDS for t in tokens):
        return "weak", "token" if "token" in tokens else "secret"
    return None


def _value_ok(value: str, grade: str, kind: str) -> bool:
    """Does a literal next to a graded name deserve redaction?"""
    if is_placeholder(value) or value in _CODE_WORDS:
        return False
    if grade == "weak":
        return looks_like_secret(value)
    if kind == "password":
        return len(value) >= 3
    # api keys, tokens and secrets: real ones are long and not made of words or paths
    return len(value) >= 8 and not is_wordy(value)


# --------------------------------------------------------------------------------------
# Rules: each proposes spans on the original text
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
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
Check = Callable[[str, _Ctx], "str | None"]

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM_U = _ALNUM | {"_"}
_ALNUM_UH = _ALNUM_U | {"-"}


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    groups: tuple[str, ...] = ()  # value group(s), first that matched; () = whole match
    needles: tuple[str, ...] = ()  # cheap pre-check: one must occur in the (lowered) text
    on_lower: bool = False  # match against text.lower() (needles too)
    not_after: frozenset[str] = frozenset()  # char that must not precede the match
    check: Check | None = None


def _entropy_ok(min_bits: float) -> Check:
    def check(value: str, ctx: _Ctx) -> str | None:
        ok = shannon_entropy(value) >= min_bits and not is_placeholder(value)
        return "" if ok else None

    return check


def _mixed(value: str, ctx: _Ctx) -> str | None:
    """Provider tokens with a short generic prefix: require a random-looking body."""
    body = value.split("-", 1)[-1] if value.startswith("sk-") else value
    if re.fullmatch(r"[a-z]+(?:-[a-z0-9]+)+", body):  # sk-learn-style kebab words
        return None
    if not any(c.isdigit() for c in body) or not any(c.isalpha() for c in body):
        return None
    return "" if shannon_entropy(body) >= 3.2 and not is_placeholder(value) else None


def _not_placeholder(value: str, ctx: _Ctx) -> str | None:
    return None if is_placeholder(value) else ""


def _token_like(value: str, ctx: _Ctx) -> str | None:
    v = value.rstrip("=")
    if len(v) < 8 or is_placeholder(v) or is_wordy(v):
        return None
    if ctx.text[ctx.m.end() : ctx.m.end() + 1] in ("(", "["):
        return None  # code: request.headers.get(...)
    return ""


def _auth_header(value: str, ctx: _Ctx) -> str | None:
    if _token_like(value, ctx) is None:
        return None
    scheme = (ctx.group("scheme") or "").lower()
    if not scheme and ("_" in value or "." in value) and _DOTTED_IDENT.fullmatch(value):
        return None  # "Authorization": auth_header  (a variable)
    return {"bearer": "bearer_token", "basic": "basic_auth"}.get(scheme, "auth_header")


_SCHEME_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,20}$")
_URL_PASSWORD_PLACEHOLDERS = _words("password pass pwd passwd secret pw p x")


def _url_password(value: str, ctx: _Ctx) -> str | None:
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


def _after_bot_id(value: str, ctx: _Ctx) -> str | None:
    start = ctx.m.start()
    bot_id = re.search(r"(?<![A-Za-z0-9:])\d{8,10}$", ctx.text[max(0, start - 11) : start])
    return "" if bot_id else None


def _query_param(value: str, ctx: _Ctx) -> str | None:
    start = ctx.m.start()
    return "" if start and ctx.text[start - 1] in "?&" else None


def _graded_value(value: str, ctx: _Ctx) -> str | None:
    graded = _grade_name(ctx.group("name") or "")
    return graded[1] if graded is not None and _value_ok(value, *graded) else None


def _env_value(value: str, ctx: _Ctx) -> str | None:
    """Env context: any secret-like name counts; other names need a secret-shaped value."""
    if is_placeholder(value) or value in _CODE_WORDS:
        return None
    graded = _grade_name(ctx.group("name") or "")
    if graded is not None:
        return graded[1]
    return "secret" if looks_like_secret(value, 16) else None


def _flag_value(value: str, ctx: _Ctx) -> str | None:
    graded = _grade_name(ctx.group("name") or "")
    if graded is None or value.startswith(("-", "$")):
        return None
    if ctx.group("sep") != "=" and value.isalpha() and value.islower():
        return None  # prose: "use the --password option"
    return graded[1] if _value_ok(value, *graded) else None


def _build_rules() -> list[_Rule]:
    rules: list[_Rule] = []

    def add(
        kind: str,
        pattern: str,
        groups: tuple[str, ...] = (),
        needles: tuple[str, ...] = (),
        *,
        lower: bool = False,
        not_after: frozenset[str] = frozenset(),
        check: Check | None = None,
        flags: int = 0,
    ) -> None:
        rules.append(
            _Rule(kind, re.compile(pattern, flags), groups, needles, lower, not_after, check)
        )

    # -- private keys (multi-line; also with literal "\n" inside JSON / repr strings) ----
    add(
        "private_key",
        r"-----BEGIN (?P<label>[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?)-----"
        r"(?:(?P<body>(?:(?!-----END ).){1,20000}?)(?=-----END (?P=label)-----)"
        r"|(?P<body2>[A-Za-z0-9+/=\s\\:,\-]{16,20000}))",
        ("body", "body2"),
        ("PRIVATE KEY",),
        flags=re.S,
    )
    add(
        "private_key",
        r"PuTTY-User-Key-File-\d: .*?Private-Lines: \d+(?P<body>(?:\r?\n|\\n)[A-Za-z0-9+/=]+"
        r"(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]+)*)",
        ("body",),
        ("PuTTY-User-Key-File",),
        flags=re.S,
    )

    # -- provider formats with distinctive prefixes -------------------------------------
    add("aws_access_key",
        r"A(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|IPA|NPA|NVA|PKA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])",
        not_after=_ALNUM, check=_entropy_ok(2.5))  # fmt: skip
    add("github_token", r"gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])",
        not_after=_ALNUM_U, check=_entropy_ok(3.5))  # fmt: skip
    add("github_token", r"github_pat_[A-Za-z0-9_]{60,255}", (), ("github_pat_",),
        not_after=_ALNUM_U, check=_entropy_ok(3.5))  # fmt: skip
    add("gitlab_token", r"gl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_\-]{20,64}",
        not_after=_ALNUM_U, check=_entropy_ok(3.2))  # fmt: skip
    add("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{20,200}", (), ("sk-ant-",),
        not_after=_ALNUM_UH, check=_entropy_ok(3.2))  # fmt: skip
    add("openai_key",
        r"sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_\-]{20,250}(?![A-Za-z0-9_\-])",
        not_after=_ALNUM_UH, check=_mixed)  # fmt: skip
    add("slack_token", r"xox[abposr]-(?:\d+-)*[A-Za-z0-9\-]{10,200}",
        not_after=_ALNUM, check=_entropy_ok(3.0))  # fmt: skip
    add("slack_token", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,}", not_after=_ALNUM)
    add("slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>T[A-Z0-9]+/[A-Z0-9/]+/"
        r"[A-Za-z0-9]{8,})", ("v",), check=_not_placeholder)  # fmt: skip
    add("discord_webhook",
        r"discord(?:app)?\.com/api/webhooks/\d+/(?P<v>[A-Za-z0-9_\-]{30,})", ("v",),
        check=_not_placeholder)  # fmt: skip
    for prefix in ("sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_"):
        add("stripe_key", prefix + r"[A-Za-z0-9]{10,250}", (), (prefix,),
            not_after=_ALNUM, check=_entropy_ok(3.0))  # fmt: skip
    add("stripe_key", r"whsec_[A-Za-z0-9]{20,}", (), ("whsec_",), not_after=_ALNUM)
    add("google_api_key", r"AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])", not_after=_ALNUM_UH)
    add("google_oauth_secret", r"GOCSPX-[A-Za-z0-9_\-]{20,40}", not_after=_ALNUM_UH)
    add("google_oauth_token", r"ya29\.[A-Za-z0-9_\-]{20,}", not_after=_ALNUM_UH)
    add("google_oauth_token", r"1//0[A-Za-z0-9_\-]{30,}", not_after=_ALNUM_UH | {"/"})
    add(
        "azure_storage_key",
        r"(?:accountkey|sharedaccesskey|sharedsecretvalue)[ \t]*=[ \t]*(?P<v>[a-z0-9+/=%]{20,})"
        r"|sharedaccesssignature[ \t]*=[ \t]*(?P<v2>[^;\s'\"]{20,})",
        ("v", "v2"),
        ("accountkey", "sharedaccess", "sharedsecret"),
        lower=True,
        check=_not_placeholder,
    )
    add("azure_sas", r"sig=(?P<v>[A-Za-z0-9%+/=]{20,})", ("v",), ("sig=",),
        check=_query_param)  # fmt: skip
    add("huggingface_token", r"hf_[A-Za-z0-9]{30,60}(?![A-Za-z0-9_])",
        not_after=_ALNUM_U, check=_mixed)  # fmt: skip
    add("huggingface_token", r"api_org_[A-Za-z0-9]{30,60}", not_after=_ALNUM_U, check=_mixed)
    add("pypi_token", r"pypi-AgE[A-Za-z0-9_\-]{50,}")
    add("npm_token", r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", not_after=_ALNUM_U, check=_mixed)
    add("sendgrid_key", r"SG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50}")
    add("databricks_token", r"dapi[0-9a-f]{32}(?:-\d)?(?![A-Za-z0-9])", not_after=_ALNUM)
    add("replicate_token", r"r8_[A-Za-z0-9]{37}(?![A-Za-z0-9])", not_after=_ALNUM_U, check=_mixed)
    add("groq_key", r"gsk_[A-Za-z0-9]{48,60}", not_after=_ALNUM_U, check=_mixed)
    add("xai_key", r"xai-[A-Za-z0-9]{60,90}", not_after=_ALNUM_UH, check=_mixed)
    add("docker_token", r"dckr_pat_[A-Za-z0-9_\-]{20,}", not_after=_ALNUM_U)
    add("langsmith_key", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}", not_after=_ALNUM_U)
    add("telegram_bot_token", r":(?P<v>AA[A-Za-z0-9_\-]{33})(?![A-Za-z0-9])", ("v",), (":AA",),
        check=_after_bot_id)  # fmt: skip
    add("wandb_key",
        r"(?:wandb[ \t]+login|wandb\.login\([ \t]*key[ \t]*=|wandb_api_key[ \t]*=)[ \t]*[\"']?"
        r"(?:--\S+[ \t]+)*(?P<v>[0-9a-f]{40})(?![0-9a-f])", ("v",), ("wandb",),
        lower=True)  # fmt: skip

    # -- JSON Web Tokens ------------------------------------------------------------------
    add(
        "jwt",
        r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        not_after=_ALNUM_UH,
    )

    # -- context rules ---------------------------------------------------------------------
    add(
        "auth_header",
        r"authorization[\"']?[ \t]*[:=][ \t]*[\"']?[ \t]*"
        r"(?:(?P<scheme>bearer|basic|token|bot|digest|apikey|sso-key|otp)[ \t]+)?"
        r"(?P<v>[a-z0-9\-._~+/]{8,}=*)",
        ("v",),
        ("authorization",),
        lower=True,
        check=_auth_header,
    )
    add(
        "bearer_token",
        r"bearer[ \t]+(?P<v>[a-z0-9\-._~+/]{16,}=*)",
        ("v",),
        ("bearer",),
        lower=True,
        not_after=_ALNUM_U,
        check=_token_like,
    )
    add(
        "url_password",
        # the password may hold an unencoded "@": the last "@" before the host wins
        r"://(?P<user>[^\s:/?#@'\"<>;]*):(?P<v>[^\s/'\"<>;]{1,256})@(?=[A-Za-z0-9\[])",
        ("v",),
        ("://",),
        check=_url_password,
    )
    # HTTP basic-auth tuples and login calls: auth=("user", "pw"), HTTPBasicAuth("u", "pw"),
    # smtp.login("me@example.com", "pw")
    _pair = r"\s*(?:\"[^\"\r\n]*\"|'[^'\r\n]*')\s*,\s*(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)')"
    add("password", r"auth[ \t]*=[ \t]*\(" + _pair, ("v", "v2"), ("auth",),
        not_after=_ALNUM_U, check=_not_placeholder)  # fmt: skip
    add("password", r"HTTP(?:Basic|Digest)Auth\(" + _pair, ("v", "v2"), ("HTTP",),
        check=_not_placeholder)  # fmt: skip
    add("password", r"\.login\(" + _pair, ("v", "v2"), (".login(",), check=_not_placeholder)
    # .netrc: machine host login user password secret
    add("password", r"login[ \t]+\S+[ \t]+password[ \t]+(?P<v>[^\s'\"]+)", ("v",), ("login",),
        not_after=_ALNUM_U, check=_not_placeholder)  # fmt: skip
    # curl -u user:password
    add("password", r"(?:-u|--user)[ \t]+[\"']?[^\s:'\"]+:(?P<v>[^\s'\"]+)", ("v",), ("curl",),
        not_after=_ALNUM_UH, check=_not_placeholder)  # fmt: skip
    # XML / HTML: <password>…</password>, <ApiKey>…</ApiKey>
    add("secret", r"<(?P<name>[A-Za-z_][\w:.\-]*)>(?P<v>[^<>\r\n]{1,256})</(?P=name)>", ("v",),
        ("</",), check=_graded_value)  # fmt: skip
    # environment variables: %env NAME=value, %set_env, export NAME=value, os.environ[...] =,
    # os.environ.setdefault(...), os.putenv(...), dotenv.set_key(...)
    _val = r"(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)'|(?P<v3>[^\s'\"]+))"
    add("secret", r"%(?:set_)?env[ \t]+(?P<name>[A-Za-z_]\w*)(?:[ \t]*=[ \t]*|[ \t]+)" + _val,
        ("v", "v2", "v3"), ("%env", "%set_env"), check=_env_value)  # fmt: skip
    add("secret", r"export[ \t]+(?P<name>[A-Za-z_]\w*)=" + _val,
        ("v", "v2", "v3"), ("export",), not_after=_ALNUM_U, check=_env_value)  # fmt: skip
    _qval = r"(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)')"
    add("secret", r"environ\[[ \t]*[\"'](?P<name>\w+)[\"'][ \t]*\][ \t]*=[ \t]*" + _qval,
        ("v", "v2"), ("environ[",), check=_env_value)  # fmt: skip
    add("secret",
        r"(?:environ\.setdefault|putenv|set_key)\(\s*(?:[^,()]+,\s*)?[\"'](?P<name>\w+)[\"']"
        r"\s*,\s*" + _qval, ("v", "v2"), ("setdefault(", "putenv(", "set_key("),
        check=_env_value)  # fmt: skip
    # command-line flags: --password=..., --api-key ...
    _fval = r"(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)'|(?P<v3>[^\s'\"`,;)]+))"
    add("secret", r"--(?P<name>[A-Za-z][\w\-]*)(?P<sep>=|[ \t]+)" + _fval,
        ("v", "v2", "v3"), ("--",), not_after=_ALNUM_UH, check=_flag_value)  # fmt: skip
    return rules


_RULES = _build_rules()


# --------------------------------------------------------------------------------------
# The keyword rule: names containing a secret-ish word, followed by a literal
# --------------------------------------------------------------------------------------

_KW_FIND = re.compile(r"pass|pw|secret|token|key|auth|cred|sig|salt|cookie|session|hmac")
_NAME_CHARS = frozenset(_ALNUM_UH | {"."})
_NAME_END = re.compile(r"[\w.\-]*")

# Anchored at the start of a name: name, optional closing quote/bracket (dict keys,
# subscripts), optional type annotation, separator, quoted or bare value.
_KW_TAIL = re.compile(
    r"""
    (?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)
    (?P<close>\\?["'`]?\]?)
    (?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]{0,40}?(?=[ \t]+=[^=]))?  # annotation: x: str = …
    [ \t]*(?P<sep>:=|===?|!==?|=>|<-|=|:)[ \t]*
    (?:
        (?P<pre>[rRbBuU]{0,2})
        (?:
            "(?P<dq>[^"\r\n]{1,1024})"
          | '(?P<sq>[^'\r\n]{1,1024})'
          | `(?P<bq>[^`\r\n]{1,1024})`
          | \\"(?P<edq>(?:(?!\\").){1,1024})\\"
          | \\'(?P<esq>(?:(?!\\').){1,1024})\\'
        )
      | (?P<uv>[^\s'"`,;(){}\[\]<>\\]{1,512})
    )
    """,
    re.X,
)
_QUOTED_GROUPS = ("dq", "sq", "bq", "edq", "esq")
_FORM_NEXT = re.compile(r"&(?=[A-Za-z_][\w.\-]*=)")
_AFTER_NAME = frozenset("\\\"'`]:=!<")
_ROW_TAIL = re.compile(
    r"(?P<name>[A-Za-z_][\w.\-]*)[ \t]{2,}(?P<v>[^\s'\"]{1,1024})[ \t]*(?:\r?\n|$)"
)
# query strings: ?access_token=...&
_QUERY_TAIL = re.compile(r"(?P<name>[A-Za-z_][\w.\-]*)=(?P<qv>[^&#\s'\"<>]{1,1024})")
# connection strings: ...;Password=p a s s;...  (value up to ';', a quote or end of line)
_CONN_VALUE = re.compile(r"[^;'\"\r\n]*")
_CONN_NAMES = _words("password pwd passwd")
_LINE_PREFIX_ENV = ("", "export ", "!export ", "!")


def _keyword_spans(text: str, lower: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    done = 0
    n = len(text)
    for km in _KW_FIND.finditer(lower):
        p = km.start()
        if p < done:
            continue
        s = p
        while s > 0 and text[s - 1] in _NAME_CHARS:
            s -= 1
        e = _NAME_END.match(text, p).end()
        done = e
        c = text[s]
        if not (c.isalpha() or c == "_"):
            continue  # --flag (flag rule), 3key, .attr
        if s > 0 and text[s - 1] in "?&":
            span = _query_span(text, s)
        else:
            j = e
            while j < n and text[j] in " \t":
                j += 1
            if text[j : j + 1] not in _AFTER_NAME and not (
                j - e >= 2 and (s == 0 or text[s - 1] == "\n")
            ):
                continue  # no separator follows: prose, calls, attribute reads
            span, skip_to = _assignment_span(text, s)
            done = max(done, skip_to)
        if span is not None:
            spans.append(span)
            done = max(done, span[1])
    return spans


def _query_span(text: str, s: int) -> tuple[int, int, str] | None:
    m = _QUERY_TAIL.match(text, s)
    if m is None:
        return None
    graded = _grade_name(m.group("name"))
    value = m.group("qv")
    if graded is None or not _value_ok(value, *graded):
        return None
    return m.start("qv"), m.end("qv"), graded[1]


def _row_span(text: str, s: int) -> tuple[int, int, str] | None:
    """'password    hunter2' on a line of its own: a pandas Series or key/value table."""
    if s and text[s - 1] != "\n":
        return None
    m = _ROW_TAIL.match(text, s)
    if m is None:
        return None
    graded = _grade_name(m.group("name"))
    value = m.group("v")
    if graded is None or graded[0] != "strong" or not _value_ok(value, *graded):
        return None
    if (value.isalpha() and value.islower()) or (_DOTTED_IDENT.fullmatch(value) and "." in value):
        return None  # "password    required", "token    self.token"
    return m.start("v"), m.end("v"), graded[1]


def _assignment_span(text: str, s: int) -> tuple[tuple[int, int, str] | None, int]:
    """(span or None, position to resume the keyword search from)."""
    m = _KW_TAIL.match(text, s)
    if m is None:
        return _row_span(text, s), s
    span = _assignment_value(text, s, m)
    # a rejected bare value is one run without spaces: nothing inside it is a new name
    return span, (m.end() if m.group("uv") is not None else s)


def _assignment_value(text: str, s: int, m: re.Match[str]) -> tuple[int, int, str] | None:
    name = m.group("name")
    graded = _grade_name(name)
    if graded is None:
        return None
    grade, kind = graded
    sep = m.group("sep")
    for g in _QUOTED_GROUPS:
        if m.group(g) is not None:
            group, value = g, m.group(g)
            break
    else:
        group, value = "uv", m.group("uv")
    vs, ve = m.span(group)
    nxt = text[m.end() : m.end() + 1]
    if group == "uv" and (len(value) >= 512 or (sep == ":" and not text[vs - 1].isspace())):
        return None  # too long for a bare secret; "name:value" (URLs, ARNs, slices, user:pw)

    # connection strings: Server=x;Password=p w d;  (values may hold spaces)
    if (
        group == "uv"
        and sep == "="
        and name.lower() in _CONN_NAMES
        and (text[s - 1 : s] == ";" or text[s - 2 : s] == "; " or _conn_value_ends(text, vs))
    ):
        raw = _CONN_VALUE.match(text, vs).group(0).rstrip()
        if (
            is_placeholder(raw)
            or raw in _CODE_WORDS
            or "(" in raw
            or "[" in raw
            or ("." in raw and _DOTTED_IDENT.fullmatch(raw))
        ):
            return None
        return vs, vs + len(raw), "password"

    if group == "uv":
        value = _FORM_NEXT.split(value, 1)[0]  # user=x&password=y&grant_type=…
        value = value.rstrip(".*:")  # prose punctuation: "password: abc12**."
        ve = vs + len(value)
        if not value or nxt in ("(", "["):
            return None  # a call or a subscript: getpass(), os.environ["X"]
        if _NUMBER.fullmatch(value) and (
            kind != "password" or len(value) < 4 or not value.isdigit()
        ):
            return None
        if (
            _DOTTED_IDENT.fullmatch(value)
            and not _env_line(text, m, s, name)
            and _variable_ref(value, text, grade, sep)
        ):
            return None  # a bare identifier is a variable
        if sep == ":":
            if m.group("uv").endswith(":"):
                return None  # prose: "password: see below:"
            rest = text[ve : text.find("\n", ve) if "\n" in text[ve : ve + 200] else ve + 200]
            if len(re.findall(r"[A-Za-z]{2,}", rest)) >= 2 and not looks_like_secret(value, 8):
                return None  # docstring / prose: "client_secret: OAuth2 client secret"
            if grade == "strong" and value.isalpha() and is_wordy(value):
                return None  # "password: required"
    else:
        if nxt and (nxt.isalnum() or nxt in "\"'"):
            return None  # the closing quote was really an opening one
        if "r" in m.group("pre").lower():
            return None  # raw strings hold regexes and Windows paths
        if (
            value[:1].isspace()
            or value[:1] in ",);"
            or (" " in value and re.search(r"[,()=+|]", value))
        ):
            return None  # code or prose between two unrelated quotes
    if "[REDACTED:" in value or not _value_ok(value, grade, kind):
        return None
    return vs, ve, kind


def _variable_ref(value: str, text: str, grade: str, sep: str) -> bool:
    """Is a bare identifier after a secret-like name code (a variable), not a literal?"""
    if "." in value:
        return True  # attribute access: self.http_pwd, res1.factor
    if not _variable_like(value):
        return False  # random-looking: ZSLRsBZfxxPwwCEY, a8f3k2…
    if grade == "weak" or not any(c.isdigit() for c in value):
        return True  # pw, token_value
    if sep == ":":
        return False  # YAML: "password: hunter2"
    # password = hunter2: a variable only if it is used elsewhere or reads like snake_case
    return text.count(value) >= 2 or bool(re.fullmatch(r"[a-z][a-z0-9]*_[a-z0-9_]+", value))


def _variable_like(value: str) -> bool:
    """A bare identifier that reads like a variable: tok, pw1, lp2bs_zpk_signature."""
    if value in _CODE_WORDS:
        return True
    if not any(c.isdigit() for c in value):
        return is_wordy(value) or bool(re.fullmatch(r"[a-z_]+|[A-Z_]+", value))
    if is_wordy(value):
        return True
    if sum(c.isdigit() for c in value) <= 3 and is_wordy(re.sub(r"\d+", "", value)):
        return True  # PositionalIndexer2D, lp2bs_signature
    segments = [seg for seg in re.split(r"[_.]+", value) if seg]
    if len(segments) >= 2 and re.fullmatch(r"[a-z0-9_.]+", value):
        return any(len(seg) >= 3 and is_wordy(seg) for seg in segments)  # lp2bs_signature
    return len(segments) >= 2 and _mostly_words(segments)


def _conn_value_ends(text: str, vs: int) -> bool:
    raw = _CONN_VALUE.match(text, vs).group(0)
    return text[vs + len(raw) : vs + len(raw) + 1] == ";"


def _env_line(text: str, m: re.Match[str], s: int, name: str) -> bool:
    """NAME=value alone on a line (a .env file, a shell): there bare words are literals."""
    if not name.isupper() or m.group("sep") != "=" or text[m.end("name") : m.start("uv")] != "=":
        return False
    line_start = text.rfind("\n", 0, s) + 1
    if text[line_start:s] not in _LINE_PREFIX_ENV:
        return False
    if text[line_start:s] == "!":
        return True  # !PGPASSWORD=s3cret psql …
    line_end = text.find("\n", m.end())
    return not text[m.end() : line_end if line_end >= 0 else len(text)].strip()


# --------------------------------------------------------------------------------------
# The redactor
# --------------------------------------------------------------------------------------


class _Spans:
    """Accepted, non-overlapping (start, end, kind) spans, first come first served."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.items: list[tuple[int, int, str]] = []

    def add(self, start: int, end: int, kind: str) -> bool:
        if end <= start:
            return False
        i = bisect.bisect_left(self.starts, start)
        if i > 0 and self.items[i - 1][1] > start:
            return False
        if i < len(self.items) and self.items[i][0] < end:
            return False
        self.starts.insert(i, start)
        self.items.insert(i, (start, end, kind))
        return True


class Redactor:
    """Replace secrets in prompt text with ``[REDACTED:<kind>]``.

    ``extra_patterns`` are regular expressions (strings) for site-specific secrets; each
    match is replaced as ``[REDACTED:custom]``. If a pattern has a named group ``secret``,
    or else at least one capturing group, only that group (the first) is replaced, so
    ``r"ACME_KEY=(\\w+)"`` keeps ``ACME_KEY=``.
    """

    KNOWN_MIN_LENGTH = 8
    KNOWN_MAX = 5000
    KNOWN_OTHER_MAX = 64

    def __init__(self, enabled: bool = True, extra_patterns: list[str] | None = None):
        self.enabled = enabled
        # Values already found to be secrets (in this process only, never stored). A value
        # recognised once by its context is also hidden where it appears without one, e.g.
        # echoed in `NameError: name 'c9a5…' is not defined` or printed on its own.
        self._known: dict[str, str] = {}  # token-like values: found by one scan + set lookup
        self._known_other: dict[str, str] = {}  # values with spaces or punctuation: str.find
        self.extra: list[re.Pattern[str]] = []
        for p in extra_patterns or []:
            try:
                self.extra.append(re.compile(p))
            except re.error as exc:
                raise ValueError(f"invalid redaction pattern {p!r}: {exc}") from exc

    # -- text ------------------------------------------------------------------------------
    def redact(self, text: str) -> RedactionResult:
        if not self.enabled or not text or not isinstance(text, str):
            return RedactionResult(text, 0, [])
        lower = text.lower()
        if len(lower) != len(text):  # a few non-ASCII characters lower to two
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        spans = _Spans()
        for rule in _RULES:
            _apply_rule(rule, text, lower, spans)
        for start, end, kind in _keyword_spans(text, lower):
            spans.add(start, end, kind)
        for pat in self.extra:
            group: int | str = "secret" if "secret" in pat.groupindex else (1 if pat.groups else 0)
            for m in pat.finditer(text):
                if m.start(group) >= 0 and "[REDACTED:" not in m.group(group):
                    spans.add(m.start(group), m.end(group), "custom")
        self._learn(text, spans.items)
        if self._known:
            for m in _TOKEN.finditer(text):
                kind = self._known.get(m.group())
                if kind is not None:
                    spans.add(m.start(), m.end(), kind)
        for value, kind in self._known_other.items():
            at = text.find(value)
            while at >= 0:
                spans.add(at, at + len(value), kind)
                at = text.find(value, at + len(value))
        if not spans.items:
            return RedactionResult(text, 0, [])
        out, pos = [], 0
        for start, end, kind in spans.items:
            out.append(text[pos:start])
            out.append(MARKER.format(kind=kind))
            pos = end
        out.append(text[pos:])
        kinds = sorted({k for _, _, k in spans.items})
        return RedactionResult("".join(out), len(spans.items), kinds)

    def _learn(self, text: str, items: list[tuple[int, int, str]]) -> None:
        for start, end, kind in items:
            value = text[start:end]
            if len(value) < self.KNOWN_MIN_LENGTH:
                continue
            table = self._known if _TOKEN.fullmatch(value) else self._known_other
            if value in table:
                continue
            limit = self.KNOWN_MAX if table is self._known else self.KNOWN_OTHER_MAX
            if len(table) >= limit:
                table.pop(next(iter(table)))  # forget the oldest
            table[value] = kind

    # -- LiteLLM messages -----------------------------------------------------------------------
    def redact_messages(self, messages: list[dict]) -> tuple[list[dict], int]:
        """Return a new list of messages with secrets redacted, and the number replaced.

        ``content`` may be a string or a list of parts (``{"type": "text", "text": …}``;
        other parts such as images are copied unchanged). Tool-call arguments are redacted
        too. The input list, its dicts and their parts are not modified.
        """
        out: list[dict] = []
        total = 0
        if self.enabled:  # learn from every part first, so a secret named in one part is
            for text in _message_texts(messages):  # also hidden where another shows it bare
                self.redact(text)
        for msg in messages:
            new = dict(msg)
            out.append(new)
            if not self.enabled:
                continue
            content = msg.get("content")
            if isinstance(content, str):
                r = self.redact(content)
                new["content"], total = r.text, total + r.count
            elif isinstance(content, list):
                parts = []
                for part in content:
                    if isinstance(part, dict):
                        part = dict(part)
                        if isinstance(part.get("text"), str):
                            r = self.redact(part["text"])
                            part["text"], total = r.text, total + r.count
                    elif isinstance(part, str):
                        r = self.redact(part)
                        part, total = r.text, total + r.count
                    parts.append(part)
                new["content"] = parts
            calls = msg.get("tool_calls")
            if isinstance(calls, list):
                new_calls = []
                for call in calls:
                    if isinstance(call, dict) and isinstance(call.get("function"), dict):
                        call = dict(call)
                        fn = dict(call["function"])
                        if isinstance(fn.get("arguments"), str):
                            r = self.redact(fn["arguments"])
                            fn["arguments"], total = r.text, total + r.count
                        call["function"] = fn
                    new_calls.append(call)
                new["tool_calls"] = new_calls
        return out, total


# What a secret value looks like as one token in running text: split at quotes, spaces, `=`,
# `:`, `@`, brackets… so `name 'VALUE' is not defined` and `user:VALUE@host` yield VALUE.
_TOKEN = re.compile(r"[A-Za-z0-9+/_\-.~]+={0,2}")


def _message_texts(messages: list[dict]) -> list[str]:
    texts: list[str] = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part, str):
                    texts.append(part)
    return texts


def _apply_rule(rule: _Rule, text: str, lower: str, spans: _Spans) -> None:
    hay = lower if rule.on_lower else text
    if rule.needles and not any(n in hay for n in rule.needles):
        return
    for m in rule.pattern.finditer(hay):
        start = m.start()
        if rule.not_after and start and text[start - 1] in rule.not_after:
            continue
        if rule.groups:
            for g in rule.groups:
                if g and m.start(g) >= 0:
                    s, e = m.span(g)
                    break
            else:
                s, e = m.span()
        else:
            s, e = m.span()
        value = text[s:e]
        if not value or "[REDACTED:" in value:
            continue
        kind = rule.kind
        if rule.check is not None:
            verdict = rule.check(value, _Ctx(text, m))
            if verdict is None:
                continue
            kind = verdict or kind
        spans.add(s, e, kind)
