"""Storages of experiments and trials, named by one URL (DESIGN.md §3).

`PATH` or `file:PATH`: the embedded journal in directory PATH; `postgresql://...`: PostgreSQL;
`memory:`: a dict in this process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orion_cli.storage.base import AlreadyExists, LockTimeout, NotFound, Storage

__all__ = [
    "AlreadyExists",
    "LockTimeout",
    "NotFound",
    "Storage",
    "default_storage_url",
    "open_storage",
    "redact_url",
]

DEFAULT_LOCK_TIMEOUT = 60.0


def default_storage_url() -> str:
    """`$ORION_STORAGE`, else the journal under the user's data dir."""
    env = os.environ.get("ORION_STORAGE")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "orion_cli")


def redact_url(url: str) -> str:
    """The URL with any password (`user:PASS@` or `?password=PASS`) replaced by `***`."""
    if "://" not in url:
        return url
    import re

    scheme, rest = url.split("://", 1)
    netloc, sep, tail = rest.partition("/")
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    tail = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", tail)
    return f"{scheme}://{netloc}{sep}{tail}"


def open_storage(url: str | None = None, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Storage:
    """Open the storage named by `url` (default: `default_storage_url()`)."""
    url = url or default_storage_url()
    if url == "memory:" or url.startswith("memory:"):
        from orion_cli.storage.memory import MemoryStorage

        return MemoryStorage(lock_timeout=lock_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from orion_cli.storage.postgresql import open_postgresql

        return open_postgresql(url, lock_timeout=lock_timeout)
    path = url[len("file:") :] if url.startswith("file:") else url
    from orion_cli.storage.journal import JournalStorage

    options = journal_options(os.environ)
    return JournalStorage(Path(path).expanduser(), lock_timeout=lock_timeout, **options)


def journal_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """Journal settings from the environment: ORION_JOURNAL_COMPACT_MB, ORION_JOURNAL_FSYNC."""
    from orion_cli.errors import ConfigError

    options: dict[str, Any] = {}
    size = environ.get("ORION_JOURNAL_COMPACT_MB")
    if size:
        try:
            megabytes = float(size)
        except ValueError:
            megabytes = -1.0
        if not megabytes > 0:
            raise ConfigError(
                f"ORION_JOURNAL_COMPACT_MB={size!r}: expected a size in MiB > 0: fix the variable"
            )
        options["compact_threshold"] = int(megabytes * 2**20)
    fsync = environ.get("ORION_JOURNAL_FSYNC", "")
    if fsync:
        if fsync not in ("0", "1"):
            raise ConfigError(f"ORION_JOURNAL_FSYNC={fsync!r}: expected 0 or 1: fix the variable")
        options["fsync"] = fsync == "1"
    return options
