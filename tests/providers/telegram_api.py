"""A local Telegram Bot API that checks every call against the Bot API description.

``TelegramApiServer`` serves ``/bot<token>/<method>`` (GET or POST) and file downloads at
``/file/bot<token>/<path>`` over real HTTP on 127.0.0.1. Each call is checked against
``tests/providers/contracts/telegram_bot_api.json`` (kept in the repository): the token, that the method
exists, its required fields, no unknown fields, and the type of every value, objects such as
``InlineKeyboardMarkup`` recursively against the description's ``types``. Parameters may come as a
JSON body, a form (python-telegram-bot's way: strings as they are, everything else JSON-encoded)
or multipart with uploads. A call that breaks the contract gets Telegram's error answer AND is
recorded in ``violations``; a valid one is recorded in ``calls`` and answered with complete
objects (python-telegram-bot rejects partial ones), which are themselves checked against the
description, so the stand-in cannot drift from it either.

Like Telegram, it numbers messages per chat: ``message_id`` is unique only inside one chat (each
chat's first message is 1), so code that takes it for a global id fails here as it would live.

Where this stand-in goes beyond the description's fields (documented in the methods' prose):
1. ``sendMessage.text`` must have 1-4096 characters.
2. An ``InlineKeyboardButton`` needs exactly one action field (``callback_data``, ``url``, ...),
   and ``callback_data`` 1-64 bytes.
Nowhere does it overrule the description.
"""
from __future__ import annotations

import functools
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CONTRACTS = Path(__file__).resolve().parent / "contracts"  # the providers' published specs, kept in the repo
SPEC_PATH = CONTRACTS / "telegram_bot_api.json"

TOKEN = "123456789:AAHtestTOKENforLAPORintake_0123456789"  # the default; any token works
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "LAPOR!", "username": "lapor_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
TEXT_MAX_CHARS = 4096  # beyond the fields 1
CALLBACK_DATA_MAX_BYTES = 64  # beyond the fields 2
_BUTTON_LOOKS = {"text", "icon_custom_emoji_id", "style"}  # the button fields that are no action

_METHOD_ROUTE = re.compile(r"/bot([^/]+)/([A-Za-z]+)")
_FILE_ROUTE = re.compile(r"/file/bot([^/]+)/(.+)")
_INTEGER = re.compile(r"-?[0-9]+")


@functools.cache
def bot_api_spec() -> dict[str, Any]:
    """The Bot API description (methods and types), read once."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart call."""

    filename: str
    content_type: str
    data: bytes


class ContractViolation(Exception):
    """A call or object that the Bot API description does not allow; the text says where."""


class BotApiContract:
    """Checks method calls and objects against the description, and decodes their values."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._methods = {name.lower(): method for name, method in spec["methods"].items()}
        self._types = spec["types"]

    def method_name(self, name: str) -> str | None:
        """The method's canonical name (Telegram's are case-insensitive), None if there is none."""
        method = self._methods.get(name.lower())
        return None if method is None else method["name"]

    def check_call(self, method: str, params: Mapping[str, Any], *, form: bool) -> dict[str, Any]:
        """The parameters of a valid call, decoded (``form``: values are strings, and non-string
        types JSON-encoded in them); raise ContractViolation otherwise."""
        spec = self._methods[method.lower()]
        values = self._fields(spec.get("fields", []), params, "", form=form)
        _documented_limits(spec["name"], values)
        return values

    def check_object(self, type_name: str, value: Any, path: str = "") -> Any:
        """``value`` if it is a valid ``type_name`` (such as "Update" or "Array of Update")."""
        return self._typed(type_name, value, path or type_name, form=False)

    def returns(self, method: str) -> list[str]:
        """The types a method's result may have."""
        return self._methods[method.lower()]["returns"]

    def check_result(self, method: str, result: Any) -> Any:
        """``result`` if the method may return it; raise ContractViolation otherwise."""
        return self._value(self.returns(method), result, f"{method} result", form=False)

    def _fields(self, fields: list[Mapping[str, Any]], values: Mapping[str, Any], path: str,
                *, form: bool) -> dict[str, Any]:
        known = {field["name"]: field for field in fields}
        if unknown := [name for name in values if name not in known]:
            raise ContractViolation(f"unknown field(s): {', '.join(path + name for name in unknown)}")
        if missing := [name for name, field in known.items() if field["required"] and name not in values]:
            raise ContractViolation(f"missing required field(s): {', '.join(path + name for name in missing)}")
        return {name: self._value(known[name]["types"], value, path + name, form=form)
                for name, value in values.items()}

    def _value(self, types: list[str], value: Any, path: str, *, form: bool) -> Any:
        problems = []
        for type_name in types:
            try:
                return self._typed(type_name, value, path, form=form)
            except ContractViolation as exc:
                problems.append(str(exc))
        if len(problems) == 1:
            raise ContractViolation(problems[0])
        raise ContractViolation(f"{path}: fits none of {', '.join(types)} ({'; '.join(problems)})")

    def _typed(self, type_name: str, value: Any, path: str, *, form: bool) -> Any:
        if type_name.startswith("Array of "):
            items = _json(value, path) if form else value
            if not isinstance(items, list):
                raise ContractViolation(f"{path}: expected {type_name}")
            item_type = type_name.removeprefix("Array of ")
            return [self._typed(item_type, item, f"{path}[{i}]", form=False) for i, item in enumerate(items)]
        if type_name in _SCALARS:
            return _SCALARS[type_name](value, path, form)
        if type_name == "InputFile":
            if isinstance(value, Upload | str):
                return value
            raise ContractViolation(f"{path}: expected an upload or a file_id/URL")
        return self._object(type_name, _json(value, path) if form else value, path)

    def _object(self, type_name: str, value: Any, path: str) -> Any:
        spec = self._types.get(type_name)
        if spec is None:
            raise ContractViolation(f"{path}: the description has no type {type_name}")
        if "subtypes" in spec:
            return self._value(spec["subtypes"], value, path, form=False)
        if not isinstance(value, dict):
            raise ContractViolation(f"{path}: expected a {type_name} object")
        return self._fields(spec.get("fields", []), value, f"{path}.", form=False)


def _json(value: Any, path: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ContractViolation(f"{path}: not valid JSON") from None


def _string(value: Any, path: str, form: bool) -> str:
    if isinstance(value, str):
        return value
    raise ContractViolation(f"{path}: expected String")


def _integer(value: Any, path: str, form: bool) -> int:
    if form and isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ContractViolation(f"{path}: expected Integer")


def _float(value: Any, path: str, form: bool) -> float:
    if form and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ContractViolation(f"{path}: expected Float")


def _boolean(value: Any, path: str, form: bool) -> bool:
    if form and value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise ContractViolation(f"{path}: expected Boolean")


_SCALARS = {"String": _string, "Integer": _integer, "Float": _float, "Boolean": _boolean}


def _documented_limits(method: str, params: Mapping[str, Any]) -> None:
    """The checks beyond the fields (see the module's docstring)."""
    text = params.get("text")
    if method == "sendMessage" and not 1 <= len(text) <= TEXT_MAX_CHARS:
        raise ContractViolation(f"text: {len(text)} characters, not 1-{TEXT_MAX_CHARS}")
    markup = params.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for r, row in enumerate(rows):
        for c, button in enumerate(row):
            where = f"reply_markup.inline_keyboard[{r}][{c}]"
            if len(set(button) - _BUTTON_LOOKS) != 1:
                raise ContractViolation(f"{where}: needs exactly one action field")
            if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= CALLBACK_DATA_MAX_BYTES:
                raise ContractViolation(f"{where}.callback_data: not 1-{CALLBACK_DATA_MAX_BYTES} bytes")


@functools.cache
def bot_api_contract() -> BotApiContract:
    """The contract of the stored description, built once."""
    return BotApiContract(bot_api_spec())


@dataclass(frozen=True)
class _Fault:
    error_code: int
    description: str
    retry_after: int | None


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after


class TelegramApiServer:
    """The Bot API for one bot on ``base_url`` (a context manager that runs it in a thread).

    ``calls`` holds (method, decoded parameters) of every valid call, faulted ones included;
    ``violations`` describes every call that broke the contract, or that the stand-in could not
    answer. ``push_update`` queues updates for getUpdates, ``put_file`` files for getFile and
    downloads; ``fail_next`` and ``hang_next`` script faults.
    """

    def __init__(self, token: str = TOKEN, *, max_poll_wait: float = 2.0) -> None:
        """``max_poll_wait`` caps how long a getUpdates waits, whatever its timeout."""
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self.webhook: dict[str, Any] = {"url": ""}  # the last setWebhook's parameters
        self._max_poll_wait = max_poll_wait
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._message_ids: dict[int, itertools.count[int]] = {}  # per chat, as Telegram numbers them
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._faults: dict[str, deque[_Fault]] = {}
        self._hangs: deque[float] = deque()
        self._lock = threading.Lock()
        self._updates_changed = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="telegram-api", daemon=True)

    @property
    def base_url(self) -> str:
        """What to give the channel as ``api_base_url`` (``TELEGRAM_API_BASE_URL``)."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> TelegramApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()  # releases hanging requests
        with self._updates_changed:
            self._updates_changed.notify_all()  # and waiting getUpdates
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The parameters of the valid calls to ``method``, in order."""
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for getUpdates (an update_id is added when missing) and return its
        update_id. Raises ContractViolation when it is no valid Update: a fault of the test."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        bot_api_contract().check_object("Update", update)
        with self._updates_changed:
            self._updates.append(update)
            self._updates_changed.notify_all()
        return update["update_id"]

    def put_file(self, file_id: str, content: bytes, file_path: str | None = None) -> str:
        """Make ``file_id`` known to getFile and its content downloadable; returns its file_path."""
        path = file_path or f"documents/file_{len(self._files)}.bin"
        with self._lock:
            self._files[file_id] = (path, content)
        return path

    def fail_next(self, method: str, error_code: int, description: str, *,
                  retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` valid calls to ``method`` with a Telegram error; a 429 should
        carry ``retry_after`` (sent as ``parameters.retry_after``, as Telegram does)."""
        with self._lock:
            self._faults.setdefault(method.lower(), deque()).extend(
                [_Fault(error_code, description, retry_after)] * times)

    def hang_next(self, seconds: float) -> None:
        """Hold the next request ``seconds`` (or until the server closes) before handling it
        normally, so that a client with a shorter timeout gives up."""
        with self._lock:
            self._hangs.append(seconds)

    # -- HTTP ------------------------------------------------------------------------------

    def _wsgi(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        self._wait_if_hanging()
        if route := _FILE_ROUTE.fullmatch(request.path):
            return self._download(*route.groups())
        route = _METHOD_ROUTE.fullmatch(request.path)
        if route is None or request.method not in ("GET", "POST"):
            return self._rejected(request.path, _ApiError(404, "Not Found"))
        token, name = route.groups()
        try:
            method, params = self._checked_call(token, name, request)
        except _ApiError as error:
            return self._rejected(name, error)
        try:
            return _ok(self._result(method, params))
        except _ApiError as error:
            return _error(error)

    def _checked_call(self, token: str, name: str, request: Request) -> tuple[str, dict[str, Any]]:
        """The canonical method and decoded parameters of a valid call (then recorded)."""
        if token != self.token:
            raise _ApiError(401, "Unauthorized")
        contract = bot_api_contract()
        method = contract.method_name(name)
        if method is None:
            raise _ApiError(404, "Not Found: method not found")
        try:
            raw, form = _parameters(request)
            params = contract.check_call(method, raw, form=form)
        except ContractViolation as exc:
            raise _ApiError(400, f"Bad Request: {exc}") from None
        with self._lock:
            self.calls.append((method, params))
        return method, params

    def _rejected(self, what: str, error: _ApiError) -> Response:
        with self._lock:
            self.violations.append(f"{what}: {error.description}")
        return _error(error)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        """The result of a valid call: a scripted fault, or an answer checked against the
        description (one it does not allow is a violation of the stand-in itself)."""
        with self._lock:
            faults = self._faults.get(method.lower())
            fault = faults.popleft() if faults else None
        if fault is not None:
            raise _ApiError(fault.error_code, fault.description, fault.retry_after)
        answer = _ANSWERS.get(method)
        if answer is None:
            if bot_api_contract().returns(method) != ["Boolean"]:
                self._record(f"{method}: not implemented by the stand-in")
                raise _ApiError(501, f"Not Implemented: {method}")
            return True  # answerCallbackQuery, close and the like
        result = answer(self, params)
        try:
            return bot_api_contract().check_result(method, result)
        except ContractViolation as exc:
            self._record(f"stand-in answer: {exc}")
            raise _ApiError(500, "Internal Server Error") from None

    def _record(self, violation: str) -> None:
        with self._lock:
            self.violations.append(violation)

    def _download(self, token: str, path: str) -> Response:
        if token != self.token:
            return self._rejected("file download", _ApiError(401, "Unauthorized"))
        with self._lock:
            content = next((data for file_path, data in self._files.values() if file_path == path), None)
        if content is None:
            return _error(_ApiError(404, "Not Found"))
        return Response(content, mimetype="application/octet-stream")

    def _wait_if_hanging(self) -> None:
        with self._lock:
            seconds = self._hangs.popleft() if self._hangs else None
        if seconds is not None:
            self._closing.wait(seconds)

    # -- answers -----------------------------------------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(BOT_USER)

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        message = {"message_id": self._next_message_id(chat_id), "from": dict(BOT_USER), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private", "first_name": "Warga"}, "text": params["text"]}
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _next_message_id(self, chat_id: int) -> int:
        with self._lock:
            return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = dict(params)
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = {"url": ""}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            info = {"url": self.webhook["url"], "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file_id"]
        with self._lock:
            known = self._files.get(file_id)
        if known is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, content = known
        return {"file_id": file_id, "file_unique_id": f"u{abs(hash(file_id))}", "file_size": len(content),
                "file_path": path}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Updates from ``offset`` on (earlier ones are confirmed and forgotten), waiting up to
        ``timeout`` seconds (at most ``max_poll_wait``) for one to arrive."""
        with self._lock:
            if self.webhook["url"]:
                raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                     "use deleteWebhook to delete the webhook first")
        offset = params.get("offset", 0)
        deadline = time.monotonic() + min(params.get("timeout", 0), self._max_poll_wait)
        with self._updates_changed:
            if offset > 0:
                self._updates = [update for update in self._updates if update["update_id"] >= offset]
            while not self._updates and not self._closing.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._updates_changed.wait(remaining):
                    break
            return [dict(update) for update in self._updates[: params.get("limit", 100)]]


_ANSWERS = {
    "getMe": TelegramApiServer._get_me,
    "sendMessage": TelegramApiServer._send_message,
    "setWebhook": TelegramApiServer._set_webhook,
    "deleteWebhook": TelegramApiServer._delete_webhook,
    "getWebhookInfo": TelegramApiServer._get_webhook_info,
    "getFile": TelegramApiServer._get_file,
    "getUpdates": TelegramApiServer._get_updates,
}


def _parameters(request: Request) -> tuple[dict[str, Any], bool]:
    """A call's parameters and whether they came as form strings (query, form or multipart)
    rather than as a JSON object."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ContractViolation("the JSON body is not an object")
        return body, False
    params: dict[str, Any] = dict(request.args.items())
    params.update(request.form.items())
    params.update({name: Upload(upload.filename or name, upload.mimetype, upload.read())
                   for name, upload in request.files.items()})
    return params, True


def _ok(result: Any) -> Response:
    return Response(json.dumps({"ok": True, "result": result}), mimetype="application/json")


def _error(error: _ApiError) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return Response(json.dumps(body), status=error.error_code, mimetype="application/json")
