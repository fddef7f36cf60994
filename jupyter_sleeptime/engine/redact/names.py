"""Name grading: which names (variables, keys, columns, flags, parameters) say "secret",
strongly (password, api_key: any literal) or weakly (key, token: a secret-shaped value)."""

from __future__ import annotations

import functools
import re

from .shapes import DIGIT, char_classes
from .values import (
    CODE_WORDS,
    DOTTED_IDENT,
    VALUE_TOKEN,
    is_placeholder,
    is_wordy,
    looks_like_secret,
    word_set,
)

# --------------------------------------------------------------------------------------
# Name grading for the keyword rule
# --------------------------------------------------------------------------------------

NAME_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

_PASSWORD_WORDS = word_set("password passwd passwort passphrase pwd pword passcode contrasena")
# "pass" and "pw" are passwords only after a word like these: db_pass, smtp_pw, USER_PASS
# (not low_pass, first_pass, pass_through, pw_matrix)
_PASS_ABBREVIATIONS = word_set("pass pw")
_PASS_PREFIXES = word_set(
    """
    db database smtp mail email user admin root login ftp sftp redis mysql pg postgres
    postgresql sql mssql oracle mongo ldap proxy wifi wlan ssh vpn app api account my your
    auth basic http https svc service rabbit rabbitmq amqp broker kafka es elastic
    """
)
_PASSWORD_SUFFIXES = ("password", "passwd", "passphrase")
_STRONG_WORDS = word_set(
    """
    secret secrets credential credentials creds cred apikey privatekey accesskey secretkey
    authtoken accesstoken apitoken refreshtoken clientsecret sessiontoken bearertoken
    authkey masterkey signingkey appid appkey
    """
)
_STRONG_SUFFIXES = (
    "secret", "apikey", "secretkey", "privatekey", "accesskey", "authtoken", "accesstoken",
    "apitoken", "credentials",
)  # fmt: skip
WEAK_WORDS = word_set("key token auth sig signature salt cookie session hmac private")
_KEY_STRONG_PREFIX = word_set(
    """
    api access secret private signing encryption encrypt master auth app service account
    subscription client license admin consumer webhook deploy ssh gpg pgp hmac storage shared
    """
)
_TOKEN_STRONG_PREFIX = word_set(
    """
    auth access refresh session bearer api oauth personal github gh hf slack bot id csrf xsrf
    app user admin service security jwt hub huggingface deploy registry sas pat
    """
)
NOT_SECRET_LAST = word_set(
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
    complexity changed updated created modified date time at
    """
)


_NAME_PARTS = re.compile(r"[.\[\]'\"]+")


@functools.lru_cache(maxsize=4096)
def grade_name(name: str) -> tuple[str, str] | None:
    """(grade, kind) for a secret-like name, grade in {"strong", "weak"}; else None."""
    last = _NAME_PARTS.split(name.strip(".[]'\"-"))[-1]
    tokens = [t.lower() for t in NAME_TOKEN.findall(last) if not t.isdigit()]
    if not tokens or tokens[-1] in NOT_SECRET_LAST or "public" in tokens or "pub" in tokens:
        return None  # public keys and key tokens are meant to be shared
    abbreviated = tokens[-1] in _PASS_ABBREVIATIONS and len(tokens) > 1
    if tokens in (["pass"], ["pw"]):
        return "strong", "password"  # a bare `pass`/`pw` key or variable: {"pass": …}, pw = …
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
    if any(t in WEAK_WORDS for t in tokens):
        return "weak", "token" if "token" in tokens else "secret"
    return None


# Values that local model servers and SDK docs put where a key is required but unused
_DUMMY_VALUES = word_set(
    """
    ollama llama.cpp llamacpp lm-studio lmstudio vllm tgi empty not-needed not_needed notneeded
    unused none dummy fake test testing local anything no-key nokey sk-no-key-required
    token-abc123 default changeme secret-key public
    """
)
_REFERENCE = re.compile(
    r"(?:[a-z][a-z0-9+.\-]*://|arn:|projects/|vault:|secret://|op://|os\.environ|env:|/|~/|\$|%\()",
    re.I,
)


def value_ok(value: str, grade: str, kind: str, quoted: bool = False) -> bool:
    """Does a literal next to a graded name deserve redaction?

    ``quoted``: the value is a string literal in code (``SECRET_KEY = "purple-violet-964"``):
    whatever a strong name holds there is a secret, words included, unless it is a
    placeholder, a stand-in for local servers (``api_key="ollama"``) or a reference (a URL,
    a path, an env-var name, a secret manager's id).
    """
    if is_placeholder(value) or value in CODE_WORDS:
        return False
    if grade == "weak":
        # a short random value in code: token="8cigs8Q3NT" (mixed case and digits)
        return looks_like_secret(value) or (
            quoted
            and 8 <= len(value) <= 64
            and VALUE_TOKEN.fullmatch(value) is not None
            and char_classes(value) >= 3
            and not is_wordy(value)
        )
    if kind == "password":
        return len(value) >= 3
    if quoted and len(value) >= 6:
        low = value.lower()
        return not (
            low in _DUMMY_VALUES
            or (_NAMES_ITSELF.search(low) and is_wordy(value) and not DIGIT.search(value))
            or _REFERENCE.match(value)
            or value.count(" ") >= 2  # prose: "the key of the vendor portal"
            or (DOTTED_IDENT.fullmatch(value) and "." in value)  # module.attr
        )
    # api keys, tokens and secrets: real ones are long and not made of words or paths
    if len(value) >= 8 and not is_wordy(value):
        return True
    # an ordinary-looking phrase built like a secret: walnut-saffron-963
    return bool(_PHRASE_SECRET.fullmatch(value))


# a value that only names what should be there: "my-client-secret", "test-api-key"
_NAMES_ITSELF = re.compile(r"secret|key|token|password|passwd|credential|auth")
_PHRASE_SECRET = re.compile(r"[A-Za-z]{3,}(?:[-_][A-Za-z]{3,})+[-_]?\d{2,}")
ID_WORDS = word_set(
    """
    id ids uid uuid guid sha sha1 sha256 sha512 hash hashes md5 digest checksum commit rev
    revision ref etag fingerprint oid objectid fromhex document doc seed version integrity
    nonce
    """
)


def is_id_name(name: str | None) -> bool:
    if not name:
        return False
    tokens = [t.lower() for t in NAME_TOKEN.findall(name.rsplit(".", 1)[-1])]
    return any(t in ID_WORDS for t in tokens)
