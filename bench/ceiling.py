"""The bare ceiling: a Flask app that answers every webhook with a constant and does nothing
else, on the same gunicorn set-up as ``lapor serve`` (bot.server.gunicorn_options).

    python -m bench.ceiling --port 8100 --workers 2
"""
from __future__ import annotations

import argparse

from flask import Flask, Response
from gunicorn.app.base import BaseApplication

from bot.server import gunicorn_options
from bot.settings import load_settings

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def bare_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/<path:anything>")
    def webhook(anything: str) -> Response:
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @app.get("/readyz")
    def readyz() -> Response:
        return Response("ok")

    return app


class _Bare(BaseApplication):
    def __init__(self, options: dict):
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return bare_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args()
    _Bare(gunicorn_options(load_settings(), "127.0.0.1", args.port, args.workers)).run()


if __name__ == "__main__":
    main()
