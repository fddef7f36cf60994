"""Context rules by pattern: Authorization headers, auth tuples, XML tags, environment
variables set from Python, values built by concatenation, "login: user / password"."""

from __future__ import annotations

from .rules import (
    ALNUM,
    ALNUM_U,
    Ctx,
    Rule,
    check_auth_header,
    env_value,
    graded_value,
    not_placeholder,
    rule,
    token_like,
)
from .shapes import typed_password

# HTTP basic-auth tuples and login calls: auth=("user", "pw"), HTTPBasicAuth("u", "pw"),
# smtp.login("me@example.com", "pw")
_PAIR = r"\s*(?:\"[^\"\r\n]*\"|'[^'\r\n]*')\s*,\s*(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)')"
_QVAL = r"(?:\"(?P<v>[^\"\r\n]+)\"|'(?P<v2>[^'\r\n]+)')"


def _slash_password(value: str, ctx: Ctx) -> str | None:
    return "" if typed_password(value) else None


HEADER_RULES: tuple[Rule, ...] = (
    rule(
        "auth_header",
        r"authorization[\"']?[ \t]*[:=][ \t]*[\"']?[ \t]*"
        r"(?:(?P<scheme>bearer|basic|token|bot|digest|apikey|sso-key|otp)[ \t]+)?"
        r"(?P<v>[a-z0-9\-._~+/]{8,}=*)",
        ("v",),
        ("authorization",),
        lower=True,
        check=check_auth_header,
    ),
    rule(
        "bearer_token",
        r"bearer[ \t]+(?P<v>[a-z0-9\-._~+/]{16,}=*)",
        ("v",),
        ("bearer",),
        lower=True,
        not_after=ALNUM_U,
        check=token_like,
    ),
)

CODE_RULES: tuple[Rule, ...] = (
    rule(
        "password",
        r"auth[ \t]*=[ \t]*\(" + _PAIR,
        ("v", "v2"),
        ("auth",),
        not_after=ALNUM,
        check=not_placeholder,
    ),
    rule(
        "password",
        r"HTTP(?:Basic|Digest)Auth\(" + _PAIR,
        ("v", "v2"),
        ("HTTP",),
        check=not_placeholder,
    ),
    rule("password", r"\.login\(" + _PAIR, ("v", "v2"), (".login(",), check=not_placeholder),
)

# XML / HTML: <password>…</password>, <ApiKey>…</ApiKey>
XML_RULES: tuple[Rule, ...] = (
    rule(
        "secret",
        r"<(?P<name>[A-Za-z_][\w:.\-]*)>(?P<v>[^<>\r\n]{1,256})</(?P=name)>",
        ("v",),
        ("</",),
        check=graded_value,
    ),
)

# environment variables set from Python: os.environ[...] =, os.environ.setdefault(...),
# os.putenv(...), dotenv.set_key(...)
ENVIRON_RULES: tuple[Rule, ...] = (
    rule(
        "secret",
        r"environ\[[ \t]*[\"'](?P<name>\w+)[\"'][ \t]*\][ \t]*=[ \t]*" + _QVAL,
        ("v", "v2"),
        ("environ[",),
        check=env_value,
    ),
    rule(
        "secret",
        r"(?:environ\.setdefault|putenv|set_key)\(\s*(?:[^,()]+,\s*)?[\"'](?P<name>\w+)[\"']"
        r"\s*,\s*" + _QVAL,
        ("v", "v2"),
        ("setdefault(", "putenv(", "set_key("),
        check=env_value,
    ),
)

# a value built by concatenation: "…?city=Paris&key=" + "9f3c…"
CONCAT_RULES: tuple[Rule, ...] = (
    rule(
        "secret",
        r"(?P<name>[A-Za-z_][\w\-]*)=[\"'][ \t]*\+[ \t]*[bBrRuU]?[\"']"
        r"(?P<v>[^\"'\s]{8,512})[\"']",
        ("v",),
        ("=' +", '=" +', "='+", '="+'),
        check=graded_value,
    ),
)

# "login: admin / S3cr3t!", "creds: etl / …": a user, a slash, a password
LOGIN_RULES: tuple[Rule, ...] = (
    rule(
        "password",
        r"\b(?:login|logon|credentials?|creds|account|user(?:name)?)\b[ \t]*[:=]?"
        r"[ \t]*[`'\"]?[\w.@\-]{2,40}[`'\"]?[ \t]*/[ \t]*[`'\"]?"
        r"(?P<v>[^\s`'\"/]{4,64}?)(?=[`'\".,;)]*(?:\s|$))",
        ("v",),
        ("login", "logon", "cred", "account", "user"),
        lower=True,
        check=_slash_password,
    ),
)
