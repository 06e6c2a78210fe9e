"""The whole service for end-to-end tests: settings for the test database, the real channel
clients pointed at the local provider stand-ins, the worker thread, and the app over real HTTP;
each stack yields a ``send`` that posts one provider webhook (signed or with its secret) and
asserts it was taken."""
from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import requests
from providers.registry_webhook import WebhookRegistryServer
from providers.telegram_api import TOKEN, TelegramApiServer
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer
from providers.twilio_api import sign as twilio_sign
from tests_support import LiveServer, free_port, make_settings

from bot.app import create_app
from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.base import Channel
from channels.telegram import TelegramChannel
from channels.twilio import TwilioChannel
from storage import repository as repo

WA_FROM = "+14155238886"
TG_SECRET = "stack-Telegram_secret"
_ids = itertools.count(700_000_001)


@contextmanager
def _served(db_url: str, env: dict[str, str], registry: WebhookRegistryServer | None,
            channel: Callable[[Mapping[str, str], str], tuple[str, Channel]]) -> Iterator[tuple[str, Services]]:
    """The service on a free port with its worker (submitting to ``registry`` when given)."""
    port = free_port()
    env = {**env, "LAPOR_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    if registry is not None:
        env.update(LAPOR_REGISTRY="webhook", LAPOR_REGISTRY_URL=registry.url, LAPOR_REGISTRY_SECRET=registry.secret)
    settings = make_settings(db_url, extra_env=env)
    name, client = channel(settings.env, settings.public_url)
    services = build_services(settings, channels={name: client})
    sync_files(services.db, settings.scripts_dir, repo.utcnow())
    services.start_worker()
    try:
        with LiveServer(create_app(settings, services), port) as app:
            yield app.url, services
    finally:
        services.close()


@contextmanager
def whatsapp_service(db_url: str, twilio: TwilioApiServer, citizen: str,
                     registry: WebhookRegistryServer | None = None) -> Iterator[tuple[Callable[..., None], Services]]:
    """WhatsApp through the local Twilio API; ``send(body, media=(bytes, content_type))`` posts
    one signed webhook from ``citizen`` (the medium put in Twilio's media API first)."""
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": WA_FROM,
           "TWILIO_API_BASE_URL": twilio.base_url}
    with _served(db_url, env, registry, lambda env, public: (
            "whatsapp", TwilioChannel.from_env("whatsapp", env, public))) as (base, services):
        url = f"{base}/webhooks/twilio/whatsapp"

        def send(body: str, media: tuple[bytes, str] | None = None) -> None:
            sid = "SM" + uuid.uuid4().hex
            form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{citizen}",
                    "To": f"whatsapp:{WA_FROM}", "Body": body, "NumMedia": "0"}
            if media is not None:
                form.update(NumMedia="1", MediaUrl0=twilio.put_media(sid, *media), MediaContentType0=media[1])
            response = requests.post(url, data=form, timeout=10,
                                     headers={"X-Twilio-Signature": twilio_sign(url, form, AUTH_TOKEN)})
            assert response.status_code == 200

        yield send, services


@contextmanager
def telegram_service(db_url: str, telegram: TelegramApiServer, chat: int,
                     registry: WebhookRegistryServer | None = None) -> Iterator[tuple[Callable[..., None], Services]]:
    """Telegram through the local Bot API; ``send(text, **fields)`` posts one message update of
    ``chat`` (``photo=``, ``voice=``, ``document=`` as Telegram sends them)."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": TG_SECRET, "TELEGRAM_API_BASE_URL": telegram.base_url}
    with _served(db_url, env, registry, lambda env, public: (
            "telegram", TelegramChannel.from_env(env))) as (base, services):

        def send(text: str | None = None, **fields: object) -> None:
            message: dict[str, object] = {"message_id": next(_ids) % 100000, "date": int(time.time()),
                                          "chat": {"id": chat, "type": "private", "first_name": "Budi"},
                                          "from": {"id": chat, "is_bot": False, "first_name": "Budi"}}
            if text is not None:
                message["text"] = text
            message.update(fields)
            response = requests.post(f"{base}/webhooks/telegram", timeout=10,
                                     data=json.dumps({"update_id": next(_ids), "message": message}),
                                     headers={"Content-Type": "application/json",
                                              "X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
            assert response.status_code == 200

        yield send, services
