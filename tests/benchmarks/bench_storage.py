"""Journal storage scaling: per-operation cost at 1,000 and 30,000 stored trials, cold reads.

Run `python tests/benchmarks/bench_storage.py` (`--sizes 1000 30000`, `--ops 300`). For each size
a fresh journal is filled with that many trials of one experiment (90% completed with results,
10% new; written with the storage's own line format), then it times, per call: register_trial,
reserve_trial, heartbeat, update_trial to completed (`complete`), fetch_trial, release_lost
finding nothing, the same `complete` with fsync=True, and `summarize` (the counts, best and
reserved trials that `orion status` shows) on the open storage. `cold read` is a fresh process that
imports orion_cli, opens the journal and fetches every trial: the wall and CPU time inside the
process and the wall time of the whole process (interpreter start included); CPU time is the
steadier figure on a shared machine. `compact` is one compaction.
Prints a Markdown table; the last column is the ratio of the largest size to the smallest
(flat means close to 1). Then N processes (`--processes 1 4 8`) share one journal, each
registering 1000/N trials and then reserving, beating and completing trials until none is left:
the rate of completed trials, with the lock contended.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from results import header as section_header  # noqa: E402
from results import write_section  # noqa: E402

from orion_cli.core.experiment import Experiment  # noqa: E402
from orion_cli.core.trial import Status, Trial  # noqa: E402
from orion_cli.storage.journal import JournalStorage, encode, encode_trial, header  # noqa: E402

BENCH_EXPERIMENT = Experiment(name="bench", space={"lr": "loguniform(1e-7, 1)"})
EXPERIMENT = BENCH_EXPERIMENT.id

COLD_READ = r"""
import sys, time
start, cpu = time.perf_counter(), time.process_time()
from pathlib import Path
from orion_cli.storage.journal import JournalStorage
store = JournalStorage(Path(sys.argv[1]))
trials = store.fetch_trials("bench")
print(len(trials), time.perf_counter() - start, time.process_time() - cpu)
"""


CONTENDER = r"""
import sys, time
from pathlib import Path
from orion_cli.core.trial import Status, Trial
from orion_cli.storage.journal import JournalStorage
store = JournalStorage(Path(sys.argv[1]))
name, count = sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    store.register_trial(Trial(id=f"{name}-{i}", experiment="race", params={"i": i}))
while (trial := store.reserve_trial("race", name)) is not None:
    store.heartbeat(trial)
    done = trial.with_(status=Status.COMPLETED)
    store.update_trial(done, expected=Status.RESERVED, owner=name)
"""


def contention(work: Path, processes: int, per_process: int) -> float:
    """Trials per second that `processes` writers register, reserve, beat and complete."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    directory = work / f"contention-{processes}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, str(directory), f"w{i}", str(per_process)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(processes)
    ]
    for proc in procs:
        proc.stdout.readline()  # type: ignore[union-attr]
    start = time.perf_counter()
    for proc in procs:
        proc.communicate("go\n", timeout=600)
    elapsed = time.perf_counter() - start
    completed = JournalStorage(directory).fetch_trials("race", Status.COMPLETED)
    assert len(completed) == processes * per_process
    return processes * per_process / elapsed


def make_trial(index: int, done: bool) -> Trial:
    params = {"lr": 10 ** -(index % 7) * 1.234, "layers": index % 9, "act": "relu"}
    trial = Trial(
        id=f"{index:032x}",
        experiment=EXPERIMENT,
        params=params,
        hash_params=f"{index:032x}",
        submit_time=1e9 + index,
    )
    if not done:
        return trial
    return trial.with_(
        status=Status.COMPLETED,
        worker=f"host-{index % 16}-{index % 997}",
        results=({"name": "loss", "type": "objective", "value": 0.5 + index / 7e4},),
        start_time=1e9 + index + 1,
        end_time=1e9 + index + 60,
        heartbeat=1e9 + index + 59,
        exit_code=0,
    )


def fill(directory: Path, count: int) -> None:
    lines = [header(), encode({"k": "e", **BENCH_EXPERIMENT.to_dict()})]
    lines += [encode(encode_trial(make_trial(i, i % 10 != 0).to_dict())) for i in range(count)]
    directory.mkdir(parents=True)
    (directory / "journal.jsonl").write_bytes(b"".join(lines))


def per_call(ops: int, call: Callable[[int], object]) -> float:
    """Median microseconds of `call(i)` for i in range(ops)."""
    times = []
    for i in range(ops):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def cold_read(directory: Path) -> tuple[float, float, float]:
    """Seconds to import, open and read every trial in a fresh process: (wall inside the
    process, CPU inside the process, wall of the whole process with interpreter start)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", COLD_READ, str(directory)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    wall = time.perf_counter() - start
    _, inside, cpu = out.split()
    return float(inside), float(cpu), wall


def status_process(directory: Path, reps: int = 5) -> float:
    """Median seconds of a whole `orion status` process on the journal (what a user waits)."""
    orion = str(Path(sys.executable).parent / "orion")
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(
            [orion, "status", "--storage", str(directory)], capture_output=True, check=True
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def operations(store: JournalStorage, ops: int, base: int) -> dict[str, float]:
    new = [make_trial(base + i, False) for i in range(ops)]
    reserved: list[Trial] = []
    figures = {
        "register_trial": per_call(ops, lambda i: store.register_trial(new[i])),
        "reserve_trial": per_call(
            ops,
            lambda i: reserved.append(store.reserve_trial(EXPERIMENT, "w")),  # type: ignore[func-returns-value, arg-type]
        ),
        "heartbeat": per_call(ops, lambda i: store.heartbeat(reserved[i])),
        "fetch_trial": per_call(ops, lambda i: store.fetch_trial(EXPERIMENT, reserved[i].id)),
        "release_lost (none)": per_call(ops, lambda i: store.release_lost(EXPERIMENT, 3600)),
    }
    half = ops // 2
    figures["complete"] = per_call(half, lambda i: complete(store, reserved[i]))
    store.fsync = True
    figures["complete, fsync=True"] = per_call(half, lambda i: complete(store, reserved[half + i]))
    store.fsync = False
    figures["summarize (status, warm)"] = per_call(ops, lambda i: store.summarize(EXPERIMENT))
    return figures


def complete(store: JournalStorage, trial: Trial) -> None:
    done = trial.with_(status=Status.COMPLETED, results=({"type": "objective", "value": 1.0},))
    assert store.update_trial(done, expected=Status.RESERVED, owner="w")


def measure(size: int, ops: int, work: Path) -> dict[str, float]:
    directory = work / f"journal-{size}"
    fill(directory, size)
    figures: dict[str, float] = {"journal MB": (directory / "journal.jsonl").stat().st_size / 1e6}
    inside, cpu, wall = cold_read(directory)
    figures["cold read, in process (ms)"] = inside * 1e3
    figures["cold read, in process, CPU (ms)"] = cpu * 1e3
    figures["cold read, whole process (ms)"] = wall * 1e3
    figures["orion status, whole process (ms)"] = status_process(directory) * 1e3
    store = JournalStorage(directory)
    start = time.perf_counter()
    store.fetch_trials(EXPERIMENT)
    figures["open + fetch_trials, warm (ms)"] = (time.perf_counter() - start) * 1e3
    figures.update({f"{k} (µs)": v for k, v in operations(store, ops, size).items()})
    start = time.perf_counter()
    store.compact()
    figures["compact (ms)"] = (time.perf_counter() - start) * 1e3
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 30000])
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 4, 8])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    results = {size: measure(size, args.ops, work) for size in args.sizes}
    sizes = args.sizes
    lines = [
        f"| journal storage | {' | '.join(f'{s:,} trials' for s in sizes)} | ratio |",
        f"|---|{'---|' * len(sizes)}---|",
    ]
    for name in results[sizes[0]]:
        values = [results[size][name] for size in sizes]
        ratio = values[-1] / values[0] if values[0] else float("nan")
        cells = " | ".join(f"{v:,.1f}" for v in values)
        lines.append(f"| {name} | {cells} | {ratio:.2f} |")
    lines.append("")
    for processes in args.processes:
        rate = contention(work, processes, 1000 // processes)
        lines.append(
            f"- {processes} processes sharing one journal: {rate:,.0f} trials/s completed "
            "(register + reserve + heartbeat + complete: 4 locked writes each)"
        )
    print("\n".join(lines))
    write_section(
        "journal",
        section_header("Journal storage: cost per operation and cold reads")
        + lines
        + [
            "",
            "Target: flat (within 2x) from 1,000 to 30,000 trials; a cold "
            "read of 30,000 trials under 1 s.",
        ],
    )
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
