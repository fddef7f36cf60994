"""The passes of the redactor, in priority order: each reads the text (and its lowercase
twin) and proposes (start, end, kind) spans; the redactor keeps the first of overlapping
spans. Rule tables first (formats, then context patterns), then the structure passes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .assembled import connection_field_spans, pair_builder_spans, setter_spans
from .config_files import CONFIG_FILE_RULES, pgpass_spans
from .formats import FORMATS
from .keywords import keyword_spans
from .names import grade_name
from .patterns import CODE_RULES, CONCAT_RULES, ENVIRON_RULES, HEADER_RULES, LOGIN_RULES, XML_RULES
from .prose import comment_spans, html_code_spans, html_regions
from .python_source import call_spans, constructor_spans, dataflow_spans, literal_spans
from .rules import Ctx, Rule
from .shell import ENV_RULES, FLAG_RULES, NETRC_RULES, SHORT_FLAG_RULES, shell_spans
from .urls import (
    URL_PASSWORD_RULES,
    URL_PATH_RULES,
    URL_TOKEN_RULES,
    query_any_spans,
    signed_query_spans,
)
from .values import Span

Sinks = list[tuple[str, str]]  # (variable, kind): names handed to credential sinks


@dataclass(frozen=True)
class Pass:
    name: str  # said in the log when it fails
    run: Callable[[str, str, list[Span], Sinks], None]  # (text, lower, found, sinks)


RULES: tuple[Rule, ...] = (
    *FORMATS,
    *HEADER_RULES,
    *URL_PASSWORD_RULES,
    *CODE_RULES,
    *NETRC_RULES,
    *XML_RULES,
    *ENV_RULES,
    *ENVIRON_RULES,
    *FLAG_RULES,
    *CONCAT_RULES,
    *URL_PATH_RULES,
    *LOGIN_RULES,
    *SHORT_FLAG_RULES,
    *CONFIG_FILE_RULES,
    *URL_TOKEN_RULES,
)


def apply_rule(rule: Rule, text: str, lower: str, found: list[Span]) -> None:
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
            verdict = rule.check(value, Ctx(text, m))
            if verdict is None:
                continue
            kind = verdict or kind
        found.append((s, e, kind))


def _rule_pass(rule: Rule) -> Pass:
    def run(text: str, lower: str, found: list[Span], sinks: Sinks) -> None:
        apply_rule(rule, text, lower, found)

    return Pass(f"{rule.kind} rule /{rule.pattern.pattern[:60]}/", run)


_PLACEHOLDER_VAR = re.compile(r"\{(?P<var>[A-Za-z_]\w*)\}")
_SINK_BEFORE = re.compile(r"(?:(?i:bearer|token|basic)[ \t]+|[?&](?P<q>[A-Za-z_][\w.\-]*)=)$")


def _fstring_sinks(text: str, lower: str, found: list[Span], sinks: Sinks) -> None:
    """f"Bearer {tk}", f"…&appid={k}": the name in braces is a credential sink."""
    if "{" not in text:
        return
    for m in _PLACEHOLDER_VAR.finditer(text):
        before = _SINK_BEFORE.search(text, max(0, m.start() - 40), m.start())
        if before is not None and (before["q"] is None or grade_name(before["q"])):
            sinks.append((m.group("var"), "secret"))


def _html_text(text: str, lower: str, found: list[Span], sinks: Sinks) -> None:
    for a, _, masked in html_regions(text):
        html_code_spans(text, masked, a, found)
        found.extend((s + a, e + a, k) for s, e, k in keyword_spans(masked, masked.lower(), sinks))


def _dataflow(text: str, lower: str, found: list[Span], sinks: Sinks) -> None:
    if sinks:
        dataflow_spans(text, sinks, found)


PASSES: tuple[Pass, ...] = (
    *(_rule_pass(r) for r in RULES),
    Pass("keyword names", lambda t, low, f, s: f.extend(keyword_spans(t, low, s))),
    Pass("call arguments", lambda t, low, f, s: call_spans(t, f, s)),
    Pass("query strings", lambda t, low, f, s: query_any_spans(t, f, s)),
    Pass("generated literals", lambda t, low, f, s: literal_spans(t, f)),
    Pass("constructor keys", lambda t, low, f, s: constructor_spans(t, f)),
    Pass("comments", lambda t, low, f, s: comment_spans(t, f)),
    Pass("f-string sinks", _fstring_sinks),
    Pass("shell lines", lambda t, low, f, s: shell_spans(t, f)),
    Pass(".pgpass lines", lambda t, low, f, s: pgpass_spans(t, f)),
    Pass("signed URLs", lambda t, low, f, s: signed_query_spans(t, f)),
    Pass("header and cookie setters", lambda t, low, f, s: setter_spans(t, f)),
    Pass("user:password builders", lambda t, low, f, s: pair_builder_spans(t, f, s)),
    Pass("connection fields", lambda t, low, f, s: connection_field_spans(t, low, f)),
    Pass("HTML text nodes", _html_text),
    Pass("dataflow", _dataflow),  # last: reads the sinks the passes above found
)
