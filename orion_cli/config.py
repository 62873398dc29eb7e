"""Configuration: defaults < global YAML < ORION_* env < -c YAML < flags -> one frozen config.

The YAML layout is Oríon's: an `experiment:` section, a `worker:` section and `storage:`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from orion_cli.errors import ConfigError


@dataclass(frozen=True)
class Key:
    """One setting: where it lives in the YAML, its environment variable, how to read it."""

    field: str
    section: str  # "experiment", "worker" or "" (top level)
    yaml: str
    env: str | None
    kind: Callable[[Any], Any]


def _int(minimum: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("expected a whole number") from None
        if number < minimum:
            raise ValueError(f"expected a whole number >= {minimum}")
        return number

    return read


def _float(value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if number < 0 or number != number:
        raise ValueError("expected a number of seconds >= 0")
    return number


def _str(value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError("expected a text value")
    return str(value)


def _any(value: Any) -> Any:
    return value


KEYS = (
    Key("name", "experiment", "name", None, _str),
    Key("max_trials", "experiment", "max_trials", "ORION_EXP_MAX_TRIALS", _int(0)),
    Key("max_broken", "experiment", "max_broken", "ORION_EXP_MAX_BROKEN", _int(1)),
    Key("working_dir", "experiment", "working_dir", "ORION_EXP_WORKING_DIR", _str),
    Key("algorithm", "experiment", "algorithm", None, _any),
    Key(
        "user_script_config", "experiment", "user_script_config", "ORION_USER_SCRIPT_CONFIG", _str
    ),
    Key("n_workers", "worker", "n_workers", "ORION_N_WORKERS", _int(1)),
    Key("worker_max_trials", "worker", "max_trials", "ORION_WORKER_MAX_TRIALS", _int(0)),
    Key("worker_max_broken", "worker", "max_broken", "ORION_WORKER_MAX_BROKEN", _int(1)),
    Key("idle_timeout", "worker", "idle_timeout", "ORION_IDLE_TIMEOUT", _float),
    Key("heartbeat", "worker", "heartbeat", "ORION_HEARTBEAT", _float),
    Key("kill_grace", "worker", "kill_grace", "ORION_KILL_GRACE", _float),
    Key("interrupt_code", "worker", "interrupt_signal_code", "ORION_INTERRUPT_CODE", _int(1)),
    Key("lock_timeout", "worker", "lock_timeout", "ORION_LOCK_TIMEOUT", _float),
    Key("storage", "", "storage", "ORION_STORAGE", _any),
)
_BY_FIELD = {k.field: k for k in KEYS}
SECTIONS = {"experiment", "worker", "storage"}
_ALIASES = {("experiment", "algorithms"): "algorithm"}
# A key written at the top level instead of inside its section -> that section, for the hint
# (max_trials is in both experiment and worker: experiment is named).
_HOMES = {k.yaml: k.section for k in reversed(KEYS) if k.section} | {
    key: section for section, key in _ALIASES
}


@dataclass(frozen=True)
class Config:
    """Every setting of a run, resolved once in cli/ and passed down."""

    name: str | None = None
    max_trials: int | None = None
    max_broken: int | None = None
    working_dir: str | None = None
    algorithm: Any = None
    user_script_config: str | None = None
    n_workers: int = 1
    worker_max_trials: int | None = None
    worker_max_broken: int | None = None
    idle_timeout: float = 60.0
    heartbeat: float = 60.0
    kill_grace: float = 10.0
    interrupt_code: int = 130
    lock_timeout: float = 60.0
    storage: str | None = None


def global_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "orion_cli" / "config.yaml"


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, or raise ConfigError with the file and what is wrong."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc.strerror}: check the path"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"config file {path} is not valid YAML{at}: fix its syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping (experiment:, worker:, "
            "storage:): fix its layout"
        )
    return data


def from_yaml(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Oríon's layout -> {field: value}, refusing unknown keys."""
    out: dict[str, Any] = {}
    for section, body in data.items():
        if section not in SECTIONS:
            home = _HOMES.get(section)
            hint = f" ({section!r} belongs under {home}:)" if home else ""
            raise ConfigError(
                f"{source}: unknown section {section!r}: valid sections are "
                f"experiment, worker and storage{hint}"
            )
        if section == "storage":
            out["storage"] = storage_url(body, source)
            continue
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: section {section!r} must be a mapping: fix its layout")
        valid = {k.yaml: k for k in KEYS if k.section == section}
        for key, value in body.items():
            key = _ALIASES.get((section, key), key)
            if key not in valid:
                raise ConfigError(
                    f"{source}: unknown key {section}.{key}: valid keys are "
                    f"{', '.join(sorted(valid))}"
                )
            out[valid[key].field] = _read(valid[key], value, f"{source}: {section}.{key}")
    return out


def _read(key: Key, value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        return key.kind(value)
    except ValueError as exc:
        raise ConfigError(f"{where}={value!r}: {exc}: fix the value") from None


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in KEYS:
        if key.env and environ.get(key.env):
            out[key.field] = _read(key, environ[key.env], key.env)
    if "storage" not in out and environ.get("ORION_DB_ADDRESS"):
        out["storage"] = environ["ORION_DB_ADDRESS"]
    return out


def storage_url(value: Any, source: str = "storage") -> str | None:
    """A URL, or Oríon's `{database: {type: pickleddb, host: PATH}}` forms, -> a URL."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        body = value.get("database", value)
        if isinstance(body, Mapping):
            kind = str(body.get("type", "")).lower()
            host = body.get("host") or body.get("url") or body.get("path")
            if kind in {"pickleddb", "journal", "file", ""} and host:
                return str(host)
            if kind == "memory" or kind == "ephemeraldb":
                return "memory:"
            if kind in {"postgresql", "postgres"} and host:
                return str(host)
    raise ConfigError(
        f"{source}: cannot read the storage {value!r}: give a URL "
        "(a directory path, file:PATH, postgresql://..., memory:)"
    )


def resolve(
    flags: Mapping[str, Any],
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge the layers; `flags` holds only the options given on the command line."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    glob = global_config_path()
    if glob.is_file():
        merged.update(from_yaml(read_yaml(glob), str(glob)))
    merged.update(from_env(environ))
    if config_file:
        merged.update(from_yaml(read_yaml(config_file), config_file))
    merged.update({k: v for k, v in flags.items() if v is not None})
    known = {f.name for f in fields(Config)}
    return Config(**{k: v for k, v in merged.items() if k in known and v is not None})


def field_of(name: str) -> Key:
    return _BY_FIELD[name]
