"""Theme suggestions against human codes: a learning curve and a TF-IDF + linear SVM peer.

    .venv/bin/python bench/themes.py LABELLED.csv [--curve 100,500,2000] [--seed 0]
    .venv/bin/python bench/themes.py --synthetic 50000   # training time on 2 cores
    .venv/bin/python bench/themes.py LABELLED.csv --time 50000   # the same, real lengths

LABELLED.csv has `id,text,themes[,sentiment,locale]` with the framework's subcategory
names (bench/themes_data.py prepares one from the labelled FFT comments the pxtextmining
project published; that file is not part of this repository). A fifth of the comments,
drawn with the seed, is the test set. For each size of the curve, both models learn from
the same first N training comments:

- `wesaid`: app.themes.learning (character n-gram TF-IDF, one logistic regression per
  theme, thresholds chosen on a held-out fifth of the N, and the keyword baseline for
  the themes with fewer than 10 codes or whose keywords did better on that fifth),
  scored on the themes the coding queue would pre-tick;
- `tfidf_linearsvc`: word and bigram TF-IDF with scikit-learn's one-vs-rest LinearSVC,
  a theme predicted when its decision value is positive;
- `keywords` (once): the keyword baseline, which learns nothing.

Macro-F1 is the mean F1 over the themes present in the test set. Prints JSON lines.
With `--synthetic N`, times `train` on N synthetic comments (app.simulator.comments);
with `--time N`, on LABELLED's comments repeated up to N (each copy numbered) instead of
the learning curve.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

from app.simulator.comments import generate_comments
from app.themes.framework import framework
from app.themes.keywords import keyword_themes
from app.themes.labelled import CommentRow, read_labelled
from app.themes.learning import train
from app.themes.model import Example, macro_f1


def _truth(rows: list[CommentRow], labels: list[str]) -> np.ndarray:
    index = {name: j for j, name in enumerate(labels)}
    y = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for i, row in enumerate(rows):
        for name in row.themes:
            y[i, index[name]] = 1
    return y


def _svm(train_rows: list[CommentRow], test: list[CommentRow], labels: list[str]) -> np.ndarray:
    y = _truth(train_rows, labels)
    keep = np.flatnonzero((y.sum(axis=0) > 0) & (y.sum(axis=0) < len(train_rows)))
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x = vectoriser.fit_transform([r.text for r in train_rows])
    classifier = OneVsRestClassifier(LinearSVC(C=1.0)).fit(x, y[:, keep])
    predicted = np.zeros((len(test), len(labels)), dtype=bool)
    decision = classifier.decision_function(vectoriser.transform([r.text for r in test]))
    predicted[:, keep] = np.asarray(decision).reshape(len(test), len(keep)) > 0
    return predicted


def run(path: Path, curve: list[int], seed: int) -> None:
    labels = [t.name for t in framework().themes]
    rows = read_labelled(path, lambda w: t.name if (t := framework().by_name(w)) else None)
    random.Random(seed).shuffle(rows)
    cut = len(rows) // 5
    test, pool = rows[:cut], rows[cut:]
    truth = _truth(test, labels)
    keys = {t.key: t.name for t in framework().themes}
    index = {name: j for j, name in enumerate(labels)}
    keyword = np.zeros_like(truth, dtype=bool)
    for i, row in enumerate(test):
        for s in keyword_themes(row.text, row.locale):
            keyword[i, index[keys[s.key]]] = True
    common = {"file": str(path), "test": len(test)}
    print(
        json.dumps({"name": "keywords", **common, "macro_f1": round(macro_f1(truth, keyword), 4)})
    )
    for n in [size for size in curve if size <= len(pool)]:
        part = pool[:n]
        started = time.perf_counter()
        examples = [Example(r.text, r.themes, r.sentiment, r.locale) for r in part]
        model = train(examples, labels, seed=seed)
        seconds = time.perf_counter() - started
        ours = model.chosen([r.text for r in test], [r.locale for r in test])
        print(
            json.dumps(
                {
                    "name": "wesaid",
                    **common,
                    "codes": n,
                    "macro_f1": round(macro_f1(truth, ours), 4),
                    "train_s": round(seconds, 2),
                }
            )
        )
        started = time.perf_counter()
        peer = _svm(part, test, labels)
        seconds = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "name": "tfidf_linearsvc",
                    **common,
                    "codes": n,
                    "macro_f1": round(macro_f1(truth, peer), 4),
                    "train_s": round(seconds, 2),
                }
            )
        )


def time_training(n: int, seed: int, labelled: Path | None) -> None:
    """Time `train` on `n` comments: synthetic ones, or the labelled file's repeated
    (each copy with its number appended, so copies are not identical) up to `n`."""
    names = {t.key: t.name for t in framework().themes}
    if labelled is None:
        examples = [
            Example(c.text, tuple(names[k] for k in c.themes), c.sentiment, c.locale)
            for c in generate_comments(n, seed=seed)
        ]
    else:
        rows = read_labelled(labelled, _framework_name)
        examples = [
            Example(f"{r.text} {k // len(rows)}", r.themes, r.sentiment, r.locale)
            for k, r in ((k, rows[k % len(rows)]) for k in range(n))
        ]
    started = time.perf_counter()
    model = train(examples, [t.name for t in framework().themes], seed=seed)
    seconds = time.perf_counter() - started
    source = "synthetic" if labelled is None else str(labelled)
    print(
        json.dumps(
            {
                "name": "train",
                "source": source,
                "comments": n,
                "seconds": round(seconds, 2),
                "bytes": len(model.to_bytes()),
                **model.metrics,
            }
        )
    )


def _framework_name(written: str) -> str | None:
    theme = framework().by_name(written)
    return theme.name if theme else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("labelled", nargs="?", type=Path)
    parser.add_argument("--curve", default="100,500,2000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic", type=int, help="time training on N synthetic comments")
    parser.add_argument(
        "--time", dest="time_n", type=int, help="time training on LABELLED repeated up to N"
    )
    args = parser.parse_args()
    if args.synthetic:
        time_training(args.synthetic, args.seed, None)
    if args.time_n and args.labelled:
        time_training(args.time_n, args.seed, args.labelled)
    elif args.labelled:
        run(args.labelled, [int(v) for v in args.curve.split(",")], args.seed)
    if not args.synthetic and not args.labelled:
        parser.print_usage(sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
