"""The storage contract on PostgreSQL: tables, SKIP LOCKED reservations, advisory suggest locks.

Tables and their migrations: `_pg_schema.py` (schema v2); connections, retries and secrets:
`_pg_connect.py`. Every state change is one statement (or one transaction), so it is atomic
and a compare-and-set: `reserve_trial` picks with `SELECT ... FOR UPDATE SKIP LOCKED` and
updates in the same statement, `update_trial`, `heartbeat` and `release_lost` are single
`UPDATE ... WHERE` clauses.

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
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial
from orion_cli.errors import StorageError
from orion_cli.storage._pg_connect import (
    MISSING_DRIVER,
    _Connector,
    _first_line,
    _is_transient,
    _require_driver,
    _Transient,
)
from orion_cli.storage._pg_schema import (
    _RESERVABLE_SQL,
    LOCK_NAMESPACE,
    MIGRATIONS,
    SCHEMA_VERSION,
    _ensure_schema,
    migrate_v0_to_v1,
    migrate_v1_to_v2,
    upgrade_schema,
)
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
    "MISSING_DRIVER",
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
_NOW = "extract(epoch FROM statement_timestamp())::float8"


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
