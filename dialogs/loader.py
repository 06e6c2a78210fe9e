"""YAML dialog scripts -> validated, immutable ``Script`` objects.

``load_script`` either returns a Script the engine can run without further checks, or raises
``ScriptInvalid`` with every problem found, each as ``file:line: message``. ``check_script``
returns all diagnostics (errors and warnings) without raising; it is what
``lapor dialogs check`` and the admin editor run. The format is documented for admins in
``dialogs/README.md``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialogs.checker import END, check_structure
from dialogs.conditions import ConditionError, compile_condition
from dialogs.diagnostics import Diagnostic, Lines, suggest
from dialogs.fields import COMPLAINT_FIELDS, FLAGS, LEGACY_STEP_FIELDS
from dialogs.i18n import BUILTIN_COMMANDS, BUILTIN_MESSAGES
from dialogs.model import AnswerType, Condition, Option, PromptVariant, Route, Script, Step
from dialogs.normalize import normalize
from dialogs.yamlsrc import LDict, LList, YamlProblem, read_yaml

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANG = re.compile(r"^[a-z]{2,3}$")

TOP_KEYS = ("format", "id", "title", "languages", "default_language", "timezone", "start", "messages", "commands",
            "steps")
FORMAT = 1  # the script format this version reads and writes; 0 (no ``format:``) is migrated
STEP_KEYS = {
    "common": ("id", "type", "prompt", "variants", "help", "summary", "when", "next", "optional", "personal",
               "field"),
    AnswerType.CHOICE: ("options", "strict"),
    AnswerType.TEXT: ("min_length", "max_length", "voice"),
    AnswerType.NUMBER: ("min", "max"),
    AnswerType.DATE: ("allow_future", "max_age_days"),
    AnswerType.YES_NO: (),
    AnswerType.PHONE: (),
    AnswerType.LOCATION: (),
    AnswerType.MEDIA: (),
    AnswerType.CONFIRM: (),
    AnswerType.MESSAGE: (),
}
OPTION_KEYS = ("value", "label", "synonyms", "number", "set")
VARIANT_KEYS = ("when", "prompt")
ROUTE_KEYS = ("when", "goto")


class ScriptInvalid(ValueError):
    """Raised by load_script; ``diagnostics`` holds every error (and warning) found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__("\n".join(str(d) for d in errors))


def load_script(text: str, source: str = "<script>", version: int = 0) -> Script:
    """Build a runnable Script from YAML text, or raise ScriptInvalid listing every error."""
    script, diagnostics = _build(text, source, version)
    if script is None or any(d.severity == "error" for d in diagnostics):
        raise ScriptInvalid(diagnostics)
    return script


def check_script(text: str, source: str = "<script>") -> list[Diagnostic]:
    """Every error and warning for a script, sorted by line. Empty means clean."""
    return _build(text, source, 0)[1]


def _build(text: str, source: str, version: int) -> tuple[Script | None, list[Diagnostic]]:
    builder = _Builder(source)
    try:
        doc = read_yaml(text)
    except YamlProblem as problem:
        builder.error(problem.line, problem.message)
        return None, builder.diagnostics
    script = builder.script(doc, version)
    if script is not None:
        builder.diagnostics.extend(check_structure(script, builder.lines))
    builder.diagnostics.sort(key=lambda d: (d.line, d.severity != "error"))
    return script, builder.diagnostics


class _Builder:
    """Turns the YAML tree into model objects, collecting every problem instead of stopping."""

    def __init__(self, source: str):
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.languages: tuple[str, ...] = ()
        self.lines = Lines()
        self.format = FORMAT

    def error(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.source, line, message))

    def warn(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.source, line, message, "warning"))

    # ------------------------------------------------------------------ top level

    def script(self, doc: Any, version: int) -> Script | None:
        if not isinstance(doc, LDict):
            self.error(getattr(doc, "line", 1), "a script is a mapping with 'id', 'languages' and 'steps'")
            return None
        self.lines.top = doc.key_lines
        self._unknown_keys(doc, TOP_KEYS, "the script")
        self.format = self._format(doc)
        script_id = self._ident(doc, "id", "the script")
        self.languages = self._languages(doc)
        default = doc.get("default_language", self.languages[0] if self.languages else "id")
        if self.languages and default not in self.languages:
            self.error(doc.line_of("default_language"), f"default_language '{default}' is not one of the languages")
        timezone = doc.get("timezone", "Asia/Jakarta")
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Asia" is a directory of zones
            self.error(doc.line_of("timezone"), f"unknown timezone '{timezone}' (for example Asia/Jakarta)")
            timezone = "Asia/Jakarta"
        messages = self._messages(doc.get("messages"), doc.line_of("messages"))
        commands = self._commands(doc.get("commands"), doc.line_of("commands"))
        steps = self._steps(doc.get("steps"), doc.line_of("steps"))
        if not steps or not script_id or not self.languages:
            return None
        self._check_fields(steps, doc.line_of("steps"))
        order = tuple(steps)
        start = doc.get("start", order[0])
        if start not in steps:
            self.error(doc.line_of("start"), f"start: unknown step '{start}'{suggest(str(start), order)}")
            start = order[0]
        return Script(
            id=script_id,
            version=version,
            languages=self.languages,
            default_language=str(default),
            steps=steps,
            order=order,
            start=str(start),
            messages=messages,
            commands=commands,
            command_words=_command_index(commands),
            title=str(doc.get("title", "")),
            timezone=str(timezone),
            source=self.source,
            format=self.format,
        )

    def _format(self, doc: LDict) -> int:
        """The script's format: 1 now; without ``format:``, 0 (read the old way, with a warning)."""
        if "format" not in doc:
            self.warn(1, "no 'format': read as format 0 (steps fill complaint fields by their ids); "
                         f"add 'format: {FORMAT}' and a 'field:' to each step that fills one (see dialogs/README.md)")
            return 0
        value = doc["format"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(doc.line_of("format"), f"format must be a whole number ({FORMAT} for this version)")
            return FORMAT
        if value > FORMAT:
            self.error(doc.line_of("format"), f"format {value} is newer than this lapor-intake reads ({FORMAT}): "
                                              "upgrade lapor-intake, or write the script in format 1")
            return FORMAT
        return int(value)

    def _check_fields(self, steps: dict[str, Step], line: int) -> None:
        """Each complaint field is filled by one step at most; the required ones by one (an
        error in format 1, a warning for a format 0 script)."""
        filled: dict[str, Step] = {}
        for step in steps.values():
            if step.fills is None:
                continue
            if step.fills in filled:
                first = filled[step.fills]
                self.error(step.line, f"step '{step.id}': field '{step.fills}' is already filled by step '{first.id}' "
                                      f"(line {first.line}); a field is filled by one step")
            else:
                filled[step.fills] = step
        for name, spec in COMPLAINT_FIELDS.items():
            if spec.required and name not in filled:
                report = self.error if self.format >= 1 else self.warn
                report(line, f"no step fills the required field '{name}': add 'field: {name}' "
                             "to the step that asks for it")

    def _languages(self, doc: LDict) -> tuple[str, ...]:
        raw = doc.get("languages")
        if not isinstance(raw, LList) or not raw:
            self.error(doc.line_of("languages"), "languages: give a list such as [id, en]")
            return ()
        langs: list[str] = []
        for item, line in zip(raw, raw.item_lines, strict=False):
            if not isinstance(item, str) or not _LANG.match(item):
                self.error(line, f"languages: '{item}' is not a language code such as id or en")
            elif item in langs:
                self.error(line, f"languages: '{item}' is listed twice")
            else:
                langs.append(item)
        return tuple(langs)

    def _messages(self, raw: Any, line: int) -> dict[str, dict[str, str]]:
        merged: dict[str, dict[str, str]] = {key: dict(table) for key, table in BUILTIN_MESSAGES.items()}
        if raw is None:
            return merged
        if not isinstance(raw, LDict):
            self.error(line, "messages: expected a mapping of message names to texts")
            return merged
        for key, value in raw.items():
            text = self._text(value, raw.line_of(key), f"message '{key}'")
            for lang in self.languages:
                if text and lang not in text:
                    self.error(raw.line_of(key), f"message '{key}' has no text for language '{lang}'")
            merged.setdefault(key, {}).update(text)
        return merged

    def _commands(self, raw: Any, line: int) -> dict[str, dict[str, tuple[str, ...]]]:
        commands = {name: dict(words) for name, words in BUILTIN_COMMANDS.items()}
        if raw is None:
            return commands
        if not isinstance(raw, LDict):
            self.error(line, "commands: expected a mapping such as help: {id: [bantuan], en: [help]}")
            return commands
        for name, per_lang in raw.items():
            at = raw.line_of(name)
            if name not in BUILTIN_COMMANDS:
                self.error(at, f"commands: unknown command '{name}'{suggest(name, BUILTIN_COMMANDS)}")
                continue
            if not isinstance(per_lang, LDict):
                self.error(at, f"commands: '{name}' needs words per language, such as {{id: [..], en: [..]}}")
                continue
            for lang, words in per_lang.items():
                words_list = [words] if isinstance(words, str) else words
                if not isinstance(words_list, list) or not all(isinstance(w, str) and normalize(w) for w in words_list):
                    self.error(per_lang.line_of(lang), f"commands: '{name}' in '{lang}' must be a list of words")
                    continue
                commands[name][lang] = tuple(normalize(w) for w in words_list)
        return commands

    # ------------------------------------------------------------------ steps

    def _steps(self, raw: Any, line: int) -> dict[str, Step]:
        if not isinstance(raw, LList) or not raw:
            self.error(line, "steps: give a list of steps")
            return {}
        steps: dict[str, Step] = {}
        for item, item_line in zip(raw, raw.item_lines, strict=False):
            if not isinstance(item, LDict):
                self.error(item_line, "each step is a mapping with at least 'id', 'type' and 'prompt'")
                continue
            step = self._step(item)
            if step is None:
                continue
            if step.id in steps:
                self.error(item.line_of("id"),
                           f"step id '{step.id}' is used twice (first on line {steps[step.id].line})")
                continue
            steps[step.id] = step
            self.lines.steps[step.id] = item
        return steps

    def _step(self, raw: LDict) -> Step | None:
        step_id = self._ident(raw, "id", "a step")
        where = f"step '{step_id}'" if step_id else "a step"
        type_name = raw.get("type")
        try:
            answer_type = AnswerType(type_name)
        except ValueError:
            names = [t.value for t in AnswerType]
            self.error(raw.line_of("type"), f"{where}: unknown type '{type_name}'{suggest(str(type_name), names)}; "
                                            f"use one of {', '.join(names)}")
            return None
        self._unknown_keys(raw, STEP_KEYS["common"] + STEP_KEYS[answer_type], where)
        if step_id is None:
            return None
        fields: dict[str, Any] = {
            "id": step_id,
            "type": answer_type,
            "line": raw.line,
            "prompt": self._text(raw.get("prompt"), raw.line_of("prompt"), f"{where}: prompt"),
            "help": self._text(raw["help"], raw.line_of("help"), f"{where}: help") if "help" in raw else {},
            "summary_label": (self._text(raw["summary"], raw.line_of("summary"), f"{where}: summary")
                              if "summary" in raw else {}),
            "when": self._condition(raw.get("when"), raw.line_of("when"), where),
            "variants": self._variants(raw.get("variants"), raw.line_of("variants"), where),
            "routes": self._routes(raw.get("next"), raw.line_of("next"), where),
            "optional": self._bool(raw, "optional", where, False),
            "fills": self._field(raw, step_id, answer_type, where),
        }
        spec = COMPLAINT_FIELDS.get(fields["fills"] or "")
        # a phone number always identifies someone, and so do the reporter fields; other steps may say so
        fields["personal"] = self._bool(raw, "personal", where,
                                        answer_type is AnswerType.PHONE or (spec is not None and spec.personal))
        if answer_type is AnswerType.CHOICE:
            fields["options"] = self._options(raw.get("options"), raw.line_of("options"), where)
            fields["strict"] = self._bool(raw, "strict", where, False)
        elif answer_type is AnswerType.TEXT:
            fields["min_length"] = self._int(raw, "min_length", where, 1, 0, 4000)
            fields["max_length"] = self._int(raw, "max_length", where, 1000, 1, 4000)
            if fields["min_length"] > fields["max_length"]:
                self.error(raw.line_of("min_length"), f"{where}: min_length is larger than max_length")
            fields["voice"] = self._bool(raw, "voice", where, False)
        elif answer_type is AnswerType.NUMBER:
            fields["min_value"] = self._number(raw, "min", where)
            fields["max_value"] = self._number(raw, "max", where)
            low, high = fields["min_value"], fields["max_value"]
            if low is not None and high is not None and low > high:
                self.error(raw.line_of("min"), f"{where}: min is larger than max")
        elif answer_type is AnswerType.DATE:
            fields["allow_future"] = self._bool(raw, "allow_future", where, False)
            fields["max_age_days"] = self._int(raw, "max_age_days", where, None, 1, 36500)
        return Step(**fields)

    def _field(self, raw: LDict, step_id: str, answer_type: AnswerType, where: str) -> str | None:
        """The complaint field the step fills: its ``field:`` (format 1), or, in a format 0
        script, the one its id used to mean."""
        if "field" not in raw:
            legacy = LEGACY_STEP_FIELDS.get(step_id) if self.format == 0 else None
            spec = COMPLAINT_FIELDS.get(legacy or "")
            return legacy if spec is not None and answer_type in spec.types else None
        name = raw["field"]
        line = raw.line_of("field")
        if not isinstance(name, str) or name not in COMPLAINT_FIELDS:
            self.error(line, f"{where}: unknown field '{name}'{suggest(str(name), tuple(COMPLAINT_FIELDS))}; "
                             f"the complaint's fields are {', '.join(COMPLAINT_FIELDS)}")
            return None
        spec = COMPLAINT_FIELDS[name]
        if answer_type not in spec.types:
            kinds = " or ".join(t.value for t in spec.types)
            self.error(line, f"{where}: a {answer_type.value} step cannot fill the field '{name}' "
                             f"(it needs a {kinds} step)")
            return None
        for option in (raw.get("options") or ()) if spec.values else ():
            value = option.get("value") if isinstance(option, LDict) else None
            if value is not None and value not in spec.values:
                self.error(option.line_of("value"), f"{where}: option '{value}' is not a value of the field '{name}' "
                                                    f"({', '.join(spec.values)})")
        return name

    def _options(self, raw: Any, line: int, where: str) -> tuple[Option, ...]:
        if not isinstance(raw, LList) or not raw:
            self.error(line, f"{where}: a choice needs a list of options")
            return ()
        options: list[Option] = []
        numbers: dict[int, int] = {}
        values: dict[str, int] = {}
        for index, (item, item_line) in enumerate(zip(raw, raw.item_lines, strict=False), start=1):
            if not isinstance(item, LDict):
                self.error(item_line, f"{where}: option {index} must be a mapping with 'value' and 'label'")
                continue
            self._unknown_keys(item, OPTION_KEYS, f"{where}: option {index}")
            number = item.get("number", index)
            if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 99:
                self.error(item.line_of("number"),
                           f"{where}: option {index}: number must be a whole number from 0 to 99")
                number = index
            if number in numbers:
                self.error(item.line_of("number"),
                           f"{where}: option number {number} is used twice (also on line {numbers[number]})")
            numbers.setdefault(number, item_line)
            value = item.get("value")
            if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
                self.error(item.line_of("value"), f"{where}: option {number} needs a value (the word stored)")
                value = f"option_{number}"
            value = str(value)
            if value in values:
                self.error(item.line_of("value"),
                           f"{where}: option value '{value}' is used twice (also on line {values[value]})")
            values.setdefault(value, item_line)
            options.append(
                Option(
                    number=number,
                    value=value,
                    label=self._text(item.get("label"), item.line_of("label"), f"{where}: option {number} label"),
                    synonyms=self._synonyms(item.get("synonyms"), item.line_of("synonyms"),
                                            f"{where}: option {number}"),
                    sets=self._sets(item.get("set"), item.line_of("set"), f"{where}: option {number}"),
                    line=item_line,
                )
            )
        return tuple(options)

    def _synonyms(self, raw: Any, line: int, where: str) -> dict[str, tuple[str, ...]]:
        if raw is None:
            return {}
        if not isinstance(raw, LDict):
            self.error(line, f"{where}: synonyms are given per language, such as {{id: [aduan], en: [complain]}}")
            return {}
        result: dict[str, tuple[str, ...]] = {}
        for lang, words in raw.items():
            if lang not in self.languages:
                self.error(raw.line_of(lang), f"{where}: synonyms for '{lang}', which is not one of the languages")
            words_list = [words] if isinstance(words, (str, int)) else words
            if not isinstance(words_list, list) or not all(isinstance(w, (str, int)) and str(w).strip()
                                                           for w in words_list):
                self.error(raw.line_of(lang), f"{where}: synonyms in '{lang}' must be a list of words")
                continue
            result[lang] = tuple(str(w) for w in words_list)
        return result

    def _sets(self, raw: Any, line: int, where: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, LDict):
            self.error(line, f"{where}: 'set' is a mapping of answer names to values, such as {{anonymous: true}}")
            return {}
        for key, value in raw.items():
            if not _ID.match(key):
                self.error(raw.line_of(key),
                           f"{where}: set: '{key}' is not a valid name (lower case letters, digits, _)")
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                self.error(raw.line_of(key), f"{where}: set: '{key}' must be a plain value")
            elif key in FLAGS and not isinstance(value, bool):
                self.error(raw.line_of(key), f"{where}: set: '{key}' is a complaint flag: true or false")
        return dict(raw)

    def _variants(self, raw: Any, line: int, where: str) -> tuple[PromptVariant, ...]:
        """``variants: [{when: <condition>, prompt: {id: ..., en: ...}}, ...]``."""
        if raw is None:
            return ()
        if not isinstance(raw, LList) or not raw:
            self.error(line, f"{where}: variants is a list of {{when: ..., prompt: ...}}")
            return ()
        variants: list[PromptVariant] = []
        for item, item_line in zip(raw, raw.item_lines, strict=False):
            if not isinstance(item, LDict) or "when" not in item or "prompt" not in item:
                self.error(item_line, f"{where}: each variant needs 'when:' and 'prompt:'")
                continue
            self._unknown_keys(item, VARIANT_KEYS, f"{where}: variant")
            when = self._condition(item.get("when"), item.line_of("when"), f"{where}: variant")
            prompt = self._text(item.get("prompt"), item.line_of("prompt"), f"{where}: variant prompt")
            if when is not None and prompt:
                variants.append(PromptVariant(when=when, prompt=prompt, line=item_line))
        return tuple(variants)

    def _routes(self, raw: Any, line: int, where: str) -> tuple[Route, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            return (Route(goto=raw, line=line),)
        if not isinstance(raw, LList) or not raw:
            self.error(line, f"{where}: next is a step id, or a list of {{when: ..., goto: ...}}")
            return ()
        routes: list[Route] = []
        for item, item_line in zip(raw, raw.item_lines, strict=False):
            if isinstance(item, str):
                routes.append(Route(goto=item, line=item_line))
                continue
            if not isinstance(item, LDict) or not isinstance(item.get("goto"), str):
                self.error(item_line, f"{where}: each route needs 'goto: <step id>' (and may have 'when')")
                continue
            self._unknown_keys(item, ROUTE_KEYS, f"{where}: route")
            routes.append(Route(goto=item["goto"], when=self._condition(item.get("when"), item.line_of("when"), where),
                                line=item_line))
        return tuple(routes)

    # ------------------------------------------------------------------ values

    def _text(self, raw: Any, line: int, where: str) -> dict[str, str]:
        """A translated text. Missing languages are reported by the structure checks."""
        if raw is None:
            self.error(line, f"{where}: missing; give a text per language ({', '.join(self.languages)})")
            return {}
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            if len(self.languages) == 1:
                return {self.languages[0]: str(raw)}
            self.error(line, f"{where}: give a text per language, such as {{id: ..., en: ...}}")
            return {}
        if not isinstance(raw, LDict):
            self.error(line, f"{where}: give a text per language, such as {{id: ..., en: ...}}")
            return {}
        result: dict[str, str] = {}
        for lang, value in raw.items():
            if lang not in self.languages:
                self.error(raw.line_of(lang), f"{where}: text for '{lang}', which is not one of the languages")
                continue
            if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
                self.error(raw.line_of(lang), f"{where}: the '{lang}' text is empty")
                continue
            result[lang] = str(value).strip()
        return result

    def _condition(self, raw: Any, line: int, where: str) -> Condition | None:
        if raw is None:
            return None
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if not isinstance(raw, str):
            self.error(line, f"{where}: a condition is written as text, such as: not anonymous")
            return None
        try:
            return compile_condition(raw)
        except ConditionError as exc:
            self.error(line, f"{where}: bad condition '{raw}': {exc}")
            return None

    def _ident(self, raw: LDict, key: str, where: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not _ID.match(value):
            shown = "missing" if value is None else f"'{value}' is not valid"
            self.error(raw.line_of(key), f"{where}: {key} {shown}; use lower case letters, digits and _ "
                                         "(for example report_type)")
            return None
        if value == END:
            self.error(raw.line_of(key), f"{where}: '{END}' is reserved for finishing the dialog")
            return None
        return value

    def _bool(self, raw: LDict, key: str, where: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.error(raw.line_of(key), f"{where}: {key} must be true or false")
            return default
        return value

    def _int(self, raw: LDict, key: str, where: str, default: int | None, low: int, high: int) -> Any:
        value = raw.get(key, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.error(raw.line_of(key), f"{where}: {key} must be a whole number from {low} to {high}")
            return default
        return value

    def _number(self, raw: LDict, key: str, where: str) -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.error(raw.line_of(key), f"{where}: {key} must be a number")
            return None
        return float(value)

    def _unknown_keys(self, raw: LDict, allowed: Iterable[str], where: str) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key not in allowed:
                self.error(raw.line_of(key), f"{where}: unknown field '{key}'{suggest(key, allowed)}")


def _command_index(commands: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for name, per_lang in commands.items():
        for words in per_lang.values():
            for word in words:
                index.setdefault(normalize(word), name)
    return index

