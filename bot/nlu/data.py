"""The NLU training data: Rasa's NLU YAML (``version: "3.1"``), read into examples per label.

``dialogs/nlu/intents.yml`` holds the dialog intents, ``dialogs/nlu/categories.yml`` the
complaint categories (each an ``intent:`` named by the category step's option value). The
same files train the built-in classifier and the Rasa model.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

__all__ = ["CATEGORIES", "FILES", "INTENTS", "OUT_OF_SCOPE", "DataError", "Examples", "data_digest", "read_examples",
           "task_of"]

INTENTS = ("greet", "report", "status", "help", "cancel", "affirm", "deny", "thanks", "change_language")
OUT_OF_SCOPE = "out_of_scope"
CATEGORIES = ("infrastructure", "health", "education", "population", "social_assistance", "other")
Examples = dict[str, list[str]]  # label -> example texts
FILES = ("intents.yml", "categories.yml")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML has it: 5 times faster


class DataError(ValueError):
    """A training or evaluation file that is not Rasa NLU YAML of the expected labels."""


def read_examples(path: Path) -> Examples:
    """The examples of a Rasa NLU YAML file, per label, in file order (DataError if malformed)."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: cannot be read as YAML ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nlu"), list):
        raise DataError(f"{path}: expected Rasa NLU YAML: 'version: \"3.1\"' and an 'nlu:' list")
    examples: Examples = {}
    for entry in doc["nlu"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("intent"), str) or \
                not isinstance(entry.get("examples"), str):
            raise DataError(f"{path}: every 'nlu' entry needs 'intent:' and 'examples: |'")
        lines = [line.strip() for line in entry["examples"].splitlines() if line.strip()]
        texts = [line[2:].strip() for line in lines if line.startswith("- ")]
        examples.setdefault(entry["intent"], []).extend(text for text in texts if text)
    return examples


def task_of(labels: set[str]) -> str:
    """"intent" or "category": which classifier the labels of a file belong to."""
    if labels <= set(CATEGORIES):
        return "category"
    if labels <= {*INTENTS, OUT_OF_SCOPE}:
        return "intent"
    unknown = sorted(labels - {*INTENTS, OUT_OF_SCOPE, *CATEGORIES})
    raise DataError(f"labels {', '.join(unknown) or 'mixed'}: use intents ({', '.join(INTENTS)}, {OUT_OF_SCOPE}) "
                    f"or categories ({', '.join(CATEGORIES)}), not both")


def data_digest(nlu_dir: Path) -> str:
    """A fingerprint of the training files: a model trained on other data is stale."""
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + (nlu_dir / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]
