"""The experiment record, how to name one safely, and what differs between two versions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from orion_cli.errors import UserError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


def check_name(name: str) -> str:
    """Refuse experiment names that could escape a directory or break a path."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(
            f"invalid experiment name {name!r}: use 1 to 128 letters, digits, '.', '_', '+' "
            "or '-', starting with a letter or digit"
        )
    return name


def experiment_id(name: str, version: int) -> str:
    """A stable id for (name, version)."""
    return hashlib.sha256(f"{name}\0{version}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Experiment:
    """What an experiment is: its space, algorithm, budget and command."""

    name: str
    version: int = 1
    space: dict[str, str] = field(default_factory=dict)
    algorithm: dict[str, Any] = field(default_factory=lambda: {"tpe": {}})  # DEFAULT_ALGORITHM
    max_trials: int | None = None
    max_broken: int = 3
    working_dir: str | None = None
    commandline: tuple[str, ...] = ()
    user_script_config: str = "config"
    metadata: dict[str, Any] = field(default_factory=dict)
    created: float | None = None
    parent: str | None = None

    @property
    def id(self) -> str:
        return experiment_id(self.name, self.version)

    def with_(self, **changes: Any) -> Experiment:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["commandline"] = list(self.commandline)
        out["id"] = self.id
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Experiment:
        known = cls.__dataclass_fields__
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["commandline"] = tuple(kwargs.get("commandline") or ())
        return cls(**kwargs)


def diff(old: Experiment, new: Experiment) -> list[str]:
    """The changes from `old` to `new` that a resumed run cannot accept as the same version."""
    changes: list[str] = []
    for name in sorted(set(old.space) | set(new.space)):
        before, after = old.space.get(name), new.space.get(name)
        if before == after:
            continue
        if before is None:
            changes.append(f"new dimension {name}~{after}")
        elif after is None:
            changes.append(f"dimension {name}~{before} removed")
        else:
            changes.append(f"dimension {name}: {before} -> {after}")
    return changes
