"""An organisation's theme model: how it scores comments and how it is kept (pure:
scikit-learn and numpy, no database).

Features are TF-IDF weights of character n-grams (2 to 5 characters, within words), so
one model reads every language and script its patients write in, with no word lists,
and misspellings share most of their n-grams with the word meant. Each theme has its own
logistic regression (one-vs-rest), and the sentiment (1 to 5) is one more linear
classifier on the same features. How a model is fitted and its thresholds chosen:
app.themes.learning.

**Keywords beside the model.** A theme the model has not learned well enough (too few
codes, or its keywords did better on held-out comments) is scored by the keyword
baseline, and so is every theme that has keywords for a comment in a locale the model
saw fewer than MIN_FOR_LOCALE comments of: an organisation whose codes are all English
still gets suggestions for a comment in Polish. `decide` gives each score with the
threshold it must reach; `predict` the themes over them, best first.

**Keeping a model safely.** A trained model is stored as plain arrays, never a pickle:
the vocabulary (JSON), the IDF weights, the coefficients and intercepts, the thresholds
and the settings, in one `numpy` .npz archive read with `allow_pickle=False`. Loading
rebuilds the vectoriser from the vocabulary and scores with numpy, so a model file from
anywhere can at worst give wrong scores, never run code.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.themes.framework import framework
from app.themes.keywords import KEYWORD_THRESHOLD, keyword_matrix, keyword_sentiment

Floats = NDArray[np.float32]

FORMAT = "wesaid-themes-model/1"
NGRAMS = (2, 5)
MAX_FEATURES = 100_000
#: Stochastic gradient descent settings (log loss = logistic regression).
ALPHA = 1e-5
EPOCHS = 10
HELD_OUT = 0.2
#: Below this many comments nothing is held out, and every threshold is 0.5.
MIN_FOR_HELD_OUT = 50
#: A theme needs this many comments to be learned at all.
MIN_POSITIVES = 2
#: Below this many coded comments of a theme, its keywords stand in for the model.
MIN_FOR_MODEL = 10
#: Below this many training comments in a locale, its texts are read by the keywords.
MIN_FOR_LOCALE = 50
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Example:
    """A coded comment: its text, theme labels (names) and sentiment (1-5 or None)."""

    text: str
    themes: tuple[str, ...]
    sentiment: int | None = None
    locale: str = "en"


@dataclass(frozen=True)
class Scored:
    """A theme label and its score in [0, 1]."""

    name: str
    score: float


@dataclass(frozen=True)
class Prediction:
    """What a model suggests for one comment: the themes over their thresholds, best
    first, and a sentiment (None when the model has no sentiment)."""

    themes: tuple[Scored, ...]
    sentiment: int | None


@dataclass
class ThemeModel:
    """A fitted model as plain arrays (see the module docstring)."""

    labels: list[str]
    vocabulary: list[str]
    idf: Floats
    coef: Floats  # labels × features
    intercept: Floats
    thresholds: Floats
    trained: NDArray[np.bool_]
    #: Labels suggested from the keyword baseline instead of the model (see `train`).
    keywords: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    sentiment_classes: list[int] = field(default_factory=list)
    sentiment_coef: Floats | None = None
    sentiment_intercept: Floats | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    #: How many training comments each locale had; a text in a locale with fewer than
    #: MIN_FOR_LOCALE is read by the keyword baseline wherever it has keywords.
    locales: dict[str, int] = field(default_factory=dict)

    # -- scoring --------------------------------------------------------------------

    def features(self, texts: Sequence[str]) -> Any:
        # lazily: scikit-learn (with SciPy) takes about a second to import, which every
        # process would pay at start-up for what only theme suggestions use
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        counts = CountVectorizer(
            analyzer="char_wb",
            ngram_range=NGRAMS,
            vocabulary={term: i for i, term in enumerate(self.vocabulary)},
            dtype=np.float32,
        ).transform(list(texts))
        counts.data = 1 + np.log(counts.data)  # sublinear term frequency
        return normalize(counts.multiply(self.idf).tocsr())

    def unseen(self, texts: Sequence[str], locales: Sequence[str] | None) -> NDArray[np.bool_]:
        """Which texts are in a locale the model saw too little of (see `locales`)."""
        if locales is None or not self.locales:
            return np.zeros(len(texts), dtype=bool)
        return np.array([self.locales.get(code, 0) < MIN_FOR_LOCALE for code in locales])

    def decide(
        self, texts: Sequence[str], locales: Sequence[str] | None = None
    ) -> tuple[Floats, Floats]:
        """Each text's score for each label, in [0, 1], and the threshold it must reach.

        A score is the model's, or the keyword baseline's (threshold KEYWORD_THRESHOLD)
        for the labels that use keywords and, for a text in a locale the model saw too
        little of, for every label that has keywords. Labels never learned score 0.
        """
        shape = (len(texts), len(self.labels))
        thresholds = np.broadcast_to(self.thresholds, shape).copy()
        if not texts:
            return np.zeros(shape, dtype=np.float32), thresholds
        logits = self.features(texts) @ self.coef.T + self.intercept
        scores = _sigmoid(np.asarray(logits, dtype=np.float32))
        scores[:, ~self.trained] = 0.0
        use = np.zeros(shape, dtype=bool)
        if self.keywords.size:
            use[:, self.keywords] = True
        use[self.unseen(texts, locales)] |= has_keywords(self.labels)
        if use.any():
            by_keywords = keyword_matrix(texts, locales, self.labels)
            scores[use] = by_keywords[use]
            thresholds[use] = KEYWORD_THRESHOLD
        return scores, thresholds

    def chosen(self, texts: Sequence[str], locales: Sequence[str] | None = None) -> Any:
        """Which labels the coding queue would pre-tick for each text (a boolean matrix)."""
        scores, thresholds = self.decide(texts, locales)
        return scores >= thresholds

    def predict(
        self, texts: Sequence[str], locales: Sequence[str] | None = None
    ) -> list[Prediction]:
        """The suggestions for each text (themes over their thresholds, best first);
        `locales` (one per text, English by default) are the keyword lists' languages."""
        scores, thresholds = self.decide(texts, locales)
        sentiments = self.sentiments(texts, locales)
        predictions = []
        for row, limit, sentiment in zip(scores, thresholds, sentiments, strict=True):
            chosen = [
                Scored(self.labels[j], round(float(row[j]), 4))
                for j in np.flatnonzero(row >= limit)
            ]
            chosen.sort(key=lambda s: -s.score)
            predictions.append(Prediction(tuple(chosen), sentiment))
        return predictions

    def sentiments(
        self, texts: Sequence[str], locales: Sequence[str] | None = None
    ) -> list[int | None]:
        """1 to 5 for each text (None without a sentiment model); a text in a locale
        the model saw too little of gets the keyword baseline's sentiment."""
        if self.sentiment_coef is None or self.sentiment_intercept is None or not texts:
            return [None] * len(texts)
        logits = self.features(texts) @ self.sentiment_coef.T + self.sentiment_intercept
        if len(self.sentiment_classes) == 2:
            best = (np.asarray(logits).ravel() > 0).astype(int)
        else:
            best = np.asarray(logits).argmax(axis=1)
        found: list[int | None] = [self.sentiment_classes[int(i)] for i in best]
        for index in np.flatnonzero(self.unseen(texts, locales)):
            i = int(index)
            found[i] = keyword_sentiment(texts[i], locales[i] if locales else "en")
        return found

    # -- keeping ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The model as an .npz archive of plain arrays (no pickle)."""
        meta = {
            "format": FORMAT,
            "labels": self.labels,
            "vocabulary": self.vocabulary,
            "ngrams": list(NGRAMS),
            "sentiment_classes": self.sentiment_classes,
            "metrics": self.metrics,
            "locales": self.locales,
        }
        arrays: dict[str, Any] = {
            "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
            "idf": self.idf,
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept,
            "thresholds": self.thresholds,
            "trained": self.trained,
            "keywords": self.keywords,
        }
        if self.sentiment_coef is not None and self.sentiment_intercept is not None:
            arrays["sentiment_coef"] = self.sentiment_coef.astype(np.float16)
            arrays["sentiment_intercept"] = self.sentiment_intercept
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ThemeModel:
        """A model kept by `to_bytes`. Raises ValueError for anything else."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                meta = json.loads(archive["meta"].tobytes().decode())
                if meta.get("format") != FORMAT:
                    raise ValueError("not a WeSaid themes model")
                has_sentiment = "sentiment_coef" in archive.files
                model = cls(
                    labels=[str(x) for x in meta["labels"]],
                    vocabulary=[str(x) for x in meta["vocabulary"]],
                    idf=archive["idf"].astype(np.float32),
                    coef=archive["coef"].astype(np.float32),
                    intercept=archive["intercept"].astype(np.float32),
                    thresholds=archive["thresholds"].astype(np.float32),
                    trained=archive["trained"].astype(bool),
                    keywords=archive["keywords"].astype(bool),
                    sentiment_classes=[int(x) for x in meta["sentiment_classes"]],
                    sentiment_coef=(
                        archive["sentiment_coef"].astype(np.float32) if has_sentiment else None
                    ),
                    sentiment_intercept=(
                        archive["sentiment_intercept"].astype(np.float32) if has_sentiment else None
                    ),
                    metrics=dict(meta.get("metrics") or {}),
                    locales={str(k): int(v) for k, v in (meta.get("locales") or {}).items()},
                )
        except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a WeSaid themes model ({exc})") from None
        n_labels, n_features = len(model.labels), len(model.vocabulary)
        if model.coef.shape != (n_labels, n_features) or model.idf.shape != (n_features,):
            raise ValueError("not a WeSaid themes model (inconsistent shapes)")
        return model


def _sigmoid(x: Floats) -> Floats:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


def f1(truth: NDArray[Any], predicted: NDArray[Any]) -> float:
    """F1 of 0/1 predictions against 0/1 truth (0 when neither has a positive)."""
    tp = float(np.sum((truth == 1) & predicted))
    fp = float(np.sum((truth == 0) & predicted))
    fn = float(np.sum((truth == 1) & ~predicted))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def macro_f1(truth: NDArray[Any], predicted: NDArray[np.bool_]) -> float:
    """Mean F1 over the labels that occur in `truth` (the labels a test can judge)."""
    present = np.flatnonzero(truth.sum(axis=0) > 0)
    if present.size == 0:
        return math.nan
    return float(np.mean([f1(truth[:, j], predicted[:, j]) for j in present]))


def has_keywords(labels: Sequence[str]) -> NDArray[np.bool_]:
    """Which labels are the framework's (and so have keyword lists)."""
    return np.array([framework().by_name(label) is not None for label in labels], dtype=bool)
