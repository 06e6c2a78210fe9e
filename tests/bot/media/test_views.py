"""GET /media/... over real HTTP (bot.media.views): a signed link opens its kept file without
credentials until it expires; expired, altered or unknown links get 403, a missing file 404."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import requests
from tests_support import LiveServer

from bot.app import create_app
from bot.media.links import MediaLinks
from storage import repository as repo


def test_signed_links_open_kept_files_until_they_expire(services) -> None:
    data = b"%PDF-1.4 evidence"
    blob = services.blobs.put(data, "application/pdf")
    with LiveServer(create_app(services.settings, services)) as live:
        now = repo.utcnow()
        links = MediaLinks(services.settings.secret_key, live.url, timedelta(minutes=5))
        url = links.url(blob.key, "application/pdf", now=now)
        response = requests.get(url, timeout=10)
        assert response.status_code == 200 and response.content == data
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.headers["Content-Disposition"] == f'inline; filename="{blob.key}.pdf"'
        expired = links.url(blob.key, "application/pdf", now=now - timedelta(minutes=6))
        assert requests.get(expired, timeout=10).status_code == 403
        assert requests.get(url.replace(".pdf", ".jpg"), timeout=10).status_code == 403
        assert requests.get(f"{live.url}/media/{blob.key}.pdf", timeout=10).status_code == 403
        foreign = MediaLinks("not our secret", live.url, timedelta(minutes=5)).url(blob.key, "application/pdf", now=now)
        assert requests.get(foreign, timeout=10).status_code == 403
        missing = hashlib.sha256(b"never kept").hexdigest()
        assert requests.get(links.url(missing, "image/jpeg", now=now), timeout=10).status_code == 404
