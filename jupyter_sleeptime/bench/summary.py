"""From per-question records to the numbers the project claims: per-mode summaries,
baseline/sleep ratios, amortised compute, and the goals, met or missed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .data import KINDS

GOALS = {
    "latency_ratio": 10.0,  # median latency baseline / sleep
    "ttft_ratio": 20.0,  # median time to first token baseline / sleep
    "sleep_accuracy": 0.60,  # share of scorable questions answered right in sleep mode
    "fact_coverage": 0.90,  # share of scorable questions whose facts are in the sleep prompt
    "over_budget_points": 0.15,  # sleep accuracy − baseline-budget accuracy
    "sleep_prompt_tokens": 1268,  # median sleep prompt tokens, no more than before the facts
    "hit_rate": 0.30,  # eval questions answered from prepared answers
    "hit_accuracy": 0.90,  # share of those hits that are right
    "prompt_ratio": 5.0,  # median prompt tokens baseline / sleep
    "anticipated_ms": 50.0,  # every anticipated hit answered within
    "digest_p95_ms": 20.0,  # kernel digest p95
    "cpu_overhead": 0.10,  # CPU-bound cell while thinking vs idle
}
AMORTISE_N = list(range(1, 11))


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    data = sorted(float(v) for v in values if v is not None)
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    rank = (len(data) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 50)


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom <= 0:
        return None
    return top / bottom


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def query_tokens(record: dict[str, Any], uncached: bool = False) -> int:
    prompt = record.get("prompt_tokens") or 0
    if uncached:
        prompt -= record.get("cached_tokens") or 0
    return prompt + (record.get("completion_tokens") or 0)


def decode_rate(record: dict[str, Any]) -> float | None:
    """Tokens per second after the first token (the first comes out of the prefill)."""
    seconds = (record["latency_ms"] - record["ttft_ms"]) / 1000
    tokens = (record.get("completion_tokens") or 0) - 1
    return tokens / seconds if tokens > 0 and seconds > 0 else None


def summarise_mode(
    mode: str, records: list[dict[str, Any]], notebooks: list[dict[str, Any]]
) -> dict[str, Any]:
    mine = [r for r in records if r["mode"] == mode]
    ok = [r for r in mine if not r.get("error")]
    scored = [r for r in mine if r.get("correct") is not None]
    latency = [r["latency_ms"] for r in ok]
    ttft = [r["ttft_ms"] for r in ok]
    out: dict[str, Any] = {
        "n": len(mine),
        "n_ok": len(ok),
        "n_errors": len(mine) - len(ok),
        "n_scored": len(scored),
        "accuracy": (sum(1 for r in scored if r["correct"]) / len(scored)) if scored else None,
        "median_latency_ms": median(latency),
        "p95_latency_ms": percentile(latency, 95),
        "median_ttft_ms": median(ttft),
        "p95_ttft_ms": percentile(ttft, 95),
        "median_client_latency_ms": median(r["client_latency_ms"] for r in ok),
        "p95_client_latency_ms": percentile((r["client_latency_ms"] for r in ok), 95),
        "median_prompt_tokens": median(r["prompt_tokens"] for r in ok),
        "median_cached_tokens": median(r["cached_tokens"] for r in ok),
        "median_uncached_prompt_tokens": median(
            r["prompt_tokens"] - r["cached_tokens"] for r in ok
        ),
        "median_completion_tokens": median(r["completion_tokens"] for r in ok),
        "mean_query_tokens": _mean([query_tokens(r) for r in ok]),
        "anticipated_hit_rate": None,
        "anticipated_hits": None,
        "max_anticipated_latency_ms": None,
        "sleep_tokens_per_notebook": 0.0,
        "sleep_seconds_per_notebook": 0.0,
        "fact_coverage": _share(r.get("covered") for r in mine),
    }
    # Answers that needed the model, apart from prepared hits: what query time still pays.
    model = [r for r in ok if r.get("source") == "model"]
    out["n_model"] = len(model)
    out["model_median_ttft_ms"] = median(r["ttft_ms"] for r in model)
    out["model_median_uncached_prompt_tokens"] = median(
        r["prompt_tokens"] - r["cached_tokens"] for r in model
    )
    out["model_median_decode_tok_per_s"] = median(
        rate for r in model if (rate := decode_rate(r)) is not None
    )
    out["completion_tokens_by_kind"] = {
        kind: median(
            r["completion_tokens"] for r in ok if r["kind"] == kind and r["source"] == "model"
        )
        for kind in KINDS
        if any(r["kind"] == kind for r in ok)
    }
    if mode == "sleep":
        hits = [r for r in ok if r.get("anticipated_hit")]
        out["anticipated_hits"] = len(hits)
        out["anticipated_hit_rate"] = len(hits) / len(ok) if ok else None
        scored_hits = [r for r in hits if r.get("correct") is not None]
        out["hit_accuracy"] = (
            sum(1 for r in scored_hits if r["correct"]) / len(scored_hits) if scored_hits else None
        )
        out["n_scored_hits"] = len(scored_hits)
        out["median_latency_hits_ms"] = median(r["latency_ms"] for r in hits)
        out["median_latency_model_ms"] = median(r["latency_ms"] for r in ok if r not in hits)
        out["median_ttft_model_ms"] = median(r["ttft_ms"] for r in ok if r not in hits)
        # Also the prepared questions asked verbatim (the sidebar's buttons), per notebook.
        clicked = [a for n in notebooks for a in n.get("anticipated_asks") or []]
        clicked_hits = [a for a in clicked if a["source"] == "anticipated"]
        out["anticipated_asked"] = len(clicked)
        out["anticipated_asked_hits"] = len(clicked_hits)
        out["max_anticipated_latency_ms"] = max(
            (r["latency_ms"] for r in hits + clicked_hits), default=None
        )
        out["max_anticipated_client_latency_ms"] = max(
            (r["client_latency_ms"] for r in hits + clicked_hits), default=None
        )
        asked = [n for n in notebooks if n.get("questions") and "sleep_tokens" in n]
        out["sleep_tokens_per_notebook"] = _mean([n["sleep_tokens"] for n in asked])
        out["sleep_seconds_per_notebook"] = _mean([n["sleep_seconds"] for n in asked])
    return out


def _share(flags: Iterable[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return (sum(1 for f in known if f) / len(known)) if known else None


def summarise_coverage(records: list[dict[str, Any]], modes: list[str]) -> dict[str, Any]:
    """`--coverage-only`: per mode, the share of scorable questions whose every expected
    token is in the prompt (or the prepared answer), overall and per question kind."""
    summary: dict[str, Any] = {}
    for mode in modes:
        mine = [r for r in records if r["mode"] == mode]
        scorable = [r for r in mine if r.get("covered") is not None]
        kinds = sorted({r["kind"] for r in mine}, key=lambda k: (k not in KINDS, k))
        summary[mode] = {
            "n": len(mine),
            "n_scorable": len(scorable),
            "n_covered": sum(1 for r in scorable if r["covered"]),
            "fact_coverage": _share(r.get("covered") for r in mine),
            "median_approx_prompt_tokens": median(
                r["approx_prompt_tokens"] for r in mine if r.get("approx_prompt_tokens")
            ),
            "median_approx_query_tokens": median(
                r["approx_query_tokens"] for r in mine if r.get("approx_prompt_tokens")
            ),
            "anticipated_hits": sum(1 for r in mine if r.get("anticipated_hit")),
            "by_kind": {k: _share(r.get("covered") for r in mine if r["kind"] == k) for k in kinds},
            "missed": [r["id"] for r in scorable if not r["covered"]],
            "prepared_hits": prepared_hits(mine),
        }
    return summary


def prepared_hits(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every question answered by a prepared answer, with whether it was right: scored
    (`correct`) in a full run, the expected facts in the prepared answer (`covered`) with
    `--coverage-only`; None when the question is rubric-only."""
    hits = []
    for r in records:
        if not r.get("anticipated_hit"):
            continue
        right = r.get("correct") if "correct" in r else r.get("covered")
        hits.append(
            {
                "notebook": r["notebook"],
                "id": r["id"],
                "question": r["question"],
                "matched": r.get("matched"),
                "prepared_from": r.get("prepared_from"),
                "right": right,
                "missing": r.get("missing") or [],
            }
        )
    return hits


def accuracy_by_kind(records: list[dict[str, Any]], modes: list[str]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    kinds = [k for k in KINDS if any(r["kind"] == k for r in records)]
    kinds += sorted({r["kind"] for r in records} - set(kinds))
    for kind in kinds:
        table[kind] = {}
        for mode in modes:
            scored = [
                r
                for r in records
                if r["kind"] == kind and r["mode"] == mode and r.get("correct") is not None
            ]
            table[kind][mode] = {
                "correct": sum(1 for r in scored if r["correct"]),
                "n": len(scored),
                "accuracy": (sum(1 for r in scored if r["correct"]) / len(scored))
                if scored
                else None,
            }
    return table


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """baseline ÷ sleep medians (> 1: sleep is cheaper / faster)."""

    def against(other: str) -> dict[str, float | None]:
        a, s = summary.get(other, {}), summary.get("sleep", {})
        return {
            "latency": _ratio(a.get("median_latency_ms"), s.get("median_latency_ms")),
            "ttft": _ratio(a.get("median_ttft_ms"), s.get("median_ttft_ms")),
            "prompt_tokens": _ratio(a.get("median_prompt_tokens"), s.get("median_prompt_tokens")),
            "uncached_prompt_tokens": _ratio(
                a.get("median_uncached_prompt_tokens"), s.get("median_uncached_prompt_tokens")
            ),
            "p95_latency": _ratio(a.get("p95_latency_ms"), s.get("p95_latency_ms")),
        }

    out: dict[str, Any] = against("baseline") if "baseline" in summary else {}
    if "baseline-budget" in summary:
        out["baseline_budget"] = against("baseline-budget")
    return out


def amortised(
    records: list[dict[str, Any]], notebooks: list[dict[str, Any]], modes: list[str]
) -> dict[str, Any] | None:
    """The paper's Figure 9 view: compute per question when N questions share a notebook.
    sleep(N) = sleep tokens / N + sleep-mode query tokens; the baselines pay query tokens
    only. Tokens = prompt + completion, averaged over notebooks (`uncached` counts only
    prompt tokens that were not reused from the KV cache at query time)."""
    if "sleep" not in modes:
        return None
    per_nb: list[dict[str, Any]] = []
    for nb in notebooks:
        rows = [r for r in records if r["notebook"] == nb["notebook"] and not r.get("error")]
        if not rows or "sleep_tokens" not in nb:
            continue
        entry = {"notebook": nb["notebook"], "sleep_tokens": nb["sleep_tokens"]}
        for mode in modes:
            mine = [r for r in rows if r["mode"] == mode]
            entry[mode] = _mean([query_tokens(r) for r in mine])
            entry[mode + ":uncached"] = _mean([query_tokens(r, uncached=True) for r in mine])
        if entry.get("sleep") is not None:
            per_nb.append(entry)
    if not per_nb:
        return None
    out: dict[str, Any] = {"n": AMORTISE_N, "tokens": "prompt + completion, mean over notebooks"}
    for uncached in (False, True):
        suffix = ":uncached" if uncached else ""
        series: dict[str, list[float]] = {}
        series["sleep"] = [
            _mean([e["sleep_tokens"] / n + e["sleep" + suffix] for e in per_nb]) or 0.0
            for n in AMORTISE_N
        ]
        for mode in modes:
            if mode == "sleep":
                continue
            values = [e[mode + suffix] for e in per_nb if e.get(mode + suffix) is not None]
            if values:
                series[mode] = [_mean(values) or 0.0] * len(AMORTISE_N)
        out["uncached" if uncached else "total"] = series
    out["uncached_differs"] = out["uncached"] != out["total"]
    sleep_cost = _mean([e["sleep_tokens"] for e in per_nb]) or 0.0
    query_sleep = _mean([e["sleep"] for e in per_nb]) or 0.0
    base = _mean([e["baseline"] for e in per_nb if e.get("baseline") is not None])
    out["sleep_tokens_per_notebook"] = sleep_cost
    out["break_even_questions"] = (
        sleep_cost / (base - query_sleep) if base is not None and base > query_sleep else None
    )
    return out


class _Goals(list):
    """The goal table being built: `add` appends one row."""

    def add(
        self, name: str, target: str, measured: Any, met: bool | None, note: str = "", fmt: str = ""
    ) -> None:
        """`fmt` says how the report shows `measured`: ratio | pct | pcts | points | ms |
        tokens | signed_pct | hits."""
        self.append(
            {
                "goal": name,
                "target": target,
                "measured": measured,
                "met": met,
                "note": note,
                "fmt": fmt,
            }
        )


def goals(
    summary: dict[str, Any], ratio: dict[str, Any], micro: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Each goal with the measured value and met True/False, or None when not measured."""
    table = _Goals()
    _speed_goals(table.add, summary, ratio)
    _facts_goals(table.add, summary)
    _prepared_latency_goal(table.add, summary)
    _micro_goals(table.add, micro)
    return list(table)


def _speed_goals(add: Any, summary: dict[str, Any], ratio: dict[str, Any]) -> None:
    sleep, base = summary.get("sleep", {}), summary.get("baseline", {})
    missing = "needs sleep and baseline answers"
    for key, name, goal in (
        ("latency", "median latency, baseline ÷ sleep", "latency_ratio"),
        ("ttft", "median time to first token, baseline ÷ sleep", "ttft_ratio"),
        ("prompt_tokens", "median prompt tokens, baseline ÷ sleep", "prompt_ratio"),
    ):
        value = ratio.get(key)
        met = None if value is None else value >= GOALS[goal]
        add(name, f"≥ {GOALS[goal]:g}×", value, met, "" if value is not None else missing, "ratio")
    acc_s, acc_b = sleep.get("accuracy"), base.get("accuracy")
    add(
        "accuracy, sleep vs baseline",
        "sleep ≥ baseline",
        None if acc_s is None or acc_b is None else [acc_s, acc_b],
        None if acc_s is None or acc_b is None else acc_s >= acc_b,
        f"{sleep.get('n_scored', 0)} automatically scored questions per mode" if sleep else "",
        fmt="pcts",
    )


def _prepared_latency_goal(add: Any, summary: dict[str, Any]) -> None:
    sleep = summary.get("sleep", {})
    hit_ms = sleep.get("max_anticipated_latency_ms")
    add(
        "anticipated hits answered",
        f"< {GOALS['anticipated_ms']:g} ms (slowest hit)",
        hit_ms,
        None if hit_ms is None else hit_ms < GOALS["anticipated_ms"],
        (
            f"{sleep.get('anticipated_asked_hits', 0)} of {sleep.get('anticipated_asked', 0)} "
            "prepared questions asked verbatim were hits; slowest end to end "
            f"{sleep.get('max_anticipated_client_latency_ms')} ms"
        )
        if hit_ms is not None
        else "not measured: no question was an anticipated hit",
        fmt="ms",
    )


def _micro_goals(add: Any, micro: dict[str, Any] | None) -> None:
    digest = (micro or {}).get("digest") or {}
    p95 = digest.get("p95_took_ms")
    add(
        "kernel digest p95 (1M×50 DataFrame + 1,000 variables)",
        f"≤ {GOALS['digest_p95_ms']:g} ms",
        p95,
        None if p95 is None else p95 <= GOALS["digest_p95_ms"],
        "" if p95 is not None else "not measured (run with --micro)",
        fmt="ms",
    )
    cpu = (micro or {}).get("cpu") or {}
    over = cpu.get("overhead")
    add(
        "CPU-bound cell while thinking vs idle",
        f"within {GOALS['cpu_overhead']:.0%}",
        over,
        None if over is None else over <= GOALS["cpu_overhead"],
        cpu.get("note", "")
        if over is not None
        else cpu.get("note", "not measured (run with --micro)"),
        fmt="signed_pct",
    )


def _facts_goals(add: Any, summary: dict[str, Any]) -> None:
    """What the notebook facts and prepared answers were built for (accuracy first)."""
    sleep, budget = summary.get("sleep", {}), summary.get("baseline-budget", {})
    acc = sleep.get("accuracy")
    add(
        "sleep-mode accuracy",
        f"≥ {GOALS['sleep_accuracy']:.0%}",
        acc,
        None if acc is None else acc >= GOALS["sleep_accuracy"],
        f"{sleep.get('n_scored', 0)} automatically scored questions" if sleep else "",
        fmt="pct",
    )
    coverage = sleep.get("fact_coverage")
    add(
        "fact coverage in sleep mode",
        f"≥ {GOALS['fact_coverage']:.0%}",
        coverage,
        None if coverage is None else coverage >= GOALS["fact_coverage"],
        "every expected token in the prompt or the prepared answer",
        fmt="pct",
    )
    acc_b = budget.get("accuracy")
    add(
        "accuracy, sleep − baseline-budget",
        f"≥ +{GOALS['over_budget_points'] * 100:.0f} points",
        None if acc is None or acc_b is None else acc - acc_b,
        None if acc is None or acc_b is None else acc - acc_b >= GOALS["over_budget_points"],
        "" if acc_b is not None else "needs the baseline-budget mode",
        fmt="points",
    )
    tokens = sleep.get("median_prompt_tokens")
    add(
        "median sleep prompt tokens",
        f"≤ {GOALS['sleep_prompt_tokens']:,}",
        tokens,
        None if tokens is None else tokens <= GOALS["sleep_prompt_tokens"],
        "prepared answers count as 0",
        fmt="tokens",
    )
    rate, hit_acc = sleep.get("anticipated_hit_rate"), sleep.get("hit_accuracy")
    add(
        "eval questions answered from prepared answers",
        f"≥ {GOALS['hit_rate']:.0%}, ≥ {GOALS['hit_accuracy']:.0%} of them right",
        None if rate is None else [rate, hit_acc],
        None
        if rate is None
        else rate >= GOALS["hit_rate"] and (hit_acc or 0) >= GOALS["hit_accuracy"],
        f"{sleep.get('anticipated_hits', 0)} hits, {sleep.get('n_scored_hits', 0)} scorable",
        fmt="hits",
    )


def build(
    records: list[dict[str, Any]],
    notebooks: list[dict[str, Any]],
    modes: list[str],
    micro: dict[str, Any] | None,
) -> dict[str, Any]:
    summary = {m: summarise_mode(m, records, notebooks) for m in modes} if records else {}
    ratio = ratios(summary) if summary else {}
    return {
        "summary": summary,
        "ratios": ratio,
        "accuracy_by_kind": accuracy_by_kind(records, modes) if records else {},
        "amortised": amortised(records, notebooks, modes) if records else None,
        "goals": goals(summary, ratio, micro),
        "prepared_hits": prepared_hits([r for r in records if r["mode"] == "sleep"]),
    }
