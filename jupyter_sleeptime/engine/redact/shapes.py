"""Shapes of values: what a typed password, a key, an identity (user, e-mail, host) and a
random token look like."""

from __future__ import annotations

import re

from .values import (
    CODE_WORDS,
    DOTTED_IDENT,
    SEGMENT_SPLIT,
    VALUE_TOKEN,
    VOWEL,
    WORD_PIECE,
    is_placeholder,
    is_wordy,
    looks_like_secret,
    shannon_entropy,
)

LETTERS = re.compile(r"[A-Za-z]")


# -- shapes of values ------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_HOSTLIKE = re.compile(
    r"(?:[a-z0-9\-]+\.)+[a-z0-9\-]+(?::\d+)?|\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?|localhost(?::\d+)?",
    re.I,
)
_LOWER_IDENT = re.compile(r"[a-z][a-z0-9]*(?:[._\-][a-z0-9]+)*")
_APP_PASSWORD = re.compile(r"[a-z]{4}(?: [a-z]{4}){3}")
ALGORITHM = re.compile(
    r"(?:hs|rs|es|ps)\d{3}|sha-?\d*|md5|blake2\w*|utf-?8|ascii|latin-?1|base64|hex|aes|gcm|cbc"
    r"|ecb|pem|der|raw|eddsa|none",
    re.I,
)


def identity_like(value: str) -> bool:
    """Hosts, e-mail addresses, URLs, paths, LDAP names: who or where, not a secret."""
    return bool(
        EMAIL.fullmatch(value)
        or _HOSTLIKE.fullmatch(value)
        or "://" in value
        or value[:1] in "/~."
        or ("=" in value and "," in value)  # cn=admin,dc=corp
    )


DIGIT = re.compile(r"\d")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def char_classes(value: str) -> int:
    """How many of lowercase, uppercase, digits and other characters the value mixes."""
    return (
        (value.upper() != value)
        + (value.lower() != value)
        + (DIGIT.search(value) is not None)
        + (_NOT_ALNUM.search(value) is not None)
    )


_FORMAT = re.compile(
    r"%(?:\(\w+\))?[-+ #0]*\d*(?:\.\d+)?[sdrfgeiu](?![A-Za-z0-9])|%[YmdHMSjaAbBpzZ]|\{"
)


def password_like(value: str, classes: int = 2) -> bool:
    """Typed like a password: several character classes (a space counts), not a name."""
    if not 4 <= len(value) <= 128:
        return False
    if _APP_PASSWORD.fullmatch(value):
        return True
    if char_classes(value) < classes or value.count(" ") >= 2 or _FORMAT.search(value):
        return False  # one kind of character, prose, format strings
    if is_placeholder(value) or value in CODE_WORDS or identity_like(value):
        return False
    return not (classes < 3 and _LOWER_IDENT.fullmatch(value)) and not is_wordy(value)


def key_like(value: str) -> bool:
    """An API key / token / signing secret: long and random, not a CamelCase name."""
    return looks_like_secret(value, 12) and not identity_like(value) and not _camel_words(value)


MIXED = re.compile(r"(?=[^a-z]*[a-z])(?=[^A-Z]*[A-Z])(?=\D*\d)")


def strongly_random(value: str) -> bool:
    """Mixed-case letters and digits, long and dense: generated, not typed or named."""
    if len(value) < 20 or not MIXED.match(value) or not VALUE_TOKEN.fullmatch(value):
        return False  # (base64, hex, url-safe alphabets; not URLs with ?, & and =)
    if value[:7].lower().startswith(("sha", "md5")):
        return False  # "sha384-…" integrity hashes
    longest = max(SEGMENT_SPLIT.split(value), key=len)
    if len(longest) < 10 or not MIXED.match(longest):
        return False  # agent/L1RT58GYRW/MFPSBCXYTW: no random piece mixes all three
    if DOTTED_IDENT.fullmatch(value) and all(map(_dotted_word, value.split("."))):
        return False  # nbconvert.preprocessors.SVG2PDFPreprocessor
    if len(_DIGIT_RUN.findall(value)) <= 3 and _camel_words(value):
        return False  # CreateOAuth2TokenWithIAM, TestDraft201909Format: words and numbers
    if _ALPHABET_RUN.search(value):
        return False  # "0123456789abcdefABCDEF": an alphabet, not a draw from it
    return looks_like_secret(value, 20) and shannon_entropy(value) >= 3.6


def _dotted_word(part: str) -> bool:
    return is_wordy(part) or _camel_words(part)


def _camel_words(value: str) -> bool:
    """Most letters sit in word-like pieces: CamelCase words (3+ letters with a vowel) or
    acronyms before a capitalised word (NDArray). Random base62 breaks into 1-2 letter runs."""
    total = good = 0
    for chunk in _NON_LETTERS.split(value):
        if chunk.isupper() and len(chunk) <= 8:
            continue  # an acronym between digits: CIPDF417, SQL2D, NFCISO15693
        pieces = WORD_PIECE.findall(chunk)
        for i, piece in enumerate(pieces):
            total += len(piece)
            nxt = pieces[i + 1] if i + 1 < len(pieces) else ""
            if len(piece) >= 3 and piece[1:].islower() and VOWEL.search(piece.lower()):
                good += len(piece)
            elif (
                piece.isupper()
                and 2 <= len(piece) <= 8
                and nxt[:1].isupper()
                and nxt[1:2].islower()
            ):
                good += len(piece)  # NDArray, NEVPNIKEv2
    return total > 0 and good >= 0.8 * total


_NON_LETTERS = re.compile(r"[^A-Za-z]+")
_DIGIT_RUN = re.compile(r"\d+")
_ALPHABET_RUN = re.compile(
    r"(?:0123|1234|2345|3456|4567|5678|6789|abcd|bcde|cdef|ABCD|BCDE|CDEF|wxyz|WXYZ){2}"
)


def login_password_ok(value: str) -> bool:
    """The last argument of a login call: anything but a name, a host or a placeholder."""
    if is_placeholder(value) or identity_like(value) or len(value) < 4:
        return False
    return password_like(value) or not is_wordy(value)


def typed_password(value: str) -> bool:
    """What people type as a password, not an id or a model name (claude-3-5-sonnet-2024…):
    upper and lower case and a digit, or a letter, a digit and punctuation like !#$%&*@?"""
    if not password_like(value, classes=3):
        return False
    has_letter, has_digit = LETTERS.search(value), DIGIT.search(value)
    return bool(has_letter and has_digit and (MIXED.match(value) or _TYPED_PUNCT.search(value)))


_TYPED_PUNCT = re.compile(r"[!#$%&*@?+=^~]")
