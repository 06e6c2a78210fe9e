"""The local Twilio Messages API: it accepts what the spec allows and rejects, and records, the rest;
and the content of inbound media, behind Basic auth and a redirect to a CDN on another origin."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from providers.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CDN_HOST,
    DOCUMENTED_ONE_OF,
    DOCUMENTED_REQUIRED,
    TwilioApiServer,
    media_contract,
    message_resource,
    messages_contract,
    sign,
    value_problem,
)

CALLBACK = "https://lapor.example.id/webhooks/twilio/status"
VALID = {"To": "+6281234567890", "From": "+14155238886", "Body": "Halo", "StatusCallback": CALLBACK}
INBOUND_SID = "MM" + "4c" * 16  # the inbound message that carried the media
PHOTO = b"\xff\xd8\xff\xe0 a photo of a pothole"


@pytest.fixture
def server() -> Iterator[TwilioApiServer]:
    with TwilioApiServer() as server:
        yield server


def post(
    server: TwilioApiServer,
    form: dict[str, str] | list[tuple[str, str]],
    *,
    auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN),
    account_sid: str = ACCOUNT_SID,
    timeout: float = 5,
) -> requests.Response:
    url = f"{server.base_url}/2010-04-01/Accounts/{account_sid}/Messages.json"
    return requests.post(url, data=form, auth=auth, timeout=timeout)


def assert_rejected(server: TwilioApiServer, response: requests.Response, status: int, code: int) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (code, status)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert len(server.violations) == 1 and server.messages == []


def test_the_spec_is_parsed_once_from_the_kept_contracts() -> None:
    contract = messages_contract()
    assert contract is messages_contract()
    assert {"To", "From", "Body", "MediaUrl", "StatusCallback", "MessagingServiceSid"} <= set(contract.params)
    assert contract.params["MediaUrl"]["type"] == "array"
    assert contract.params["RiskCheck"]["enum"] == ["enable", "disable"]  # a resolved $ref
    assert {"sid", "status", "date_created", "uri"} <= set(contract.resource)


def test_the_documented_required_rule_agrees_with_the_spec() -> None:
    """The spec's x-twilio `conditional` is the documented rule; its `required` list may only
    (wrongly) add fields the docs call optional, which is why the stand-in overrules it."""
    contract = messages_contract()
    assert contract.one_of == DOCUMENTED_ONE_OF
    assert set(DOCUMENTED_REQUIRED) <= set(contract.required)
    assert set(contract.required) <= {*DOCUMENTED_REQUIRED, "MessagingServiceSid", "StatusCallback"}


def test_a_correct_create_through_the_twilio_client_passes(server: TwilioApiServer) -> None:
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = server.base_url
    created = client.api.v2010.account.messages.create(
        to="whatsapp:+6281234567890",
        from_="whatsapp:+14155238886",
        body="Laporan Anda diterima",
        status_callback=CALLBACK,
        media_url=["https://example.com/a.jpg", "https://example.com/b.jpg"],
    )
    assert re.fullmatch(r"MM[0-9a-f]{32}", created.sid) and created.status == "queued"
    assert isinstance(created.date_created, datetime) and created.date_created.tzinfo is not None
    assert created.to == "whatsapp:+6281234567890" and created.num_media == "2"
    assert server.messages == [{
        "To": "whatsapp:+6281234567890",
        "From": "whatsapp:+14155238886",
        "Body": "Laporan Anda diterima",
        "StatusCallback": CALLBACK,
        "MediaUrl": ["https://example.com/a.jpg", "https://example.com/b.jpg"],
    }]
    assert server.violations == []


def test_the_answer_is_a_complete_message_resource() -> None:
    resource = message_resource(ACCOUNT_SID, {"To": "+6281234567890", "From": "+14155238886", "Body": "a" * 161})
    schemas = messages_contract().resource
    assert set(resource) == set(schemas)
    for name, value in resource.items():
        schema = schemas[name]
        if value is None:
            assert schema.get("nullable"), name
        elif schema.get("type") == "string":
            assert value_problem(name, {k: v for k, v in schema.items() if k != "format"}, value) is None, name
        else:
            assert isinstance(value, {"integer": int, "object": dict}[schema["type"]]), name
    assert resource["status"] == "queued" and resource["num_segments"] == "2"
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000", resource["date_created"])


@pytest.mark.parametrize("form", [
    {"To": "+6281234567890", "MessagingServiceSid": "MG" + "a" * 32, "MediaUrl": "https://example.com/a.jpg"},
    {"To": "+6281234567890", "From": "LAPOR", "ContentSid": "HX" + "b" * 32, "ContentVariables": '{"1": "x"}'},
    {**VALID, "SendAt": "2026-12-01T08:00:00Z", "ScheduleType": "fixed", "SmartEncoded": "true",
     "ValidityPeriod": "600"},
])
def test_the_documented_alternatives_pass(server: TwilioApiServer, form: dict[str, str]) -> None:
    response = post(server, form)
    assert response.status_code == 201, response.text
    assert server.violations == [] and len(server.messages) == 1


@pytest.mark.parametrize("form, code", [
    pytest.param({**VALID, "Colour": "red"}, 20001, id="unknown parameter"),
    pytest.param({**VALID, "RiskCheck": "maybe"}, 400, id="bad enum"),
    pytest.param({**VALID, "StatusCallback": "webhooks/twilio/status"}, 21609, id="relative uri"),
    pytest.param({**VALID, "StatusCallback": "https://lapor_intake.example.id/s"}, 21609, id="underscore host"),
    pytest.param({**VALID, "SendAsMms": "yes"}, 400, id="bad boolean"),
    pytest.param({**VALID, "ValidityPeriod": "ten"}, 400, id="bad integer"),
    pytest.param({**VALID, "MessagingServiceSid": "MG123"}, 400, id="bad pattern"),
    pytest.param({**VALID, "SendAt": "tomorrow"}, 400, id="bad date-time"),
    pytest.param({**VALID, "To": "081234567890"}, 21211, id="To not E.164"),
    pytest.param({**VALID, "From": "whatsapp:14155238886"}, 21212, id="From not E.164"),
    pytest.param({k: v for k, v in VALID.items() if k != "To"}, 21604, id="missing To"),
    pytest.param({k: v for k, v in VALID.items() if k != "From"}, 21603, id="missing From and MessagingServiceSid"),
    pytest.param({k: v for k, v in VALID.items() if k != "Body"}, 21602, id="missing Body, MediaUrl and ContentSid"),
    pytest.param({**VALID, "Body": ""}, 21602, id="empty Body"),
    pytest.param({**VALID, "Body": "x" * 1601}, 21617, id="Body over 1600"),
    pytest.param([*VALID.items(), ("To", "+6281111111111")], 400, id="repeated scalar"),
])
def test_invalid_forms_are_rejected_and_recorded(
    server: TwilioApiServer, form: dict[str, str] | list[tuple[str, str]], code: int,
) -> None:
    assert_rejected(server, post(server, form), 400, code)


def test_to_errors_echo_the_number_like_twilio(server: TwilioApiServer) -> None:
    response = post(server, {**VALID, "To": "12345"})
    assert response.json()["message"] == "The 'To' number 12345 is not a valid phone number."


@pytest.mark.parametrize("auth", [None, (ACCOUNT_SID, "wrong-token"), ("AC" + "0" * 32, AUTH_TOKEN)])
def test_wrong_credentials_are_401(server: TwilioApiServer, auth: tuple[str, str] | None) -> None:
    response = post(server, VALID, auth=auth)
    assert_rejected(server, response, 401, 20003)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("account_sid", ["AC" + "0" * 32, "ACnot-a-sid"])
def test_another_account_in_the_path_is_404(server: TwilioApiServer, account_sid: str) -> None:
    assert_rejected(server, post(server, VALID, account_sid=account_sid), 404, 20404)


def test_json_bodies_and_other_paths_are_rejected(server: TwilioApiServer) -> None:
    url = f"{server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    as_json = requests.post(url, json=VALID, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert as_json.status_code == 400 and "Content-Type" in as_json.json()["message"]
    calls = requests.post(url.replace("Messages", "Calls"), data=VALID, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert calls.status_code == 404
    assert len(server.violations) == 2 and server.messages == []


def test_fail_next_answers_valid_requests_with_errors(server: TwilioApiServer) -> None:
    server.fail_next(429, code=20429, message="Too Many Requests", retry_after=7, times=2)
    for _ in range(2):
        response = post(server, VALID)
        assert response.status_code == 429 and response.headers["Retry-After"] == "7"
        assert response.json()["code"] == 20429
    assert post(server, VALID).status_code == 201
    assert len(server.messages) == 1 and server.violations == []


def test_invalid_requests_do_not_use_up_faults(server: TwilioApiServer) -> None:
    server.fail_next(500)
    assert post(server, {**VALID, "Colour": "red"}).status_code == 400
    assert post(server, VALID).status_code == 500


def test_hang_next_makes_the_client_time_out(server: TwilioApiServer) -> None:
    server.hang_next(5)
    with pytest.raises(requests.ReadTimeout):
        post(server, VALID, timeout=0.3)
    assert post(server, VALID).status_code == 201


def test_sign_computes_twilios_webhook_signature() -> None:
    url, params = "https://lapor.example.id/webhooks/twilio/sms", {"From": "+6281234567890", "Body": "halo"}
    signature = sign(url, params, AUTH_TOKEN)
    assert RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    assert not RequestValidator(AUTH_TOKEN).validate(url + "?x=1", params, signature)
    assert sign(url, params, "another-token") != signature


# -- media content ---------------------------------------------------------------------------

def get_media(url: str, *, auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN),
              follow: bool = False) -> requests.Response:
    return requests.get(url, auth=auth, allow_redirects=follow, timeout=5)


def test_the_media_path_parameters_come_from_the_spec(server: TwilioApiServer) -> None:
    params = media_contract().path_params
    assert set(params) == {"AccountSid", "MessageSid", "Sid"}
    url = server.put_media(INBOUND_SID, PHOTO, "image/jpeg")
    prefix = f"{server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{INBOUND_SID}/Media/"
    assert url.startswith(prefix)
    assert value_problem("Sid", params["Sid"], url.removeprefix(prefix)) is None  # ME + 32 hex
    assert value_problem("MessageSid", params["MessageSid"], "SM" + "0" * 32) is None


@pytest.mark.parametrize("message_sid", ["MM1", "XX" + "0" * 32, "ME" + "0" * 32])
def test_put_media_refuses_a_message_sid_twilio_would_not_make(server: TwilioApiServer, message_sid: str) -> None:
    with pytest.raises(ValueError, match="MessageSid"):
        server.put_media(message_sid, PHOTO, "image/jpeg")


def test_media_content_is_a_redirect_to_a_cdn_on_another_origin(server: TwilioApiServer) -> None:
    url = server.put_media(INBOUND_SID, PHOTO, "image/jpeg")

    redirect = get_media(url)
    assert redirect.status_code == 307
    location = redirect.headers["Location"]
    assert re.fullmatch(rf"{server.cdn_base_url}/cdn/[0-9a-f]{{32}}", location)
    assert location.startswith(f"http://{CDN_HOST}:") and not location.startswith(server.base_url)

    content = get_media(location, auth=None)
    assert (content.status_code, content.content, content.headers["Content-Type"]) == (200, PHOTO, "image/jpeg")
    assert server.media_fetches == [url.rsplit("/", 1)[1]] and server.cdn_fetches == server.media_fetches
    assert server.violations == [] and server.messages == []


def test_a_client_that_follows_the_redirect_with_credentials_is_a_violation(server: TwilioApiServer) -> None:
    location = get_media(server.put_media(INBOUND_SID, PHOTO, "image/png")).headers["Location"]

    leaked = requests.get(location, headers={"Authorization": "Basic QUM6dG9rZW4="}, timeout=5)

    assert leaked.status_code == 400 and server.cdn_fetches == []
    assert len(server.violations) == 1 and "Authorization header reached the CDN" in server.violations[0]


def test_requests_drops_the_credentials_at_the_other_origin(server: TwilioApiServer) -> None:
    """What any careful HTTP client does, and what the CDN expects."""
    followed = get_media(server.put_media(INBOUND_SID, PHOTO, "image/jpeg"), follow=True)

    assert (followed.status_code, followed.content) == (200, PHOTO)
    assert server.violations == []


@pytest.mark.parametrize("auth", [None, (ACCOUNT_SID, "wrong-token"), ("AC" + "0" * 32, AUTH_TOKEN)])
def test_media_with_wrong_credentials_is_401(server: TwilioApiServer, auth: tuple[str, str] | None) -> None:
    response = get_media(server.put_media(INBOUND_SID, PHOTO, "image/jpeg"), auth=auth)

    assert (response.status_code, response.json()["code"]) == (401, 20003)
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert len(server.violations) == 1 and server.media_fetches == []


def test_unknown_media_and_other_accounts_are_404(server: TwilioApiServer) -> None:
    url = server.put_media(INBOUND_SID, PHOTO, "image/jpeg")
    unknown = url[:-32] + "0" * 32
    other_account = url.replace(ACCOUNT_SID, "AC" + "0" * 32)

    malformed = url.replace("/Media/ME", "/Media/XX")
    for wrong in (unknown, other_account, url.replace(INBOUND_SID, "MM" + "0" * 32), malformed):
        response = get_media(wrong)
        assert (response.status_code, response.json()["code"]) == (404, 20404), wrong
    assert len(server.violations) == 4 and server.media_fetches == []


def test_media_is_only_read(server: TwilioApiServer) -> None:
    url = server.put_media(INBOUND_SID, PHOTO, "image/jpeg")

    assert requests.post(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).status_code == 405
    assert len(server.violations) == 1


def test_the_cdn_serves_only_what_was_redirected_there(server: TwilioApiServer) -> None:
    missing = requests.get(f"{server.cdn_base_url}/cdn/{'0' * 32}", timeout=5)
    on_the_api_host = requests.get(f"{server.base_url}/cdn/{'0' * 32}", timeout=5)

    assert (missing.status_code, on_the_api_host.status_code) == (404, 404)
    assert len(server.violations) == 2


def test_fail_next_and_hang_next_apply_to_media_requests(server: TwilioApiServer) -> None:
    url = server.put_media(INBOUND_SID, PHOTO, "image/jpeg")
    server.fail_next(503, retry_after=2)

    failed = get_media(url)
    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "2")
    server.hang_next(5)
    with pytest.raises(requests.ReadTimeout):
        requests.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), allow_redirects=False, timeout=0.3)
    assert get_media(url).status_code == 307
    assert server.violations == []
