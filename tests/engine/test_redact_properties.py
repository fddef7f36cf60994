"""Property-based tests of the redactor (hypothesis): generated notebook text never makes a
pass fail, a generated secret planted in any shape never survives, a generated look-alike
does.

The shapes and values here are generated from their own grammar, not taken from the
example corpus in tests/data/redaction/, so neither only confirms the other. Together the
tests below redact more than 100,000 generated texts; `test_generated_text_count` checks the
total when the whole module runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import string
import uuid
from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_sleeptime.engine.redact import RedactionResult, Redactor

# REDACT_PROPERTY_SCALE=0.05 runs a twentieth of the examples (quick local runs)
SCALE = float(os.environ.get("REDACT_PROPERTY_SCALE", "1"))
COUNT: Counter[str] = Counter()  # texts redacted per test
QUOTA = {  # examples per test; an example redacts one to four texts (~104,000 in all)
    "frames": 3_000,
    "dicts": 8_000,
    "tracebacks": 10_000,
    "shell": 6_000,
    "sources": 12_000,
    "secrets": 10_000,
    "look_alikes": 6_000,
}


def fast(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def redact(test: str, text: str) -> RedactionResult:
    """A fresh redactor (nothing learnt from other examples); no pass may fail."""
    COUNT[test] += 1
    res = Redactor().redact(text)
    assert "withheld" not in res.kinds, text  # a pass raised on this text
    return res


# --- everyday material ---------------------------------------------------------------------------
# Each example draws its shape from hypothesis and its bulk content from a seeded generator
# (one draw), which keeps the cost per text near the redactor's own cost.

WORDS = [
    "key",
    "token",
    "id",
    "endpoint",
    "session",
    "user",
    "auth",
    "route",
    "ms",
    "value",
    "name",
    "secret",
    "password",
    "pass",
    "pw",
    "api_key",
    "sig",
    "salt",
    "cookie",
    "count",
    "status",
    "/auth",
    "/key",
    "host",
    "port",
    "db",
    "region",
    "model",
    "score",
    "hash",
    "sha256",
    "uuid",
    "commit",
    "path",
    "url",
    "email",
    "date",
    "private",
    "access_key",
    "credentials",
    "login",
    "signature",
    "client_id",
    "client_secret",
    "bearer",
    "x",
    "y",
    "label",
    "kind",
    "mean",
    "std",
]
CHARS = string.ascii_letters + string.digits + " _-./:@=#$%&*!?"
seeds = st.integers(0, 2**32 - 1)


def short_text(rng: random.Random) -> str:
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 14)))


def cell(rng: random.Random) -> object:
    pick = rng.randint(0, 5)
    if pick == 0:
        return rng.choice(WORDS)
    if pick == 1:
        return rng.randint(-(10**6), 10**6)
    if pick == 2:
        return rng.choice([float("nan"), rng.uniform(-1e6, 1e6), round(rng.random(), 3)])
    if pick == 3:
        return rng.choice([None, True, False])
    return short_text(rng)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rng = random.Random(draw(seeds))
    columns = rng.sample(WORDS, draw(st.integers(1, 5)))
    rows = draw(st.integers(0, 5))
    frame = pd.DataFrame({c: [cell(rng) for _ in range(rows)] for c in columns})
    if rows and draw(st.booleans()):
        try:
            frame = frame.sort_values(columns[0])
        except TypeError:  # mixed types do not sort: printed as they are
            pass
    return frame


def printed(frame: pd.DataFrame) -> list[str]:
    return [
        str(frame),
        frame.to_string(index=False),
        frame.to_html(),
        str(frame[frame.columns[0]]),
    ]


def test_the_reported_frame_is_read_without_failing():
    frame = pd.DataFrame({"route": ["/auth", "/key"], "ms": [12, 9]}).sort_values("ms")
    for text in printed(frame):
        res = redact("examples", text)
        assert res.text == text  # nothing secret in it


@fast(QUOTA["frames"])
@given(frames())
def test_printed_frames_never_fail(frame):
    for text in printed(frame):
        redact("frames", text)


def nested(rng: random.Random, depth: int = 0) -> object:
    pick = rng.randint(0, 4 if depth < 2 else 2)
    if pick == 3:
        return [nested(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if pick == 4:
        return {rng.choice(WORDS): nested(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return cell(rng)


@fast(QUOTA["dicts"])
@given(seeds, st.integers(0, 6))
def test_dict_reprs_never_fail(seed, size):
    rng = random.Random(seed)
    value = {rng.choice(WORDS): nested(rng) for _ in range(size)}
    redact("dicts", repr(value))
    redact("dicts", json.dumps(value, indent=2, default=str))
    redact("dicts", repr([value, {"rows": list(value.items())}]))


@fast(QUOTA["tracebacks"])
@given(seeds, st.integers(1, 3), st.sampled_from(["KeyError", "ValueError", "HTTPError"]))
def test_tracebacks_never_fail(seed, depth, error):
    rng = random.Random(seed)
    lines = ["Traceback (most recent call last):"]
    for _ in range(depth):
        name, other = rng.choice(WORDS).strip("/") or "x", rng.choice(WORDS).strip("/") or "y"
        lines += [
            f'  File "/home/u/{name}.py", line {rng.randint(1, 999)}, in {other}',
            f"      1 {name} = {cell(rng)!r}",
            f"----> 2 {other}({name}, {rng.choice(WORDS)!r})",
        ]
    redact("tracebacks", "\n".join([*lines, f"{error}: {cell(rng)!r}"]))


SHELL_WORDS = ["-p", "-u", "--password", "--token=", "-H", "|", ">", "<<EOF", "&&", "EOF"]


def shell_line(rng: random.Random) -> str:
    pool = (WORDS, SHELL_WORDS)
    return " ".join(
        rng.choice(rng.choice(pool)) if rng.random() < 0.7 else short_text(rng)
        for _ in range(rng.randint(1, 8))
    )


@fast(QUOTA["shell"])
@given(seeds, st.sampled_from(["%%bash", "%%script bash", "%%sh"]))
def test_shell_lines_never_fail(seed, magic):
    rng = random.Random(seed)
    lines = [shell_line(rng) for _ in range(3)]
    redact("shell", "\n".join("!" + line for line in lines))
    redact("shell", f"out = !{lines[0]}\n" + "\n".join(lines[1:]))
    redact("shell", magic + "\n" + "\n".join(lines))


def python_line(rng: random.Random) -> str:
    name = rng.choice(WORDS).strip("/") or "x"
    callee = rng.choice(["connect", "Client", "login", "get", "f", "requests.post", "set"])
    value, other = cell(rng), rng.choice(WORDS)
    return rng.choice(
        [
            f"{name} = {value!r}",
            f"{callee}({name}={value!r})",
            f"{callee}(\n    {value!r},\n    {name}={other!r},\n)",
            f"d[{name!r}] = {value!r}  # {short_text(rng)}",
            f'raw = "%s:%s" % ({name}, {value!r})',
            f"{name}: {other} = {value!r}",
            f'headers[{other!r}] = f"{{{name}}}:{{{callee}}}"',
        ]
    )


@fast(QUOTA["sources"])
@given(seeds, st.integers(1, 6))
def test_python_sources_never_fail(seed, n):
    rng = random.Random(seed)
    source = "\n".join(python_line(rng) for _ in range(n))
    redact("sources", source)
    output = "\n".join(str(cell(rng)) for _ in range(n))
    redact("sources", f"In [{n}]:\n{source}\nOut [{n}]:\n{output}")  # as prompts show cells


# --- planted secrets -----------------------------------------------------------------------------

LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits


def typed_password(rng: random.Random) -> str:
    """What a person types: upper, lower, digits and some punctuation, 10-20 characters."""
    parts = [
        "".join(rng.choice(pool) for _ in range(rng.randint(low, high)))
        for pool, low, high in (
            (UPPER, 2, 4),
            (LOWER, 3, 6),
            (DIGITS, 2, 4),
            ("!%*^+", 1, 2),
            (UPPER + LOWER + DIGITS, 2, 4),
        )
    ]
    rng.shuffle(parts)
    return "".join(parts)


def api_token(rng: random.Random) -> str:
    """A generated key: 24-40 characters of mixed case and digits."""
    body = "".join(rng.choice(UPPER + LOWER + DIGITS) for _ in range(rng.randint(18, 34)))
    parts = [body, "Q7", "k3", "Zr9"]
    rng.shuffle(parts)
    return "".join(parts)


hex_sig = st.binary(min_size=32, max_size=32).map(lambda b: hashlib.sha256(b).hexdigest())
secret_name = st.sampled_from(["password", "api_key", "client_secret", "db_password", "secret"])


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str]:
    """(text, secret): a generated secret in one of the shapes notebooks show them in."""
    rng = random.Random(draw(seeds))
    pw, tok, sig = typed_password(rng), api_token(rng), draw(hex_sig)
    name, other = draw(secret_name), draw(st.sampled_from(WORDS)).strip("/") or "x"
    shape = draw(st.integers(0, 13))
    if shape <= 2:  # a DataFrame with a secret-named column, printed three ways
        frame = pd.DataFrame({"user": ["etl", "bi"], name: [pw, typed_password(rng)]})
        return [str(frame), frame.to_string(index=False), frame.to_html()][shape], pw
    return {
        3: (repr({other: draw(st.integers()), name: pw, "host": "db.internal"}), pw),
        4: (
            "Traceback (most recent call last):\n"
            f'  File "/srv/app.py", line 3, in <module>\n      2 {name} = "{pw}"\n'
            f"----> 3 connect(host, {name})\nOperationalError: authentication failed",
            pw,
        ),
        5: (f"!export {name.upper()}={pw}\n!python train.py", pw),
        6: (f'!curl -s -H "Authorization: Bearer {tok}" https://api.corp.example/v1', tok),
        7: (f"!pip install --index-url https://deploy:{pw}@pypi.corp.example/simple pkg", pw),
        8: (f'client = Client(\n    endpoint="https://x.example",\n    {name}="{pw}",\n)', pw),
        9: (
            f"![chart](https://b.s3.amazonaws.com/c.png?X-Amz-Expires=300&X-Amz-Signature={sig})",
            sig,
        ),
        10: (f"%%bash\ncat > ~/.pgpass <<EOF\ndb.internal:5432:sales:etl:{pw}\nEOF", pw),
        11: (
            f"%%bash\ncat > ~/.netrc <<EOF\nmachine git.corp\n  login bot\n  password {pw}\nEOF",
            pw,
        ),
        12: (f'session.cookies.set("sessionid", "{tok}")', tok),
        13: (
            f'auth = "%s:%s" % ("svc", "{pw}")\nheaders["Authorization"] = "Basic " + b64(auth)',
            pw,
        ),
    }[shape]


@fast(QUOTA["secrets"])
@given(planted())
def test_a_planted_secret_never_survives(case):
    text, secret = case
    assert secret not in redact("secrets", text).text, text


# --- look-alikes ---------------------------------------------------------------------------------


@st.composite
def look_alikes(draw: st.DrawFn) -> tuple[str, str]:
    """(text, keep): values that resemble secrets but are not, where notebooks show them."""
    blob = draw(st.binary(min_size=16, max_size=48))
    digest = hashlib.sha256(blob).hexdigest()
    ident = str(uuid.UUID(bytes=draw(st.binary(min_size=16, max_size=16)), version=4))
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + blob * 4).decode()
    shape = draw(st.integers(0, 7))
    if shape == 0:
        frame = pd.DataFrame({"file": ["a.csv", "b.csv"], "sha256": [digest, digest[::-1]]})
        return str(frame), digest[:30]  # pandas cuts long cells
    if shape == 1:
        frame = pd.DataFrame({"id": [ident], "score": [draw(st.floats(0, 1))]})
        return frame.to_html(), ident
    return {
        2: (f"Downloaded {draw(st.sampled_from(WORDS))}.zip\nsha256: {digest}", digest),
        3: (
            f"commit {hashlib.sha1(blob).hexdigest()}\nAuthor: A <a@b.c>",
            hashlib.sha1(blob).hexdigest(),
        ),
        4: (f'<img src="data:image/png;base64,{png}"/>', png),
        5: (
            'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"  # the documented example',
            "AKIAIOSFODNN7EXAMPLE",
        ),
        6: (f"run_id = '{ident}'\nprint(run_id)", ident),
        7: (f"token_count = {draw(st.integers(0, 10**6))}", "token_count = "),
    }[shape]


@fast(QUOTA["look_alikes"])
@given(look_alikes())
def test_a_look_alike_survives(case):
    text, keep = case
    assert keep in redact("look_alikes", text).text, text


def test_generated_text_count(capsys):
    """Runs last in this module: when the property tests above all ran, they redacted more
    than 100,000 generated texts."""
    ran = {k for k in QUOTA if COUNT[k]}
    if ran != set(QUOTA) or SCALE < 1:
        pytest.skip("only part of the module ran")
    total = sum(COUNT[k] for k in QUOTA)
    with capsys.disabled():
        print(f"\n[redaction properties] {total:,} generated texts redacted, 0 failures")
    assert total >= 100_000
