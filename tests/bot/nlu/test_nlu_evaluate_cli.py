"""``lapor nlu evaluate``: the table, the JSON, and clear refusals of files it cannot score."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests_support import ROOT

from bot.cli import main

NLU = ROOT / "dialogs" / "nlu"


@pytest.fixture
def lapor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of ``lapor``: the real config.yaml but for a model directory of its own."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["nlu"] = {**config.get("nlu", {}), "data_dir": str(NLU), "model_dir": str(tmp_path / "models")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    for name, value in {"LAPOR_CONFIG": str(path), "LAPOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        "LAPOR_DATA_KEY": "test-data-key", "LAPOR_SECRET_KEY": "test-secret-key",
                        "LAPOR_METRICS_DIR": str(tmp_path / "metrics")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RASA_URL", raising=False)
    return tmp_path


@pytest.mark.parametrize(("task", "labels"), [
    ("intents", {"greet", "report", "status", "help", "cancel", "affirm", "deny", "thanks", "change_language",
                 "out_of_scope"}),
    ("categories", {"infrastructure", "health", "education", "population", "social_assistance", "other"}),
])
def test_json_has_the_scores(lapor_env: Path, capsys: pytest.CaptureFixture[str], task: str,
                             labels: set[str]) -> None:
    assert main(["nlu", "evaluate", "--data", str(NLU / "heldout" / f"{task}.yml"), "--json"]) == 0
    score = json.loads(capsys.readouterr().out)
    assert {"backend", "task", "n", "accuracy", "macro_f1", "per_label"} <= set(score)
    assert score["backend"] == "builtin" and score["task"] == task.rstrip("s").replace("ie", "y")
    assert set(score["per_label"]) == labels
    assert score["n"] == sum(int(values["support"]) for values in score["per_label"].values())
    assert all(set(values) == {"precision", "recall", "f1", "support"} for values in score["per_label"].values())
    assert 0.85 <= score["accuracy"] <= 1 and 0 < score["macro_f1"] <= 1
    assert list((lapor_env / "models").glob("*.json")), "the models were kept in the configured directory"


def test_the_table_without_json(lapor_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nlu", "evaluate", "--data", str(NLU / "heldout" / "categories.yml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("builtin category: n=270, accuracy ")
    assert lines[2].split() == ["label", "precision", "recall", "f1", "n"]
    assert [line.split()[0] for line in lines[3:]] == sorted(
        ["infrastructure", "health", "education", "population", "social_assistance", "other"])


@pytest.mark.parametrize(("content", "message"), [
    ("nlu:\n  - intent: greet\n    examples: [oops\n", "cannot be read as YAML"),
    ("just text\n", "expected Rasa NLU YAML"),
    ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - halo\n- intent: health\n  examples: |\n'
     '    - puskesmas tutup\n', "not both"),
    ('version: "3.1"\nnlu:\n- intent: smalltalk\n  examples: |\n    - halo\n', "labels smalltalk"),
])
def test_a_file_it_cannot_score_is_refused_clearly(lapor_env: Path, capsys: pytest.CaptureFixture[str],
                                                   content: str, message: str) -> None:
    path = lapor_env / "data.yml"
    path.write_text(content, encoding="utf-8")
    assert main(["nlu", "evaluate", "--data", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lapor: ") and message in captured.err


def test_a_missing_file_is_refused_clearly(lapor_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nlu", "evaluate", "--data", str(lapor_env / "nowhere.yml")]) == 1
    assert "nowhere.yml: cannot be read" in capsys.readouterr().err
