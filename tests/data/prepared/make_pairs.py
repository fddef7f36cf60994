"""Write pairs.jsonl: labelled (asked question, prepared question) pairs for calibrating and
testing the matcher (`jupyter_sleeptime/engine/answer/matcher.py`).

Each pair says whether the prepared answer answers the asked question (`same`). Positives
are paraphrases of what the prepared answer covers; negatives are near misses: another or
an unknown name, another cell, another exception, the same name asked about something the
prepared answer does not hold (a statistic, a plot, a fix, a why), or a question of another
kind. The asked wordings here are written apart from the matcher's own phrasings, over
seven notebook contexts, so the calibration is not a test of the phrasings against
themselves. Deterministic: run `python make_pairs.py` to regenerate.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

# (context, data names, other vocabulary, error card (cell, exception), explained cell)
CONTEXTS = [
    (
        "iris_cv",
        ["df", "X_train", "X_test", "y_test", "clf", "score", "accuracy_list"],
        ["KFold", "DecisionTreeClassifier", "cross_val_score", "train_test_split"],
        (19, "ValueError"),
        8,
    ),
    (
        "sales",
        ["sales", "monthly", "top_regions", "revenue", "churn_rate"],
        ["pd", "read_csv"],
        (7, "KeyError"),
        4,
    ),
    (
        "survival",
        ["data", "survival", "smean", "rate", "dist", "args"],
        ["st", "expon", "fatiguelife"],
        (4, "AttributeError"),
        10,
    ),
    (
        "robust_regression",
        ["huber", "linear", "coef", "X", "y", "outlier_mask"],
        ["HuberRegressor", "LinearRegression", "make_regression"],
        (9, "ValueError"),
        6,
    ),
    (
        "bootstrap",
        ["x", "y", "res", "statistic", "samples", "ci_low"],
        ["stats", "bootstrap"],
        (3, "TypeError"),
        12,
    ),
    (
        "text",
        ["docs", "vocab", "tfidf", "labels", "model", "pred_labels"],
        ["TfidfVectorizer", "LogisticRegression"],
        (15, "NameError"),
        11,
    ),
    (
        "timeseries",
        ["ts", "rolling_mean", "forecast", "residuals", "train_end"],
        ["ARIMA", "date_range"],
        (21, "IndexError"),
        18,
    ),
]

# -- asked questions that a value card answers (one name N, or two: N and M) ---------------------
NAME_POSITIVES = [
    "what's in {N}?",
    "What does `{N}` contain right now?",
    "Show me {N}.",
    "what is {N} currently",
    "How large is {N}?",
    "What's the shape of `{N}`?",
    "How many rows are in {N}?",
    "Which columns are in {N}?",
    "What kind of object is {N}?",
    "Is `{N}` still around?",
    "Where did {N} get its value?",
    "In which cell was {N} created?",
    "What value does {N} have at this point?",
    "Can you tell me what `{N}` is?",
    "give me the current value of `{N}`",
    "What's stored in {N} now?",
    "What are the dimensions of {N}?",
    "which cell last assigned {N}?",
    "has {N} been overwritten since it was first set?",
    "Is {N} still defined or was it deleted?",
]
PAIR_POSITIVES = [
    "What are {N} and {M}?",
    "What are the shapes of `{N}` and `{M}`?",
    "What do {N} and {M} hold now?",
    "what are the values of {N} and {M}, to 2 decimals?",
]
# -- the same name, asked about something a value card does not answer ----------------------------
NAME_NEAR_MISSES = [
    "What is the mean of {N}?",
    "What's the maximum value in {N}?",
    "How many missing values does {N} have?",
    "How many unique values are in {N}?",
    "Plot {N} as a histogram",
    "How do I plot {N}?",
    "Why is {N} so low?",
    "Why does {N} differ from what I expected?",
    "How can I improve {N}?",
    "Write code to save {N} to a CSV file",
    "How do I normalise {N}?",
    "What should I do next with {N}?",
    "Explain how {N} was computed",
    "What is the correlation between the columns of {N}?",
    "Sort {N} by its first column",
    "What's the standard deviation of {N}?",
    "Is {N} normally distributed?",
    "How do I convert {N} to a numpy array?",
]
UNKNOWN_NAMES = ["X_val", "df_clean", "model_v2", "y_pred_proba", "train_df", "results_2023"]

ERROR_POSITIVES = [
    "why did my last cell error out?",
    "What went wrong just now?",
    "what caused this error?",
    "How can I fix the error I just got?",
    "The cell I ran failed, why?",
    "why does this fail",
    "explain the error please",
    "Why am I getting a {E}?",
    "what does this {E} mean?",
    "Why did the last cell raise an exception?",
]
ERROR_NEAR_MISSES = [
    "Why am I getting a {F}?",
    "What does a {F} usually mean in pandas?",
    "Why was the training so slow?",
    "Why is the accuracy lower than before?",
    "How do I avoid errors like this in the future?",
    "Why did the earlier warning appear?",
    "What should I do next after fixing the error?",
]
CELL_ERROR_POSITIVES = [
    "Why did cell [{C}] fail?",
    "what's wrong with cell {C}?",
    "why does In [{C}] raise an error?",
    "How do I fix the error in [{C}]?",
    "What went wrong in cell {C}?",
]
CELL_ERROR_NEAR_MISSES = [
    "Why did cell [{D}] fail?",
    "what's wrong with cell {D}?",
    "What does cell [{C}] do?",
    "How long did cell {C} take?",
]
CELL_POSITIVES = [
    "What does cell [{C}] do?",
    "Explain what cell {C} is doing",
    "what happens in [{C}]?",
    "Can you walk me through cell {C}?",
    "What is the purpose of cell {C}?",
]
CELL_NEAR_MISSES = [
    "What does cell [{D}] do?",
    "Explain cell {D}",
    "Why did cell [{C}] take so long?",
    "Can you rewrite cell {C} to be faster?",
    "What should come after cell {C}?",
]
OTHER_EXCEPTIONS = ["KeyError", "ValueError", "TypeError", "MemoryError", "ZeroDivisionError"]


def pairs() -> list[dict]:
    rng = random.Random(20261130)
    out: list[dict] = []

    def add(context, names, vocabulary, prepared, asked, same):
        out.append(
            {
                "id": f"{context}-{len(out)}",
                "context": context,
                "names": names,
                "vocabulary": vocabulary,
                "prepared": prepared,
                "asked": asked,
                "same": same,
            }
        )

    for context, names, vocabulary, (error_cell, exception), explained in CONTEXTS:
        first, second = names[0], names[1]
        card = {"type": "name", "names": [first]}
        for template in rng.sample(NAME_POSITIVES, 6):
            add(context, names, vocabulary, card, template.format(N=first), True)
        for template in rng.sample(NAME_NEAR_MISSES, 5):
            add(context, names, vocabulary, card, template.format(N=first), False)
        # another name, an unknown name: never the first name's card
        template = rng.choice(NAME_POSITIVES)
        add(context, names, vocabulary, card, template.format(N=second), False)
        add(context, names, vocabulary, card, template.format(N=rng.choice(UNKNOWN_NAMES)), False)
        both = {"type": "name", "names": [first, second]}
        for template in rng.sample(PAIR_POSITIVES, 2):
            add(context, names, vocabulary, both, template.format(N=first, M=second), True)
        add(context, names, vocabulary, both, rng.choice(NAME_POSITIVES).format(N=first), False)

        last = {"type": "error", "exception": exception}
        other = rng.choice([e for e in OTHER_EXCEPTIONS if e != exception])
        for template in rng.sample(ERROR_POSITIVES, 4):
            add(context, names, vocabulary, last, template.format(E=exception), True)
        for template in rng.sample(ERROR_NEAR_MISSES, 3):
            add(context, names, vocabulary, last, template.format(F=other), False)

        failed = {"type": "cell_error", "cell": error_cell, "exception": exception}
        other_cell = error_cell + rng.choice([1, 2, -1])
        for template in rng.sample(CELL_ERROR_POSITIVES, 2):
            add(context, names, vocabulary, failed, template.format(C=error_cell), True)
        for template in rng.sample(CELL_ERROR_NEAR_MISSES, 2):
            add(
                context,
                names,
                vocabulary,
                failed,
                template.format(C=error_cell, D=other_cell),
                False,
            )

        cell = {"type": "cell", "cell": explained}
        for template in rng.sample(CELL_POSITIVES, 2):
            add(context, names, vocabulary, cell, template.format(C=explained), True)
        for template in rng.sample(CELL_NEAR_MISSES, 2):
            add(
                context,
                names,
                vocabulary,
                cell,
                template.format(C=explained, D=explained + 1),
                False,
            )
    return out


def main() -> None:
    rows = pairs()
    path = Path(__file__).with_name("pairs.jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    positives = sum(r["same"] for r in rows)
    print(f"wrote {len(rows)} pairs ({positives} same, {len(rows) - positives} near misses)")


if __name__ == "__main__":
    main()
