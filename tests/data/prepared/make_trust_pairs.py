"""Write trust_pairs.jsonl: labelled (asked question, prepared answer) pairs for calibrating
and testing whether a prepared answer may be served (`jupyter_sleeptime/engine/answer/matcher.py`,
`question_parts.py`, `verify.py`). See SOURCES.md for where each group comes from.

Each pair names its notebook context (contexts.json: data names, the facts of each name as
the value card shows them, the error it holds if any) and its split: `calibration` or
`held_out`, by notebook. The two halves are also asked in different wordings: each template
list is dealt alternately to the calibration and the held-out notebooks, so a threshold
chosen on one half never saw the other half's phrasings. `same` is true when serving the
prepared answer answers the asked question fully and correctly.

Deterministic: run `python make_trust_pairs.py` to regenerate both files.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent

# -- notebook contexts of our own (not the eval's) ---------------------------------------------------
# T: a table, S: a scalar, M: a fitted object listing L (its members, N of them), O: another
# name. `elsewhere`: a number the notebook prints that is not in S's facts. `reassigned`:
# M's type history is in its card.
OWN = [
    {
        "context": "churn",
        "split": "calibration",
        "names": ["df", "X", "y", "enc", "model", "X_train", "X_test", "auc"],
        "vocabulary": ["pd", "OneHotEncoder", "LogisticRegression", "train_test_split"],
        "T": "df",
        "S": "auc",
        "M": "enc",
        "L": "categories",
        "N": 3,
        "O": "X_train",
        "elsewhere": "0.71",
        "cards": {
            "df": "`df` now: pandas.DataFrame = 7043 rows × 21 columns; columns: customerID (str), "
            "tenure (int64), Contract (str), MonthlyCharges (float64), Churn (str), …\n"
            "  set in [2], line 1: `df = pd.read_csv('churn.csv')`",
            "auc": "`auc` now: float = 0.8412\n  set in [11], line 2: `auc = roc_auc_score(y_test, proba)`",
            "enc": "`enc` now: sklearn.preprocessing.OneHotEncoder = OneHotEncoder(handle_unknown='ignore'); "
            "fitted; categories: ['Month-to-month', 'One year', 'Two year']\n"
            "  set in [6], line 1: `enc = OneHotEncoder(handle_unknown='ignore').fit(df[['Contract']])`\n"
            "  before that: [5] `enc = LabelEncoder()` → sklearn.preprocessing.LabelEncoder; "
            "[4] `enc = None` → NoneType",
            "X_train": "`X_train` now: numpy.ndarray = shape (5634, 42), float64\n"
            "  set in [8], line 1: `X_train, X_test, y_train, y_test = train_test_split(X, y)`",
        },
        "error": None,
        "note_cell": 6,
    },
    {
        "context": "housing",
        "split": "calibration",
        "names": ["housing", "features", "imputer", "reg", "preds", "rmse", "X", "y"],
        "vocabulary": ["SimpleImputer", "Ridge", "mean_squared_error", "np"],
        "T": "housing",
        "S": "rmse",
        "M": "imputer",
        "L": "statistics",
        "N": 3,
        "O": "preds",
        "elsewhere": "52310",
        "cards": {
            "housing": "`housing` now: pandas.DataFrame = 20640 rows × 10 columns; columns: longitude, "
            "latitude, housing_median_age, total_rooms, total_bedrooms, population, "
            "households, median_income, median_house_value, ocean_proximity\n"
            "  set in [1], line 3: `housing = pd.read_csv(path)`",
            "rmse": "`rmse` now: float = 68627.87\n  set in [9], line 1: `rmse = np.sqrt(mean_squared_error(y, preds))`",
            "imputer": "`imputer` now: sklearn.impute.SimpleImputer = SimpleImputer(strategy='median'); "
            "fitted; statistics_: [29.0, 2127.0, 435.0]\n"
            "  set in [4], line 1: `imputer = SimpleImputer(strategy='median').fit(num)`",
            "preds": "`preds` now: numpy.ndarray = shape (20640,), float64; min 14790.2, max 501000.0\n"
            "  set in [8], line 1: `preds = reg.predict(X)`",
        },
        "error": None,
        "note_cell": 4,
    },
    {
        "context": "sensors",
        "split": "calibration",
        "names": ["readings", "clean", "window", "rolling", "anomalies", "threshold"],
        "vocabulary": ["pd", "np", "IsolationForest"],
        "T": "readings",
        "S": "threshold",
        "M": "anomalies",
        "L": "timestamps",
        "N": 4,
        "O": "clean",
        "elsewhere": "3.5",
        "cards": {
            "readings": "`readings` now: pandas.DataFrame = 86400 rows × 6 columns; columns: ts, "
            "temp, humidity, pressure, vibration, status\n"
            "  set in [2], line 1: `readings = pd.read_parquet('sensors.parquet')`",
            "threshold": "`threshold` now: float = 2.75\n  set in [7], line 1: `threshold = 2.75`",
            "anomalies": "`anomalies` now: pandas.DatetimeIndex = len 4; timestamps: "
            "['2024-03-01 04:10', '2024-03-01 09:55', '2024-03-02 13:20', '2024-03-03 22:05']\n"
            "  set in [8], line 1: `anomalies = readings.index[scores > threshold]`",
            "clean": "`clean` now: pandas.DataFrame = 0 rows × 6 columns\n"
            "  set in [5], line 1: `clean = readings[cols].dropna()`",
        },
        "error": {"cell": 9, "exception": "ValueError"},
        "note_cell": 5,
    },
    {
        "context": "survey",
        "split": "calibration",
        "names": ["survey", "by_region", "counts", "top5", "responses", "rate"],
        "vocabulary": ["pd", "plt"],
        "T": "survey",
        "S": "rate",
        "M": "top5",
        "L": "regions",
        "N": 5,
        "O": "counts",
        "elsewhere": "0.62",
        "cards": {
            "survey": "`survey` now: pandas.DataFrame = 1200 rows × 8 columns; columns: id, region, "
            "age, income, q1, q2, q3, submitted\n  set in [1], line 2: `survey = pd.read_csv('survey.csv')`",
            "rate": "`rate` now: float = 0.4825\n  set in [6], line 1: `rate = survey.submitted.mean()`",
            "top5": "`top5` now: list = 5 items; regions: ['North', 'East', 'Coast', 'Valley', 'Metro']\n"
            "  set in [5], line 1: `top5 = by_region.index[:5].tolist()`",
            "counts": "`counts` now: pandas.Series = len 9, int64\n  set in [4], line 1: `counts = survey.region.value_counts()`",
        },
        "error": {"cell": 7, "exception": "KeyError"},
        "note_cell": 4,
    },
    {
        "context": "textclf",
        "split": "held_out",
        "names": ["docs", "vec", "X", "clf", "labels", "acc", "X_tfidf"],
        "vocabulary": ["TfidfVectorizer", "MultinomialNB", "fetch_20newsgroups"],
        "T": "X_tfidf",
        "S": "acc",
        "M": "vec",
        "L": "vocabulary",
        "N": 6,
        "O": "labels",
        "elsewhere": "0.88",
        "cards": {
            "X_tfidf": "`X_tfidf` now: scipy.sparse.csr_matrix = shape (2257, 6), 9480 stored values\n"
            "  set in [4], line 1: `X_tfidf = vec.fit_transform(docs)`",
            "acc": "`acc` now: float = 0.8336\n  set in [9], line 1: `acc = (pred == y_test).mean()`",
            "vec": "`vec` now: sklearn.feature_extraction.text.TfidfVectorizer = "
            "TfidfVectorizer(max_features=6); fitted; vocabulary: ['god', 'graphics', 'image', "
            "'people', 'space', 'windows']\n"
            "  set in [3], line 1: `vec = TfidfVectorizer(max_features=6)`\n"
            "  before that: [2] `vec = CountVectorizer()` → sklearn.feature_extraction.text.CountVectorizer",
            "labels": "`labels` now: list = 4 items: ['alt.atheism', 'comp.graphics', 'sci.med', "
            "'soc.religion.christian']\n  set in [1], line 3: `labels = data.target_names`",
        },
        "error": None,
        "note_cell": 3,
    },
    {
        "context": "pca_faces",
        "split": "held_out",
        "names": ["faces", "pca", "X_reduced", "explained", "n_components", "scaler"],
        "vocabulary": ["PCA", "StandardScaler", "fetch_olivetti_faces"],
        "T": "X_reduced",
        "S": "explained",
        "M": "pca",
        "L": "explained variance ratios",
        "N": 3,
        "O": "faces",
        "elsewhere": "0.93",
        "cards": {
            "X_reduced": "`X_reduced` now: numpy.ndarray = shape (400, 3), float32\n"
            "  set in [6], line 1: `X_reduced = pca.transform(faces.data)`",
            "explained": "`explained` now: float = 0.4139\n"
            "  set in [7], line 1: `explained = pca.explained_variance_ratio_.sum()`\n"
            "  note: what [5] showed (0.7752) is an earlier value; `explained` was set again after it",
            "pca": "`pca` now: sklearn.decomposition.PCA = PCA(n_components=3); fitted; "
            "explained_variance_ratio_: [0.2381, 0.1398, 0.0360]; components: 3\n"
            "  set in [6], line 1: `pca = PCA(n_components=3).fit(faces.data)`\n"
            "  before that: [4] `pca = PCA(n_components=40).fit(faces.data)`",
            "faces": "`faces` now: sklearn.utils.Bunch = keys: data, images, target, DESCR\n"
            "  set in [1], line 2: `faces = fetch_olivetti_faces()`",
        },
        "error": None,
        "note_cell": 6,
    },
    {
        "context": "genomics",
        "split": "held_out",
        "names": ["counts", "genes", "samples", "norm", "pvals", "hits"],
        "vocabulary": ["np", "pd", "ttest_ind", "multipletests"],
        "T": "counts",
        "S": "hits",
        "M": "samples",
        "L": "conditions",
        "N": 2,
        "O": "pvals",
        "elsewhere": "0.05",
        "cards": {
            "counts": "`counts` now: pandas.DataFrame = 18000 rows × 12 columns; columns: ctl_1, ctl_2, "
            "ctl_3, ctl_4, ctl_5, ctl_6, trt_1, trt_2, trt_3, trt_4, trt_5, trt_6\n"
            "  set in [2], line 1: `counts = pd.read_csv('counts.tsv', sep='\\t', index_col=0)`",
            "hits": "`hits` now: int = 214\n  set in [8], line 1: `hits = int((pvals < 0.01).sum())`",
            "samples": "`samples` now: pandas.DataFrame = 12 rows × 2 columns; conditions: ['control', "
            "'treated']\n  set in [3], line 1: `samples = pd.read_csv('samples.csv')`",
            "pvals": "`pvals` now: numpy.ndarray = shape (18000,), float64; 312 nan\n"
            "  set in [7], line 1: `pvals = ttest_ind(a, b, axis=1).pvalue`",
        },
        "error": {"cell": 6, "exception": "KeyError"},
        "note_cell": 7,
    },
    {
        "context": "ab_test",
        "split": "held_out",
        "names": ["events", "control", "treatment", "lift", "pvalue", "ci", "arms"],
        "vocabulary": ["pd", "proportions_ztest"],
        "T": "events",
        "S": "lift",
        "M": "arms",
        "L": "groups",
        "N": 2,
        "O": "pvalue",
        "elsewhere": "0.031",
        "cards": {
            "events": "`events` now: pandas.DataFrame = 50000 rows × 4 columns; columns: user_id, "
            "arm, converted, ts\n  set in [1], line 2: `events = pd.read_csv('events.csv')`",
            "lift": "`lift` now: float = 0.0127\n  set in [5], line 1: `lift = treatment.mean() - control.mean()`",
            "arms": "`arms` now: list = 2 items; groups: ['A', 'B']\n"
            "  set in [2], line 1: `arms = sorted(events.arm.unique())`",
            "pvalue": "`pvalue` now: numpy.float64 = 0.0089\n"
            "  set in [6], line 1: `stat, pvalue = proportions_ztest(successes, trials)`",
        },
        "error": {"cell": 8, "exception": "TypeError"},
        "note_cell": 5,
    },
]

# -- the eval's notebooks, their names and facts as the value cards show them (calibration) ----------
EVAL = [
    {
        "context": "eval_survival",
        "names": ["data", "survival", "smean", "rate", "dist", "args"],
        "vocabulary": ["st", "sm"],
        "cards": {
            "data": "`data` now: pandas.DataFrame = 45 rows × 8 columns; columns: id, survival, censors, …\n"
            "  set in [3], line 1: `data = data[data.censors == 1]`\n"
            "  before that: [2] `data = sm.datasets.heart.load_pandas().data` → pandas.DataFrame = 69 rows × 3 columns",
            "smean": "`smean` now: numpy.float64 = 223.2888\n  set in [4], line 1: `smean = survival.mean()`",
            "rate": "`rate` now: numpy.float64 = 0.004478\n  set in [4], line 2: `rate = 1. / smean`",
            "dist": "`dist` now: scipy.stats._continuous_distns.fatiguelife_gen = fatiguelife\n"
            "  set in [9], line 1: `dist = st.fatiguelife`\n  before that: [6] `dist = st.expon`",
            "args": "`args` now: tuple = (1.690, -5.012, 96.40)\n  set in [9], line 2: `args = dist.fit(survival)`\n"
            "  before that: [6] `args = dist.fit(survival)` → (1.0, 222.29)",
        },
        "questions": [
            ("What do `dist` and `args` contain at this point?", ["dist", "args"], True),
            ("smean and rate, to three significant figures?", ["smean", "rate"], True),
            ("what are smean and rate right now", ["smean", "rate"], True),
            (
                "How many patients remain in data after filtering and how many were dropped?",
                ["data"],
                False,
            ),
            ("Why does st.expon.fit(survival) give (1.0, 222.29)?", ["survival"], False),
            (
                "which distribution does dist hold now, and what did the KS test say about it?",
                ["dist"],
                False,
            ),
            ("What is the mean of survival?", ["survival"], False),
        ],
        "error": {"cell": 12, "exception": "AttributeError"},
    },
    {
        "context": "eval_iris",
        "names": ["df", "X", "y", "clf", "score", "X_train", "X_test"],
        "vocabulary": ["DecisionTreeClassifier", "KFold", "cross_val_score"],
        "cards": {
            "score": "`score` now: float = 0.8333\n  set in [14], line 3: `score = clf.score(X[test], y[test])`, "
            "inside the loop `for train, test in kf.split(X)`: it holds the value from the loop's last iteration\n"
            "  note: what [9] showed (0.9667) is an earlier value; `score` was set again after it",
            "clf": "`clf` now: sklearn.tree.DecisionTreeClassifier = DecisionTreeClassifier(max_depth=3); fitted; "
            "classes: [0, 1, 2]\n  set in [13], line 1: `clf = DecisionTreeClassifier(max_depth=3)`",
            "X_test": "`X_test` now: numpy.ndarray = shape (30, 4), float64\n  set in [7], line 1: "
            "`X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)`",
        },
        "questions": [
            (
                "what's in score now? is it still the test accuracy that was printed before?",
                ["score"],
                True,
            ),
            ("What value does `score` have right now?", ["score"], True),
            ("How many of the 30 test samples does the depth-3 tree get wrong?", ["X_test"], False),
            ("Why are the manual fold accuracies lower than cross_val_score?", ["clf"], False),
            ("I ran clf.predict(X_test) and got a NotFittedError. Why?", ["clf", "X_test"], False),
            ("What should I do next to choose max_depth?", ["clf"], False),
            ("what classes does clf predict?", ["clf"], True),
        ],
        "error": {"cell": 16, "exception": "NotFittedError"},
    },
    {
        "context": "eval_army",
        "names": ["army", "raw_data"],
        "vocabulary": ["pd"],
        "cards": {
            "army": "`army` now: pandas.DataFrame = 12 rows × 7 columns; index: origin (Arizona, California, "
            "Texas, …); columns: regiment, company, deaths, battles, size, veterans, readiness\n"
            "  set in [4], line 1: `army = army.set_index('origin')`",
        },
        "questions": [
            ("what's the index of army at the moment, and its shape?", ["army"], True),
            ("Which origins have more than 500 deaths or fewer than 50?", ["army"], False),
            ("what does army.loc[['Arizona']].iloc[:, 2] give back?", ["army"], False),
            ("what columns does army have?", ["army"], True),
            ("How many rows are in army?", ["army"], True),
            ("how do I compare regiments by deaths per soldier?", ["army"], False),
        ],
        "error": {"cell": 11, "exception": "KeyError"},
    },
    {
        "context": "eval_bootstrap",
        "names": ["x", "y", "data", "statistic", "e", "res"],
        "vocabulary": ["stats", "bootstrap", "np"],
        "cards": {
            "e": "`e` now: numpy.ndarray = shape (10,), float64\n  set in [9], line 1: `e = y - (a * x + b)`",
            "data": "`data` now: tuple = (array of 10, array of 10)\n  set in [12], line 1: `data = (x, y)`",
            "statistic": "`statistic` now: function = statistic(x, y)\n  defined (def) in [12], line 2: `def statistic(x, y)`",
        },
        "questions": [
            ("What does e hold now? I want to reuse the residuals.", ["e"], True),
            ("What do data and statistic refer to at the end?", ["data", "statistic"], True),
            ("Is the residual computation in the Shapiro-Wilk cell correct?", ["e"], False),
            ("what p-value does the Shapiro test give on e?", ["e"], False),
        ],
        "error": {"cell": 14, "exception": "ValueError"},
    },
    {
        "context": "eval_huber",
        "names": ["huber", "linear", "coef", "X", "y"],
        "vocabulary": ["HuberRegressor", "LinearRegression", "make_regression"],
        "cards": {
            "huber": "`huber` now: sklearn.linear_model.HuberRegressor = HuberRegressor(); fitted; coef_: "
            "[55.86, 20.59]; outliers_: 4 of 100 True\n  set in [5], line 1: `huber = HuberRegressor().fit(X, y)`",
            "coef": "`coef` now: numpy.ndarray = [55.98, 20.34]\n  set in [2], line 1: "
            "`X, y, coef = make_regression(n_samples=100, n_features=2, coef=True)`",
            "linear": "`linear` now: sklearn.linear_model.LinearRegression = LinearRegression(); fitted; "
            "coef_: [39.21, 18.93]\n  set in [6], line 1: `linear = LinearRegression().fit(X, y)`",
        },
        "questions": [
            ("How many samples does huber flag in huber.outliers_?", ["huber"], False),
            ("what is coef?", ["coef"], True),
            ("Which model has the higher R^2 on X, y?", ["X", "y"], False),
            ("What are huber and linear now?", ["huber", "linear"], True),
            ("Why does huber.predict(X[1].reshape(1,-1)) return 763.5?", ["huber", "X"], False),
        ],
        "error": {"cell": 9, "exception": "ValueError"},
    },
    {
        "context": "eval_svr",
        "names": ["X", "y", "X_train", "X_test", "grid", "svr_best"],
        "vocabulary": ["SVR", "GridSearchCV", "train_test_split"],
        "cards": {
            "X_train": "`X_train` now: numpy.ndarray = shape (375, 1), float64\n  set in [4], line 1: "
            "`X_train, X_test, y_train, y_test = train_test_split(X, y)`",
            "X_test": "`X_test` now: numpy.ndarray = shape (125, 1), float64\n  set in [4], line 1: "
            "`X_train, X_test, y_train, y_test = train_test_split(X, y)`",
            "y": "`y` now: pandas.Series = len 500, float64\n  set in [3], line 2: `y = df['target']`",
            "grid": "`grid` now: sklearn.model_selection.GridSearchCV = GridSearchCV(estimator=SVR()); fitted\n"
            "  set in [6], line 1: `grid = GridSearchCV(SVR(), params, cv=5).fit(X_train, y_train)`",
        },
        "questions": [
            (
                "What are the shapes of X_train and X_test, and what type is y now?",
                ["X_train", "X_test", "y"],
                True,
            ),
            ("how many models did the grid search fit in total?", ["grid"], False),
            ("Is svr_best the model the grid search picked?", ["svr_best", "grid"], False),
            ("grid.predict(x) warns with a UserWarning, is the prediction wrong?", ["grid"], False),
            ("what is X_test's shape?", ["X_test"], True),
        ],
        "error": {"cell": 10, "exception": "NameError"},
    },
]

# -- phrasings in varied user styles (some after questions seen in notebook-assistant trackers:
# "What is in column 2 of the dataframe?", "Explain how changing var x will impact this
# analysis", "fails with shape mismatch", "Any ideas for why?") ----------------------------------------
# (template, label) on the value card of the slots in braces; T table, S scalar, M fitted
# object listing L, O another name. Labels say whether the card answers the question fully.
CARD_TEMPLATES = [
    ("what's the shape of {T}?", ["T"], True),
    ("{T} dimensions?", ["T"], True),
    ("How many rows does {T} have?", ["T"], True),
    ("number of rows in {T} pls", ["T"], True),
    ("which columns are in {T}?", ["T"], True),
    ("list the columns of `{T}`", ["T"], True),
    ("what kind of object is {M} now?", ["M"], True),
    ("What type is `{M}` at this point?", ["M"], True),
    ("What is {S} right now?", ["S"], True),
    ("quick check: value of {S}?", ["S"], True),
    ("where was {S} last set?", ["S"], True),
    ("which cell assigned {S}?", ["S"], True),
    ("is {S} still defined?", ["S"], True),
    ("does {O} still exist or did I delete it", ["O"], True),
    ("what {L} does {M} have?", ["M"], True),
    ("Show me the {L} of {M}", ["M"], True),
    ("What type is {S}, and what is its value?", ["S"], True),
    ("what's {S}? and where did it come from?", ["S"], True),
    ("What are the shapes of {T} and {O}?", ["T", "O"], True),
    ("what do {T} and {O} hold now", ["T", "O"], True),
    ("what type is {M} now and which {L} does it have?", ["M"], True),
    ("What kind of thing is {M} these days, and what are its {L}?", ["M"], True),
    ("How many {L} does {M} have?", ["M"], True),
    ("number of {L} in {M}?", ["M"], True),
    # near misses: another attribute, a statistic, another name, another kind, more parts
    ("what's the mean of {S}?", ["S"], False),
    ("average of {T}'s first column?", ["T"], False),
    ("how many missing values are in {T}?", ["T"], False),
    ("how many NaNs does {T} have", ["T"], False),
    ("Plot {T} please", ["T"], False),
    ("can you make a histogram of {S}", ["S"], False),
    ("How many outliers are there in {T}?", ["T"], False),
    ("how many duplicates does {T} contain?", ["T"], False),
    ("why is {S} so low?", ["S"], False),
    ("Any ideas why {S} is lower than last time?", ["S"], False),
    ("what should I do to improve {S}?", ["S"], False),
    ("how can I make {S} better", ["S"], False),
    ("what is {T} and where was {O} set?", ["T"], False),
    ("what are {T} and {O}?", ["T"], False),
    ("Explain how changing {S} will impact this analysis", ["S"], False),
    ("what would {S} be if I dropped the outliers?", ["S"], False),
    ("what type is {M} and how was it fitted?", ["M"], False),
    ("which {L} does {M} have and why those?", ["M"], False),
    ("sort {T} by its last column", ["T"], False),
    ("Save {T} to parquet", ["T"], False),
]
# The same question about another name than the card's (label: never).
OTHER_NAME_TEMPLATES = [
    "What is {X}?",
    "what's the shape of {X}",
    "Where was {X} defined?",
    "what type is {X}",
]
UNKNOWN_NAMES = ["X_val", "df_clean", "model_v2", "y_pred_proba", "train_df", "results_2023"]

# Model-written anticipated pairs per own context: (question, answer) with what they claim.
# `backed`: every claim is in the facts of the names asked about.
ANTICIPATED = [
    # a bare count: serves only the one-part count question it answers
    ("How many {L} does {M} have?", "{N}", True),
    # a bare number that the notebook prints elsewhere but that is not the scalar's value
    ("What is {S}?", "{elsewhere}", False),
    # prose whose claims are in the card
    ("What type is {M}?", "`{M}` is a {mtype}.", True),
    # prose with a type the card does not hold
    ("What type is {M}?", "`{M}` is a RandomForestClassifier.", False),
]
ANTICIPATED_ASKED = [
    # (asked, which anticipated item (index), label when the item is backed)
    ("how many {L} are in {M}?", 0, True),
    ("{M}: number of {L}?", 0, True),
    ("What kind of object is {M} now, and which {L} does it have?", 0, False),
    ("what is {M}?", 0, False),
    ("what type is {M} and how many {L} does it have", 0, False),
    ("what's {S} right now?", 1, True),
    ("What is the value of {S}?", 1, True),
    ("What type of object is {M}?", 2, True),
    ("which class is {M} an instance of?", 2, True),
    ("What type is {M} and what are its {L}?", 2, False),
    ("what type is `{M}`?", 3, True),
    ("what class is {M}", 3, True),
]

ERROR_TEMPLATES = [
    ("Why did my last cell fail?", "last", True),
    ("what went wrong just now", "last", True),
    ("why am I getting a {E}?", "last", True),
    ("explain the error pls", "last", True),
    ("How do I fix this {E}?", "last", True),
    ("the cell I just ran crashed, any ideas why?", "last", True),
    ("Why does cell {C} raise an error?", "cell", True),
    ("what's the problem in [{C}]?", "cell", True),
    ("Why did cell {D} fail?", "cell", False),
    ("why am I getting a {F}?", "last", False),
    ("What does a {F} usually mean?", "last", False),
    ("Why is {S} lower than I expected?", "last", False),
    ("What is {T} and why did the last cell fail?", "last", False),
    ("What should I do next once this error is fixed?", "last", False),
]
# No error in the notebook: failure words still do not make an error question.
NO_ERROR_TEMPLATES = [
    "What should I do about {M} failing on some shapes of data?",
    "why does {M} fail on some inputs?",
    "is {S} wrong?",
    "why did the last cell fail?",
]
CELL_TEMPLATES = [
    ("What does cell [{C}] do?", True),
    ("explain cell {C} to me", True),
    ("walk me through what happens in [{C}]", True),
    ("what is the purpose of cell {C}?", True),
    ("What does cell [{D}] do?", False),
    ("Why did cell [{C}] take so long?", False),
    ("what is in cell {C}?", False),
    ("rewrite cell {C} so it runs faster", False),
]
OTHER_EXCEPTIONS = ["MemoryError", "ZeroDivisionError", "IndexError", "AttributeError"]
MTYPE = {
    "enc": "sklearn.preprocessing.OneHotEncoder",
    "imputer": "sklearn.impute.SimpleImputer",
    "anomalies": "pandas.DatetimeIndex",
    "top5": "list",
    "vec": "sklearn.feature_extraction.text.TfidfVectorizer",
    "pca": "sklearn.decomposition.PCA",
    "samples": "pandas.DataFrame",
    "arms": "list",
}


def _dealt(items: list, split: str) -> list:
    """Even-indexed wordings for calibration notebooks, odd for held-out ones."""
    return items[0::2] if split == "calibration" else items[1::2]


def own_pairs(ctx: dict) -> list[dict]:
    split = ctx["split"]
    slots = {k: ctx[k] for k in ("T", "S", "M", "L", "O", "N", "elsewhere")}
    slots["mtype"] = MTYPE[ctx["M"]]
    out: list[dict] = []

    def card(names: list[str]) -> dict:
        return {"type": "name", "names": names}

    for template, which, same in _dealt(CARD_TEMPLATES, split):
        names = [ctx[w] for w in which]
        if "columns" in template and not all("columns:" in ctx["cards"][n] for n in names):
            same = False  # an array's card has a shape, not column names
        out.append(_pair(ctx, card(names), template.format(**slots), same, "own-card"))
    # another name's card, an unknown name
    for index, template in enumerate(_dealt(OTHER_NAME_TEMPLATES, split)):
        asked = template.format(X=ctx["O"])
        out.append(_pair(ctx, card([ctx["S"]]), asked, False, "own-other-name"))
        unknown = UNKNOWN_NAMES[(index + len(ctx["context"])) % len(UNKNOWN_NAMES)]
        out.append(
            _pair(ctx, card([ctx["T"]]), template.format(X=unknown), False, "own-other-name")
        )
    # model-written anticipated answers
    items = [
        {"question": q.format(**slots), "answer": a.format(**slots), "backed": b}
        for q, a, b in ANTICIPATED
    ]
    for asked, index, same in ANTICIPATED_ASKED:
        item = items[index]
        prepared = {"type": "model", "question": item["question"], "answer": item["answer"]}
        label = same and item["backed"]
        out.append(_pair(ctx, prepared, asked.format(**slots), label, "own-anticipated"))
    # errors
    error = ctx["error"]
    if error:
        cell, exc = error["cell"], error["exception"]
        other = next(e for e in OTHER_EXCEPTIONS if e != exc)
        for template, scope, same in [*_dealt(ERROR_TEMPLATES, split), ERROR_TEMPLATES[-2]]:
            prepared = {
                "type": "error" if scope == "last" else "cell_error",
                "cell": cell,
                "exception": exc,
            }
            asked = template.format(E=exc, F=other, C=cell, D=cell + 1, **slots)
            out.append(_pair(ctx, prepared, asked, same, "own-error"))
    else:
        for template in NO_ERROR_TEMPLATES:
            asked = template.format(**slots)
            # the only candidates: a value card and a prose next step — neither answers it
            out.append(
                _pair(
                    ctx,
                    card([ctx["M"] if "{M}" in template else ctx["S"]]),
                    asked,
                    False,
                    "own-no-error",
                )
            )
    for template, same in [*_dealt(CELL_TEMPLATES, split), CELL_TEMPLATES[4]]:
        c = ctx["note_cell"]
        prepared = {"type": "cell", "cell": c}
        out.append(_pair(ctx, prepared, template.format(C=c, D=c + 1), same, "own-cell"))
    return out


def eval_pairs(ctx: dict) -> list[dict]:
    out: list[dict] = []
    for asked, names, same in ctx["questions"]:
        prepared = {"type": "name", "names": names}
        if any(n not in ctx["cards"] for n in names):
            same = False  # no card for that name: nothing prepared can answer it
        out.append(_pair(ctx, prepared, asked, same, "eval-rewritten"))
    error = ctx["error"]
    for asked, same in [
        ("why did the last cell fail", True),
        ("what went wrong in the last run?", True),
        (f"Why did cell [{error['cell']}] throw?", True),
        (f"why did cell [{error['cell'] - 1}] fail?", False),
    ]:
        kind = "cell_error" if "[" in asked else "error"
        prepared = {"type": kind, "cell": error["cell"], "exception": error["exception"]}
        out.append(_pair(ctx, prepared, asked, same, "eval-rewritten"))
    return out


def _pair(ctx: dict, prepared: dict, asked: str, same: bool, group: str) -> dict:
    return {
        "context": ctx["context"],
        "split": ctx.get("split", "calibration"),
        "group": group,
        "prepared": prepared,
        "asked": asked,
        "same": bool(same),
    }


def contexts() -> dict[str, dict]:
    out = {}
    for ctx in OWN + EVAL:
        out[ctx["context"]] = {
            "names": ctx["names"],
            "vocabulary": ctx["vocabulary"],
            "cards": ctx["cards"],
            "error": ctx["error"],
            "split": ctx.get("split", "calibration"),
        }
    return out


def main() -> None:
    rows = [p for ctx in OWN for p in own_pairs(ctx)]
    rows += [p for ctx in EVAL for p in eval_pairs(ctx)]
    for index, row in enumerate(rows):
        row["id"] = f"{row['context']}-{index}"
    (HERE / "trust_pairs.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    (HERE / "contexts.json").write_text(json.dumps(contexts(), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
