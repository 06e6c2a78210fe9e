"""The `lapor` command line: dialogs check output and exit codes, db upgrade, export."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from tests_support import chat_env

ROOT = Path(__file__).resolve().parents[2]
LAPOR = [sys.executable, "-m", "bot.cli"]


def lapor(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(LAPOR + list(args), capture_output=True, text=True, cwd=ROOT, env=env, input=stdin, timeout=120)


def test_dialogs_check_passes_the_shipped_scripts() -> None:
    done = lapor("dialogs", "check", "dialogs/scripts/complaint.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stdout


def test_dialogs_check_reports_file_line_message_and_exit_1(tmp_path: Path) -> None:
    broken = (ROOT / "dialogs/scripts/complaint.yaml").read_text(encoding="utf-8")
    broken = broken.replace("label: {id: Kesehatan, en: Health}", "label: {id: Kesehatan}")
    broken = broken.replace("    when: not anonymous", "    when: not anonymus")
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    done = lapor("dialogs", "check", str(path))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    label_line = broken.splitlines().index("        label: {id: Kesehatan}") + 1
    when_line = broken.splitlines().index("    when: not anonymus") + 1
    assert f"{path}:{label_line - 1}: step 'category': option 2 has no label for language 'en'" in lines
    assert any(line.startswith(f"{path}:{when_line}: step 'name': condition 'not anonymus' uses 'anonymus'") for line in lines)


def test_dialogs_check_warns_about_sms_length_and_ucs2(tmp_path: Path) -> None:
    text = (ROOT / "dialogs/scripts/complaint.yaml").read_text(encoding="utf-8")
    text = text.replace("en: What is your name?", "en: \u201cWhat is your name?\u201d \U0001F600")
    text = text.replace("id: Siapa nama Anda?", "id: " + "Siapa nama Anda yang lengkap sesuai KTP? " * 14)
    path = tmp_path / "long.yaml"
    path.write_text(text, encoding="utf-8")
    done = lapor("dialogs", "check", str(path))
    assert done.returncode == 0
    assert "warning: step 'name' (en): characters outside GSM-7" in done.stdout
    assert "warning: step 'name' (id):" in done.stdout and "SMS segments (more than 3)" in done.stdout


def test_db_upgrade_and_export_respect_privacy(db, db_url: str) -> None:
    env = chat_env(db_url)
    assert lapor("db", "upgrade", env=env).returncode == 0
    assert lapor("db", "upgrade", env=env).returncode == 0  # idempotent
    lines = ["halo", "1", "=HYPERLINK(\"x\")", "Ada pungutan liar di kantor kelurahan setiap hari.", "6",
             "Kelurahan Sukamaju", "hari ini", "lewati", "anonim", "ya"]
    assert lapor("chat", "--sender", "+6281300000000", env=env, stdin="\n".join(lines) + "\n").returncode == 0
    done = lapor("complaints", "export", "--format", "csv", env=env)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 1 and rows[0]["anonymous"] == "True" and "reporter_name" not in rows[0]
    assert rows[0]["title"].startswith("'=")  # defused for spreadsheets
    assert "81300000000" not in done.stdout
    data = json.loads(lapor("complaints", "export", "--format", "json", env=env).stdout)
    assert data[0]["tracking_number"] == rows[0]["tracking_number"] and "reporter_name" not in data[0]


def test_serve_worker_and_chat_refuse_a_data_key_that_cannot_read_the_database(db, db_url: str) -> None:
    """Reproduced: with another LAPOR_DATA_KEY, delivery failed every second, returning citizens
    became strangers and /readyz said ready. Now each command stops at once and says why."""
    env = chat_env(db_url)
    assert lapor("chat", "--sender", "+6281300000000", env=env, stdin="halo\n").returncode == 0
    wrong = chat_env(db_url, LAPOR_DATA_KEY="not-the-key-this-database-has")
    for command in (["serve", "--port", "1"], ["worker", "--once"], ["chat"], ["complaints", "export"]):
        done = lapor(*command, env=wrong, stdin="halo\n")
        assert done.returncode == 1, (command, done.stderr)
        assert "LAPOR_DATA_KEY does not match this database" in done.stderr, (command, done.stderr)
    status = lapor("keys", "status", env=wrong)
    assert status.returncode == 1 and "not held" in status.stdout


def test_keys_rotate_moves_everything_to_the_new_key(db, db_url: str) -> None:
    old = chat_env(db_url)
    assert lapor("chat", "--sender", "+6281300000000", env=old, stdin="halo\n").returncode == 0
    rotating = chat_env(db_url, LAPOR_DATA_KEY="the-new-key-of-2027", LAPOR_DATA_KEY_PREVIOUS="test-data-key")
    done = lapor("keys", "rotate", env=rotating)
    assert done.returncode == 0, done.stderr
    assert "contacts: 1 row(s) re-encrypted" in done.stdout and "LAPOR_DATA_KEY_PREVIOUS is no longer needed" in done.stdout
    new = chat_env(db_url, LAPOR_DATA_KEY="the-new-key-of-2027")
    chat = lapor("chat", "--sender", "+6281300000000", env=new, stdin="1\n")
    assert chat.returncode == 0 and "Tulis judul singkat" in chat.stdout  # the same citizen, mid-dialog
    assert lapor("chat", env=old, stdin="halo\n").returncode == 1  # the old key is retired


def test_lapor_from_another_directory_says_so_and_leaves_no_stray_var(tmp_path: Path) -> None:
    env = {k: v for k, v in chat_env("sqlite:///unused").items() if k not in ("LAPOR_CONFIG", "LAPOR_DATABASE_URL")}
    for command in (["chat"], ["db", "upgrade"], ["serve"], ["dialogs", "check"]):
        done = subprocess.run(LAPOR + command, capture_output=True, text=True, cwd=tmp_path, env=env, input="halo\n",
                              timeout=60)
        assert done.returncode == 2 and "there is no config.yaml in" in done.stderr and "LAPOR_CONFIG" in done.stderr
    wrong = subprocess.run(LAPOR + ["chat"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                           env={**env, "LAPOR_CONFIG": str(tmp_path / "nope.yaml")})
    assert wrong.returncode == 2 and "nope.yaml, which is not a file" in wrong.stderr
    assert list(tmp_path.iterdir()) == []  # no var/, no database, no keys


def test_serve_workers_0_means_one_per_core_and_no_option_keeps_the_config(monkeypatch, tmp_path: Path) -> None:
    import bot.server
    from bot.cli import main
    from bot.settings import cores

    taken: list[dict] = []
    monkeypatch.setattr(bot.server, "serve", lambda settings, **overrides: taken.append(overrides) or 0)
    for key, value in chat_env(f"sqlite:///{tmp_path / 'x.sqlite3'}").items():
        monkeypatch.setenv(key, value)
    assert main(["serve", "--workers", "0"]) == 0
    assert main(["serve", "--workers", "3", "--port", "8123"]) == 0
    assert main(["serve"]) == 0
    assert taken == [{"workers": cores()}, {"port": 8123, "workers": 3}, {}]
    assert cores() >= 1
