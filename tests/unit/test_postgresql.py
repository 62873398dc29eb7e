"""The PostgreSQL storage beyond the shared contract: schema versions and upgrades, secrets kept
out of messages, retries, the advisory lock of a killed holder, and a SKIP LOCKED race."""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orion_cli.core.experiment import Experiment
from orion_cli.core.trial import Status, Trial
from orion_cli.errors import StorageError
from orion_cli.storage import LockTimeout
from orion_cli.storage import _pg_schema as pg_schema
from orion_cli.storage import postgresql as pg
from tests.pg import temporary_database

REPO = Path(__file__).resolve().parents[2]
SECRET = "S3cr@t-pw"
SECRET_URL = "postgresql://orion:S3cr%40t-pw@127.0.0.1:1/orion"


@pytest.fixture
def url():
    with temporary_database() as database_url:
        yield database_url


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _trial(index: int, **changes) -> Trial:
    changes.setdefault("params", {"x": index})
    return Trial(id=f"t{index:04d}", experiment="exp", **changes)


def _run_child(code: str, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", code, url, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


# -- schema ---------------------------------------------------------------------------------


def test_first_use_creates_the_current_schema(url):
    storage = pg.open_postgresql(url, lock_timeout=1.0)
    try:
        assert storage.list_experiments() == []
    finally:
        storage.close()
    with _admin(url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [
            (pg.SCHEMA_VERSION,)
        ]
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
    assert {
        "trials_status",
        "trials_reservable",
        "trials_objective",
        "trials_pkey",
        "experiments_pkey",
    } <= indexes
    assert f"up to date (schema v{pg.SCHEMA_VERSION})" in pg.upgrade_schema(url)


def test_many_first_users_of_a_new_database_create_the_schema_once(url):
    import threading

    storages = [pg.open_postgresql(url) for _ in range(8)]
    start = threading.Barrier(len(storages))
    errors: list[BaseException] = []

    def first_use(storage: pg.PostgreSQLStorage) -> None:
        start.wait()
        try:
            storage.list_experiments()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(s,)) for s in storages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for storage in storages:
        storage.close()
    assert errors == []
    with _admin(url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [
            (pg.SCHEMA_VERSION,)
        ]


def test_upgrade_schema_creates_the_tables_of_an_empty_database(url):
    message = pg.upgrade_schema(url)
    assert message.startswith(f"created the orion_cli tables (schema v{pg.SCHEMA_VERSION})")
    with _admin(url) as conn:
        assert conn.execute("SELECT to_regclass('trials') IS NOT NULL").fetchone() == (True,)


def test_older_schema_is_refused_until_orion_db_upgrade(url):
    with _admin(url) as conn:  # a v0 marker: orion_cli's version table, no tables yet
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (0)")
    storage = pg.open_postgresql(url, lock_timeout=1.0)
    with pytest.raises(StorageError, match=r"schema v0, older .*run `orion db upgrade`"):
        storage.list_experiments()
    message = pg.upgrade_schema(url)
    assert message == (
        f"upgraded the PostgreSQL storage at {url} from schema v0 to v{pg.SCHEMA_VERSION}"
    )
    storage.create_experiment(Experiment(name="after-upgrade"))
    assert [exp.name for exp in storage.list_experiments()] == ["after-upgrade"]
    storage.close()


def test_upgrade_runs_each_registered_migration_in_order(url, monkeypatch):
    storage = pg.open_postgresql(url)
    storage.register_trial(_trial(1))
    storage.close()
    current = pg.SCHEMA_VERSION

    def migrate_next(conn) -> None:
        conn.execute("ALTER TABLE trials ADD COLUMN priority integer NOT NULL DEFAULT 0")

    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(pg.MIGRATIONS, current, migrate_next)
    with pytest.raises(StorageError, match=f"schema v{current}, older than the v{current + 1}"):
        pg.open_postgresql(url).fetch_trials("exp")

    message = pg.upgrade_schema(url)

    assert message.endswith(f"from schema v{current} to v{current + 1}")
    assert "***" not in message and url in message
    with _admin(url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(current + 1,)]
        assert conn.execute("SELECT id, priority FROM trials").fetchall() == [("t0001", 0)]
    upgraded = pg.open_postgresql(url)
    assert [trial.id for trial in upgraded.fetch_trials("exp")] == ["t0001"]
    upgraded.close()


def test_upgrade_from_v1_keeps_the_trials_and_counts_them(url, monkeypatch):
    """A database of schema v1 (no counts, no objective column) gets both from its trials."""
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", 1)
    old = pg.open_postgresql(url)
    old.register_trial(_trial(1))
    old.register_trial(_trial(2, status=Status.BROKEN))
    for index, value in ((3, 0.5), (4, -2.0), (5, 7.0)):
        results = ({"name": "loss", "type": "objective", "value": value},)
        old.register_trial(_trial(index, status=Status.COMPLETED, results=results))
    old.close()
    monkeypatch.undo()

    assert pg.upgrade_schema(url).endswith(f"from schema v1 to v{pg.SCHEMA_VERSION}")

    storage = pg.open_postgresql(url)
    summary = storage.summarize("exp")
    assert summary.counts["new"] == 1 and summary.counts["broken"] == 1
    assert summary.counts["completed"] == 3 and summary.best.id == "t0004"
    storage.delete_trials("exp", ["t0004"])
    storage.register_trial(_trial(6, status=Status.RESERVED, worker="w"))
    summary = storage.summarize("exp")
    assert summary.counts["completed"] == 2 and summary.best.id == "t0003"
    assert [t.id for t in summary.reserved] == ["t0006"]
    storage.close()


def test_newer_schema_asks_to_upgrade_orion_cli(url):
    pg.upgrade_schema(url)
    with _admin(url) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StorageError, match=r"schema v99, newer .*upgrade orion_cli"):
        pg.open_postgresql(url).list_experiments()
    with pytest.raises(StorageError, match="upgrade orion_cli"):
        pg.upgrade_schema(url)


def test_tables_of_another_application_are_not_taken_over(url):
    with _admin(url) as conn:
        conn.execute("CREATE TABLE trials (anything text)")
    with pytest.raises(StorageError, match="give orion_cli a database of its own"):
        pg.open_postgresql(url).list_experiments()


# -- connecting: errors, secrets, retries ---------------------------------------------------


def test_unreachable_server_gives_one_line_without_the_password(caplog):
    caplog.set_level(logging.DEBUG)
    storage = pg.open_postgresql(SECRET_URL, retries=3, backoff=0.01, connect_timeout=2)
    assert storage.url == "postgresql://orion:***@127.0.0.1:1/orion"

    with pytest.raises(StorageError) as info:
        storage.fetch_trials("exp")

    message = str(info.value)
    assert message.startswith("cannot reach the PostgreSQL storage at postgresql://orion:***@")
    assert message.endswith("check that the server runs and the URL is right")
    assert "\n" not in message and "Connection refused" in message
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2  # three tries, two pauses
    for text in [message, caplog.text, repr(info.value.__cause__), repr(info.value.__context__)]:
        assert SECRET not in text and "S3cr%40t" not in text


def test_password_as_url_parameter_is_hidden_too():
    url = f"postgresql://orion@127.0.0.1:1/orion?password={SECRET}&connect_timeout=2"
    storage = pg.open_postgresql(url, retries=1)
    with pytest.raises(StorageError) as info:
        storage.list_experiments()
    assert SECRET not in str(info.value) and SECRET not in storage.url
    assert "password=***" in str(info.value)


def test_malformed_url_is_a_clear_error_without_the_password():
    with pytest.raises(StorageError, match="invalid PostgreSQL URL") as info:
        pg.open_postgresql(f"postgresql://orion:{SECRET}@127.0.0.1/orion?bogus=1")
    assert SECRET not in str(info.value)


def test_missing_driver_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StorageError) as info:
        pg.open_postgresql("postgresql://orion@127.0.0.1/orion")
    assert str(info.value) == pg.MISSING_DRIVER


def test_missing_database_is_named_with_how_to_create_it(url):
    missing = url.rsplit("/", 1)[0] + "/orion_never_created"
    with pytest.raises(StorageError) as info:
        pg.open_postgresql(missing, retries=3, backoff=5.0).list_experiments()
    assert "'orion_never_created'" in str(info.value)
    assert "does not exist: create it (createdb orion_never_created)" in str(info.value)


def test_unknown_role_is_a_login_error_not_retried(url):
    stranger = url.replace("postgresql://postgres@", "postgresql://orion_nobody@")
    with pytest.raises(StorageError, match="cannot log in to the PostgreSQL storage"):
        pg.open_postgresql(stranger, retries=3, backoff=5.0).list_experiments()


def test_connections_killed_by_the_server_are_replaced(url, caplog):
    storage = pg.open_postgresql(url, retries=4, backoff=0.01)
    storage.register_trial(_trial(1))
    with _admin(url) as conn:  # the timeout argument waits until the backends are gone
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert killed is not None and killed[0] >= 1

    assert storage.register_trial(_trial(2)) is True
    assert [trial.id for trial in storage.fetch_trials("exp")] == ["t0001", "t0002"]
    assert any("retrying" in record.getMessage() for record in caplog.records)
    storage.close()


def test_a_retried_write_recognises_its_own_first_attempt(url, monkeypatch):
    storage = pg.open_postgresql(url, backoff=0.01)
    real_once = storage._once
    lost = []

    def reply_lost_once(op, retried):
        result = real_once(op, retried)
        if not lost:  # the write committed, then the connection died before the reply
            lost.append(result)
            raise pg._Transient("server closed the connection unexpectedly")
        return result

    monkeypatch.setattr(storage, "_once", reply_lost_once)
    storage.create_experiment(Experiment(name="exp"))
    lost.clear()
    assert storage.register_trial(_trial(1)) is True
    lost.clear()
    assert storage.update_trial(_trial(1, status=Status.BROKEN), expected=Status.NEW) is True
    lost.clear()
    other = _trial(1, status=Status.COMPLETED)  # a write that really lost: stays False
    assert storage.update_trial(other, expected=Status.NEW) is False
    assert storage.fetch_trial("exp", "t0001").status is Status.BROKEN
    storage.close()


# -- records --------------------------------------------------------------------------------


def test_values_jsonb_refuses_still_round_trip(url):
    storage = pg.open_postgresql(url)
    odd = _trial(
        1,
        params={"x": math.inf, "y": -math.inf, "name": "a\x00b"},
        results=({"name": "loss", "type": "objective", "value": math.nan},),
    )
    assert storage.register_trial(odd)
    back = storage.fetch_trial("exp", odd.id)
    assert back.params["x"] == math.inf and back.params["y"] == -math.inf
    assert math.isnan(back.results[0]["value"])
    assert back.params["name"] == "a\ufffdb"  # PostgreSQL text cannot hold NUL
    storage.close()


def test_forked_child_gets_its_own_pool(url):
    storage = pg.open_postgresql(url)
    storage.register_trial(_trial(1))
    pid = os.fork()
    if pid == 0:  # the child: use the parent's object, then leave without finalizers
        ok = [t.id for t in storage.fetch_trials("exp")] == ["t0001"]
        ok = ok and storage.register_trial(_trial(2))
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [t.id for t in storage.fetch_trials("exp")] == ["t0001", "t0002"]
    storage.close()


# -- the suggest lock and the SKIP LOCKED race ----------------------------------------------

HOLD_LOCK = """
import sys, time
from orion_cli.storage.postgresql import open_postgresql
storage = open_postgresql(sys.argv[1])
with storage.suggest_lock("exp"):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_suggest_lock_of_a_killed_holder_is_released_by_the_server(url):
    pg.upgrade_schema(url)
    holder = _run_child(HOLD_LOCK, url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        waiting = pg.open_postgresql(url, lock_timeout=0.3)
        refused = pytest.raises(LockTimeout, match="suggest lock of experiment 'exp'")
        with refused, waiting.suggest_lock("exp"):
            pass
        with waiting.suggest_lock("other-exp"):  # the lock is per experiment
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        waiting.lock_timeout = 10.0
        with waiting.suggest_lock("exp"):
            assert waiting.fetch_trials("exp") == []
        waiting.close()
    finally:
        holder.kill()
        holder.wait()


def test_suggest_lock_excludes_threads_of_one_process(url):
    import threading

    storage = pg.open_postgresql(url, lock_timeout=10.0)
    inside: list[int] = []
    overlaps: list[int] = []

    def work(n: int) -> None:
        for _ in range(5):
            with storage.suggest_lock("exp"):
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                time.sleep(0.002)
                inside.remove(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    storage.close()


def test_a_waiter_for_the_suggest_lock_gets_it_on_release_and_leaves_no_timeout(url):
    """A held lock is waited for in the server; the pooled connection keeps no lock_timeout."""
    import threading

    holder = pg.open_postgresql(url, lock_timeout=10.0)
    waiter = pg.PostgreSQLStorage(url, lock_timeout=10.0, pool_size=2)
    order: list[str] = []
    with holder.suggest_lock("exp"):
        thread = threading.Thread(target=lambda: _enter(waiter, order))
        thread.start()
        time.sleep(0.3)  # the waiter is blocked in the server now
        order.append("holder leaves")
    thread.join(10)
    assert order == ["holder leaves", "waiter in"]
    checked_out = [waiter._checkout(), waiter._checkout()]  # every connection of its pool
    assert [c.execute("SHOW lock_timeout").fetchone()[0] for _, c in checked_out] == ["0", "0"]
    for pool, conn in checked_out:
        pool.putconn(conn)
    holder.close()
    waiter.close()


def _enter(storage: pg.PostgreSQLStorage, order: list[str]) -> None:
    with storage.suggest_lock("exp"):
        order.append("waiter in")


RESERVE_ALL = """
import sys, time
from pathlib import Path
from orion_cli.core.trial import Status
from orion_cli.storage.postgresql import open_postgresql
url, worker, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
storage = open_postgresql(url)
storage.fetch_trials("none")  # connect before the start
while not go.exists():
    time.sleep(0.005)
while (trial := storage.reserve_trial("exp", worker)) is not None:
    done = trial.with_(status=Status.COMPLETED)
    assert storage.update_trial(done, expected=Status.RESERVED, owner=worker)
    print(trial.id, flush=True)
storage.close()
"""


def test_six_processes_reserve_each_of_200_trials_exactly_once(url, tmp_path):
    storage = pg.open_postgresql(url)
    for index in range(200):
        storage.register_trial(_trial(index, submit_time=float(index)))
    go = tmp_path / "go"
    workers = [_run_child(RESERVE_ALL, url, f"w{n}", str(go)) for n in range(6)]
    go.touch()
    taken: dict[str, list[str]] = {}
    for n, worker in enumerate(workers):
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        taken[f"w{n}"] = out.split()

    every = [trial_id for ids in taken.values() for trial_id in ids]
    assert sorted(every) == [f"t{index:04d}" for index in range(200)]
    assert sum(1 for ids in taken.values() if ids) >= 2  # they really raced
    stored = {trial.id: trial for trial in storage.fetch_trials("exp")}
    for worker, ids in taken.items():
        assert all(
            stored[i].status is Status.COMPLETED and stored[i].worker == worker for i in ids
        )
    storage.close()


def test_reserve_follows_the_contract_order(url):
    storage = pg.open_postgresql(url)
    storage.register_trial(_trial(1, submit_time=30.0))
    storage.register_trial(_trial(2, submit_time=None))
    storage.register_trial(_trial(3, submit_time=10.0))
    storage.register_trial(_trial(4, submit_time=20.0, status=Status.SUSPENDED))
    storage.register_trial(_trial(5, submit_time=40.0, status=Status.INTERRUPTED))
    reserved = [storage.reserve_trial("exp", "w") for _ in range(5)]
    order = [trial.id for trial in reserved if trial is not None]
    assert order == ["t0004", "t0005", "t0003", "t0001", "t0002"]
    assert storage.reserve_trial("exp", "w") is None
    storage.close()


def test_fetch_trials_sees_a_write_committed_after_a_later_one(url):
    """Rows are read by the transaction that wrote them: one still open at a read is read later."""
    storage = pg.open_postgresql(url)
    for index in (1, 2, 3):
        storage.register_trial(_trial(index))
    assert [t.status for t in storage.fetch_trials("exp")] == [Status.NEW] * 3
    with _admin(url) as slow:
        slow.autocommit = False
        slow.execute(
            "UPDATE trials SET status = 'broken', data = data || '{\"status\": \"broken\"}' "
            "WHERE id = 't0001'"
        )  # begun first, committed last
        fast = pg.open_postgresql(url)
        taken = fast.reserve_trial("exp", "w")  # t0002 reserved and committed meanwhile
        fast.close()
        assert taken is not None
        first = {t.id: t.status for t in storage.fetch_trials("exp")}
        assert first == {"t0001": Status.NEW, "t0002": Status.RESERVED, "t0003": Status.NEW}
        slow.commit()
    second = {t.id: t.status for t in storage.fetch_trials("exp")}
    assert second == {"t0001": Status.BROKEN, "t0002": Status.RESERVED, "t0003": Status.NEW}
    storage.close()


def test_fetch_trials_drops_trials_deleted_elsewhere_even_with_new_ones(url):
    storage, other = pg.open_postgresql(url), pg.open_postgresql(url)
    for index in (1, 2, 3):
        storage.register_trial(_trial(index))
    assert len(storage.fetch_trials("exp")) == 3
    assert other.delete_trials("exp", ["t0002"]) == 1
    other.register_trial(_trial(4))  # one deleted, one registered: as many trials as before
    assert [t.id for t in storage.fetch_trials("exp")] == ["t0001", "t0003", "t0004"]
    storage.close()
    other.close()


def test_a_server_older_than_13_is_refused_in_one_line(url, monkeypatch):
    monkeypatch.setattr(pg_schema, "MIN_SERVER", 990000)  # this server plays an old one
    storage = pg.open_postgresql(url, retries=0)
    with pytest.raises(StorageError, match=r"is version \d+, older than the 13 orion_cli needs"):
        storage.list_experiments()
    with pytest.raises(StorageError, match="older than the 13"):
        pg.upgrade_schema(url)
    storage.close()
