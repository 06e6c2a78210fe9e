"""The Flask application: health and metrics endpoints, and the webhooks and /admin blueprints."""
from __future__ import annotations

from flask import Flask, Response, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import metrics, webhooks
from bot.admin import views as admin_views
from bot.admin.auth import SESSION_LIFETIME
from bot.media import views as media_views
from bot.services import Services, build_services
from bot.settings import Settings, load_settings
from storage.keys import key_problem


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app. Pass ``services`` to share them (tests, gunicorn post-fork hook)."""
    settings = settings or (services.settings if services else load_settings())
    services = services or build_services(settings)
    app = Flask(__name__)
    if settings.proxy_hops:  # the client's address (the sign-in throttle) is the proxies' X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # webhooks are small; refuse floods early
    app.config.update(  # the admin session cookie (bot.admin.auth)
        SESSION_COOKIE_NAME="lapor_admin", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.extensions["lapor"] = services
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(media_views.bp)

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        """Liveness: the process answers."""
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> ResponseReturnValue:
        """Readiness: the database answers and takes writes in time (SQLite: not locked by
        another program), the data key can read it, and the default script is published."""
        if not services.db.ping():
            return jsonify(status="unavailable", database=False), 503
        if not services.db.writable():
            return jsonify(status="busy", database=True, writable=False), 503, {"Retry-After": "5"}
        try:
            with services.db.reading() as session:
                if key_problem(session, services.cipher):
                    return jsonify(status="unavailable", database=True, data_key=False), 503
                services.catalog.current(session, settings.default_script)
        except LookupError:
            return jsonify(status="unavailable", database=True, data_key=True, script=False), 503
        return jsonify(status="ready", database=True, data_key=True, script=True)

    exposition = metrics.Exposition(services.db)

    @app.get("/metrics")
    def metrics_page() -> ResponseReturnValue:
        """Prometheus text exposition (``bot.metrics``): the service's totals, whichever worker
        answers, and the outbox gauges. No sign-in, since Prometheus scrapes it: it carries no
        personal data."""
        body, content_type = exposition.render()
        return Response(body, content_type=content_type)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return app
