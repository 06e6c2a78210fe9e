"""The exported linear model (pure Python) gives exactly scikit-learn's probabilities."""
from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.features import features
from bot.nlu.linear import LinearModel, train, train_many

EXAMPLES = {
    "greet": ["halo", "selamat pagi min", "hai kak", "assalamualaikum"],
    "thanks": ["makasih", "terima kasih banyak", "thanks min", "suwun"],
    "report": ["jalan rusak parah", "sy mau lapor", "lampu jalan mati", "air pdam tidak ngalir", "mau ngadu"],
}
TEXTS = ["halo min", "makasih ya", "jln rusak bgt", "sy mau ngadu soal pdam", "xyz", "!!!", "", "halo halo halo"]


def _scikit_learn(examples: dict[str, list[str]]) -> tuple[TfidfVectorizer, LogisticRegression]:
    """The same model, fitted and applied by scikit-learn itself."""
    texts = [text for items in examples.values() for text in items]
    labels = [label for label, items in examples.items() for _ in items]
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=1)
    classifier = LogisticRegression(C=100.0, solver="newton-cg", class_weight="balanced", tol=1e-4, max_iter=1000)
    classifier.fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, classifier


@pytest.mark.parametrize("labels", [("greet", "thanks", "report"), ("greet", "report")])
def test_probabilities_equal_scikit_learns_predict_proba(labels: tuple[str, ...], tmp_path: Path) -> None:
    examples = {label: EXAMPLES[label] for label in labels}
    model = train(examples, min_df=1)
    vectorizer, classifier = _scikit_learn(examples)
    expected = classifier.predict_proba(vectorizer.transform(TEXTS))
    model.save(tmp_path / "model.json")
    loaded = LinearModel.load(tmp_path / "model.json")
    for text, row in zip(TEXTS, expected, strict=True):
        wanted = dict(zip((str(c) for c in classifier.classes_), row, strict=True))
        for candidate in (model, loaded):
            ranked = candidate.rank(text)
            assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
            assert set(dict(ranked)) == set(labels)
            for label, probability in ranked:
                assert probability == pytest.approx(wanted[label], abs=1e-6), (text, label)


def test_models_trained_together_are_the_models_trained_apart_but_for_the_shared_vocabulary() -> None:
    both = train_many([EXAMPLES, {"greet": EXAMPLES["greet"], "other": EXAMPLES["report"]}], min_df=1)
    assert both[0].classes == ("greet", "report", "thanks")
    assert both[1].classes == ("greet", "other")
    assert both[0].rank("halo")[0][0] == "greet" and both[1].rank("jalan rusak")[0][0] == "other"
    features_of_thanks = set(features(" ".join(EXAMPLES["thanks"]))) - set(features(" ".join(
        EXAMPLES["greet"] + EXAMPLES["report"])))
    assert not features_of_thanks & both[1].features()  # weightless features are not kept


def test_rank_counts_is_rank() -> None:
    from collections import Counter

    model = train(EXAMPLES, min_df=1)
    for text in TEXTS:
        assert model.rank_counts(Counter(features(text))) == model.rank(text)
