"""Fitting a theme model from coded comments (pure: scikit-learn and numpy).

See app.themes.model for the features and how a model is kept. Training:

1. A fifth of the comments is held out; each theme with at least MIN_POSITIVES coded
   comments gets a logistic regression fitted on the rest by stochastic gradient
   descent, and its threshold is the one (0.05 to 0.95) with the best F1 on the held-out
   fifth.
2. Each of the framework's themes is suggested from the keyword baseline instead of the
   model when it has fewer than MIN_FOR_MODEL coded comments, or when its keywords did
   better than the model on the held-out fifth: so the first week is not worse than the
   baseline, and each theme moves to the model once the model earns it.
3. The model is fitted again on every comment with the same settings. The held-out
   macro-F1 of what the coding queue would pre-tick is kept with the model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import NDArray

from app.themes.keywords import KEYWORD_THRESHOLD, keyword_matrix
from app.themes.model import (
    ALPHA,
    DEFAULT_THRESHOLD,
    EPOCHS,
    HELD_OUT,
    MAX_FEATURES,
    MIN_FOR_HELD_OUT,
    MIN_FOR_MODEL,
    MIN_POSITIVES,
    NGRAMS,
    Example,
    Floats,
    ThemeModel,
    f1,
    has_keywords,
    macro_f1,
)

if TYPE_CHECKING:
    from sklearn.linear_model import SGDClassifier

#: Threads fitting themes at once (the reference machine has 2 cores).
THREADS = 2
_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def train(examples: Sequence[Example], labels: Sequence[str], *, seed: int = 0) -> ThemeModel:
    """Fit a model on `examples` for `labels` (every label a theme may take, in order).

    Raises ValueError when there is nothing to learn from (no example with a theme).
    """
    if not any(e.themes for e in examples):
        raise ValueError("no coded comments to learn from")
    order = list(dict.fromkeys(labels))
    rng = np.random.default_rng(seed)
    metrics: dict[str, Any] = {"comments": len(examples)}
    thresholds = np.full(len(order), DEFAULT_THRESHOLD, dtype=np.float32)
    if len(examples) >= MIN_FOR_HELD_OUT:
        shuffled = rng.permutation(len(examples))
        cut = int(len(examples) * (1 - HELD_OUT))
        fit_part = [examples[i] for i in shuffled[:cut]]
        held = [examples[i] for i in shuffled[cut:]]
        first = _fit(fit_part, order, thresholds, seed)
        truth = _matrix(held, order)
        scores, _ = first.decide([e.text for e in held])  # the model's own scores
        thresholds = _best_thresholds(scores, truth, first.trained)
        first.thresholds = thresholds
        first.keywords = _keyword_labels(first, fit_part, held, truth)
        first.thresholds[first.keywords] = KEYWORD_THRESHOLD
        first.locales = dict(Counter(e.locale for e in fit_part))
        metrics |= _held_out_metrics(first, held, truth)
        use_keywords = first.keywords
    else:
        use_keywords = _keyword_labels(
            None, examples, [], np.zeros((0, len(order)), np.int8), order
        )
    model = _fit(examples, order, thresholds, seed)
    model.keywords = use_keywords
    model.thresholds[use_keywords] = KEYWORD_THRESHOLD
    model.locales = dict(Counter(e.locale for e in examples))
    model.metrics = metrics | {
        "labels_learned": int(model.trained.sum()),
        "labels_from_keywords": int(use_keywords.sum()),
    }
    return model


def _keyword_labels(
    model: ThemeModel | None,
    fitted: Sequence[Example],
    held: Sequence[Example],
    truth: NDArray[np.int8],
    labels: Sequence[str] | None = None,
) -> NDArray[np.bool_]:
    """Which labels the keyword baseline suggests instead of the model: those with fewer
    than MIN_FOR_MODEL coded comments to learn from, and those whose keywords did better
    than the model on the held-out comments. Only the framework's labels have keywords."""
    order = list(model.labels if model is not None else labels or [])
    positives = _matrix(fitted, order).sum(axis=0)
    keyworded = has_keywords(order)
    use: NDArray[np.bool_] = keyworded & (positives < MIN_FOR_MODEL)
    if model is None or not held:
        return use
    texts, locales = [e.text for e in held], [e.locale for e in held]
    scores, thresholds = model.decide(texts)  # before any keyword is used: the model's
    by_model = scores >= thresholds
    by_keywords = keyword_matrix(texts, locales, order) >= KEYWORD_THRESHOLD
    for j in np.flatnonzero(keyworded & ~use):
        if f1(truth[:, j], by_keywords[:, j]) > f1(truth[:, j], by_model[:, j]):
            use[j] = True
    return use


def _matrix(examples: Sequence[Example], labels: Sequence[str]) -> NDArray[np.int8]:
    index = {label: j for j, label in enumerate(labels)}
    matrix = np.zeros((len(examples), len(labels)), dtype=np.int8)
    for i, example in enumerate(examples):
        for theme in example.themes:
            if theme in index:
                matrix[i, index[theme]] = 1
    return matrix


def _fit(
    examples: Sequence[Example], labels: Sequence[str], thresholds: Floats, seed: int
) -> ThemeModel:
    # lazily: scikit-learn (with SciPy) takes about a second to import, which every
    # process would pay at start-up for what only training uses
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [e.text for e in examples]
    vectoriser = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        min_df=2 if len(texts) >= MIN_FOR_HELD_OUT else 1,
        max_features=MAX_FEATURES,
        sublinear_tf=True,
        dtype=np.float32,
    )
    x = vectoriser.fit_transform(texts)
    vocabulary = [""] * len(vectoriser.vocabulary_)
    for term, index in vectoriser.vocabulary_.items():
        vocabulary[index] = term
    y = _matrix(examples, labels)
    coef = np.zeros((len(labels), x.shape[1]), dtype=np.float32)
    intercept = np.zeros(len(labels), dtype=np.float32)
    trained = np.zeros(len(labels), dtype=bool)
    learnable = [
        j for j in range(len(labels)) if MIN_POSITIVES <= int(y[:, j].sum()) < len(examples)
    ]
    # One classifier per theme, on as many threads as there are cores to use (the
    # gradient descent runs without the interpreter lock).
    fitted = Parallel(n_jobs=THREADS, prefer="threads")(
        delayed(_classifier(seed).fit)(x, y[:, j]) for j in learnable
    )
    for j, classifier in zip(learnable, fitted, strict=True):
        coef[j], intercept[j], trained[j] = classifier.coef_[0], classifier.intercept_[0], True
    model = ThemeModel(
        labels=list(labels),
        vocabulary=vocabulary,
        idf=vectoriser.idf_.astype(np.float32),
        coef=coef,
        intercept=intercept,
        thresholds=thresholds,
        trained=trained,
    )
    _fit_sentiment(model, x, examples, seed)
    return model


def _classifier(seed: int) -> SGDClassifier:
    from sklearn.linear_model import SGDClassifier  # lazily: as in `_fit`

    return SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=seed)


def _fit_sentiment(model: ThemeModel, x: Any, examples: Sequence[Example], seed: int) -> None:
    rated = [i for i, e in enumerate(examples) if e.sentiment is not None]
    values = np.array([examples[i].sentiment for i in rated], dtype=np.int64)
    if len(set(values.tolist())) < 2:
        return
    classifier = _classifier(seed).fit(x[rated], values)
    model.sentiment_classes = [int(c) for c in classifier.classes_]
    model.sentiment_coef = classifier.coef_.astype(np.float32)
    model.sentiment_intercept = classifier.intercept_.astype(np.float32)


def _best_thresholds(scores: Floats, truth: NDArray[np.int8], trained: NDArray[np.bool_]) -> Floats:
    thresholds = np.full(truth.shape[1], DEFAULT_THRESHOLD, dtype=np.float32)
    for j in np.flatnonzero(trained & (truth.sum(axis=0) > 0)):
        f1s = [f1(truth[:, j], scores[:, j] >= t) for t in _GRID]
        thresholds[j] = _GRID[int(np.argmax(f1s))]
    return thresholds


def _held_out_metrics(
    model: ThemeModel, held: Sequence[Example], truth: NDArray[np.int8]
) -> dict[str, Any]:
    predicted = model.chosen([e.text for e in held], [e.locale for e in held])
    metrics: dict[str, Any] = {
        "held_out": len(held),
        "held_out_macro_f1": round(macro_f1(truth, predicted), 4),
    }
    rated = [
        (e.sentiment, s)
        for e, s in zip(held, model.sentiments([e.text for e in held]), strict=True)
        if e.sentiment is not None
    ]
    if rated:
        metrics["held_out_sentiment_accuracy"] = round(
            sum(1 for want, got in rated if want == got) / len(rated), 4
        )
    return metrics
