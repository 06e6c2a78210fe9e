"""A trained linear text classifier, applied in plain Python.

Training uses scikit-learn (``train``, ``train_many``: TF-IDF over ``features`` and a
multinomial logistic regression). The result is exported as plain numbers (``LinearModel``), so
that serving processes predict without importing scikit-learn, NumPy or SciPy: some 40 MB less
per gunicorn worker, and a prediction is a few hundred dictionary look-ups (about 0.1 ms). The
two models of the built-in interpreter take about 2 MB of a process's memory.
"""
from __future__ import annotations

import base64
import json
import math
import sys
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlu.features import features

__all__ = ["LinearModel", "train", "train_many"]


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Classes, their intercepts, and per feature its idf and one weight per class.

    Kept compact, since every serving process holds two: ``index`` numbers the features, and
    their idf and weights are flat arrays of doubles (``weights[index * len(classes) + class]``),
    a third of the memory of Python floats in tuples. The file stores the arrays as base64 of
    their little-endian bytes, so loading makes no float objects either.
    """

    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    index: dict[str, int]  # feature -> its row
    idf: array[float]
    weights: array[float]  # row-major: one weight per class for each feature

    @classmethod
    def of(cls, classes: Sequence[str], intercept: Sequence[float],
           weights: Mapping[str, tuple[float, Sequence[float]]]) -> LinearModel:
        """A model from feature -> (idf, weight per class)."""
        flat = array("d")
        for _, per_class in weights.values():
            if len(per_class) != len(classes):
                raise ValueError("one weight per class is needed for every feature")
            flat.extend(per_class)
        return cls(tuple(classes), tuple(float(b) for b in intercept),
                   {sys.intern(f): row for row, f in enumerate(weights)},
                   array("d", (float(idf) for idf, _ in weights.values())), flat)

    def features(self) -> set[str]:
        """The features the model weighs."""
        return set(self.index)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """(class, probability) for ``text``, most probable first. Exactly what scikit-learn's
        predict_proba gives: sublinear tf x idf, l2-normalised, softmax of the linear scores."""
        return self.rank_counts(Counter(features(text)))

    def rank_counts(self, counts: Mapping[str, int]) -> list[tuple[str, float]]:
        """``rank`` of a text whose features were counted already (one count for two models)."""
        values, starts = [], []
        width, index, idf = len(self.classes), self.index, self.idf
        for feature, count in counts.items():
            row = index.get(feature)
            if row is not None:
                values.append((1.0 + math.log(count)) * idf[row] if count > 1 else idf[row])
                starts.append(row * width)
        if values:
            norm = math.sqrt(sum(value * value for value in values))
            sums = [0.0] * width
            weights = self.weights
            for value, start in zip(values, starts, strict=True):
                scale = value / norm
                for column in range(width):
                    sums[column] += scale * weights[start + column]
            scores = [bias + total for bias, total in zip(self.intercept, sums, strict=True)]
        else:
            scores = list(self.intercept)
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        total = sum(exps)
        return sorted(((label, e / total) for label, e in zip(self.classes, exps, strict=True)),
                      key=lambda pair: pair[1], reverse=True)

    def to_json(self) -> dict[str, Any]:
        return {"classes": list(self.classes), "intercept": list(self.intercept),
                "features": sorted(self.index, key=self.index.__getitem__),
                "idf": _packed(self.idf), "weights": _packed(self.weights)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        classes, names = tuple(data["classes"]), data["features"]
        idf, weights = _unpacked(data["idf"]), _unpacked(data["weights"])
        if len(idf) != len(names) or len(weights) != len(names) * len(classes):
            raise ValueError("the model file is inconsistent: features, idf and weights differ in size")
        return cls(classes, tuple(float(b) for b in data["intercept"]),
                   {sys.intern(name): row for row, name in enumerate(names)}, idf, weights)

    def save(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")
        partial.replace(path)  # whole or not at all, for the other processes reading it

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _packed(values: array[float]) -> str:
    """Doubles as base64 of their little-endian bytes."""
    if sys.byteorder == "big":
        values = array("d", values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _unpacked(text: str) -> array[float]:
    values = array("d")
    values.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def train(examples: dict[str, list[str]], *, c: float = 100.0, class_weight: str | None = "balanced",
          min_df: int = 2, tol: float = 1e-4) -> LinearModel:
    """Fit a model on ``examples`` (label -> texts) with scikit-learn, imported only here.

    ``c``: the inverse of the L2 regularisation (the data is small and clean: little is
    needed). ``class_weight="balanced"``: every class weighs the same in the loss, whatever its
    number of examples (the intents' "report" has every complaint description). ``min_df``:
    features seen in fewer texts are dropped (half the features, twice as fast, as accurate).
    """
    return train_many([examples], c=c, class_weight=class_weight, min_df=min_df, tol=tol)[0]


def train_many(example_sets: Sequence[dict[str, list[str]]], *, c: float = 100.0,
               class_weight: str | None = "balanced", min_df: int = 2, tol: float = 1e-4) -> list[LinearModel]:
    """One model per set of examples (as ``train``), over one vocabulary: the texts of all the
    sets are analysed and weighed (idf) once. Newton-CG on one thread: a few hundred
    milliseconds where lbfgs took seconds, and two threads only fought over a 2-core machine."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    texts = list(dict.fromkeys(text for examples in example_sets for items in examples.values() for text in items))
    row_of = {text: row for row, text in enumerate(texts)}
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=min_df)
    matrix = vectorizer.fit_transform(texts)
    names = vectorizer.get_feature_names_out()
    models = []
    for examples in example_sets:
        rows = [row_of[text] for items in examples.values() for text in items]
        labels = [label for label, items in examples.items() for _ in items]
        classifier = LogisticRegression(C=c, max_iter=1000, solver="newton-cg", class_weight=class_weight, tol=tol)
        with threadpool_limits(1):
            classifier.fit(matrix[rows], labels)
        classes = tuple(str(label) for label in classifier.classes_)
        coef, intercept = classifier.coef_, classifier.intercept_
        if len(classes) == 2:  # one score z for the second class: softmax([0, z]) is its sigmoid
            coef, intercept = np.vstack([np.zeros_like(coef[0]), coef[0]]), np.array([0.0, intercept[0]])
        coef = np.round(coef, 8)  # a shorter file; probabilities stay within 1e-7 of scikit-learn's
        kept = np.flatnonzero(np.any(coef != 0.0, axis=0))  # features of the other sets' texts only: 0
        columns = coef[:, kept].T.tolist()
        weights = {str(name): (idf, tuple(ws))
                   for name, idf, ws in zip(names[kept].tolist(), vectorizer.idf_[kept].tolist(), columns, strict=True)}
        models.append(LinearModel.of(classes, tuple(float(value) for value in intercept), weights))
    return models
