"""The interpreters: text in, an ``Interpretation`` (intent and category, with confidences) out.

- ``BuiltinInterpreter``: two linear classifiers (``bot.nlu.linear``), an intent one and a
  category one, trained from ``dialogs/nlu`` when a process starts (cached by the digest of the
  data and of the code in ``nlu.model_dir``, so the training runs once, in ``lapor serve``'s
  preparing child).
- ``RasaInterpreter``: ``POST {RASA_URL}/model/parse`` on a Rasa 3.6 NLU server trained on the
  same data, with a short timeout. When Rasa is slow, down or answers nonsense, the built-in one
  answers instead, and Rasa is left alone for a while: a citizen never waits on it.

Both apply the same guards (``guarded``): an out-of-scope intent and answers below a threshold
give no intent; a category needs its own threshold (DIET is confident on text it never saw, so
Rasa's thresholds are higher); keywords no classifier may overrule (a tracking number means
"status"; "KTP" means population; of the categories of several keywords, "jembatan ke sekolah",
the classifier picks).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import bot.nlu.features as features_module
import bot.nlu.linear as linear_module
import dialogs.normalize as normalize_module
from bot.nlu.data import CATEGORIES, INTENTS, OUT_OF_SCOPE, Examples, data_digest, read_examples
from bot.nlu.features import features
from bot.nlu.linear import LinearModel, train_many
from dialogs.i18n import CATEGORY_KEYWORDS
from dialogs.model import Interpretation
from dialogs.normalize import loose, normalize

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["BuiltinInterpreter", "Interpreter", "RasaInterpreter", "Thresholds", "builtin_trained", "guarded",
           "load_builtin",
           "code_digest", "make_interpreter", "train_builtin", "train_models"]

log = logging.getLogger(__name__)
NONE = "_none"  # the category classifier's class for text that describes no problem
_TRACKING = re.compile(r"\blap[\s-]?[0-9a-hjkmnp-tv-z]{6}\b")
_LETTER = re.compile(r"[^\W\d_]")
_KEYWORDS = [(re.compile(rf"(?<!\w){re.escape(word)}(?!\w)"), category)
             for category, words in CATEGORY_KEYWORDS.items() for word in words]


class Interpreter(Protocol):
    """Understands a citizen's text; thread-safe; never raises for any text. ``remote``: the
    text is sent to another process (so personal answers are kept from it)."""

    name: str
    remote: bool

    def interpret(self, text: str) -> Interpretation: ...


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Below these, an intent or a category is not taken."""

    intent: float = 0.45
    category: float = 0.35


def guarded(intents: Sequence[tuple[str, float]], categories: Sequence[tuple[str, float]], text: str,
            thresholds: Thresholds) -> Interpretation:
    """The interpretation of ``text`` from ranked (label, probability) intents and categories,
    most probable first, with the guards applied (see the module's docstring)."""
    norm = normalize(text)
    if not _LETTER.search(norm):
        return Interpretation()  # digits and punctuation: menu numbers, not language
    intent, intent_confidence = intents[0] if intents else (None, 0.0)
    if intent == OUT_OF_SCOPE or intent not in INTENTS or intent_confidence < thresholds.intent:
        intent, intent_confidence = None, 0.0
    category, category_confidence = categories[0] if categories else (None, 0.0)
    if category not in CATEGORIES or category_confidence < thresholds.category:
        category, category_confidence = None, 0.0
    words = f" {loose(norm)} "
    matched = [keyword_category for pattern, keyword_category in _KEYWORDS if pattern.search(words)] \
        if category is None else []
    if matched:  # no confident category: a keyword names it (of several, the classifier's likeliest)
        likelihood = dict(categories)
        category = max(matched, key=lambda name: likelihood.get(name, 0.0))
        category_confidence = 1.0
    if _TRACKING.search(norm):
        intent, intent_confidence = "status", 1.0
    elif category is not None and intent in (None, "report"):
        intent, intent_confidence = "report", max(intent_confidence, category_confidence)
    return Interpretation(intent, round(intent_confidence, 3), category, round(category_confidence, 3))


class BuiltinInterpreter:
    """Two linear models: intents (complaint descriptions count as "report") and categories
    (with a class for text that describes no problem)."""

    name = "builtin"
    remote = False

    def __init__(self, intents: LinearModel, categories: LinearModel, thresholds: Thresholds = Thresholds()):
        self.intents, self.categories, self._thresholds = intents, categories, thresholds

    def interpret(self, text: str) -> Interpretation:
        if not text.strip():
            return Interpretation()
        counts = Counter(features(text))
        return guarded(self.intents.rank_counts(counts), self.categories.rank_counts(counts), text, self._thresholds)


def train_builtin(nlu_dir: Path) -> tuple[LinearModel, LinearModel]:
    """The intent and category models from the training files (scikit-learn, well under a
    second once imported)."""
    return train_models(read_examples(nlu_dir / "intents.yml"), read_examples(nlu_dir / "categories.yml"))


def train_models(intents: Examples, categories: Examples) -> tuple[LinearModel, LinearModel]:
    """The intent model (every complaint description is also a "report") and the category
    model (every other intent's example is a "no problem described")."""
    complaints = [text for texts in categories.values() for text in texts]
    no_problem = [text for label, texts in intents.items() if label != "report" for text in texts]
    intent_model, category_model = train_many([{**intents, "report": [*intents.get("report", []), *complaints]},
                                               {**categories, NONE: no_problem}])
    return intent_model, category_model


_LOADING = threading.Lock()
_LOADED: dict[tuple[Path, Path], BuiltinInterpreter] = {}


@functools.cache
def code_digest() -> str:
    """A fingerprint of the code that turns the data into models and texts into features: a
    model made by other code is stale too (its features would not be the ones looked up)."""
    digest = hashlib.sha256()
    for module in (features_module, linear_module, normalize_module, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes() + b"\0")
    return digest.hexdigest()[:8]


def _model_paths(nlu_dir: Path, model_dir: Path) -> tuple[Path, Path]:
    digest = f"{data_digest(nlu_dir)}-{code_digest()}"
    return model_dir / f"intents-{digest}.json", model_dir / f"categories-{digest}.json"


def builtin_trained(nlu_dir: Path, model_dir: Path) -> bool:
    """True when ``model_dir`` holds the models of this data and code (nothing to train)."""
    return all(path.is_file() for path in _model_paths(nlu_dir, model_dir))


def load_builtin(nlu_dir: Path, model_dir: Path) -> BuiltinInterpreter:
    """The built-in interpreter for the data in ``nlu_dir``: loaded from ``model_dir`` when a
    model of that data and code is there, else trained now and saved there for the other
    processes."""
    paths = _model_paths(nlu_dir, model_dir)
    with _LOADING:
        loaded = _LOADED.get(paths)
        if loaded is not None:
            return loaded
        if all(path.is_file() for path in paths):
            loaded = BuiltinInterpreter(LinearModel.load(paths[0]), LinearModel.load(paths[1]))
        else:
            started = time.perf_counter()
            models = train_builtin(nlu_dir)
            for model, path in zip(models, paths, strict=True):
                model.save(path)
            for stale in {*model_dir.glob("intents-*.json"), *model_dir.glob("categories-*.json")} - set(paths):
                stale.unlink(missing_ok=True)  # models of older data or code
            log.info("trained the built-in interpreter in %.2f s", time.perf_counter() - started)
            loaded = BuiltinInterpreter(*models)
        _LOADED[paths] = loaded  # a process (and each test) loads a model once
        return loaded


class RasaInterpreter:
    """A Rasa NLU server, trained on the same data as one model of intents and categories
    (``bot.nlu.rasa_server``); ``fallback`` answers whenever Rasa cannot, in time."""

    name = "rasa"
    remote = True  # texts leave this process: intake never sends it a personal answer
    THRESHOLDS = Thresholds(intent=0.7, category=0.75)  # DIET is overconfident

    def __init__(self, url: str, token: str, fallback: BuiltinInterpreter, *, timeout: float = 0.3,
                 rest_seconds: float = 30.0):
        import httpx

        from channels.tls import client_context

        self._url = url.rstrip("/") + "/model/parse"
        self._params = {"token": token} if token else {}
        self._fallback = fallback
        self._client = httpx.Client(timeout=timeout, verify=client_context())
        self._rest = rest_seconds
        self._resting_until = 0.0
        self._errors = (httpx.HTTPError, ValueError, KeyError, TypeError)

    def interpret(self, text: str) -> Interpretation:
        if not _LETTER.search(text):
            return Interpretation()  # a menu number or punctuation: not worth a request
        ranking = self.rank(text)
        if ranking is None:
            return self._fallback.interpret(text)
        return self.guard(ranking, text)

    def guard(self, ranking: list[tuple[str, float]], text: str) -> Interpretation:
        """Rasa's one model ranks intents and categories together: a category's probability
        counts towards "report" (a complaint described is a report)."""
        intents = [pair for pair in ranking if pair[0] not in CATEGORIES]
        report = sum(p for label, p in ranking if label in CATEGORIES or label == "report")
        intents = sorted([pair for pair in intents if pair[0] != "report"] + [("report", report)],
                         key=lambda pair: pair[1], reverse=True)
        categories = [pair for pair in ranking if pair[0] in CATEGORIES]
        total = sum(p for _, p in categories) or 1.0
        scaled = [(label, p / total) for label, p in categories] if report >= self.THRESHOLDS.intent else categories
        return guarded(intents, scaled, text, self.THRESHOLDS)

    def rank(self, text: str) -> list[tuple[str, float]] | None:
        """Rasa's (label, confidence) ranking, or None when it cannot answer now."""
        if time.monotonic() < self._resting_until:
            return None
        try:
            answer = self._client.post(self._url, params=self._params, json={"text": text})
            answer.raise_for_status()
            data = answer.json()
            ranking = [(str(item["name"]), float(item["confidence"])) for item in data["intent_ranking"]]
        except self._errors as exc:
            self._resting_until = time.monotonic() + self._rest
            log.warning("Rasa did not answer (%s); the built-in interpreter answers for %s s",
                        type(exc).__name__, self._rest)
            return None
        return sorted(ranking, key=lambda pair: pair[1], reverse=True)

    def close(self) -> None:
        self._client.close()


def make_interpreter(settings: Settings) -> BuiltinInterpreter | RasaInterpreter:
    """The interpreter the settings name (``nlu.backend``; ``RASA_URL`` means Rasa)."""
    builtin = load_builtin(settings.nlu_dir, settings.nlu_model_dir)
    rasa_url = settings.env.get("RASA_URL", "")
    if settings.nlu_backend == "rasa" or rasa_url:
        if not rasa_url:
            log.warning("nlu.backend is rasa but RASA_URL is not set: the built-in interpreter answers")
            return builtin
        return RasaInterpreter(rasa_url, settings.env.get("RASA_TOKEN", ""), builtin,
                               timeout=settings.nlu_rasa_timeout)
    return builtin
