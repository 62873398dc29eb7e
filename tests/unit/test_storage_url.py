"""Storage URLs: which backend, and never a password in what is shown."""

from __future__ import annotations

import pytest

from orion_cli.storage import default_storage_url, open_storage, redact_url
from orion_cli.storage.journal import JournalStorage
from orion_cli.storage.memory import MemoryStorage


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=secret&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgres://u:p%40ss@h/db?PASSWORD=x", "postgres://u:***@h/db?PASSWORD=***"),
        ("/plain/path", "/plain/path"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_redact_url_hides_every_password(url, shown):
    assert redact_url(url) == shown
    assert "secret" not in redact_url(url)


def test_urls_pick_the_backend(tmp_path, monkeypatch):
    assert isinstance(open_storage("memory:"), MemoryStorage)
    assert isinstance(open_storage(str(tmp_path / "a")), JournalStorage)
    assert isinstance(open_storage(f"file:{tmp_path / 'b'}"), JournalStorage)
    monkeypatch.setenv("ORION_STORAGE", str(tmp_path / "env"))
    assert default_storage_url() == str(tmp_path / "env")
    monkeypatch.delenv("ORION_STORAGE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_storage_url() == str(tmp_path / "data" / "orion_cli")


def test_journal_options_from_the_environment(tmp_path, monkeypatch):
    from orion_cli.errors import ConfigError
    from orion_cli.storage import journal_options

    assert journal_options({}) == {}
    assert journal_options({"ORION_JOURNAL_COMPACT_MB": "2", "ORION_JOURNAL_FSYNC": "1"}) == {
        "compact_threshold": 2 * 2**20,
        "fsync": True,
    }
    for bad in (
        {"ORION_JOURNAL_COMPACT_MB": "big"},
        {"ORION_JOURNAL_COMPACT_MB": "0"},
        {"ORION_JOURNAL_FSYNC": "yes"},
    ):
        with pytest.raises(ConfigError, match="fix the variable"):
            journal_options(bad)
    monkeypatch.setenv("ORION_JOURNAL_COMPACT_MB", "1")
    store = open_storage(str(tmp_path / "j"))
    assert store.compact_threshold == 2**20
