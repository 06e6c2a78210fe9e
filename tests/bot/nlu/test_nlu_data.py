"""The training and held-out data in dialogs/nlu: Rasa NLU YAML of the labels the service
knows, enough examples of each, and held-out examples that are never training examples."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests_support import ROOT

from bot.nlu.data import CATEGORIES, INTENTS, OUT_OF_SCOPE, DataError, data_digest, read_examples, task_of
from dialogs.normalize import loose, normalize

NLU = ROOT / "dialogs" / "nlu"
MINIMUM = {  # file -> (examples of every label, of out_of_scope)
    "intents.yml": (60, 120),
    "categories.yml": (120, 0),
    "heldout/intents.yml": (25, 25),
    "heldout/categories.yml": (40, 0),
}


def _key(text: str) -> str:
    return loose(normalize(text))


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_every_file_is_rasa_nlu_yaml_with_every_label_and_enough_examples(name: str) -> None:
    path = NLU / name
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["version"] == "3.1"
    assert all(set(entry) == {"intent", "examples"} for entry in document["nlu"])
    examples = read_examples(path)
    wanted = {*INTENTS, OUT_OF_SCOPE} if "intents" in name else set(CATEGORIES)
    assert set(examples) == wanted
    assert task_of(set(examples)) == ("intent" if "intents" in name else "category")
    each, out_of_scope = MINIMUM[name]
    counts = {label: len(texts) for label, texts in examples.items()}
    assert all(count >= each for label, count in counts.items() if label != OUT_OF_SCOPE), counts
    assert counts.get(OUT_OF_SCOPE, out_of_scope) >= out_of_scope, counts


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_no_example_is_written_twice_in_a_file(name: str) -> None:
    seen: dict[str, str] = {}
    for label, texts in read_examples(NLU / name).items():
        for text in texts:
            assert _key(text) not in seen, f"{name}: {text!r} ({label}) is also under {seen[_key(text)]}"
            seen[_key(text)] = label


@pytest.mark.parametrize("task", ["intents", "categories"])
def test_held_out_examples_are_never_training_examples(task: str) -> None:
    trained = {_key(text) for texts in read_examples(NLU / f"{task}.yml").values() for text in texts}
    held_out = [text for texts in read_examples(NLU / "heldout" / f"{task}.yml").values() for text in texts]
    assert [text for text in held_out if _key(text) in trained] == []


def test_complaint_descriptions_vary_in_length() -> None:
    lengths = [len(text.split()) for texts in read_examples(NLU / "categories.yml").values() for text in texts]
    assert min(lengths) >= 3 and max(lengths) >= 30
    assert max(lengths) <= 40


def test_the_digest_covers_the_training_files_only(tmp_path: Path) -> None:
    for name in ("intents.yml", "categories.yml"):
        (tmp_path / name).write_bytes((NLU / name).read_bytes())
    digest = data_digest(tmp_path)
    assert digest == data_digest(NLU)
    (tmp_path / "heldout").mkdir()
    (tmp_path / "heldout" / "intents.yml").write_text("anything", encoding="utf-8")
    assert data_digest(tmp_path) == digest
    with (tmp_path / "intents.yml").open("a", encoding="utf-8") as handle:
        handle.write("    - halo juga\n")
    assert data_digest(tmp_path) != digest


@pytest.mark.parametrize(("content", "message"), [
    ("nlu: [unclosed", "cannot be read as YAML"),
    ("- just a list\n", "expected Rasa NLU YAML"),
    ('version: "3.1"\nnlu:\n- intent: greet\n', "needs 'intent:' and 'examples: |'"),
])
def test_a_malformed_file_is_a_data_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as raised:
        read_examples(path)
    assert str(path) in str(raised.value)


def test_intents_and_categories_together_are_refused() -> None:
    with pytest.raises(DataError, match="not both"):
        task_of({"greet", "health"})
    with pytest.raises(DataError, match="labels banana"):
        task_of({"greet", "banana"})
