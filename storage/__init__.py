"""Persistence for lapor-intake: engine and sessions, models, repository functions, encryption
of personal data, tracking numbers and Alembic migrations.

This is the only package that imports SQLAlchemy. Entry points:

- ``storage.db``: ``make_engine``, ``Database`` (one transaction per unit of work)
- ``storage.migrate``: ``upgrade`` (Alembic ``upgrade head``)
- ``storage.repository``: the queries and writes that intake, delivery and admin use
- ``storage.crypto``: ``DataCipher`` (phone numbers, chat ids and names at rest)
- ``storage.tracking``: ``LAP-XXXXXX`` tracking numbers
"""
