"""What ``lapor serve`` and ``lapor worker`` do before they start: migrate, import the dialog
scripts, check the data key and the registry set-up, and train the built-in interpreter (once
per version of its training data), in a short-lived child process.

The child does the heavy lifting (Alembic, the whole service stack) and exits, so the serving
processes never hold Alembic in memory and a gunicorn master only supervises. The child is
forked before this process has loaded SQLAlchemy or the service's modules, so that, meanwhile,
it can load them on the other core (``meanwhile``): the start-up is the longer of the two, not
their sum.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection

from bot.config import ConfigError
from bot.settings import Settings

URL_REFUSED = 2  # the child's exit status when the database URL cannot work (it sent the reason)


def prepare(settings: Settings, meanwhile: Callable[[], object] | None = None) -> bool:
    """Migrate, import scripts, train the built-in interpreter, check the data key and the
    registry; False (the reason logged) when that failed. ConfigError, before anything is
    touched, for a database URL that cannot work. ``meanwhile`` runs in this process while
    the child works."""
    context = multiprocessing.get_context("fork")
    reasons, reason = context.Pipe(duplex=False)
    child = context.Process(target=_prepare, args=(settings, reason), name="lapor-prepare")
    child.start()
    reason.close()
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        child.join()
    if child.exitcode == URL_REFUSED and reasons.poll():
        raise ConfigError(f"the database URL (LAPOR_DATABASE_URL, else database_url in config.yaml): "
                          f"{reasons.recv()}")
    return child.exitcode == 0


def _prepare(settings: Settings, reason: Connection) -> None:
    import logging

    from storage.db import url_problem

    if problem := url_problem(settings.database_url):  # first: nothing is touched
        reason.send(problem)
        raise SystemExit(URL_REFUSED)

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
