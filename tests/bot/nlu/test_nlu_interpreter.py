"""The built-in interpreter, trained on the real data: its scores on the held-out examples (the
numbers dialogs/nlu/README.md reports), the cases that matter most, its guards, its cache."""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest
from tests_support import ROOT

from bot.nlu import interpreter as interpreter_module
from bot.nlu.evaluate import evaluate
from bot.nlu.interpreter import BuiltinInterpreter, Thresholds, guarded, load_builtin
from dialogs.model import Interpretation

NLU = ROOT / "dialogs" / "nlu"


@pytest.mark.parametrize(("task", "accuracy", "macro_f1"), [("intents", 0.90, 0.88), ("categories", 0.85, 0.85)])
def test_the_builtin_meets_its_targets_on_the_held_out_examples(builtin_interpreter: BuiltinInterpreter, task: str,
                                                                accuracy: float, macro_f1: float) -> None:
    score = evaluate(NLU / "heldout" / f"{task}.yml", builtin_interpreter)
    assert score.accuracy >= accuracy, score.mistakes
    assert score.macro_f1 >= macro_f1, score.per_label


@pytest.mark.parametrize(("text", "intent", "category"), [
    ("sy mau lapor, jln rusak parah bgt di desa sukamaju", "report", "infrastructure"),
    ("laporan saya sudah sampai mana", "status", None),
    ("cek status", "status", None),
    ("halo", "greet", None),
    ("makasih", "thanks", None),
    ("english", "change_language", None),
    ("pakai bahasa indonesia", "change_language", None),
    ("batal", "cancel", None),
    ("iya betul", "affirm", None),
    ("bukan", "deny", None),
    ("bingung", "help", None),
    ("puskesmas tutup terus, pasien ditolak", "report", "health"),
    ("asdfgh", None, None),
])
def test_what_citizens_write_is_understood(builtin_interpreter: BuiltinInterpreter, text: str, intent: str | None,
                                           category: str | None) -> None:
    meaning = builtin_interpreter.interpret(text)
    assert (meaning.intent, meaning.category) == (intent, category), meaning


@pytest.mark.parametrize("text", ["1", " 2. ", "12", "...", "", "   ", "👍"])
def test_menu_numbers_and_punctuation_mean_nothing(builtin_interpreter: BuiltinInterpreter, text: str) -> None:
    assert builtin_interpreter.interpret(text) == Interpretation()


def test_a_tracking_number_means_status(builtin_interpreter: BuiltinInterpreter) -> None:
    assert builtin_interpreter.interpret("lap-7k3m9q").intent == "status"
    assert builtin_interpreter.interpret("status LAP-7K3M9Q dong").intent == "status"


def test_a_keyword_settles_the_category(builtin_interpreter: BuiltinInterpreter) -> None:
    meaning = builtin_interpreter.interpret("urus ktp")
    assert (meaning.intent, meaning.category, meaning.category_confidence) == ("report", "population", 1.0)


# The guards on their own, with rankings a classifier could give.
THRESHOLDS = Thresholds(intent=0.5, category=0.5)
NO_CATEGORY = [("_none", 0.9), ("other", 0.1)]


def test_out_of_scope_gives_no_intent() -> None:
    meaning = guarded([("out_of_scope", 0.95), ("greet", 0.05)], NO_CATEGORY, "wkwkwk", THRESHOLDS)
    assert meaning == Interpretation()


def test_unsure_answers_are_not_taken() -> None:
    meaning = guarded([("greet", 0.49), ("thanks", 0.4)], [("health", 0.49), ("_none", 0.3)], "hmm", THRESHOLDS)
    assert meaning == Interpretation()


def test_a_category_described_is_a_report() -> None:
    meaning = guarded([("out_of_scope", 0.6)], [("health", 0.8)], "dokter galak", THRESHOLDS)
    assert (meaning.intent, meaning.category) == ("report", "health")
    assert guarded([("status", 0.9)], [("health", 0.8)], "laporan soal dokter gimana", THRESHOLDS).intent == "status"


def test_a_tracking_number_overrules_the_classifier() -> None:
    meaning = guarded([("greet", 0.99)], NO_CATEGORY, "halo lap-7k3m9q", THRESHOLDS)
    assert (meaning.intent, meaning.intent_confidence) == ("status", 1.0)


def test_a_keyword_names_the_category_only_when_the_classifier_names_none() -> None:
    unsure = guarded([("report", 0.9)], [("other", 0.3), ("population", 0.05)], "urus ktp", THRESHOLDS)
    assert (unsure.category, unsure.category_confidence) == ("population", 1.0)
    sure = guarded([("report", 0.9)], [("infrastructure", 0.8)], "lampu jalan depan kantor dukcapil mati", THRESHOLDS)
    assert sure.category == "infrastructure"  # a confident classifier is not overruled


def test_of_several_keywords_the_classifier_picks_and_else_the_first_listed() -> None:
    text = "puskesmas minta ktp asli"  # "puskesmas": health, "ktp": population
    picked = guarded([("report", 0.9)], [("health", 0.4), ("population", 0.3)], text, THRESHOLDS)
    assert picked.category == "health"
    picked = guarded([("report", 0.9)], [("population", 0.4), ("health", 0.3)], text, THRESHOLDS)
    assert picked.category == "population"
    assert guarded([("report", 0.9)], [], text, THRESHOLDS).category == "population"  # listed before


@pytest.mark.parametrize("text", ["kk lagi ngapain", "jembatan timbang rusak", "sd negeri 3 pagarnya roboh"])
def test_everyday_words_are_no_keywords(text: str) -> None:
    assert guarded([("report", 0.9)], [], text, THRESHOLDS).category is None


# The cache of trained models.

def _copy_data(to: Path) -> Path:
    to.mkdir()
    for name in ("intents.yml", "categories.yml"):
        shutil.copyfile(NLU / name, to / name)
    return to


def test_models_are_trained_once_per_data_and_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data, models = _copy_data(tmp_path / "nlu"), tmp_path / "models"
    with caplog.at_level(logging.INFO, logger="bot.nlu.interpreter"):
        first = load_builtin(data, models)
    assert "trained the built-in interpreter" in caplog.text
    files = sorted(models.glob("*.json"))
    assert [path.name.split("-")[0] for path in files] == ["categories", "intents"]
    stamps = {path: path.stat().st_mtime_ns for path in files}
    caplog.clear()
    time.sleep(0.01)
    assert load_builtin(data, models) is first  # this process keeps what it loaded
    interpreter_module._LOADED.clear()  # as another process would start: from the files
    with caplog.at_level(logging.INFO, logger="bot.nlu.interpreter"):
        second = load_builtin(data, models)
    assert "trained" not in caplog.text
    assert {path: path.stat().st_mtime_ns for path in sorted(models.glob("*.json"))} == stamps
    for text in ("halo", "jalan rusak", "laporan saya sudah sampai mana"):
        assert second.interpret(text) == first.interpret(text)  # what was kept is what was trained

    with (data / "intents.yml").open("a", encoding="utf-8") as handle:
        handle.write("- intent: greet\n  examples: |\n    - horas bah\n")
    with caplog.at_level(logging.INFO, logger="bot.nlu.interpreter"):
        load_builtin(data, models)
    assert "trained the built-in interpreter" in caplog.text
    assert len(list(models.glob("*.json"))) == 2  # the model of the new data replaced the old one
    assert not any(path.exists() for path in files)
