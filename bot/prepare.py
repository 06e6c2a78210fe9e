"""What ``lapor serve`` and ``lapor worker`` do before they start: migrate, import the dialog
scripts, check the data key and the registry set-up, and train the built-in interpreter (once
per version of its training data), in a short-lived child process.

The child does the heavy lifting (Alembic, the whole service stack) and exits, so the serving
processes never hold Alembic in memory and a gunicorn master stays small: it only supervises.
"""
from __future__ import annotations

import multiprocessing

from bot.config import ConfigError
from bot.settings import Settings
from storage.db import url_problem


def prepare(settings: Settings) -> bool:
    """Migrate, import scripts, train the built-in interpreter, check the data key and the
    registry; False (the reason logged) when that failed. ConfigError, before anything is
    touched, for a database URL that cannot work."""
    problem = url_problem(settings.database_url)
    if problem:
        raise ConfigError(f"the database URL (LAPOR_DATABASE_URL, else database_url in config.yaml): {problem}")
    child = multiprocessing.get_context("fork").Process(target=_prepare, args=(settings,), name="lapor-prepare")
    child.start()
    child.join()
    return child.exitcode == 0


def _prepare(settings: Settings) -> None:
    import logging

    from bot.nlu.interpreter import builtin_trained
    from bot.services import check_key, check_registry, prepare_database
    from storage.crypto import WrongDataKey

    try:
        trained = builtin_trained(settings.nlu_dir, settings.nlu_model_dir)
    except OSError as exc:
        logging.getLogger("lapor").error("nlu.data_dir %s: the training data cannot be read (%s)", settings.nlu_dir,
                                         exc.strerror or exc)
        raise SystemExit(1) from None
    trainer = None
    if not trained:  # new data or code: train beside the rest
        trainer = multiprocessing.get_context("fork").Process(target=_train, args=(settings,), name="lapor-train")
        trainer.start()
    prepare_database(settings)
    try:
        check_key(settings)
    except WrongDataKey as exc:
        logging.getLogger("lapor").error("%s", exc)
        raise SystemExit(1) from None
    ready = check_registry(settings)
    if trainer is not None:
        trainer.join()
        ready = ready and trainer.exitcode == 0
    raise SystemExit(0 if ready else 1)


def _train(settings: Settings) -> None:
    """Train the built-in interpreter (scikit-learn stays in this short-lived process)."""
    import logging

    from bot.nlu.data import DataError
    from bot.nlu.interpreter import load_builtin

    try:
        load_builtin(settings.nlu_dir, settings.nlu_model_dir)
    except (DataError, OSError) as exc:
        logging.getLogger("lapor").error("the NLU training data cannot be used: %s", exc)
        raise SystemExit(1) from None
    raise SystemExit(0)
