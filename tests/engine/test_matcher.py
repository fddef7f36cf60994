"""The matcher on its labelled set (tests/data/prepared/: pairs.jsonl and trust_pairs.jsonl,
see SOURCES.md there): the threshold chosen on the calibration half of the notebooks,
precision asserted on the held-out half; and the identity guard rails, which hold whatever
the embeddings say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from jupyter_sleeptime.engine.answer.matcher import THRESHOLD, Candidate, Matcher, mask
from jupyter_sleeptime.engine.answer.prepared import CELL_ERROR_PHRASINGS, NAME_PHRASINGS

_spec = importlib.util.spec_from_file_location(
    "calibrate", Path(__file__).parents[1] / "data" / "prepared" / "calibrate.py"
)
calibrate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(calibrate)  # type: ignore[union-attr]
PAIRS = calibrate.load()
CALIBRATION, HELD_OUT = calibrate.halves(PAIRS)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    pytest.importorskip("wordllama")
    return Matcher()


def test_the_labelled_set_is_large_split_by_notebook_and_has_multi_part_questions():
    assert len(PAIRS) >= 400
    assert len(HELD_OUT) >= 150
    calibration_notebooks = {p["context"] for p in CALIBRATION if p["group"] != "original"}
    held_out_notebooks = {p["context"] for p in HELD_OUT}
    assert len(held_out_notebooks) >= 4 and not calibration_notebooks & held_out_notebooks

    # the value-card and error wordings of the held-out notebooks are not the calibration's
    def wordings(half):
        dealt = ("own-card", "own-error", "own-cell")
        return {mask(p["asked"], p["ctx"]["names"]) for p in half if p["group"] in dealt}

    assert len(wordings(HELD_OUT) - wordings(CALIBRATION)) >= 0.8 * len(wordings(HELD_OUT))
    multi = [p for p in PAIRS if " and " in p["asked"] or "?" in p["asked"].rstrip("?")]
    assert len(multi) >= 40
    for half in (CALIBRATION, HELD_OUT):
        share = sum(p["same"] for p in half) / len(half)
        assert 0.3 < share < 0.65


def test_the_threshold_is_the_one_calibrated_on_the_calibration_half(matcher):
    lowest = calibrate.lowest_threshold(calibrate.scores(matcher, CALIBRATION))
    assert pytest.approx(lowest + calibrate.MARGIN) == THRESHOLD, lowest


def test_held_out_precision_and_recall(matcher, capsys):
    """Notebooks and wordings the threshold never saw: a false hit is a wrong answer."""
    precision, recall = calibrate.precision_recall(calibrate.scores(matcher, HELD_OUT), THRESHOLD)
    with capsys.disabled():
        print(
            f"\nmatcher on {len(HELD_OUT)} held-out pairs at threshold {THRESHOLD}: "
            f"precision {precision:.1%}, recall {recall:.1%}"
        )
    assert precision >= 0.98
    assert recall >= 0.45  # paraphrases of what a prepared answer holds still hit


def test_identity_guard_rails_hold_whatever_the_similarity():
    always = Matcher(threshold=-1.0)  # every intent "similar": only the guard rails decide
    names = ["X_train", "X_test", "score"]
    about_train = Candidate(
        "What is `X_train`?", "…", "state", names=frozenset({"X_train"}), phrasings=NAME_PHRASINGS
    )
    cell_7 = Candidate(
        "Why did cell [7] fail?",
        "…",
        "error",
        cells=frozenset({7}),
        exceptions=frozenset({"KeyError"}),
        phrasings=CELL_ERROR_PHRASINGS,
    )
    candidates = [about_train, cell_7]
    assert always.match("What is X_train?", candidates, names).candidate is about_train
    assert always.match("What is X_test?", candidates, names) is None
    assert always.match("What is X_val?", candidates, names) is None  # unknown to the notebook
    assert always.match("What are X_train and X_test?", candidates, names) is None
    assert always.match("Why did cell [7] fail?", candidates, names).candidate is cell_7
    assert always.match("Why did cell [8] fail?", candidates, names) is None
    assert always.match("Why did [7] raise a ValueError?", candidates, names) is None
    assert always.match("What is the mean of X_train?", candidates, names) is None
    # a word the prepared answer says nothing about: it is not the answer
    assert always.match("What is the accuracy of X_train?", candidates, names) is None
    about_train.answer = "`X_train` now: ndarray of shape (120, 4); accuracy 0.97"
    assert always.match("What is the accuracy of X_train?", candidates, names) is not None


def test_on_a_tie_the_facts_answer_not_the_model():
    always = Matcher(threshold=-1.0)
    names = ["revenue"]
    from_model = Candidate(
        "What is revenue?", "revenue is 1234.", "state", names=frozenset(names), source="model"
    )
    from_facts = Candidate(
        "What is `revenue`?",
        "`revenue` now: int = 1234",
        "state",
        names=frozenset(names),
        phrasings=NAME_PHRASINGS,
    )
    for order in ([from_model, from_facts], [from_facts, from_model]):
        assert always.match("What is `revenue`?", order, names).candidate is from_facts
