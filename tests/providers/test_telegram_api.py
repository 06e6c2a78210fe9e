"""The local Telegram Bot API itself: it must accept what Telegram accepts and reject the rest."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from providers.telegram_api import (
    TOKEN,
    ContractViolation,
    TelegramApiServer,
    Upload,
    bot_api_contract,
)

BUTTON = {"text": "Ya", "callback_data": "1"}


@pytest.fixture
def api() -> Iterator[TelegramApiServer]:
    with TelegramApiServer(max_poll_wait=0.5) as server:
        yield server


def call(api: TelegramApiServer, method: str, *, token: str = TOKEN, **kwargs: Any) -> httpx.Response:
    """One raw HTTP call, as a client other than python-telegram-bot might make it."""
    return httpx.post(f"{api.base_url}/bot{token}/{method}", timeout=5, **kwargs)


def test_a_valid_json_call_is_recorded_and_answered_with_a_whole_message(api: TelegramApiServer) -> None:
    response = call(api, "sendMessage", json={"chat_id": 42, "text": "halo"})

    assert response.status_code == 200
    message = response.json()["result"]
    assert {"message_id", "date", "chat", "from", "text"} <= message.keys()
    assert message["chat"] == {"id": 42, "type": "private", "first_name": "Warga"}
    assert message["from"]["is_bot"] is True
    assert api.calls == [("sendMessage", {"chat_id": 42, "text": "halo"})]
    assert api.violations == []


def test_message_ids_are_numbered_per_chat_as_telegram_does(api: TelegramApiServer) -> None:
    def send(chat_id: int) -> int:
        return call(api, "sendMessage", json={"chat_id": chat_id, "text": "halo"}).json()["result"]["message_id"]

    assert [send(42), send(42), send(43), send(42), send(43)] == [1, 2, 1, 3, 2]


def test_form_values_are_decoded_by_their_types(api: TelegramApiServer) -> None:
    markup = {"inline_keyboard": [[BUTTON]]}
    response = call(api, "sendMessage", data={
        "chat_id": "42", "text": "123", "disable_notification": "true", "reply_markup": json.dumps(markup)})

    assert response.status_code == 200
    assert api.calls_to("sendMessage") == [
        {"chat_id": 42, "text": "123", "disable_notification": True, "reply_markup": markup}]
    assert response.json()["result"]["reply_markup"] == markup


def test_multipart_uploads_are_accepted_where_an_input_file_is(api: TelegramApiServer) -> None:
    response = call(api, "setWebhook", data={"url": "https://example.org/hook"},
                    files={"certificate": ("cert.pem", b"-----BEGIN", "application/x-pem-file")})

    assert response.json() == {"ok": True, "result": True}
    assert api.calls_to("setWebhook")[0]["certificate"] == Upload("cert.pem", "application/x-pem-file", b"-----BEGIN")


def test_method_names_are_case_insensitive_like_telegrams(api: TelegramApiServer) -> None:
    assert call(api, "getme").json()["result"]["is_bot"] is True
    assert api.calls == [("getMe", {})]


@pytest.mark.parametrize("kwargs, problem", [
    ({"json": {"text": "halo"}}, "missing required field(s): chat_id"),
    ({"json": {"chat_id": 42, "text": "halo", "colour": "red"}}, "unknown field(s): colour"),
    ({"json": {"chat_id": 42, "text": "halo", "disable_notification": "yes"}}, "disable_notification: expected Boolean"),
    ({"data": {"chat_id": "42", "text": "halo", "message_thread_id": "seven"}}, "message_thread_id: expected Integer"),
    ({"json": {"chat_id": 4.2, "text": "halo"}}, "chat_id: fits none of Integer, String"),
    ({"json": {"chat_id": 42, "text": 7}}, "text: expected String"),
    ({"json": {"chat_id": 42, "text": "halo", "reply_markup": {"inline_keyboard": [[{"callback_data": "1"}]]}}},
     "missing required field(s): reply_markup.inline_keyboard[0][0].text"),
    ({"json": {"chat_id": 42, "text": "halo", "reply_markup": {"inline_keyboard": [[dict(BUTTON, colour="red")]]}}},
     "unknown field(s): reply_markup.inline_keyboard[0][0].colour"),
    ({"json": {"chat_id": 42, "text": "halo", "reply_markup": {"inline_keyboard": [BUTTON]}}},
     "reply_markup.inline_keyboard[0]: expected Array of InlineKeyboardButton"),
    ({"data": {"chat_id": "42", "text": "halo", "reply_markup": "{not json"}}, "reply_markup: not valid JSON"),
    # beyond the fields: documented in the Bot API's prose
    ({"json": {"chat_id": 42, "text": ""}}, "text: 0 characters"),
    ({"json": {"chat_id": 42, "text": "a" * 4097}}, "text: 4097 characters"),
    ({"json": {"chat_id": 42, "text": "halo", "reply_markup": {"inline_keyboard": [[{"text": "Ya"}]]}}},
     "needs exactly one action field"),
    ({"json": {"chat_id": 42, "text": "halo",
               "reply_markup": {"inline_keyboard": [[{"text": "Ya", "callback_data": "é" * 33}]]}}},
     "callback_data: not 1-64 bytes"),
])
def test_calls_that_break_the_contract_are_rejected_and_recorded(
        api: TelegramApiServer, kwargs: dict[str, Any], problem: str) -> None:
    response = call(api, "sendMessage", **kwargs)

    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    assert problem in body["description"]
    assert len(api.violations) == 1 and problem in api.violations[0]
    assert api.calls == []


def test_an_unknown_method_is_404_and_recorded(api: TelegramApiServer) -> None:
    response = call(api, "sendMesage", json={"chat_id": 42, "text": "halo"})

    assert (response.status_code, response.json()["ok"]) == (404, False)
    assert api.violations == ["sendMesage: Not Found: method not found"]


def test_a_wrong_token_is_401_and_recorded(api: TelegramApiServer) -> None:
    response = call(api, "getMe", token="999:wrong")

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert api.violations == ["getMe: Unauthorized"]
    assert api.calls == []


def test_scripted_faults_answer_valid_calls_then_stop(api: TelegramApiServer) -> None:
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3, times=2)
    answers = [call(api, "sendMessage", json={"chat_id": 42, "text": "halo"}) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                                 "parameters": {"retry_after": 3}}
    assert len(api.calls) == 3 and api.violations == []


def test_get_updates_honours_the_offset_and_forgets_confirmed_updates(api: TelegramApiServer) -> None:
    first = api.push_update({"my_chat_member": _member_update()})
    second = api.push_update({"my_chat_member": _member_update()})

    assert [u["update_id"] for u in call(api, "getUpdates", json={}).json()["result"]] == [first, second]
    assert [u["update_id"] for u in call(api, "getUpdates", json={"offset": second}).json()["result"]] == [second]
    assert call(api, "getUpdates", json={"offset": second + 1, "timeout": 1}).json()["result"] == []
    assert call(api, "getUpdates", json={}).json()["result"] == []  # confirmed ones are gone


def test_get_updates_conflicts_with_a_webhook_as_on_telegram(api: TelegramApiServer) -> None:
    call(api, "setWebhook", json={"url": "https://example.org/hook"})

    response = call(api, "getUpdates", json={})

    assert response.status_code == 409
    assert response.json()["description"].startswith("Conflict:")
    assert call(api, "getWebhookInfo").json()["result"]["url"] == "https://example.org/hook"


def test_files_are_served_to_get_file_and_for_download(api: TelegramApiServer) -> None:
    path = api.put_file("AgADBQAD", b"\xff\xd8jpeg", "photos/file_7.jpg")

    result = call(api, "getFile", json={"file_id": "AgADBQAD"}).json()["result"]
    download = httpx.get(f"{api.base_url}/file/bot{TOKEN}/{path}")

    assert result["file_path"] == "photos/file_7.jpg" and result["file_size"] == 6
    assert download.content == b"\xff\xd8jpeg"
    assert call(api, "getFile", json={"file_id": "nope"}).json()["description"] == "Bad Request: invalid file_id"
    assert httpx.get(f"{api.base_url}/file/bot999:wrong/{path}").status_code == 401


def test_pushed_updates_must_themselves_be_valid(api: TelegramApiServer) -> None:
    with pytest.raises(ContractViolation, match="missing required field"):
        api.push_update({"message": {"text": "no chat, no date"}})


def test_partial_answers_would_break_the_contract() -> None:
    contract = bot_api_contract()

    with pytest.raises(ContractViolation, match="missing required field"):
        contract.check_result("getMe", {"id": 1, "first_name": "LAPOR!"})  # no is_bot
    with pytest.raises(ContractViolation, match="missing required field"):
        contract.check_result("sendMessage", {"message_id": 1, "text": "halo"})


def _member_update() -> dict[str, Any]:
    user = {"id": 42, "is_bot": False, "first_name": "Siti"}
    member = {"status": "member", "user": user}
    return {"chat": {"id": 42, "type": "private"}, "from": user, "date": 1_700_000_000,
            "old_chat_member": member, "new_chat_member": dict(member, status="kicked", until_date=0)}
