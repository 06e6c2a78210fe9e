"""lapor-intake service: app, intake orchestration, delivery, registry clients, admin, CLI."""
import sys

# httpx (python-telegram-bot's HTTP client, and ours for media) imports its command-line tool
# whenever click and pygments can be imported, and falls back to a stub when they cannot. Click
# comes with Flask and pygments with pytest, so every service process loaded both for a tool it
# never runs (some 2 MB of each process's memory). A None entry makes that import fail as it
# does where they are missing; nothing else in httpx depends on it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not installed"
