"""Helpers for tests that need the PostgreSQL server at 127.0.0.1:5432 (trust auth)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ADMIN_URL = os.environ.get("ORION_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


def server_reason() -> str | None:
    """None when the server answers, else why the PostgreSQL tests are skipped."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'orion-cli[postgresql]')"
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # any connection failure means: no server here
        return f"no PostgreSQL server answers at {ADMIN_URL}: {exc}"


@contextmanager
def scratch_database(prefix: str = "orion_test") -> Iterator[str]:
    """Create a fresh database, yield its URL, drop it afterwards (no skipping: benchmarks)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def temporary_database() -> Iterator[str]:
    """A fresh database for one test; skipped (failed under CI) when no server answers."""
    reason = server_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests cannot be skipped in CI: {reason}")
        pytest.skip(reason)
    with scratch_database() as url:
        yield url
