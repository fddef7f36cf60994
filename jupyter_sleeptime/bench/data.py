"""The evaluation set: questions, which notebooks to run, and automatic scoring."""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("state", "explain", "error", "next")


@dataclass
class Question:
    notebook: str
    id: str
    kind: str
    question: str
    answer: str = ""
    must_contain: list[str] = field(default_factory=list)
    rubric: str = ""

    @property
    def scorable(self) -> bool:
        """An empty `must_contain` means the rubric alone judges: no automatic score."""
        return bool(self.must_contain)


def load_questions(path: Path) -> list[Question]:
    questions: list[Question] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            questions.append(
                Question(
                    notebook=item["notebook"],
                    id=item["id"],
                    kind=item.get("kind", ""),
                    question=item["question"],
                    answer=item.get("answer", ""),
                    must_contain=[str(t) for t in item.get("must_contain") or []],
                    rubric=item.get("rubric", ""),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path}:{number}: not a question record ({exc})") from None
    return questions


def score(answer: str, question: Question) -> tuple[bool | None, list[str]]:
    """(correct, missing tokens): correct when every `must_contain` token occurs in the
    answer at a boundary (see `contains`); None when the question has no tokens."""
    if not question.scorable:
        return None, []
    missing = [t for t in question.must_contain if not contains(answer, t)]
    return not missing, missing


_INTEGER = re.compile(r"^[-+]?\d+$")
_DECIMAL = re.compile(r"^[-+]?\d*\.\d+$")


@functools.lru_cache(maxsize=1024)
def _token_pattern(token: str) -> re.Pattern[str]:
    escaped = re.escape(token)
    if _INTEGER.match(token):  # a whole number: 9 is not in 19, 9.5 or 0.9
        return re.compile(rf"(?<![\d.]){escaped}(?!\d|\.\d)", re.I)
    if _DECIMAL.match(token):  # where a number starts: 0.98 in 0.98000001, not in 10.98
        return re.compile(rf"(?<![\d.]){escaped}", re.I)
    return re.compile(rf"(?<![A-Za-z0-9_]){escaped}", re.I)  # where a word starts


def contains(text: str, token: str) -> bool:
    """The eval's rule (`../shared/eval/README.md`): case-insensitive, at a boundary —
    integers as whole numbers, decimals where a number starts, words where a word starts."""
    return bool(_token_pattern(token.strip()).search(text or ""))


def select_notebooks(folder: Path, questions: list[Question], pattern: str | None) -> list[Path]:
    """Notebooks of `folder` that have questions, filtered by a glob or a comma list."""
    asked = {q.notebook for q in questions}
    found = sorted(p for p in folder.glob("*.ipynb") if p.name in asked)
    if pattern:
        wanted = [p.strip() for p in pattern.split(",") if p.strip()]
        found = [
            p
            for p in found
            if any(fnmatch.fnmatch(p.name, w) or p.name == w or p.stem == w for w in wanted)
        ]
    missing = sorted(asked - {p.name for p in folder.glob("*.ipynb")})
    if missing and not pattern:
        raise SystemExit(f"questions name notebooks that are not in {folder}: {', '.join(missing)}")
    return found


def questions_for(notebook: str, questions: list[Question], limit: int | None) -> list[Question]:
    mine = [q for q in questions if q.notebook == notebook]
    return mine[:limit] if limit else mine
