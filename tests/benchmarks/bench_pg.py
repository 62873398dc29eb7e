"""Storage scaling on PostgreSQL: the cost of each operation at 1,000 and 30,000 stored trials.

Run `python tests/benchmarks/bench_pg.py` (needs the server of tests/pg.py; `--sizes 1000 30000`,
`--ops 300`). Each size gets a fresh database filled with that many trials of one experiment (90%
completed with an objective, 10% new; inserted in bulk with the storage's own row format), then
times, per call: register_trial, reserve_trial, heartbeat, update_trial to completed
(`complete`), fetch_trial, release_lost finding nothing, `summarize` (what `orion status` reads:
counts by status, the best trial, the reserved ones), and fetch_trials of every trial (what a
worker reads before each suggestion; each call reads the rows written since the previous one,
so this is the cost of a read when little changed; `first read` is a new handle reading all).
Prints a Markdown table with the ratio of the largest size to the smallest: flat means close
to 1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from results import header as section_header  # noqa: E402
from results import write_section  # noqa: E402

from orion_cli.core.trial import Status, Trial  # noqa: E402
from orion_cli.storage import postgresql as pg  # noqa: E402
from tests.pg import scratch_database, server_reason  # noqa: E402

EXPERIMENT = "bench"


def fresh_database():  # type: ignore[no-untyped-def]
    return scratch_database("orion_bench")


def make_trial(index: int, completed: bool = False) -> Trial:
    params = {"lr": 10 ** -(index % 7) * 1.234, "layers": index % 9, "act": "relu"}
    submit = 1e9 + index
    trial = Trial(id=f"{index:032x}", experiment=EXPERIMENT, params=params, submit_time=submit)
    if not completed:
        return trial
    results = ({"name": "loss", "type": "objective", "value": (index * 7919 % 1000) / 1000},)
    return trial.with_(status=Status.COMPLETED, results=results, end_time=2e9 + index)


def fill(url: str, count: int) -> None:
    """`count` new trials, inserted in one COPY-like batch (register_trial is timed apart)."""
    import psycopg

    rows = [pg._trial_row(make_trial(index, index % 10 != 0)) for index in range(count)]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO trials (experiment, id, status, worker, heartbeat, submit_time, data) "
            "VALUES (%(experiment)s, %(id)s, %(status)s, %(worker)s, %(heartbeat)s, "
            "%(submit_time)s, %(data)s::jsonb)",
            rows,
        )
        conn.execute("ANALYZE trials")


def per_call(calls: list[Callable[[], object]]) -> float:
    """The median seconds of the calls, each timed alone."""
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(size: int, ops: int) -> dict[str, float]:
    with fresh_database() as url:
        pg.upgrade_schema(url)
        fill(url, size)
        storage = pg.open_postgresql(url)
        storage.fetch_trials("warm-up")
        out: dict[str, float] = {}
        extra = [make_trial(size + index) for index in range(ops)]
        out["register_trial"] = per_call([lambda t=t: storage.register_trial(t) for t in extra])
        held: list[Trial] = []
        out["reserve_trial"] = per_call(
            [lambda: held.append(storage.reserve_trial(EXPERIMENT, "w1")) for _ in range(ops)]
        )
        out["heartbeat"] = per_call([lambda t=t: storage.heartbeat(t) for t in held])
        out["fetch_trial"] = per_call(
            [lambda t=t: storage.fetch_trial(EXPERIMENT, t.id) for t in held]
        )
        out["release_lost (none)"] = per_call(
            [lambda: storage.release_lost(EXPERIMENT, 3600.0) for _ in range(ops)]
        )
        done = [t.with_(status=Status.COMPLETED, end_time=time.time()) for t in held]
        out["complete"] = per_call(
            [
                lambda t=t: storage.update_trial(t, expected=Status.RESERVED, owner="w1")
                for t in done
            ]
        )
        out["summarize (orion status)"] = per_call(
            [lambda: storage.summarize(EXPERIMENT) for _ in range(50)]
        )
        out["fetch_trials (all)"] = per_call(
            [lambda: storage.fetch_trials(EXPERIMENT) for _ in range(20)]
        )
        fresh = pg.open_postgresql(url)
        fresh.list_experiments()  # connected, nothing read yet
        out["fetch_trials, first read"] = per_call([lambda: fresh.fetch_trials(EXPERIMENT)])
        fresh.close()
        storage.close()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 30000])
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()
    reason = server_reason()
    if reason is not None:
        sys.exit(f"bench_pg: {reason}")
    results = {size: measure(size, args.ops) for size in args.sizes}
    small, large = min(args.sizes), max(args.sizes)
    header = " | ".join(f"{size:,} trials" for size in args.sizes)
    lines = [
        f"| operation | {header} | ratio {large:,}/{small:,} |",
        "|---" * (len(args.sizes) + 2) + "|",
    ]
    for name in results[small]:
        cells = " | ".join(f"{results[size][name] * 1e3:.3f} ms" for size in args.sizes)
        ratio = results[large][name] / results[small][name]
        lines.append(f"| {name} | {cells} | {ratio:.2f} |")
    print("\n".join(lines))
    write_section(
        "postgresql",
        section_header("PostgreSQL storage: cost per operation")
        + lines
        + ["", "Target: flat (within 2x) from 1,000 to 30,000 trials."],
    )


if __name__ == "__main__":
    main()
