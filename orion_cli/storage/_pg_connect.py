"""PostgreSQL connections for the storage: URL secrets, user-facing errors, retries.

Passwords: a URL is only ever shown through `redact_url` plus a scrub of any password it holds
(in the user part or as `?password=`), including in messages relayed from libpq.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from orion_cli.errors import StorageError
from orion_cli.storage import redact_url

if TYPE_CHECKING:
    from psycopg import Connection

    Conn = Connection[Any]

# The storage's own logger: retries are reported under the module users know.
logger = logging.getLogger("orion_cli.storage.postgresql")
T = TypeVar("T")

MISSING_DRIVER = "the postgresql storage needs psycopg: pip install 'orion-cli[postgresql]'"
# SQLSTATEs after which the same statement may succeed on a new connection.
_TRANSIENT_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})


def _secrets(url: str) -> list[str]:
    """Every spelling of the passwords in `url` (user part and `password=` parameters)."""
    found: list[str] = []
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    found += re.findall(r"(?:[?&])password=([^&#]*)", url)
    found += [unquote(value) for value in list(found)]
    return sorted({s for s in found if s}, key=len, reverse=True)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _first_line(exc: BaseException) -> str:
    """The first line of an error message, whitespace collapsed."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return " ".join(lines[0].split())


def _reason(exc: BaseException) -> str:
    """libpq's own reason, without its `connection failed: connection to ... failed:` prefix."""
    line = _first_line(exc)
    return line.rsplit(" failed: ", 1)[-1] if "connection to server" in line else line


class _Transient(Exception):
    """A failure that a new connection may cure; `_retrying` catches it."""

    def __init__(self, reason: str, pool: object | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pool = pool


def _is_transient(exc: BaseException, broken: bool) -> bool:
    state = getattr(exc, "sqlstate", None)
    return broken or state in _TRANSIENT_STATES or (state or "").startswith("08")


class _Connector:
    """Opens direct connections to one URL: kwargs, retries and the user-facing errors."""

    def __init__(self, url: str, *, retries: int, backoff: float, timeout: float) -> None:
        _require_driver()
        from psycopg.conninfo import conninfo_to_dict

        self._secrets = _secrets(url)
        self.safe_url = self.scrub(redact_url(url))
        self.dsn = url
        self.tries = max(1, retries)
        self.backoff = max(0.0, backoff)
        try:
            given = conninfo_to_dict(url)
        except Exception as exc:  # psycopg's parser raises ProgrammingError on a bad URL
            raise StorageError(
                f"invalid PostgreSQL URL {self.safe_url}: {self.scrub(_first_line(exc))}: "
                "write it as postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
            ) from None
        self.dbname = str(given.get("dbname") or given.get("user") or os.environ.get("USER", ""))
        defaults = {
            "connect_timeout": max(2, math.ceil(timeout)),
            "application_name": "orion_cli",
            "keepalives_idle": 30,  # a silent peer is noticed within about a minute
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
        self.kwargs: dict[str, Any] = {k: v for k, v in defaults.items() if k not in given}
        self.kwargs["autocommit"] = True

    def scrub(self, text: str) -> str:
        return _scrub(text, self._secrets)

    def delays(self) -> list[float]:
        """The sleeps between the tries: backoff, doubling."""
        return [self.backoff * 2**i for i in range(self.tries - 1)]

    def once(self) -> Conn:
        """One connection attempt; `_Transient` when worth retrying, else StorageError."""
        import psycopg

        try:
            return psycopg.connect(self.dsn, **self.kwargs)
        except psycopg.OperationalError as exc:
            raise self.connect_error(exc) from None

    def connect(self) -> Conn:
        """A connection, retried with backoff; StorageError once the tries are spent."""
        return self.retrying(lambda _retried: self.once())

    def retrying(
        self,
        attempt: Callable[[bool], T],
        on_failure: Callable[[_Transient], None] | None = None,
    ) -> T:
        """`attempt(retried)` until it does not raise _Transient, sleeping between tries."""
        delays = self.delays()
        for index in range(self.tries):
            try:
                return attempt(index > 0)
            except _Transient as exc:
                if on_failure is not None:
                    on_failure(exc)
                if index == self.tries - 1:
                    raise self.unreachable(exc.reason) from None
                logger.warning(
                    "PostgreSQL storage at %s: %s; retrying in %.1f s",
                    self.safe_url,
                    exc.reason,
                    delays[index],
                )
                time.sleep(delays[index])
        raise AssertionError("unreachable: the loop returns or raises")

    def connect_error(self, exc: BaseException) -> Exception:
        """The error for a failed connection attempt: retry it, or tell the user what to do."""
        reason = self.scrub(_reason(exc))
        lowered = reason.lower()
        if "database" in lowered and "does not exist" in lowered:
            return StorageError(
                f"the database {self.dbname!r} of {self.safe_url} does not exist: create it "
                f"(createdb {self.dbname}) or fix the URL"
            )
        if "authentication" in lowered or ("role" in lowered and "does not exist" in lowered):
            return StorageError(
                f"cannot log in to the PostgreSQL storage at {self.safe_url}: {reason}: check "
                "the user and password (in the URL, PGPASSWORD or ~/.pgpass)"
            )
        return _Transient(reason)

    def unreachable(self, reason: str) -> StorageError:
        return StorageError(
            f"cannot reach the PostgreSQL storage at {self.safe_url}: {reason}: check that "
            "the server runs and the URL is right"
        )


def _require_driver() -> None:
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise StorageError(MISSING_DRIVER) from None
