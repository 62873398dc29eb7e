"""Trials: their statuses, their ids, and their plain-dict form for storages."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from functools import cached_property
from typing import Any


class Status(str, Enum):
    """The life of a trial (DESIGN.md §5)."""

    NEW = "new"
    RESERVED = "reserved"
    COMPLETED = "completed"
    BROKEN = "broken"
    INTERRUPTED = "interrupted"
    SUSPENDED = "suspended"

    def __str__(self) -> str:
        return self.value


RESERVABLE = frozenset({Status.NEW, Status.INTERRUPTED, Status.SUSPENDED})
ENDED = frozenset({Status.COMPLETED, Status.BROKEN})


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def trial_id(experiment_id: str, params: dict[str, Any]) -> str:
    """The id of a trial: a hash of its experiment and all its params (fidelity included)."""
    return hashlib.sha256(_canonical([experiment_id, params]).encode()).hexdigest()[:32]


def hash_params(params: dict[str, Any], fidelity: str | None = None) -> str:
    """A hash of the params without the fidelity: equal for the rungs of one configuration."""
    kept = {k: v for k, v in params.items() if k != fidelity}
    return hashlib.sha256(_canonical(kept).encode()).hexdigest()[:32]


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def point_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """A hashable key of `params` in name order; 1 and 1.0 count as equal."""
    return tuple(_hashable(params[name]) for name in sorted(params))


@dataclass(frozen=True)
class Trial:
    """One point of the space and what happened to it."""

    id: str
    experiment: str
    params: dict[str, Any]
    status: Status = Status.NEW
    worker: str | None = None
    results: tuple[dict[str, Any], ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    hash_params: str = ""
    submit_time: float | None = None
    start_time: float | None = None
    end_time: float | None = None
    heartbeat: float | None = None
    exit_code: int | None = None
    message: str | None = None
    working_dir: str | None = None

    @property
    def objective(self) -> float | None:
        """The value of the result of type `objective`, if any."""
        for result in self.results:
            if result.get("type") == "objective":
                value = result.get("value")
                if isinstance(value, (int, float)) and math.isfinite(value):
                    return float(value)
        return None

    @cached_property
    def point_key(self) -> tuple[Any, ...]:
        """A hashable key of the params in name order (1 and 1.0 equal), computed once.

        Algorithms compare every new point with every trial's; caching the key on the (frozen,
        shared) Trial keeps that cost from growing with the number of trials.
        """
        return point_key(self.params)

    def with_(self, **changes: Any) -> Trial:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        out["results"] = [dict(r) for r in self.results]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trial:
        kwargs = dict(data)
        kwargs["status"] = Status(kwargs["status"])
        kwargs["results"] = tuple(dict(r) for r in kwargs.get("results") or ())
        kwargs["meta"] = dict(kwargs.get("meta") or {})
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in kwargs.items() if k in known})
