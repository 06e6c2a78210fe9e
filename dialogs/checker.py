"""Whole-script checks that need every step at once: routing, reachability, loops,
translations and menus that would confuse a citizen.

Run by dialogs.loader after the YAML is turned into a Script; each finding points at the line
an admin must fix.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from dialogs.diagnostics import Diagnostic, Lines, suggest
from dialogs.model import AnswerType, Condition, Script, Step
from dialogs.normalize import normalize
from dialogs.yamlsrc import LDict

END = "end"  # routing target that finishes the dialog (the complaint is submitted)
Report = Callable[[int, str], None]


def check_structure(script: Script, lines: Lines) -> list[Diagnostic]:
    """Every structural error and warning of a built script."""
    found: list[Diagnostic] = []

    def error(line: int, message: str) -> None:
        found.append(Diagnostic(script.source, line, message))

    def warn(line: int, message: str) -> None:
        found.append(Diagnostic(script.source, line, message, "warning"))

    known_names = set(script.steps) | {key for step in script.steps.values() for option in step.options
                                       for key in option.sets}
    for step in script.steps.values():
        where = f"step '{step.id}'"
        raw = lines.steps[step.id]
        for route in step.routes:
            if route.goto != END and route.goto not in script.steps:
                error(route.line, f"{where}: next: unknown step '{route.goto}'{suggest(route.goto, script.steps)}")
        for condition, line in _conditions(step, raw):
            for name in sorted(condition.names - known_names):
                error(line, f"{where}: condition '{condition.source}' uses '{name}', which is no step id or option "
                            f"'set' name{suggest(name, known_names)}")
        for field, text in (("prompt", step.prompt), ("help", step.help), ("summary", step.summary_label)):
            if field != "prompt" and not text:
                continue
            for lang in script.languages:
                if lang not in text:
                    error(raw.line_of(field), f"{where}: {field} has no text for language '{lang}'")
        for variant in step.variants:
            for lang in script.languages:
                if lang not in variant.prompt:
                    error(variant.line, f"{where}: a variant's prompt has no text for language '{lang}'")
        _check_options(script, step, error, warn)
        if step.optional and step.type in (AnswerType.CHOICE, AnswerType.YES_NO, AnswerType.CONFIRM,
                                           AnswerType.MESSAGE):
            warn(raw.line_of("optional"), f"{where}: 'optional' has no effect on a {step.type.value} step")
    for key, table in script.messages.items():
        for lang in script.languages:
            if lang not in table:
                error(lines.top.get("messages", 1), f"message '{key}' has no text for language '{lang}'")

    graph = {step_id: _targets(script, step) for step_id, step in script.steps.items()}
    reachable = _reachable(script.start, graph)
    for step_id, step in script.steps.items():
        if step_id not in reachable:
            error(step.line, f"step '{step_id}' can never be reached (no step leads to it)")
    for cycle in _silent_cycles(script, graph):
        path = " -> ".join(cycle + [cycle[0]])
        error(script.steps[cycle[0]].line, f"loop {path} never asks a question that is always asked; "
                                           "the dialog could spin forever")
    if (any(s.type is AnswerType.CONFIRM for s in script.steps.values())
            and not any(s.summary_label for s in script.steps.values())):
        warn(1, "there is a confirm step but no step has a 'summary' label, so the summary would be empty")
    return found


def _conditions(step: Step, raw: LDict) -> Iterator[tuple[Condition, int]]:
    if step.when is not None:
        yield step.when, raw.line_of("when")
    for route in step.routes:
        if route.when is not None:
            yield route.when, route.line
    for variant in step.variants:
        yield variant.when, variant.line


def _check_options(script: Script, step: Step, error: Report, warn: Report) -> None:
    where = f"step '{step.id}'"
    seen: dict[str, int] = {}
    for option in step.options:
        for lang in script.languages:
            if lang not in option.label:
                error(option.line, f"{where}: option {option.number} has no label for language '{lang}'")
        words = list(option.label.values()) + [w for ws in option.synonyms.values() for w in ws]
        for word in words:
            key = normalize(word)
            if not key:
                error(option.line, f"{where}: option {option.number} has an empty label or synonym")
                continue
            if key.isdigit():
                warn(option.line, f"{where}: option {option.number}: '{word}' looks like a number; "
                                  "citizens' numbers pick options by number")
            other = seen.get(key)
            if other is not None and other != option.number:
                error(option.line, f"{where}: '{word}' would match both option {other} and option {option.number}")
            seen.setdefault(key, option.number)  # an option's word wins over a command word at its menu


def _targets(script: Script, step: Step) -> list[str]:
    """Where a step may lead: its routes, plus the next step when no route may match.

    A summary's edits only revisit steps already on the path, so they add no edges."""
    targets = [route.goto for route in step.routes if route.goto in script.steps]
    if not step.routes or step.routes[-1].when is not None:
        following = script.next_in_order(step.id)
        if following is not None:
            targets.append(following)
    return targets


def _reachable(start: str, graph: dict[str, list[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _silent_cycles(script: Script, graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles along which no step is sure to stop and wait for the citizen."""
    waits = {sid for sid, s in script.steps.items() if s.asks and s.when is None}
    quiet = {sid: [t for t in targets if t not in waits] for sid, targets in graph.items() if sid not in waits}
    cycles: list[list[str]] = []
    done: set[str] = set()
    for root in quiet:
        if root in done:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        on_path: set[str] = set()
        while stack:
            node, index = stack.pop()
            if index == 0:
                path.append(node)
                on_path.add(node)
            targets = quiet.get(node, [])
            if index < len(targets):
                stack.append((node, index + 1))
                target = targets[index]
                if target in on_path:
                    cycles.append(path[path.index(target):])
                elif target not in done and target in quiet:
                    stack.append((target, 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)
    return cycles

