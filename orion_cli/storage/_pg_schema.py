"""The PostgreSQL schema of the storage: its tables, versions and migrations.

Schema v2: `experiments` (name, version, data jsonb); `trials` (experiment, id, status, worker,
heartbeat, submit_time, seq, data jsonb, then `objective`, a generated column indexed for the
best trial, and `txid`, the transaction that last wrote the row, for incremental reads);
`trial_counts` (trials by experiment and status, kept by triggers); `schema_version`. A trial's
`data` holds the whole record; the columns beside it are copies kept for indexes and WHERE
clauses. `orion db upgrade` (upgrade_schema) takes an older database to this version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orion_cli.errors import StorageError
from orion_cli.storage._pg_connect import _Connector, _first_line

if TYPE_CHECKING:
    from psycopg import Connection

    Conn = Connection[Any]

SCHEMA_VERSION = 2
# First key of every advisory lock orion_cli takes, so that they never collide with another
# application's locks in the same database (the second key is 0 for the schema lock, else the
# hash of an experiment).
LOCK_NAMESPACE = 0x6F72696F  # "orio"
_RESERVABLE_SQL = "('new', 'interrupted', 'suspended')"


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
