"""Value heuristics: entropy, documentation placeholders, words versus generated text;
the marker and the result type."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

MARKER = "[REDACTED:{kind}]"
Span = tuple[int, int, str]  # (start, end, kind) in the original text


@dataclass
class RedactionResult:
    text: str
    count: int  # secrets replaced
    kinds: list[str] = field(default_factory=list)  # e.g. ["aws_access_key", "jwt"]


def word_set(text: str) -> frozenset[str]:
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


_PLACEHOLDER_WORDS = word_set(
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
      | (?-i:%(?:\(\w*\))?[sdr])              # %s, %(password)s
      | \[[^\]]*\]                            # [REDACTED:x], [hidden]
      | [xX*•·.\#_\-0]+                       # xxx, ****, ...., ········
      | .*(?:\.\.\.|…|\*\*\*|REDACTED|PLACEHOLDER|CHANGE[_-]?ME|\bYOUR[_-]|^YOUR|<|>).*
      | .*(?:x{4,}|X{4,}).*                   # sk-xxxxxxxxxxxxxxxx
      | .*(?-i:EXAMPLE).*                     # AKIAIOSFODNN7EXAMPLE: documentation keys
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


CODE_WORDS = word_set(
    """
    None True False null true false nil undefined NaN nan self cls str bytes int float
    bool dict list tuple Optional Any getpass input lambda await not and or if else
    """
)
DOTTED_IDENT = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
NUMBER = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[oObB][0-7_]+|\d+(?:[.,_]\d+)*(?:[eE][-+]?\d+)?%?)"
)
_SECRET_CHARS = re.compile(r"[A-Za-z0-9+/=_\-.~!@$%^&*:?]+")
SEGMENT_SPLIT = re.compile(r"[-_.:/+]")
_WORDY_CHARS = re.compile(r"[A-Za-z0-9_./~:= \-]+")
_WORDY_SPLIT = re.compile(r"[-_./:= ~]+")
_WORDY_SEGMENT = re.compile(r"([A-Za-z]+)(\d{0,3})")
WORD_PIECE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_CONSONANT_RUN = re.compile(r"[b-df-hj-np-tv-xz]{5,}")
VOWEL = re.compile(r"[aeiouy]")
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
        pieces = WORD_PIECE.findall(letters)
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
            if len(low) >= 4 and not VOWEL.search(low):
                return False
    return True


def mostly_words(segments: list[str]) -> bool:
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
    if NUMBER.fullmatch(v) or re.fullmatch(r"[\d\-:T.+Z ]+", v):
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
    segments = [s for s in SEGMENT_SPLIT.split(v) if s]
    if len(segments) >= 2 and all(s.isalpha() or s.isdigit() or len(s) <= 4 for s in segments):
        return False  # structured identifier: bert-base-uncased, run_2024_05_v2, ISO dates
    if len(segments) >= 2 and mostly_words(segments):
        return False  # com.github.googlei18n.cu2qu, /v1beta1/projects/
    return shannon_entropy(v) >= (3.0 if len(v) >= 20 else 2.5)


# What a secret value looks like as one token in running text: split at quotes, spaces, `=`,
# `:`, `@`, brackets… so `name 'VALUE' is not defined` and `user:VALUE@host` yield VALUE.
VALUE_TOKEN = re.compile(r"[A-Za-z0-9+/_\-.~]+={0,2}")


_REFERENCE_START = re.compile(r"\$\{?[A-Za-z_]|\{\{?\s*[A-Za-z_]")


def is_reference(value: str) -> bool:
    """A shell or template reference standing for the value: $DB_PASS, ${token}, {{ pw }}."""
    return _REFERENCE_START.match(value) is not None
