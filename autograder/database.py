"""``--db URL``: nbgrader's gradebook in a shared PostgreSQL database.

``database_url`` checks what the instructor typed and names the driver installed with the
course (psycopg 3: a bare ``postgresql://`` would ask SQLAlchemy for psycopg2);
``check_database`` connects once before anything is graded, so a wrong password or a stopped
server costs seconds, not a grading run; ``taking_turns`` makes grading runs that write into
one database at once write one after another (a PostgreSQL advisory lock: released by the
server if the run dies), so that no run's rows are lost in a race. ``shown`` is the URL
without its password, for messages.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

DRIVER = "postgresql+psycopg"
ACCEPTED = ("postgresql", "postgres", "postgresql+psycopg")
CONNECT_SECONDS = 10
TURN_LOCK = 0x64657363656E74  # "descent": the advisory lock every run's gradebook write takes
USAGE = ("give a PostgreSQL URL such as postgresql://USER:PASSWORD@HOST:5432/DATABASE "
         "(without --db the gradebook is OUT/gradebook.db, SQLite)")


class DatabaseError(Exception):
    """The gradebook database cannot be used (bad URL, server down, wrong password)."""


def database_url(text: str) -> str:
    """``text`` as an SQLAlchemy URL with the psycopg driver, or ``DatabaseError``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError:
        raise DatabaseError(f"--db {text!r} is not a database URL: {USAGE}") from None
    if url.drivername not in ACCEPTED:
        raise DatabaseError(f"--db {shown(text)} is a {url.drivername} URL: {USAGE}")
    if not url.database:
        raise DatabaseError(f"--db {shown(text)} names no database: {USAGE}")
    return url.set(drivername=DRIVER).render_as_string(hide_password=False)


def shown(url: str) -> str:
    """``url`` with its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message: never fail while saying what failed
        return "(the --db URL)"


@contextlib.contextmanager
def _connection(url: str) -> Iterator:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_SECONDS})
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            raise DatabaseError(f"cannot connect to the gradebook database {shown(url)}: "
                                f"{detail}. Is PostgreSQL running there, does the database "
                                "exist (createdb NAME) and are user and password right?") from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def check_database(url: str) -> None:
    """Connect to ``url`` once, or raise ``DatabaseError`` saying what is wrong."""
    from sqlalchemy import text

    with _connection(url) as connection:
        connection.execute(text("SELECT 1"))


@contextlib.contextmanager
def taking_turns(url: str) -> Iterator[None]:
    """Hold the gradebook's advisory lock in ``url`` while the body writes; waits its turn."""
    from sqlalchemy import text

    with _connection(url) as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": TURN_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": TURN_LOCK})
