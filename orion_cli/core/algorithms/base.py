"""The Algorithm protocol: everything an algorithm knows comes from the trials it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from orion_cli.core.space import Space
from orion_cli.core.trial import Trial


@dataclass(frozen=True)
class Suggestion:
    """Params to try, with a small `meta` dict stored on the trial (bracket, rung, ...).

    `parent` names the trial whose working dir the new trial starts from (a promotion).
    """

    params: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None


class Algorithm(Protocol):
    """Suggests params from the experiment's trials; keeps no state between calls.

    `trials` holds every trial of the experiment, whatever its status: pending ones (new,
    reserved, interrupted) included, so that an algorithm can avoid them. An algorithm never
    suggests params equal to those of a trial it was given, nor the same params twice in one call.
    """

    name: str

    def __init__(self, space: Space, *, seed: int | None = None, **options: Any) -> None: ...

    def suggest(self, trials: Sequence[Trial], n: int) -> list[Suggestion]:
        """At most n suggestions; [] means none right now (or never, see is_done)."""
        ...

    def is_done(self, trials: Sequence[Trial]) -> bool:
        """True when the algorithm has nothing more to suggest, ever (a finite space exhausted)."""
        ...

    @property
    def options(self) -> dict[str, Any]:
        """Every option with its resolved value, the seed included."""
        ...
