"""The Rasa backend against a real Rasa 3.6 NLU server (its own Python 3.10 virtualenv, built by
``make rasa-model``; the model trained on dialogs/nlu), served on loopback with an auth token.

In CI a missing Rasa fails the run; elsewhere these tests are skipped with the command to run.
"""
from __future__ import annotations

import http.server
import json
import os
import secrets
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from tests_support import ROOT, chat_env, free_port, make_settings

from bot.nlu.interpreter import RasaInterpreter, load_builtin
from bot.nlu.rasa_server import RasaSetupError, home, model_path, prepare, rasa_env, serve_command
from bot.scripts import sync_files
from bot.services import build_services
from channels.base import InboundMessage
from channels.terminal import TerminalChannel
from storage.repository import utcnow

NLU = ROOT / "dialogs" / "nlu"


def _rasa_or_skip() -> tuple[Path, Path]:
    if not (model_path(home()).is_file() or os.environ.get("CI")):
        pytest.skip("no Rasa model here: run `make rasa-model` (a few minutes, once)")
    try:
        return prepare()
    except RasaSetupError as exc:
        pytest.fail(f"Rasa is required in CI: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def rasa() -> Iterator[tuple[str, str]]:
    """(url, token) of a real Rasa server on a free loopback port."""
    venv, model = _rasa_or_skip()
    port, token = free_port(), secrets.token_urlsafe(16)
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"lapor-rasa-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(serve_command(venv, model, port=port, token=token), env=rasa_env(), stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            assert process.poll() is None, f"Rasa exited ({process.returncode}); see {log.name}"
            try:
                if requests.get(f"{url}/status", params={"token": token}, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"Rasa did not come up in 180 s; see {log.name}"
            time.sleep(0.5)
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _fake_rasa(intent: str, on_request: Callable[[str], object]) -> http.server.ThreadingHTTPServer:
    """A stand-in for Rasa's /model/parse on loopback that ranks ``intent`` first, calling
    ``on_request(text)`` before it answers (to record the text, or to be slow)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            on_request(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["text"])
            body = json.dumps({"intent_ranking": [{"name": intent, "confidence": 1.0}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def builtin(tmp_path_factory: pytest.TempPathFactory):
    return load_builtin(NLU, tmp_path_factory.mktemp("nlu-models"))


def test_the_server_refuses_requests_without_its_token(rasa: tuple[str, str]) -> None:
    url, token = rasa
    assert requests.post(f"{url}/model/parse", json={"text": "halo"}, timeout=10).status_code == 401
    assert requests.post(f"{url}/model/parse", params={"token": "wrong"}, json={"text": "halo"},
                         timeout=10).status_code == 401
    answer = requests.post(f"{url}/model/parse", params={"token": token}, json={"text": "halo"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["intent"]["name"] == "greet"


@pytest.mark.parametrize(("text", "intent", "category"), [
    ("sy mau lapor, jln rusak parah bgt di desa sukamaju", "report", "infrastructure"),
    ("puskesmas di kampung kami tutup terus, pasien ditolak", "report", "health"),
    ("laporan saya sudah sampai mana", "status", None),
    ("makasih banyak ya", "thanks", None),
    ("english please", "change_language", None),
])
def test_rasa_understands_citizens_through_the_same_guards(rasa, builtin, text, intent, category) -> None:
    url, token = rasa
    interpreter = RasaInterpreter(url, token, builtin, timeout=10)
    ranking = interpreter.rank(text)
    assert ranking is not None, "Rasa answered nothing"
    meaning = interpreter.guard(ranking, text)
    assert (meaning.intent, meaning.category) == (intent, category)
    interpreter.close()


def test_rasa_is_never_waited_on_past_its_timeout_and_then_rests(builtin) -> None:
    calls: list[float] = []

    server = _fake_rasa("greet", on_request=lambda text: (calls.append(time.monotonic()), time.sleep(1.5)))
    interpreter = RasaInterpreter(f"http://127.0.0.1:{server.server_address[1]}", "t", builtin, timeout=0.2)
    text = "sy mau lapor, jln rusak parah bgt"
    started = time.monotonic()
    assert interpreter.interpret(text) == builtin.interpret(text)  # the built-in one answered
    assert time.monotonic() - started < 1.0
    assert interpreter.interpret(text) == builtin.interpret(text)
    assert len(calls) == 1  # resting: the slow server is not asked again at once
    interpreter.close()
    server.shutdown()


def test_a_rasa_that_is_down_leaves_the_builtin_answering(builtin) -> None:
    interpreter = RasaInterpreter(f"http://127.0.0.1:{free_port()}", "t", builtin, timeout=0.2)
    assert interpreter.rank("halo") is None
    assert interpreter.interpret("halo").intent == "greet"
    interpreter.close()


def test_lapor_nlu_evaluate_scores_the_real_server(rasa) -> None:
    url, token = rasa
    results = {}
    for task in ("intents", "categories"):
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "lapor"), "nlu", "evaluate", "--backend", "rasa",
                               "--data", str(NLU / "heldout" / f"{task}.yml"), "--json"],
                              env=chat_env("sqlite://", RASA_URL=url, RASA_TOKEN=token), capture_output=True,
                              text=True, timeout=300, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        results[task] = json.loads(done.stdout)
    assert results["intents"]["backend"] == "rasa" and results["intents"]["task"] == "intent"
    assert results["categories"]["task"] == "category"
    assert results["intents"]["accuracy"] >= 0.90, results["intents"]
    assert results["categories"]["accuracy"] >= 0.85, results["categories"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_citizen_served_through_rasa_gets_the_category_proposed(rasa, db_url: str) -> None:
    url, token = rasa
    settings = make_settings(db_url, {"RASA_URL": url, "RASA_TOKEN": token})
    assert settings.nlu_backend == "rasa"
    services = build_services(settings, channels={"terminal": TerminalChannel(open(os.devnull, "w"))})  # noqa: SIM115
    try:
        assert isinstance(services.interpreter, RasaInterpreter)
        sync_files(services.db, settings.scripts_dir, utcnow())
        result = services.intake.handle(InboundMessage(
            channel="terminal", sender="+6281234567890", provider_message_id=uuid.uuid4().hex, received_at=utcnow(),
            text="sy mau lapor, jln rusak parah bgt di desa sukamaju sejak kemarin"))
        assert "Sepertinya ini soal Infrastruktur. Benar?" in "\n".join(result.replies)
    finally:
        services.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_name_is_never_sent_to_the_rasa_server(builtin, db_url: str) -> None:
    texts: list[str] = []

    server = _fake_rasa("out_of_scope", on_request=texts.append)
    settings = make_settings(db_url, {"RASA_URL": f"http://127.0.0.1:{server.server_address[1]}", "RASA_TOKEN": "t"})
    services = build_services(settings, channels={"terminal": TerminalChannel(open(os.devnull, "w"))})  # noqa: SIM115
    try:
        sync_files(services.db, settings.scripts_dir, utcnow())
        lines = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
                 "Jl. Merdeka 1", "kemarin", "lewati", "1", "Budi Santoso", "ya"]
        for line in lines:
            services.intake.handle(InboundMessage(channel="terminal", sender="+6281234567890", text=line,
                                                  provider_message_id=uuid.uuid4().hex, received_at=utcnow()))
        assert "Jalan rusak" in texts and "ya" in texts  # words went to Rasa
        assert "1" not in texts  # menu numbers need no interpreter
        assert "Budi Santoso" not in texts  # the answer to "Siapa nama Anda?" did not
    finally:
        services.close()
        server.shutdown()
