"""Helpers every algorithm shares: seeded generators, duplicate keys, trial groups, encodings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from orion_cli.core.space import Categorical, Fidelity, Integer, Real, Space
from orion_cli.core.trial import ENDED, Status, Trial, _hashable, hash_params, trial_id


def generator(seed: int | None, trials: Sequence[Trial], salt: int = 0) -> np.random.Generator:
    """A generator that depends only on the seed and how many trials exist (no hidden state)."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), len(trials), salt])


def params_key(params: dict[str, Any], names: Iterable[str]) -> tuple[Any, ...]:
    """A cheap hashable key of `params` over `names` (1 and 1.0 count as equal)."""
    return tuple(_hashable(params.get(name)) for name in names)


def is_pending(trial: Trial) -> bool:
    """New, reserved, interrupted or suspended: it will have an objective later."""
    return trial.status not in ENDED


def completed(trials: Sequence[Trial]) -> list[Trial]:
    """Completed trials that carry a finite objective, in history order."""
    return [t for t in trials if t.status is Status.COMPLETED and t.objective is not None]


def pending(trials: Sequence[Trial]) -> list[Trial]:
    return [t for t in trials if is_pending(t)]


def check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or null, got {seed!r}")
    return int(seed)


def check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(name: str, value: Any, low: float, high: float) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not low <= float(value) <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def unit_column(dim: Any, values: list[Any]) -> np.ndarray:
    """Map one dimension's values to [0, 1] with numpy when the dimension allows it."""
    arr = np.asarray(values, dtype=float) if not isinstance(dim, Categorical) else None
    if isinstance(dim, Real) and arr is not None:
        if dim.log:
            lo, hi = np.log(dim.low), np.log(dim.high)
            out = (np.log(np.maximum(arr, dim.low)) - lo) / (hi - lo)
        else:
            out = (arr - dim.low) / (dim.high - dim.low)
        return np.asarray(np.clip(out, 0.0, 1.0), dtype=float)
    if isinstance(dim, Integer) and arr is not None and not dim.log:
        return np.asarray(np.clip((arr - dim.low + 0.5) / dim.cardinality, 0.0, 1.0), dtype=float)
    return np.array([dim.to_unit(v) for v in values], dtype=float)


def unit_matrix(space: Space, trials: Sequence[Trial]) -> np.ndarray:
    """The searched dimensions of the trials as rows of the unit cube, shape (len, dims)."""
    dims = space.searched
    out = np.empty((len(trials), len(dims)))
    for j, dim in enumerate(dims):
        out[:, j] = unit_column(dim, [t.params[dim.name] for t in trials])
    return out


def with_fidelity(space: Space, params: dict[str, Any], value: Any = None) -> dict[str, Any]:
    """`params` with the fidelity (if the space has one) set to `value` or its high value."""
    fid: Fidelity | None = space.fidelity
    if fid is None:
        return params
    out = dict(params)
    out[fid.name] = fid.high if value is None else value
    return out


def finite_values(dim: Any) -> list[Any] | None:
    """Every value of a finite dimension, or None for a continuous one."""
    if isinstance(dim, Categorical):
        return list(dim.choices)
    if isinstance(dim, Integer):
        return list(range(dim.low, dim.high + 1))
    return None


def unseen_points(
    space: Space,
    seen: set[tuple[Any, ...]],
    rng: np.random.Generator,
    n: int,
    limit: int = 100_000,
) -> list[dict[str, Any]]:
    """Up to n random points of a finite space (at most `limit` points) not in `seen`."""
    if space.cardinality > limit:
        return []
    dims = space.searched
    columns = [finite_values(d) for d in dims]
    if any(c is None for c in columns):
        return []
    names = [d.name for d in dims]
    radices = [len(c) for c in columns if c is not None]
    total = int(np.prod(radices)) if radices else 1
    out: list[dict[str, Any]] = []
    for index in rng.permutation(total):
        point: dict[str, Any] = {}
        rest = int(index)
        for name, column in zip(reversed(names), reversed(columns), strict=True):
            assert column is not None
            rest, digit = divmod(rest, len(column))
            point[name] = column[digit]
        params = with_fidelity(space, dict(sorted(point.items())))
        if params_key(params, space.names) not in seen:
            out.append(params)
            if len(out) >= n:
                break
    return out


def sample_unseen(
    space: Space,
    seen: set[tuple[Any, ...]],
    rng: np.random.Generator,
    n: int,
    max_misses: int = 100,
) -> list[dict[str, Any]]:
    """Up to n prior samples, none in `seen` nor repeated; adds what it returns to `seen`."""
    out: list[dict[str, Any]] = []
    misses = 0
    while len(out) < n and misses < max_misses:
        params = with_fidelity(space, space.sample(rng))
        key = params_key(params, space.names)
        if key in seen:
            misses += 1
            continue
        seen.add(key)
        out.append(params)
    if len(out) < n:
        for params in unseen_points(space, seen, rng, n - len(out)):
            seen.add(params_key(params, space.names))
            out.append(params)
    return out


def seen_keys(space: Space, trials: Sequence[Trial]) -> set[tuple[Any, ...]]:
    """The keys of every trial's params; uses the key each Trial caches (space names sorted)."""
    # Every trial of an experiment has every dimension: its cached key is in name order.
    return set(map(attrgetter("point_key"), trials))


def exhausted(space: Space, trials: Sequence[Trial]) -> bool:
    """True when a finite space holds no point that is not already a trial."""
    if math.isinf(space.cardinality) or space.cardinality > len(trials):
        return False
    return len(seen_keys(space, trials)) >= space.cardinality


def trial_of(space: Space, params: dict[str, Any], experiment: str = "", **fields: Any) -> Trial:
    """A Trial for `params` with the id and hash_params the runner would give it."""
    fid = space.fidelity
    return Trial(
        id=trial_id(experiment, params),
        experiment=experiment,
        params=params,
        hash_params=hash_params(params, None if fid is None else fid.name),
        **fields,
    )


def observed(trial: Trial, objective: float) -> Trial:
    """`trial` completed with `objective` (for in-process drivers: tests and benchmarks)."""
    result = {"name": "objective", "type": "objective", "value": float(objective)}
    return trial.with_(status=Status.COMPLETED, results=(result,))
