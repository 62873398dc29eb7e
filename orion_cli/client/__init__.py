"""The public Python API, named as users of Oríon know it.

Importing this package is cheap: the reporting functions need only the standard library, and
everything else is imported on first use, so a trial's `import orion_cli.client` costs almost
nothing.
"""

from __future__ import annotations

from orion_cli.client.cli import (
    interrupt_trial,
    is_orion_on,
    report_bad_trial,
    report_objective,
    report_results,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the child a few ms at import: annotations only
    from typing import Any

__all__ = [
    "ExperimentClient",
    "build_experiment",
    "create_experiment",
    "get_experiment",
    "interrupt_trial",
    "is_orion_on",
    "report_bad_trial",
    "report_objective",
    "report_results",
    "workon",
]

_LAZY = {
    "ExperimentClient": "orion_cli.client.experiment",
    "build_experiment": "orion_cli.client.experiment",
    "create_experiment": "orion_cli.client.experiment",
    "get_experiment": "orion_cli.client.experiment",
    "workon": "orion_cli.client.experiment",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orion_cli.client' has no attribute {name!r}")
