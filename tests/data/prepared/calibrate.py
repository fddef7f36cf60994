"""Calibrate the matcher's similarity threshold on one half of the labelled pairs and report
precision and recall on the other half, split by notebook (see SOURCES.md).

The calibration half: the 217 pairs of pairs.jsonl (make_pairs.py) and the trust pairs of
the calibration notebooks (make_trust_pairs.py: four notebooks of our own and the public
eval's six, its questions rewritten). The held-out half: four other notebooks of our own,
asked in wordings the calibration half never used. Each pair's prepared answer is built the
way `Prepared` builds it (value cards, error cards, cell notes, model-written anticipated
answers verified against their names' facts).

    python tests/data/prepared/calibrate.py
"""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_sleeptime.engine.answer.matcher import Candidate, Matcher, identity
from jupyter_sleeptime.engine.answer.prepared import (
    anticipated_candidate,
    error_candidate,
    note_candidate,
    value_card,
)

HERE = Path(__file__).parent
MIN_PRECISION = 1.0  # on the calibration half: a false hit is worse than a miss
MARGIN = 0.02  # added to the lowest threshold that reaches it, for questions unlike the set


def load() -> list[dict]:
    """Every pair, each with its notebook context (`ctx`) and split."""
    contexts = json.loads((HERE / "contexts.json").read_text(encoding="utf-8"))
    rows = []
    for line in (HERE / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            pair = json.loads(line)
            pair["split"], pair["group"] = "calibration", "original"
            pair["ctx"] = {
                "names": pair["names"],
                "vocabulary": pair["vocabulary"],
                "cards": {},
                "error": pair["prepared"] if "exception" in pair["prepared"] else None,
            }
            rows.append(pair)
    for line in (HERE / "trust_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            pair = json.loads(line)
            pair["ctx"] = contexts[pair["context"]]
            rows.append(pair)
    return rows


def has_error(pair: dict) -> bool | None:
    """What the notebook holds: the original pairs say nothing (None: judge by the words)."""
    if pair["group"] == "original":
        return None
    return pair["ctx"]["error"] is not None


def candidate(pair: dict) -> Candidate | None:
    """The prepared answer a pair is about, built as `Prepared` builds it (None: the facts do
    not back a model-written answer, so it is never offered)."""
    spec, ctx = pair["prepared"], pair["ctx"]
    kind = spec["type"]
    if kind == "name":
        return value_card({n: ctx["cards"].get(n, "(value card)") for n in spec["names"]})
    if kind == "error":
        return error_candidate("(error card)", spec["exception"])
    if kind == "cell_error":
        return error_candidate("(error card)", spec["exception"], spec["cell"])
    if kind == "cell":
        return note_candidate(spec["cell"], "(explanation)")
    return anticipated_candidate(
        spec["question"],
        spec["answer"],
        ctx["names"],
        lambda n: ctx["cards"].get(n, ""),
        has_error(pair),
    )


def scores(matcher: Matcher, pairs: list[dict]) -> list[tuple[float, bool]]:
    out = []
    for pair in pairs:
        found = candidate(pair)
        score = None
        if found is not None:
            ctx = pair["ctx"]
            asked = identity(pair["asked"], ctx["names"], ctx["vocabulary"], has_error(pair))
            score = matcher.score(asked, found)
        out.append((-1.0 if score is None else score, pair["same"]))
    return out


def precision_recall(scored: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    hits = [same for score, same in scored if score >= threshold]
    positives = sum(same for _, same in scored)
    precision = sum(hits) / len(hits) if hits else 1.0
    return precision, (sum(hits) / positives if positives else 1.0)


def lowest_threshold(scored: list[tuple[float, bool]]) -> float:
    """The lowest threshold (steps of 0.01) at which precision reaches MIN_PRECISION."""
    return next(
        t / 100 for t in range(30, 100) if precision_recall(scored, t / 100)[0] >= MIN_PRECISION
    )


def halves(pairs: list[dict]) -> tuple[list[dict], list[dict]]:
    return (
        [p for p in pairs if p["split"] == "calibration"],
        [p for p in pairs if p["split"] == "held_out"],
    )


def main() -> None:
    matcher = Matcher()
    pairs = load()
    calibration, held_out = halves(pairs)
    lowest = lowest_threshold(scores(matcher, calibration))
    threshold = round(lowest + MARGIN, 2)
    print(f"{len(pairs)} pairs: {len(calibration)} calibration, {len(held_out)} held out")
    print(f"calibration: lowest threshold at precision ≥ {MIN_PRECISION:.0%}: {lowest:.2f}")
    print(f"threshold (with a margin of {MARGIN}): {threshold:.2f}")
    for name, half in (("calibration", calibration), ("held out", held_out)):
        p, r = precision_recall(scores(matcher, half), threshold)
        n_pos = sum(x["same"] for x in half)
        print(f"{name}: {len(half)} pairs ({n_pos} positive): precision {p:.1%}, recall {r:.1%}")
    scored = scores(matcher, held_out)
    for pair, (score, same) in zip(held_out, scored, strict=True):
        if (score >= threshold) != same:
            verdict = "FALSE HIT" if not same else "miss"
            print(
                f"  {verdict} {score:.2f} [{pair['group']}] {pair['asked']!r} ~ {pair['prepared']}"
            )


if __name__ == "__main__":
    main()
