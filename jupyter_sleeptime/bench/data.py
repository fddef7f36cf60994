"""The evaluation set: questions, which notebooks to run, and automatic scoring."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    answer, case-insensitively; None when the question has no tokens (rubric only)."""
    if not question.scorable:
        return None, []
    text = answer.lower()
    missing = [t for t in question.must_contain if t.lower() not in text]
    return not missing, missing


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


def as_dict(question: Question) -> dict[str, Any]:
    return {
        "notebook": question.notebook,
        "id": question.id,
        "kind": question.kind,
        "question": question.question,
        "must_contain": question.must_contain,
    }
