"""A Rasa 3.6 NLU server for ``nlu.backend: rasa``: its virtualenv, its model, its process.

Rasa needs Python 3.10 and pins that conflict with the service's, so it lives in a virtualenv of
its own, outside the clone (``LAPOR_RASA_HOME``, default ``~/.cache/lapor-rasa``), built once from
``dialogs/nlu/rasa/requirements.txt`` and reused while that file is unchanged. Its model is
trained NLU-only from the same training files as the built-in interpreter (``intents.yml`` and
``categories.yml``: the held-out files are never trained on) with ``dialogs/nlu/rasa/config.yml``,
and kept per version of data and pipeline, so training runs again only when either changes.

``python -m bot.nlu.rasa_server prepare`` builds what is missing; ``serve`` (``make rasa``) also
starts the server on 127.0.0.1 with an auth token (``RASA_TOKEN``, else one kept in
``LAPOR_RASA_HOME/token``) and prints the ``RASA_URL``/``RASA_TOKEN`` the service needs.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bot.nlu.data import FILES, data_digest

__all__ = ["RasaSetupError", "model_path", "prepare", "rasa_env", "serve_command"]

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "dialogs" / "nlu"
RASA_DIR = NLU_DIR / "rasa"
PYTHON_VERSION = "3.10"


class RasaSetupError(RuntimeError):
    """Rasa's virtualenv or model cannot be built here (the message says what to do)."""


def home(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("LAPOR_RASA_HOME") or Path.home() / ".cache" / "lapor-rasa")


def rasa_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment Rasa runs in: quiet TensorFlow, no telemetry, no GPU probing."""
    return {**environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "", "PYTHONWARNINGS": "ignore", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextmanager
def _locked(base: Path) -> Iterator[None]:
    """One builder at a time (``make rasa`` and a test run may start together)."""
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _python(environ: Mapping[str, str]) -> list[str]:
    """The Python 3.10 to build the virtualenv with: ``RASA_PYTHON``, else pyenv's 3.10, else
    ``python3.10`` on the PATH."""
    if explicit := environ.get("RASA_PYTHON"):
        return [explicit]
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, check=False).stdout
        versions = sorted((v.strip() for v in listed.splitlines() if v.strip().startswith(PYTHON_VERSION + ".")),
                          key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")])
        if versions:
            return ["env", f"PYENV_VERSION={versions[-1]}", "python" + PYTHON_VERSION]
    found = shutil.which("python" + PYTHON_VERSION)
    if found:
        return [found]
    raise RasaSetupError(f"Rasa 3.6 needs Python {PYTHON_VERSION}: install it (e.g. `pyenv install 3.10`) "
                         "or set RASA_PYTHON to its interpreter")


def _venv(base: Path, environ: Mapping[str, str]) -> Path:
    """Rasa's virtualenv, built from the requirements file when missing or stale."""
    venv = base / "venv"
    requirements = RASA_DIR / "requirements.txt"
    stamp = venv / f".installed-{_digest(requirements)}"
    if stamp.is_file() and (venv / "bin" / "rasa").is_file():
        return venv
    print(f"building Rasa's virtualenv in {venv} (a few minutes, once)", file=sys.stderr)
    steps = [
        [*_python(environ), "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools<70", "wheel"],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
    ]
    for command in steps:
        done = subprocess.run(command, env=rasa_env(environ), check=False)
        if done.returncode != 0:
            raise RasaSetupError(f"building Rasa's virtualenv failed: {' '.join(command)} (exit {done.returncode})")
    stamp.touch()
    return venv


def model_path(base: Path, nlu_dir: Path = NLU_DIR) -> Path:
    """Where the model of this data and pipeline is (or will be) kept."""
    return base / "models" / f"nlu-{data_digest(nlu_dir)}-{_digest(RASA_DIR / 'config.yml')}.tar.gz"


def _train(venv: Path, model: Path, nlu_dir: Path, environ: Mapping[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="lapor-rasa-") as scratch:
        data = Path(scratch) / "data"
        data.mkdir()
        for name in FILES:  # only the training files: never the held-out ones beside them
            shutil.copyfile(nlu_dir / name, data / name)
        print(f"training the Rasa NLU model {model.name} (a minute or two)", file=sys.stderr)
        command = [str(venv / "bin" / "rasa"), "train", "nlu", "--config", str(RASA_DIR / "config.yml"),
                   "--nlu", str(data), "--out", scratch, "--fixed-model-name", "model", "--quiet"]
        done = subprocess.run(command, cwd=scratch, env=rasa_env(environ), check=False)
        trained = Path(scratch) / "model.tar.gz"
        if done.returncode != 0 or not trained.is_file():
            raise RasaSetupError(f"training the Rasa model failed (exit {done.returncode}): {' '.join(command)}")
        model.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(trained, model.with_suffix(".partial"))
        model.with_suffix(".partial").replace(model)
    for stale in model.parent.glob("nlu-*.tar.gz"):
        if stale != model:
            stale.unlink(missing_ok=True)  # models of older data or pipelines


def prepare(environ: Mapping[str, str] = os.environ, nlu_dir: Path = NLU_DIR) -> tuple[Path, Path]:
    """(virtualenv, model), each built only when missing or stale."""
    base = home(environ)
    with _locked(base):
        venv = _venv(base, environ)
        model = model_path(base, nlu_dir)
        if not model.is_file():
            _train(venv, model, nlu_dir, environ)
    return venv, model


def serve_command(venv: Path, model: Path, *, port: int, token: str) -> list[str]:
    """The command that serves ``model`` on 127.0.0.1:``port``; every request needs ``token``."""
    return [str(venv / "bin" / "rasa"), "run", "--enable-api", "--model", str(model), "--auth-token", token,
            "--interface", "127.0.0.1", "--port", str(port), "--quiet"]


def _token(environ: Mapping[str, str]) -> str:
    if token := environ.get("RASA_TOKEN"):
        return token
    path = home(environ) / "token"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu.rasa_server", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["prepare", "serve"])
    parser.add_argument("--port", type=int, default=5005)
    args = parser.parse_args(argv)
    try:
        venv, model = prepare()
    except RasaSetupError as exc:
        print(f"rasa: {exc}", file=sys.stderr)
        return 1
    if args.action == "prepare":
        print(model)
        return 0
    token = _token(os.environ)
    print(f"serving {model.name}: RASA_URL=http://127.0.0.1:{args.port} RASA_TOKEN=<in $RASA_TOKEN or "
          f"{home() / 'token'}>", file=sys.stderr)
    os.execve(serve_command(venv, model, port=args.port, token=token)[0],
              serve_command(venv, model, port=args.port, token=token), rasa_env())
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
