"""Read structured results out of free model text, tolerating small-model sloppiness.

Every parser returns only well-formed items; the thinker treats "nothing parsed" as a
failure to retry, so malformed output is never stored.
"""

from __future__ import annotations

import re
import string

LABEL_LINE = re.compile(
    r"^\s*[-*]?\s*\**\s*(?:In\s*)?\[\s*#?\s*(\d+)\s*\]\s*\**\s*[:.)\-–]?\s*(.*)$", re.I
)
QA_LINE = re.compile(
    r"^\s*(?:\d+[.)]\s*)?\**\s*(Q|A|Question|Answer)\s*\d*\s*[:.)]\**\s*(.*)$", re.I
)
CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)

_PUNCT = str.maketrans({c: " " for c in string.punctuation + "“”‘’"})


def normalise_question(text: str) -> str:
    """Case, punctuation and spacing do not make a different question."""
    return " ".join(text.lower().translate(_PUNCT).split())


def parse_labelled(text: str, labels: set[int]) -> dict[int, str]:
    """`[12] explanation` lines → {12: "explanation"}; continuation lines join the last item."""
    found: dict[int, str] = {}
    current: int | None = None
    for line in text.splitlines():
        match = LABEL_LINE.match(line)
        if match and int(match.group(1)) in labels:
            current = int(match.group(1))
            found[current] = match.group(2).strip()
        elif current is not None and line.strip() and not line.lstrip().startswith(("```", "#")):
            found[current] = (found[current] + " " + line.strip()).strip()
    return {k: _clean(v) for k, v in found.items() if len(_clean(v)) >= 8}


def parse_qa(text: str, limit: int) -> list[dict[str, str]]:
    pairs: list[dict[str, str]] = []
    question: str | None = None
    answer: list[str] = []

    def flush() -> None:
        if question and answer:
            ans = _clean(" ".join(answer))
            if len(question) >= 6 and ans:
                pairs.append({"question": question, "answer": ans})

    for line in text.splitlines():
        match = QA_LINE.match(line)
        if match and match.group(1).lower().startswith("q"):
            flush()
            question, answer = _clean(match.group(2)), []
        elif match and question is not None:
            answer = [match.group(2)]
        elif question is not None and answer and line.strip():
            answer.append(line.strip())
    flush()
    unique: dict[str, dict[str, str]] = {}
    for pair in pairs:
        unique.setdefault(normalise_question(pair["question"]), pair)
    return list(unique.values())[:limit]


TITLE_DECOR = re.compile(r"^\s*(?:#{1,6}\s*|[-*]\s+|\d+[.)]\s*|step\s*\d+\s*[:.)-]\s*)*", re.I)


def parse_steps(text: str, limit: int = 3) -> list[dict[str, str]]:
    """Each fenced code block with the nearest line of prose above it as its title
    (`### Title`, `1. **Title**`, `Step 2: Title`, a plain sentence …)."""
    steps: list[dict[str, str]] = []
    last_end = 0
    for block in CODE_BLOCK.finditer(text):
        code = block.group(1).strip()
        prose = [ln for ln in text[last_end : block.start()].splitlines() if ln.strip()]
        last_end = block.end()
        if not code:
            continue
        title = _clean(TITLE_DECOR.sub("", prose[-1])).strip(":").strip() if prose else ""
        steps.append({"title": title or f"Suggestion {len(steps) + 1}", "code": code})
    return steps[:limit]


def parse_diagnosis(text: str) -> str | None:
    cleaned = text.strip()
    return cleaned if len(cleaned) >= 20 else None


def parse_memory(text: str, max_chars: int) -> str | None:
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`").strip()
    if len(cleaned) < 40:
        return None
    if len(cleaned) > max_chars:
        cut = cleaned.rfind("\n", 0, max_chars)
        cleaned = cleaned[: cut if cut > max_chars // 2 else max_chars].rstrip()
    return cleaned


def _clean(text: str) -> str:
    return text.strip().strip("*").strip()
