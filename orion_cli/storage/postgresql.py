"""The storage contract on PostgreSQL: tables, SKIP LOCKED reservations, advisory suggest locks.

Layout (schema v1): `experiments` (name, version, data jsonb), `trials` (experiment, id, status,
worker, heartbeat, submit_time, seq, data jsonb) and `schema_version`. A trial's `data` holds
the whole record; the columns beside it are copies kept for the indexes and the WHERE clauses.
Every state change is one statement (or one transaction), so it is atomic and a compare-and-set:
`reserve_trial` picks with `SELECT ... FOR UPDATE SKIP LOCKED` and updates in the same
statement, `update_trial`, `heartbeat` and `release_lost` are single `UPDATE ... WHERE` clauses.

Clock: `start_time` and `heartbeat` are stamped with the database server's clock, and
`release_lost` compares them with that same clock inside its UPDATE, so skew between worker
machines can neither release a fresh trial nor keep a dead one. (The times a caller sets
itself, such as `end_time`, are the caller's.)

Connections: one small `psycopg_pool.ConnectionPool` per storage object, opened at the first
operation (after one direct connection checks the schema) and closed by `close()`. A pool is
never shared across `fork()`: a child process that uses a storage object opened by its parent
gets a fresh pool of its own and leaves the parent's connections alone; opening a storage in
each process is still the better habit. Lost connections and unreachable servers are retried
with exponential backoff (`retries` tries, `backoff` seconds doubling), then raise one
StorageError line. Retrying is safe: `register_trial`, `update_trial` and `create_experiment`
recognise their own write from a first attempt whose reply was lost; a `reserve_trial` whose
reply was lost leaves that trial reserved until `release_lost` frees it.

Passwords: the URL is only ever shown through `redact_url` plus a scrub of any password it
holds (in the user part or as `?password=`), including in messages relayed from libpq.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial
from orion_cli.errors import StorageError
from orion_cli.storage import redact_url
from orion_cli.storage.base import AlreadyExists, LockTimeout, TrialSummary
from orion_cli.storage.memory import (
    not_found_experiment,
    not_found_trial,
    suggest_lock_timeout_message,
)

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

    Conn = Connection[Any]

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "PostgreSQLStorage",
    "migrate_v0_to_v1",
    "migrate_v1_to_v2",
    "open_postgresql",
    "upgrade_schema",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 2
MISSING_DRIVER = "the postgresql storage needs psycopg: pip install 'orion-cli[postgresql]'"
# First key of every advisory lock orion_cli takes, so that they never collide with another
# application's locks in the same database (the second key is 0 for the schema lock, else the
# hash of an experiment).
LOCK_NAMESPACE = 0x6F72696F  # "orio"
_RESERVABLE_SQL = "('new', 'interrupted', 'suspended')"
_NOW = "extract(epoch FROM statement_timestamp())::float8"
# SQLSTATEs after which the same statement may succeed on a new connection.
_TRANSIENT_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})


# -- schema and its migrations --------------------------------------------------------------


def migrate_v0_to_v1(conn: Conn) -> None:
    """Create the tables and indexes of schema v1 in a database that has none."""
    conn.execute(
        "CREATE TABLE experiments (name text NOT NULL, version integer NOT NULL, "
        "data jsonb NOT NULL, PRIMARY KEY (name, version))"
    )
    conn.execute(
        "CREATE TABLE trials (experiment text NOT NULL, id text NOT NULL, "
        "status text NOT NULL, worker text, heartbeat double precision, "
        "submit_time double precision, seq bigint GENERATED ALWAYS AS IDENTITY, "
        "data jsonb NOT NULL, PRIMARY KEY (experiment, id))"
    )
    conn.execute("CREATE INDEX trials_status ON trials (experiment, status)")
    # The order of reserve_trial, restricted to reservable trials: picking the next one is an
    # index lookup however many trials the experiment holds.
    conn.execute(
        "CREATE INDEX trials_reservable ON trials "
        "(experiment, (status = 'new'), submit_time, seq) "
        f"WHERE status IN {_RESERVABLE_SQL}"
    )


# The objective of a completed trial, as Trial.objective reads it: the first result of type
# objective whose value is a number (a non-finite float is stored as an object, not a number).
_OBJECTIVE_SQL = (
    "CASE WHEN status = 'completed' THEN (jsonb_path_query_first(data, "
    '\'$.results[*] ? (@.type == "objective" && @.value.type() == "number").value\'))'
    "::float8 END"
)
# Trials by status, kept by statement triggers in COUNT_SHARDS rows per (experiment, status):
# each server process writes to the shard of its pid, so that concurrent writers seldom wait
# for one another's row (a single counter row would serialize every completion behind the
# previous one's commit). Rows are upserted in key order, so that writers never deadlock.
COUNT_SHARDS = 8
_COUNT_FUNCTION = f"""
CREATE FUNCTION orion_count_trials() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO trial_counts (experiment, status, shard, n)
    SELECT experiment, status, pg_backend_pid() % {COUNT_SHARDS}, count(*) FROM new_rows
    GROUP BY experiment, status ORDER BY experiment, status
    ON CONFLICT (experiment, status, shard) DO UPDATE SET n = trial_counts.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO trial_counts (experiment, status, shard, n)
    SELECT experiment, status, pg_backend_pid() % {COUNT_SHARDS}, -count(*) FROM old_rows
    GROUP BY experiment, status ORDER BY experiment, status
    ON CONFLICT (experiment, status, shard) DO UPDATE SET n = trial_counts.n + EXCLUDED.n;
  ELSE
    INSERT INTO trial_counts (experiment, status, shard, n)
    SELECT experiment, status, pg_backend_pid() % {COUNT_SHARDS}, sum(delta) FROM (
      SELECT experiment, status, 1 AS delta FROM new_rows
      UNION ALL SELECT experiment, status, -1 FROM old_rows) AS moves
    GROUP BY experiment, status HAVING sum(delta) <> 0 ORDER BY experiment, status
    ON CONFLICT (experiment, status, shard) DO UPDATE SET n = trial_counts.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$body$
"""


def migrate_v1_to_v2(conn: Conn) -> None:
    """Keep what `orion status` shows in the tables: counts by status, an indexed objective.

    Status read every trial to count them and find the best (0.5 s at 30,000 trials); with
    the counts kept by triggers and the objective in an indexed column it reads a few rows.
    """
    conn.execute(
        f"ALTER TABLE trials ADD COLUMN objective double precision "
        f"GENERATED ALWAYS AS ({_OBJECTIVE_SQL}) STORED"
    )
    conn.execute(
        "CREATE INDEX trials_objective ON trials (experiment, objective, seq) "
        "WHERE objective IS NOT NULL"
    )
    conn.execute(
        "CREATE TABLE trial_counts (experiment text NOT NULL, status text NOT NULL, "
        "shard integer NOT NULL, n bigint NOT NULL, PRIMARY KEY (experiment, status, shard))"
    )
    conn.execute(
        "INSERT INTO trial_counts (experiment, status, shard, n) "
        "SELECT experiment, status, 0, count(*) FROM trials GROUP BY experiment, status"
    )
    # The transaction that last wrote each row (64-bit, never wraps): fetch_trials reads only
    # rows written by transactions that were not finished at its previous read.
    conn.execute(
        "ALTER TABLE trials ADD COLUMN txid bigint NOT NULL "
        "DEFAULT pg_current_xact_id()::text::bigint"
    )
    conn.execute(
        "CREATE FUNCTION orion_stamp_trial() RETURNS trigger LANGUAGE plpgsql AS $body$ "
        "BEGIN NEW.txid := pg_current_xact_id()::text::bigint; RETURN NEW; END $body$"
    )
    conn.execute(
        "CREATE TRIGGER trials_stamp BEFORE UPDATE ON trials "
        "FOR EACH ROW EXECUTE FUNCTION orion_stamp_trial()"
    )
    conn.execute("CREATE INDEX trials_txid ON trials (experiment, txid)")
    conn.execute(_COUNT_FUNCTION)
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        conn.execute(
            f"CREATE TRIGGER trials_count_{event.lower()} AFTER {event} ON trials "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION orion_count_trials()"
        )


# MIGRATIONS[n] takes a database from schema version n to n + 1, inside the one transaction of
# `upgrade_schema` (so it must not use statements that refuse transactions, such as CREATE
# INDEX CONCURRENTLY). A new database is built by running them all from 0.
MIGRATIONS: dict[int, Callable[[Conn], None]] = {0: migrate_v0_to_v1, 1: migrate_v1_to_v2}


def _stored_version(conn: Conn) -> int | None:
    """The schema version of the database; None when orion_cli never created its tables."""
    # A plain query of the catalog, not to_regclass(): it sees a table that another session
    # created while this one waited for the schema lock (to_regclass may use a stale cache).
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'schema_version')"
    ).fetchone()
    if not row or not row[0]:
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _migrate(conn: Conn, start: int, safe_url: str) -> None:
    """Run the migrations from `start` to SCHEMA_VERSION; the caller holds the transaction."""
    import psycopg

    try:
        if start == 0 and _stored_version(conn) is None:
            conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (0)")
        for version in range(start, SCHEMA_VERSION):
            MIGRATIONS[version](conn)
            conn.execute("UPDATE schema_version SET version = %s", [version + 1])
    except psycopg.errors.DuplicateTable as exc:
        raise StorageError(
            f"the database of {safe_url} already has tables orion_cli did not create "
            f"({_first_line(exc)}): give orion_cli a database of its own (createdb orion)"
        ) from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StorageError(
            f"cannot create the orion_cli tables in {safe_url}: {_first_line(exc)}: grant "
            "the user CREATE on the database, or have its owner run `orion db upgrade`"
        ) from exc


def _check_version(version: int, safe_url: str) -> None:
    if version < SCHEMA_VERSION:
        raise StorageError(
            f"the PostgreSQL storage at {safe_url} has schema v{version}, older than the "
            f"v{SCHEMA_VERSION} of this orion_cli: run `orion db upgrade` on it (back the "
            "database up first)"
        )
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"the PostgreSQL storage at {safe_url} has schema v{version}, newer than the "
            f"v{SCHEMA_VERSION} this orion_cli knows: upgrade orion_cli "
            "(pip install -U 'orion-cli[postgresql]')"
        )


MIN_SERVER = 130000  # pg_current_xact_id and pg_snapshot_xmin (64-bit transaction ids)


def _check_server(conn: Conn, safe_url: str) -> None:
    version = conn.info.server_version
    if version < MIN_SERVER:
        raise StorageError(
            f"the PostgreSQL server of {safe_url} is version {version // 10000}, older than "
            "the 13 orion_cli needs: use a newer server"
        )


def _ensure_schema(conn: Conn, safe_url: str) -> None:
    """Create the schema in a new database; refuse an older or newer one."""
    _check_server(conn, safe_url)
    version = _stored_version(conn)
    if version is None:
        with conn.transaction():
            # Many workers may start on a new database at once: one creates, the rest wait.
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_NAMESPACE])
            version = _stored_version(conn)
            if version is None:
                _migrate(conn, 0, safe_url)
                version = SCHEMA_VERSION
    _check_version(version, safe_url)


def upgrade_schema(
    url: str, *, retries: int = 5, backoff: float = 0.5, connect_timeout: float = 5.0
) -> str:
    """Bring the database at `url` to SCHEMA_VERSION (what `orion db upgrade` runs).

    All the migrations run in one transaction: either the database reaches the new version or
    it is left as it was. Workers of an older orion_cli refuse the upgraded database.

    Returns:
        A one-line message for the user saying what was done (the URL redacted).

    Raises:
        StorageError: the server is unreachable, the database is missing, or its schema is
            newer than this orion_cli.
    """
    connector = _Connector(url, retries=retries, backoff=backoff, timeout=connect_timeout)
    with connector.connect() as conn, conn.transaction():
        _check_server(conn, connector.safe_url)
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_NAMESPACE])
        before = _stored_version(conn)
        if before is not None and before > SCHEMA_VERSION:
            _check_version(before, connector.safe_url)
        if before == SCHEMA_VERSION:
            return (
                f"the PostgreSQL storage at {connector.safe_url} is up to date (schema v{before})"
            )
        _migrate(conn, before or 0, connector.safe_url)
    if before is None:
        return f"created the orion_cli tables (schema v{SCHEMA_VERSION}) in {connector.safe_url}"
    return (
        f"upgraded the PostgreSQL storage at {connector.safe_url} from schema v{before} "
        f"to v{SCHEMA_VERSION}"
    )


# -- URLs, secrets, errors -------------------------------------------------------------------


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


# -- records <-> JSON ------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


def _clean(value: Any) -> Any:
    """What jsonb refuses, made storable: non-finite floats tagged as `{"$float": "nan"}`,
    NUL characters (PostgreSQL text cannot hold them) replaced by U+FFFD."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def _untag_float(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and isinstance(obj.get("$float"), str):
        return float(obj["$float"])
    return obj


def dumps(record: dict[str, Any]) -> str:
    """A record as jsonb text (see `_clean` for the values jsonb refuses)."""
    try:
        text = json.dumps(record, allow_nan=False, default=_json_default)
    except ValueError:
        text = ""
    if not text or "\\u0000" in text:  # the rare slow path: walk the record
        text = json.dumps(_clean(record), allow_nan=False, default=_json_default)
    return text


def loads(text: str) -> Any:
    if '"$float"' in text:
        return json.loads(text, object_hook=_untag_float)
    return json.loads(text)


# Writes whose loss in a server crash is harmless skip the wait for the server's WAL flush.
# Registering, reserving and heartbeats each waited about 4 ms for the server's disk. Other
# sessions see them at once all the same; only a crash of the server itself can undo the last
# ones, which at worst sends a trial back to be run again (its first run's result is then
# refused by the compare-and-set). Completions keep the full wait. The setting is made by this
# common table expression, joined into the statement, so that it takes one round trip: an
# explicit transaction with SET LOCAL took four (BEGIN, SET, the statement, COMMIT).
_RELAXED = "relaxed AS (SELECT set_config('synchronous_commit', 'off', true) AS relaxed)"


# A trial registered as reserved (the one its worker runs at once) takes the server's clock for
# its start and heartbeat, as a reservation does: lost trials are judged by that clock.
_REGISTER = (
    f"WITH {_RELAXED}, clock AS (SELECT {_NOW} AS now) "
    "INSERT INTO trials (experiment, id, status, worker, heartbeat, submit_time, data) "
    "SELECT %(experiment)s::text, %(id)s::text, %(status)s::text, %(worker)s::text, "
    "CASE WHEN %(status)s::text = 'reserved' THEN clock.now ELSE %(heartbeat)s::float8 END, "
    "%(submit_time)s::float8, CASE WHEN %(status)s::text = 'reserved' "
    "THEN %(data)s::jsonb || jsonb_build_object('start_time', clock.now, 'heartbeat', clock.now) "
    "ELSE %(data)s::jsonb END FROM clock, relaxed ON CONFLICT (experiment, id) DO NOTHING"
)


def _trial(text: str) -> Trial:
    return Trial.from_dict(loads(text))


def _trial_row(trial: Trial) -> dict[str, Any]:
    data = trial.to_dict()
    return {
        "experiment": trial.experiment,
        "id": trial.id,
        "status": Status(trial.status).value,
        "worker": trial.worker,
        "heartbeat": trial.heartbeat,
        "submit_time": trial.submit_time,
        "data": dumps(data),
    }


def _lock_key(experiment: str) -> int:
    """The second advisory-lock key of an experiment: a signed 32-bit hash of its id."""
    digest = hashlib.sha256(experiment.encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


# -- the storage -----------------------------------------------------------------------------

_INHERITED_POOLS: list[object] = []  # pools a forked child must neither use nor close


# One statement, one snapshot: a header row (the horizon of this snapshot: every transaction
# older than it has finished; and the number of trials), then the rows written by
# transactions from the previous horizon on.
_CHANGED_TRIALS = (
    "SELECT NULL::text, NULL::bigint, NULL::text, "
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
    "(SELECT coalesce(sum(n), 0) FROM trial_counts WHERE experiment = %(experiment)s)::bigint "
    "UNION ALL SELECT id, seq, data::text, NULL, NULL FROM trials "
    "WHERE experiment = %(experiment)s AND txid >= %(horizon)s"
)


class _Seen:
    """The trials of one experiment as last read, in the order of their registration."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.horizon = 0
        self.trials: dict[str, tuple[int, Trial]] = {}
        self._order: list[Trial] = []
        self._index: dict[str, int] = {}  # trial id -> its place in _order
        self._sorted = True
        self._last_seq = -1

    def put(self, trial_id: str, seq: int, trial: Trial) -> None:
        self.trials[trial_id] = (seq, trial)
        if not self._sorted:
            return
        place = self._index.get(trial_id)
        if place is not None:
            self._order[place] = trial
        elif seq > self._last_seq:
            self._index[trial_id] = len(self._order)
            self._order.append(trial)
            self._last_seq = seq
        else:
            self._sorted = False  # registered before one already seen: sort again when asked

    def ordered(self) -> list[Trial]:
        if not self._sorted:
            pairs = sorted(self.trials.items(), key=lambda item: item[1][0])
            self._order = [trial for _, (_, trial) in pairs]
            self._index = {trial_id: place for place, (trial_id, _) in enumerate(pairs)}
            self._last_seq = pairs[-1][1][0] if pairs else -1
            self._sorted = True
        return list(self._order)


class PostgreSQLStorage:
    """The storage contract (storage/base.py) on a PostgreSQL database; safe across threads."""

    def __init__(
        self,
        url: str,
        *,
        lock_timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        connect_timeout: float = 5.0,
        pool_size: int = 4,
    ) -> None:
        self._connector = _Connector(
            url, retries=retries, backoff=backoff, timeout=connect_timeout
        )
        self.url = self._connector.safe_url  # safe to print or store: no password in it
        self.lock_timeout = lock_timeout
        self._pool_size = max(2, pool_size)
        self._pool: ConnectionPool[Any] | None = None
        self._pool_pid = 0
        self._schema_checked = False
        self._mutex = threading.Lock()
        # experiment -> what fetch_trials saw: it reads only the rows written since.
        self._seen: dict[str, _Seen] = {}
        self._seen_lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------
    def _get_pool(self) -> ConnectionPool[Any]:
        """The pool of this process, created after a direct connection checked the schema."""
        from psycopg_pool import ConnectionPool

        with self._mutex:
            if self._pool is not None and self._pool_pid != os.getpid():
                _INHERITED_POOLS.append(self._pool)  # the parent's: closing it would hurt it
                self._pool = None
            if self._pool is None:
                self._probe()
                pool: ConnectionPool[Any] = ConnectionPool(
                    self._connector.dsn,
                    kwargs=self._connector.kwargs,
                    min_size=1,
                    max_size=self._pool_size,
                    open=False,
                    name="orion_cli",
                    timeout=30.0,
                    max_idle=300.0,
                )
                pool.open(wait=False)
                self._pool, self._pool_pid = pool, os.getpid()
            return self._pool

    def _probe(self) -> None:
        """One direct connection: the reason when the server fails, the schema check once."""
        import psycopg

        with self._connector.once() as conn:
            if self._schema_checked:
                return
            try:
                _ensure_schema(conn, self.url)
            except psycopg.OperationalError as exc:
                raise self._translate(exc, conn, None) from exc
            self._schema_checked = True

    def _discard_pool(self, failure: _Transient) -> None:
        """Drop the pool a transient failure came from; the next try builds a new one."""
        with self._mutex:
            pool = self._pool
            if pool is None or (failure.pool is not None and failure.pool is not pool):
                return
            self._pool = None
        pool.close(timeout=1.0)

    def _checkout(self) -> tuple[ConnectionPool[Any], Conn]:
        from psycopg_pool import PoolClosed, PoolTimeout

        pool = self._get_pool()
        try:
            return pool, pool.getconn()
        except (PoolTimeout, PoolClosed) as exc:
            raise _Transient(_first_line(exc), pool) from None

    def _translate(self, exc: Exception, conn: Conn, pool: object) -> Exception:
        """What to raise for a psycopg error met during an operation."""
        import psycopg

        if isinstance(exc, psycopg.OperationalError) and _is_transient(exc, conn.broken):
            return _Transient(self._connector.scrub(_first_line(exc)), pool)
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            what = "the user of the URL lacks a privilege on the orion_cli tables"
            return StorageError(f"{what} of {self.url}: {_first_line(exc)}: grant it")
        if isinstance(exc, (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction)):
            return StorageError(
                f"the PostgreSQL storage at {self.url} failed: "
                f"{self._connector.scrub(_first_line(exc))}: check the server and its log"
            )
        return exc

    def _run(self, op: Callable[[Conn, bool], T]) -> T:
        """`op(connection, retried)` on a pooled connection, retried on transient failures."""
        return self._connector.retrying(
            lambda retried: self._once(op, retried), self._discard_pool
        )

    def _once(self, op: Callable[[Conn, bool], T], retried: bool) -> T:
        import psycopg

        pool, conn = self._checkout()
        try:
            return op(conn, retried)
        except (
            psycopg.OperationalError,
            psycopg.errors.InsufficientPrivilege,
            psycopg.errors.ReadOnlySqlTransaction,
        ) as exc:
            raise self._translate(exc, conn, pool) from exc
        finally:
            pool.putconn(conn)

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(self, exp: Experiment) -> None:
        data = dumps(exp.to_dict())

        def op(conn: Conn, retried: bool) -> bool:
            cur = conn.execute(
                "INSERT INTO experiments (name, version, data) VALUES (%s, %s, %s::jsonb) "
                "ON CONFLICT (name, version) DO NOTHING",
                [exp.name, exp.version, data],
            )
            if cur.rowcount == 1:
                return True
            # A retry after a lost reply finds its own first attempt: that is a success.
            return retried and self._stored_experiment(conn, exp.name, exp.version) == loads(data)

        if not self._run(op):
            raise AlreadyExists(
                f"experiment {exp.name!r} version {exp.version} exists already in "
                f"{self.url}: fetch it instead of creating it"
            )

    def update_experiment(self, exp: Experiment) -> None:
        def op(conn: Conn, _retried: bool) -> int:
            cur = conn.execute(
                "UPDATE experiments SET data = %s::jsonb WHERE name = %s AND version = %s",
                [dumps(exp.to_dict()), exp.name, exp.version],
            )
            return cur.rowcount

        if self._run(op) == 0:
            raise not_found_experiment(exp.name, exp.version, self.url)

    @staticmethod
    def _stored_experiment(conn: Conn, name: str, version: int | None) -> Any:
        if version is None:
            query = "SELECT data::text FROM experiments WHERE name = %s ORDER BY version DESC"
            row = conn.execute(query + " LIMIT 1", [name]).fetchone()
        else:
            query = "SELECT data::text FROM experiments WHERE name = %s AND version = %s"
            row = conn.execute(query, [name, version]).fetchone()
        return None if row is None else loads(row[0])

    def fetch_experiment(self, name: str, version: int | None = None) -> Experiment:
        data = self._run(lambda conn, _r: self._stored_experiment(conn, name, version))
        if data is None:
            raise not_found_experiment(name, version, self.url)
        return Experiment.from_dict(data)

    def list_experiments(self) -> list[Experiment]:
        rows = self._run(
            lambda conn, _r: conn.execute(
                "SELECT data::text FROM experiments ORDER BY name, version"
            ).fetchall()
        )
        return [Experiment.from_dict(loads(row[0])) for row in rows]

    # -- trials ------------------------------------------------------------------------------
    @staticmethod
    def _stored_trial(conn: Conn, experiment: str, trial_id: str) -> str | None:
        row = conn.execute(
            "SELECT data::text FROM trials WHERE experiment = %s AND id = %s",
            [experiment, trial_id],
        ).fetchone()
        return None if row is None else str(row[0])

    def _is_stored(self, conn: Conn, trial: Trial, data: str) -> bool:
        """Whether the stored trial is exactly `data` (a retry meeting its first attempt)."""
        stored = self._stored_trial(conn, trial.experiment, trial.id)
        return stored is not None and loads(stored) == loads(data)

    def register_trial(self, trial: Trial) -> bool:
        row = _trial_row(trial)

        def op(conn: Conn, retried: bool) -> bool:
            cur = conn.execute(_REGISTER, row)
            return cur.rowcount == 1 or (retried and self._is_stored(conn, trial, row["data"]))

        return self._run(op)

    def fetch_trials(self, experiment: str, status: Status | None = None) -> list[Trial]:
        """Every trial (of a status), reading only the rows written since the last call.

        A worker fetches all trials before each suggestion. Reading every row (or even every
        row's version) made that cost grow with the experiment: 100 ms at 30,000 trials. Each
        row carries the id of the transaction that last wrote it; one statement returns the
        rows written by transactions not yet finished at the previous read (the horizon of its
        snapshot), the new horizon, and the number of trials, which tells when some were
        deleted (the cache is then read again in full).
        """
        with self._seen_lock:  # one fetch at a time per storage: the cache moves forward only
            seen = self._seen.setdefault(experiment, _Seen())
            if not self._catch_up(experiment, seen):
                seen.reset()
                self._catch_up(experiment, seen)
            trials = seen.ordered()
        if status is None:
            return trials
        wanted = Status(status).value
        return [trial for trial in trials if trial.status.value == wanted]

    def _catch_up(self, experiment: str, seen: _Seen) -> bool:
        """Apply the rows written since `seen.horizon`; False when the counts disagree."""
        args = {"experiment": experiment, "horizon": seen.horizon}
        rows = self._run(lambda conn, _r: conn.execute(_CHANGED_TRIALS, args).fetchall())
        total = 0
        for trial_id, seq, text, horizon, count in rows:
            if trial_id is None:
                seen.horizon, total = int(horizon), int(count)
            else:
                seen.put(trial_id, int(seq), _trial(text))
        return len(seen.trials) == total

    def summarize(self, experiment: str) -> TrialSummary:
        """Counts from the trigger-kept table, the best by its index, the reserved trials."""

        def op(conn: Conn, _retried: bool) -> tuple[Any, Any, Any]:
            counts = conn.execute(
                "SELECT status, sum(n) FROM trial_counts WHERE experiment = %s GROUP BY status",
                [experiment],
            ).fetchall()
            best = conn.execute(
                "SELECT data::text FROM trials WHERE experiment = %s AND objective IS NOT NULL "
                "ORDER BY objective, seq LIMIT 1",
                [experiment],
            ).fetchone()
            reserved = conn.execute(
                "SELECT data::text FROM trials WHERE experiment = %s AND status = 'reserved' "
                "ORDER BY id",
                [experiment],
            ).fetchall()
            return counts, best, reserved

        counts, best, reserved = self._run(op)
        found = {str(status): int(n) for status, n in counts}
        return TrialSummary(
            counts={status.value: found.get(status.value, 0) for status in Status},
            best=None if best is None else _trial(best[0]),
            reserved=tuple(_trial(row[0]) for row in reserved),
        )

    def fetch_trial(self, experiment: str, trial_id: str) -> Trial:
        text = self._run(lambda conn, _r: self._stored_trial(conn, experiment, trial_id))
        if text is None:
            raise not_found_trial(experiment, trial_id, self.url)
        return _trial(text)

    def reserve_trial(self, experiment: str, worker: str) -> Trial | None:
        query = (
            f"WITH {_RELAXED}, next AS (SELECT experiment, id FROM trials "
            "WHERE experiment = %(experiment)s "
            f"AND status IN {_RESERVABLE_SQL} ORDER BY (status = 'new'), submit_time, seq "
            f"LIMIT 1 FOR UPDATE SKIP LOCKED), clock AS (SELECT {_NOW} AS now) "
            "UPDATE trials AS t SET status = 'reserved', worker = %(worker)s, "
            "heartbeat = clock.now, data = t.data || jsonb_build_object('status', 'reserved', "
            "'worker', %(worker)s::text, 'start_time', clock.now, 'heartbeat', clock.now) "
            "FROM next, clock, relaxed WHERE t.experiment = next.experiment AND t.id = next.id "
            "RETURNING t.data::text"
        )
        args = {"experiment": experiment, "worker": worker}
        row = self._run(lambda conn, _r: conn.execute(query, args).fetchone())
        return None if row is None else _trial(row[0])

    def update_trial(self, trial: Trial, *, expected: Status, owner: str | None = None) -> bool:
        row = _trial_row(trial)
        row.update(expected=Status(expected).value, owner=owner)
        query = (
            "UPDATE trials SET status = %(status)s, worker = %(worker)s, "
            "heartbeat = %(heartbeat)s, submit_time = %(submit_time)s, data = %(data)s::jsonb "
            "WHERE experiment = %(experiment)s AND id = %(id)s AND status = %(expected)s"
        )
        if owner is not None:
            query += " AND worker = %(owner)s"

        def op(conn: Conn, retried: bool) -> bool:
            if conn.execute(query, row).rowcount == 1:
                return True
            return retried and self._is_stored(conn, trial, row["data"])

        return self._run(op)

    def heartbeat(self, trial: Trial) -> bool:
        if trial.worker is None:
            return False
        query = (
            f"WITH {_RELAXED}, clock AS (SELECT {_NOW} AS now) UPDATE trials "
            "SET heartbeat = clock.now, data = data || jsonb_build_object('heartbeat', clock.now) "
            "FROM clock, relaxed WHERE experiment = %s AND id = %s AND status = 'reserved' "
            "AND worker = %s"
        )
        args = [trial.experiment, trial.id, trial.worker]
        return bool(self._run(lambda conn, _r: conn.execute(query, args).rowcount == 1))

    def release_lost(self, experiment: str, timeout: float) -> list[Trial]:
        # The age test is inside the UPDATE: a heartbeat that lands first is seen, never lost.
        query = (
            f"WITH clock AS (SELECT {_NOW} AS now) UPDATE trials SET status = 'interrupted', "
            "worker = NULL, data = data || jsonb_build_object('status', 'interrupted', "
            "'worker', NULL::text) FROM clock WHERE experiment = %s AND status = 'reserved' "
            "AND coalesce(heartbeat, (data->>'start_time')::float8, 0) < clock.now - %s "
            "RETURNING data::text"
        )
        rows = self._run(lambda conn, _r: conn.execute(query, [experiment, timeout]).fetchall())
        return sorted((_trial(row[0]) for row in rows), key=lambda trial: trial.id)

    def delete_trials(self, experiment: str, ids: Sequence[str]) -> int:
        query = "DELETE FROM trials WHERE experiment = %s AND id = ANY(%s)"
        args = [experiment, list(ids)]
        return int(self._run(lambda conn, _r: conn.execute(query, args).rowcount))

    # -- the suggest lock --------------------------------------------------------------------
    @contextmanager
    def suggest_lock(self, experiment: str) -> Iterator[None]:
        """An advisory lock held by one pooled connection; the server frees it if that dies.

        A free lock is taken at once; a held one is waited for in the server (woken the moment
        it is released, or its holder's connection dies), at most `lock_timeout` seconds.
        Waiters used to poll every 2-20 ms, which with 8 workers added a few ms per trial.
        """
        key = _lock_key(experiment)
        deadline = time.monotonic() + max(self.lock_timeout, 0.0)
        waited = False
        held = self._connector.retrying(lambda _retried: self._try_lock(key), self._discard_pool)
        if held is None:
            waited = True
            held = self._connector.retrying(
                lambda _retried: self._wait_lock(key, deadline), self._discard_pool
            )
        if held is None:
            raise LockTimeout(suggest_lock_timeout_message(experiment, self.lock_timeout))
        pool, conn = held
        try:
            yield
        finally:
            self._unlock(pool, conn, key, waited)

    def _wait_lock(self, key: int, deadline: float) -> tuple[ConnectionPool[Any], Conn] | None:
        """Wait in the server until the lock is ours (the connection) or the deadline (None)."""
        import psycopg

        left = deadline - time.monotonic()
        if left <= 0:
            return None
        pool, conn = self._checkout()
        try:
            # The timeout is set in the same statement (its FROM runs first): one round trip.
            conn.execute(
                "SELECT pg_advisory_lock(%s, %s) "
                "FROM (SELECT set_config('lock_timeout', %s, false)) AS timeout",
                [LOCK_NAMESPACE, key, f"{max(1, int(left * 1000))}ms"],
            )
        except psycopg.errors.LockNotAvailable:
            self._reset_timeout(pool, conn)
            return None
        except psycopg.OperationalError as exc:
            pool.putconn(conn)
            raise self._translate(exc, conn, pool) from exc
        except BaseException:
            conn.close()  # interrupted while waiting: it may hold the lock now; closing frees it
            pool.putconn(conn)
            raise
        return pool, conn

    @staticmethod
    def _reset_timeout(pool: ConnectionPool[Any], conn: Conn) -> None:
        import psycopg

        try:
            conn.execute("RESET lock_timeout")
        except psycopg.Error:
            conn.close()
        pool.putconn(conn)

    def _try_lock(self, key: int) -> tuple[ConnectionPool[Any], Conn] | None:
        """The connection now holding the lock, or None (and no connection) when it is taken."""
        import psycopg

        pool, conn = self._checkout()
        try:
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, key]
            ).fetchone()
        except psycopg.OperationalError as exc:
            pool.putconn(conn)
            raise self._translate(exc, conn, pool) from exc
        if row and row[0]:
            return pool, conn
        pool.putconn(conn)
        return None

    def _unlock(self, pool: ConnectionPool[Any], conn: Conn, key: int, waited: bool) -> None:
        import psycopg

        try:
            row = conn.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, key]
            ).fetchone()
            released = bool(row and row[0])
        except psycopg.Error:
            released = False  # a dead connection: the server released the lock with it
        if not released:
            conn.close()  # never hand a connection that may hold the lock to someone else
            pool.putconn(conn)
        elif waited:
            self._reset_timeout(pool, conn)
        else:
            pool.putconn(conn)

    def close(self) -> None:
        """Close the pool of this process; a later operation would open a new one."""
        with self._mutex:
            pool, self._pool = self._pool, None
            mine = self._pool_pid == os.getpid()
        if pool is not None and mine:
            pool.close()


def open_postgresql(
    url: str,
    lock_timeout: float = 60.0,
    *,
    retries: int = 5,
    backoff: float = 0.5,
    connect_timeout: float = 5.0,
    pool_size: int = 4,
) -> PostgreSQLStorage:
    """The PostgreSQL storage at `url` (`postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`).

    Nothing connects until the first operation, which creates the schema in a new database.

    Args:
        url: the libpq URL; it may carry libpq parameters (`?sslmode=require`).
        lock_timeout: seconds `suggest_lock` waits before raising LockTimeout.
        retries: connection tries before giving up on an unreachable server.
        backoff: seconds before the second try; doubled before each next one.
        connect_timeout: seconds one connection attempt may take (unless the URL sets it).
        pool_size: most connections this process keeps open to the server.

    Raises:
        StorageError: psycopg is not installed, or the URL is malformed.
    """
    _require_driver()
    return PostgreSQLStorage(
        url,
        lock_timeout=lock_timeout,
        retries=retries,
        backoff=backoff,
        connect_timeout=connect_timeout,
        pool_size=pool_size,
    )
