"""results.json → report.md and the README "Performance" table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import mcp_micro

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


# -- formatting ---------------------------------------------------------------------------------
def ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}×"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def frac(correct: int, n: int) -> str:
    return "–" if not n else f"{correct}/{n} ({100 * correct / n:.0f} %)"


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    marks = [":---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += [
        "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def _accuracy_cell(summary: dict[str, Any]) -> str:
    scored = summary.get("n_scored") or 0
    acc = summary.get("accuracy")
    if not scored or acc is None:
        return "–"
    return f"{pct(acc)} ({round(acc * scored)}/{scored})"


def machine_line(meta: dict[str, Any]) -> str:
    machine = meta.get("machine", {})
    return (
        f"{machine.get('cpu_model') or 'unknown CPU'}, {machine.get('cores')} cores"
        f"{', ' + str(machine.get('memory_gb')) + ' GB RAM' if machine.get('memory_gb') else ''}"
    )


def _measured(goal: dict[str, Any]) -> str:
    value = goal.get("measured")
    if value is None:
        return "–"
    fmt = goal.get("fmt") or _legacy_format(goal["goal"])
    if fmt == "pcts":
        return f"sleep {pct(value[0])}, baseline {pct(value[1])}"
    if fmt == "hits":
        return f"{pct(value[0])} of questions, {pct(value[1])} of them right"
    if fmt == "ratio":
        return ratio(value)
    if fmt == "pct":
        return pct(value)
    if fmt == "points":
        return f"{100 * value:+.0f} points"
    if fmt == "signed_pct":
        return f"{100 * value:+.1f} %"
    if fmt == "tokens":
        return f"{value:,.0f}"
    return ms(value)


def _legacy_format(name: str) -> str:
    """Results written before goals carried their format."""
    if "accuracy" in name:
        return "pcts"
    if "÷" in name:
        return "ratio"
    return "signed_pct" if "CPU" in name else "ms"


def _status(goal: dict[str, Any]) -> str:
    met = goal.get("met")
    return "not measured" if met is None else ("met" if met else "**missed**")


# -- the report ---------------------------------------------------------------------------------
def render_report(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    summary = results.get("summary", {})
    modes = [m for m in meta.get("modes", []) if m in summary]
    out: list[str] = ["# jupyter-sleeptime benchmark", "", *_run_description(meta, modes), ""]
    if results.get("goals"):
        out += _goals_section(results)
    if summary:
        out += _per_mode_section(summary, modes)
        out += _ratios_section(results.get("ratios", {}))
        out += _accuracy_by_kind_section(results.get("accuracy_by_kind", {}), modes)
    notebooks = results.get("notebooks") or []
    if notebooks:
        out += _sleep_cost_section(notebooks)
    amort = results.get("amortised")
    if amort:
        out += _amortised_section(amort)
    micro = results.get("micro")
    if micro:
        out += ["## Micro-benchmarks", ""]
        out += render_micro(micro)
    if "prepared_hits" in results:
        out += prepared_hits_section(results["prepared_hits"])
    questions = results.get("questions") or []
    if questions:
        out += _questions_section(questions)
    return "\n".join(out).rstrip() + "\n"


def prepared_hits_section(hits: list[dict[str, Any]]) -> list[str]:
    """Every prepared answer served, with whether it was right; every wrong one named."""
    out = ["## Prepared answers served (sleep mode)", ""]
    if not hits:
        return [*out, "No eval question was answered from a prepared answer.", ""]
    wrong = [h for h in hits if h["right"] is False]
    right = sum(1 for h in hits if h["right"])
    unscored = len(hits) - right - len(wrong)
    out.append(
        f"{len(hits)} prepared answers served: {right} right, {len(wrong)} wrong, "
        f"{unscored} not scorable (rubric only)."
    )
    out.append("")
    if wrong:
        out.append("**Wrong prepared answers:**")
        out += [
            f"- `{h['id']}` ({h['notebook']}): {h['question']!r} answered by the prepared "
            f"{h.get('prepared_from') or ''} answer to {h.get('matched')!r}; missing: "
            f"{', '.join(h['missing']) or '–'}"
            for h in wrong
        ]
        out.append("")
    rows = [
        [
            h["id"],
            h["question"][:70],
            (h.get("matched") or "")[:50],
            h.get("prepared_from") or "",
            "–" if h["right"] is None else ("yes" if h["right"] else "**no**"),
        ]
        for h in hits
    ]
    out += [table(["id", "question", "prepared question", "from", "right"], rows, "lllll"), ""]
    return out


def _run_description(meta: dict[str, Any], modes: list[str]) -> list[str]:
    """Date, machine, model, versions, data, order policy, command: what was measured."""
    return [
        f"- **Date**: {meta.get('date')}",
        f"- **Machine**: {machine_line(meta)}; load average {meta.get('loadavg_start')} at the start, "
        f"{meta.get('loadavg_end')} at the end",
        f"- **Model**: `{meta.get('model')}` (idle-time thinking: `{meta.get('sleep_model')}`), "
        f"temperature 0, at most {meta.get('answer_max_tokens')} answer tokens",
        f"- **Python** {meta.get('python')}; "
        + ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items() if v),
        f"- **Notebooks**: {len(meta.get('notebooks') or [])}; **questions**: {meta.get('questions')} "
        f"(× {meta.get('repeat', 1)} repeat(s)) in modes {', '.join(modes) or '–'}",
        f"- **Order policy**: `{meta.get('order')}` — {meta.get('order_note', '')}",
        f"- **Idle debounce**: {meta.get('idle_seconds')} s; every notebook ran on a fresh server and store.",
        f"- **Command**: `{meta.get('command', '')}`",
    ]


def _goals_section(results: dict[str, Any]) -> list[str]:
    out = ["## Goals", ""]
    out.append(
        table(
            ["goal", "target", "measured", "status"],
            [[g["goal"], g["target"], _measured(g), _status(g)] for g in results["goals"]],
            "lllr",
        )
    )
    notes = [f"- {g['goal']}: {g['note']}" for g in results["goals"] if g.get("note")]
    notes += limits(results)
    if notes:
        out += ["", *notes]
    out.append("")
    return out


PER_MODE_COLUMNS = [
    "mode",
    "n",
    "accuracy",
    "median latency",
    "p95 latency",
    "median TTFT",
    "p95 TTFT",
    "median prompt tok",
    "median uncached",
    "median completion",
    "anticipated hits",
    "errors",
]


def _hits_cell(s: dict[str, Any]) -> str:
    """`14/36 (39 %), 13 of 14 right, 4 ms`: hits, how many were right, their latency."""
    if s.get("anticipated_hit_rate") is None:
        return "–"
    text = f"{s['anticipated_hits']}/{s['n_ok']} ({pct(s['anticipated_hit_rate'])})"
    if s.get("n_scored_hits"):
        right = round((s.get("hit_accuracy") or 0) * s["n_scored_hits"])
        text += f", {right} of {s['n_scored_hits']} scorable right"
    if s.get("median_latency_hits_ms") is not None:
        text += f", median {ms(s['median_latency_hits_ms'])}"
    return text


def _per_mode_row(mode: str, s: dict[str, Any]) -> list[str]:
    hits = (
        "–"
        if s.get("anticipated_hit_rate") is None
        else f"{s['anticipated_hits']} ({pct(s['anticipated_hit_rate'])})"
    )
    return [
        f"`{mode}`",
        str(s["n"]),
        _accuracy_cell(s),
        ms(s["median_latency_ms"]),
        ms(s["p95_latency_ms"]),
        ms(s["median_ttft_ms"]),
        ms(s["p95_ttft_ms"]),
        num(s["median_prompt_tokens"]),
        num(s["median_uncached_prompt_tokens"]),
        num(s["median_completion_tokens"]),
        hits,
        str(s["n_errors"]),
    ]


def _per_mode_section(summary: dict[str, Any], modes: list[str]) -> list[str]:
    out = [
        "## Per mode",
        "",
        "Latency and time to first token are server-side (from the `done` event); client "
        "round trips are in results.json. Uncached prompt tokens = prompt tokens whose KV "
        "entries were not reused (what the model actually prefilled at query time).",
        "",
    ]
    out.append(table(PER_MODE_COLUMNS, [_per_mode_row(mode, summary[mode]) for mode in modes]))
    out += [
        "",
        "Answers that needed the model (prepared answers left out):",
        "",
        table(
            ["mode", "n", "median TTFT", "median uncached prompt tok", "median decode tok/s"],
            [
                [
                    f"`{mode}`",
                    str(summary[mode].get("n_model", "–")),
                    ms(summary[mode].get("model_median_ttft_ms")),
                    num(summary[mode].get("model_median_uncached_prompt_tokens")),
                    num(summary[mode].get("model_median_decode_tok_per_s"), 1),
                ]
                for mode in modes
            ],
        ),
    ]
    return out


RATIO_NAMES = {
    "latency": "median latency",
    "p95_latency": "p95 latency",
    "ttft": "median time to first token",
    "prompt_tokens": "median prompt tokens",
    "uncached_prompt_tokens": "median uncached prompt tokens",
}


def _ratios_section(r: dict[str, Any]) -> list[str]:
    out = ["", "## Ratios (baseline ÷ sleep; > 1 means sleep mode is faster / smaller)", ""]
    cols = [("baseline", r)] + (
        [("baseline-budget", r["baseline_budget"])] if r.get("baseline_budget") else []
    )
    cols = [
        (name, values)
        for name, values in cols
        if values.get("latency") is not None or values.get("prompt_tokens") is not None
    ]
    if cols:
        out.append(
            table(
                ["", *[f"`{c}` ÷ `sleep`" for c, _ in cols]],
                [
                    [label, *[ratio(v.get(key)) for _, v in cols]]
                    for key, label in RATIO_NAMES.items()
                ],
            )
        )
    else:
        out.append("Not computable (needs sleep mode and a baseline mode).")
    return out


def _accuracy_by_kind_section(kinds: dict[str, Any], modes: list[str]) -> list[str]:
    """The accuracy table by question kind, then the figures of the per-mode sections."""
    out = [
        "",
        "## Accuracy by question kind",
        "",
        "Automatic score: every `must_contain` token occurs in the answer (case-insensitive). "
        "Questions with an empty `must_contain` are judged by their rubric only and are not "
        "counted here.",
        "",
    ]
    out.append(
        table(
            ["kind", *[f"`{m}`" for m in modes]],
            [
                [kind, *[frac(v[m]["correct"], v[m]["n"]) for m in modes]]
                for kind, v in kinds.items()
            ],
        )
    )
    out += [
        "",
        "![latency per mode](latency.png)",
        "",
        "![query-time prompt tokens per mode](prompt_tokens.png)",
        "",
        "![accuracy by question kind](accuracy_by_kind.png)",
        "",
    ]
    return out


SLEEP_COST_COLUMNS = [
    "notebook",
    "cells run",
    "execution",
    "sleep",
    "thinking run",
    "calls",
    "prompt tok",
    "completion tok",
    "anticipated",
    "questions",
    "problems",
]


def _sleep_cost_row(nb: dict[str, Any]) -> list[str]:
    stop = nb.get("stopped_at_error")
    last_run = nb.get("last_run") or {}
    return [
        nb["notebook"],
        f"{nb.get('cells_executed', '–')}/{nb.get('cells_total', '–')}"
        + (f" (stopped: {stop['ename']})" if stop else ""),
        seconds(nb.get("execution_seconds")),
        seconds(nb.get("sleep_seconds")),
        seconds(nb.get("thinking_run_seconds")),
        num(nb.get("sleep_calls")),
        num(nb.get("sleep_prompt_tokens")),
        num(nb.get("sleep_completion_tokens")),
        str(len(nb.get("anticipated") or [])),
        str(nb.get("questions", 0)),
        nb.get("error", "")
        or ("" if last_run.get("ok", True) else f"last run: {last_run.get('error')}"),
    ]


def _sleep_cost_section(notebooks: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Sleep-time cost per notebook",
        "",
        "Sleep seconds run from the end of the last cell (the kernel goes idle) until idle "
        "thinking has nothing left to do, idle debounce included; *thinking run* is the "
        "scheduler's own run time. Tokens are prompt + completion of every idle-time call "
        "(KV warm-up included).",
        "",
    ]
    rows = [_sleep_cost_row(nb) for nb in notebooks]
    out.append(table(SLEEP_COST_COLUMNS, rows, "lrrrrrrrrrl"))
    out.append("")
    return out


def _amortised_section(amort: dict[str, Any]) -> list[str]:
    out = [
        "## Amortised compute per question (the paper's Figure 9 view)",
        "",
        "Tokens per question when N questions share one notebook state: sleep mode pays "
        "its idle-time tokens once per notebook (÷ N) plus its query tokens; the baselines "
        "pay query tokens only. Mean over notebooks; prompt + completion tokens "
        "(*uncached*: query prompt tokens reused from the KV cache not counted).",
        "",
    ]
    picks = [n for n in (1, 2, 3, 5, 10) if n in amort["n"]]
    rows = []
    keys = ("total", "uncached") if amort.get("uncached_differs", True) else ("total",)
    for key in keys:
        for mode, series in (amort.get(key) or {}).items():
            rows.append([f"`{mode}` ({key})", *[num(series[amort["n"].index(n)]) for n in picks]])
    out.append(table(["mode", *[f"N = {n}" for n in picks]], rows))
    be = amort.get("break_even_questions")
    when = (
        f"{be:.1f} questions per notebook"
        if be
        else "no number of questions (its query tokens are not lower)"
    )
    out += [
        "",
        f"Sleep mode breaks even with the full baseline after {when} (total tokens).",
        "",
        "![amortised compute](amortised.png)",
        "",
    ]
    return out


QUESTION_COLUMNS = [
    "notebook",
    "id",
    "kind",
    "mode",
    "source",
    "latency",
    "TTFT",
    "prompt",
    "cached",
    "completion",
    "correct",
    "missing / error",
]


def _question_row(q: dict[str, Any]) -> list[str]:
    return [
        q["notebook"].removesuffix(".ipynb"),
        q["id"],
        q["kind"],
        q["mode"],
        q.get("source") or "",
        ms(q["latency_ms"]),
        ms(q["ttft_ms"]),
        num(q["prompt_tokens"]),
        num(q["cached_tokens"]),
        num(q["completion_tokens"]),
        "–" if q["correct"] is None else ("yes" if q["correct"] else "no"),
        ", ".join(q.get("missing") or []) or (q.get("error") or "")[:80],
    ]


def _questions_section(questions: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Every question",
        "",
        "Answers are in results.json. `missing`: `must_contain` tokens absent from the answer.",
        "",
    ]
    out.append(table(QUESTION_COLUMNS, [_question_row(q) for q in questions], "llllrrrrrrrl"))
    out.append("")
    return out


def limits(results: dict[str, Any]) -> list[str]:
    """What limits a missed goal, from the measurements themselves."""
    notes: list[str] = []
    summary = results.get("summary", {})
    sleep, base = summary.get("sleep"), summary.get("baseline")
    for goal in results.get("goals", []):
        if goal.get("met") is not False:
            continue
        if "latency" in goal["goal"] and sleep and base:
            notes.append(
                f"- Why latency missed: answers decode a median of {num(sleep['median_completion_tokens'])} "
                f"(sleep) vs {num(base['median_completion_tokens'])} (baseline) completion tokens; "
                "decoding costs the same per token in both modes, so it bounds the latency ratio "
                "however small the sleep-mode prompt gets. Median time to first token (prefill) "
                f"is {ms(sleep['median_ttft_ms'])} vs {ms(base['median_ttft_ms'])}."
            )
        if "prompt tokens" in goal["goal"] and sleep and base:
            notes.append(
                f"- Why prompt tokens missed: the sleep-mode prompt carries c′ + digest + relevant "
                f"cells (median {num(sleep['median_prompt_tokens'])} tokens, of which "
                f"{num(sleep['median_uncached_prompt_tokens'])} uncached) against "
                f"{num(base['median_prompt_tokens'])} for the whole notebook; short notebooks leave "
                "little to save."
            )
        if "accuracy" in goal["goal"]:
            notes.append(
                "- Accuracy: see the table by question kind and the per-question "
                "`missing` tokens for where sleep mode lost."
            )
    return notes


def render_micro(micro: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for part, render, title in (
        ("digest", _digest_micro, "Kernel digest"),
        ("cell", _cell_micro, "Trivial cell"),
        ("cpu", _cpu_micro, "CPU-bound cell"),
        ("redact", _redact_micro, "Redaction"),
        ("mcp", mcp_micro.render, "MCP tools"),
    ):
        result = micro.get(part)
        if not result:
            continue
        if "error" in result:
            out += [f"{title}: failed ({result['error']}).", ""]
        else:
            out += render(result)
    return out


def _redact_micro(result: dict[str, Any]) -> list[str]:
    return [
        f"Redaction of real notebook text ({result['notebooks']} notebooks, sources and "
        f"outputs, {result['chars']:,} characters): median {result['median_ms_per_50k']:.1f} ms "
        f"per 50,000 characters (p95 {result['p95_ms_per_50k']:.1f} ms; goal < 20 ms).",
        "",
    ]


def _p50_p95_max(label: str, stats: dict[str, Any]) -> list[str]:
    return [label, ms(stats["p50"]), ms(stats["p95"]), ms(stats["max"])]


def _digest_micro(digest: dict[str, Any]) -> list[str]:
    out = [
        f"**Kernel digest** — {digest['runs']} digests, {digest['namespace']}, "
        f"budget {digest['budget_ms']:g} ms ({digest['truncated_runs']} runs truncated by "
        f"the time budget or the variable cap; median {num(digest['variables_reported'])} of "
        f"{digest.get('total_variables')} variables reported):",
        "",
    ]
    out.append(
        table(
            ["", "p50", "p95", "max"],
            [
                _p50_p95_max("kernel-side `took_ms`", digest["took_ms"]),
                _p50_p95_max("client round trip", digest["round_trip_ms"]),
            ],
        )
    )
    first = digest.get("first") or {}
    out += [
        "",
        f"First digest of the kernel (unpacks the digest code, not counted above): "
        f"{ms(first.get('took_ms'))} in the kernel, {ms(first.get('round_trip_ms'))} round trip.",
        "",
    ]
    return out


def _cell_micro(cell: dict[str, Any]) -> list[str]:
    out = [
        f"**Trivial cell** (`{cell['cell']}`, {cell['runs']} runs each over the kernel "
        f"websocket, alternating blocks of {cell['block']}):",
        "",
    ]
    out.append(
        table(
            ["", "p50", "p95", "max"],
            [
                _p50_p95_max("extension enabled", cell["enabled_ms"]),
                _p50_p95_max("extension not loaded", cell["disabled_ms"]),
                ["difference", ms(cell["p50_difference_ms"]), ms(cell["p95_difference_ms"]), ""],
            ],
        )
    )
    out.append("")
    return out


def _cpu_micro(cpu: dict[str, Any]) -> list[str]:
    out = [
        f"**CPU-bound cell** (pure-Python loop of {cpu['loop_iterations']:,} iterations, "
        f"about {cpu['target_s']:g} s; time measured inside the kernel) while "
        f"`{cpu['model']}` thinks in the background vs with the extension idle:",
        "",
    ]
    idle = cpu["idle_before"] + cpu["idle_after"]
    out.append(
        table(
            ["", "samples", "median (kernel)", "median (wall)"],
            [
                [
                    "extension idle",
                    str(len(idle)),
                    seconds(cpu["median_idle_s"]),
                    seconds(cpu["median_idle_wall_s"]),
                ],
                [
                    "thinking in flight",
                    str(len(cpu["during_thinking"])),
                    seconds(cpu["median_during_s"]),
                    seconds(cpu["median_during_wall_s"]),
                ],
            ],
        )
    )
    over = cpu.get("overhead")
    out += [
        "",
        "Slowdown while thinking: "
        + ("not measured" if over is None else f"{100 * over:+.1f} %")
        + (f" ({cpu['note']})" if cpu.get("note") else ""),
        "",
    ]
    return out


# -- README -------------------------------------------------------------------------------------
def render_readme_table(results: dict[str, Any]) -> str:
    """The README "Performance" section body, from results.json."""
    meta = results.get("meta", {})
    summary = results.get("summary", {})
    modes = [m for m in meta.get("modes", []) if m in summary]
    lines: list[str] = []
    if modes:
        rows = [
            ["median latency", *[ms(summary[m]["median_latency_ms"]) for m in modes]],
            ["p95 latency", *[ms(summary[m]["p95_latency_ms"]) for m in modes]],
            ["median time to first token", *[ms(summary[m]["median_ttft_ms"]) for m in modes]],
            ["median prompt tokens", *[num(summary[m]["median_prompt_tokens"]) for m in modes]],
            [
                "… not reused from the KV cache",
                *[num(summary[m]["median_uncached_prompt_tokens"]) for m in modes],
            ],
            ["accuracy (automatic check)", *[_accuracy_cell(summary[m]) for m in modes]],
            [
                "fact coverage (expected facts in the prompt)",
                *[pct(summary[m].get("fact_coverage")) for m in modes],
            ],
        ]
        if "sleep" in modes:
            s = summary["sleep"]
            rows.append(
                [
                    "answered from prepared answers",
                    *[_hits_cell(s) if m == "sleep" else "–" for m in modes],
                ]
            )
            rows.append(
                [
                    "idle-time cost per notebook",
                    *[
                        f"{num(s['sleep_tokens_per_notebook'])} tok, "
                        f"{seconds(s['sleep_seconds_per_notebook'])}"
                        if m == "sleep"
                        else "–"
                        for m in modes
                    ],
                ]
            )
        lines.append(table(["", *[f"`{m}`" for m in modes]], rows))
        r = results.get("ratios", {})
        if r.get("latency") is not None or r.get("prompt_tokens") is not None:
            lines += [
                "",
                f"Sleep mode vs the full-notebook baseline: median latency "
                f"{ratio(r.get('latency'))} lower, time to first token {ratio(r.get('ttft'))} "
                f"lower, {ratio(r.get('prompt_tokens'))} fewer prompt tokens.",
            ]
        amort = results.get("amortised") or {}
        if amort.get("break_even_questions"):
            lines.append(
                f"Idle-time tokens pay for themselves after "
                f"{amort['break_even_questions']:.1f} questions per notebook."
            )
    missed = [g["goal"] for g in results.get("goals", []) if g.get("met") is False]
    met = [g["goal"] for g in results.get("goals", []) if g.get("met")]
    if met or missed:
        lines += [
            "",
            f"Goals met: {', '.join(met) or 'none'}. Goals missed: {', '.join(missed) or 'none'}.",
        ]
    micro = results.get("micro") or {}
    if (micro.get("digest") or {}).get("p95_took_ms") is not None:
        d = micro["digest"]
        lines.append(
            f"Kernel digest ({d['namespace']}): p95 {ms(d['p95_took_ms'])} in the kernel, "
            f"{ms(d['p95_round_trip_ms'])} round trip."
        )
    lines += [
        "",
        f"{len(meta.get('notebooks') or [])} notebooks, {meta.get('questions')} questions, "
        f"`{meta.get('model')}` on {machine_line(meta)}, {meta.get('date', '')[:10]}. "
        "Baselines are measured cold (KV cache emptied before each question); "
        f"order `{meta.get('order')}`. Reproduce with `{meta.get('command', 'jupyter sleeptime bench')}`.",
    ]
    return "\n".join(lines).strip() + "\n"


def update_readme(path: Path, results: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no {README_START} … {README_END} markers to write between")
    body = render_readme_table(results)
    path.write_text(
        pattern.sub(lambda _: f"{README_START}\n{body}{README_END}", text, count=1),
        encoding="utf-8",
    )
