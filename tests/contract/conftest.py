"""The `storage` fixture: one contract, every backend."""

from __future__ import annotations

import pytest

from orion_cli.storage import open_storage
from tests.pg import temporary_database

BACKENDS = ["memory", "journal", "postgresql"]


@pytest.fixture(params=BACKENDS)
def storage_url(request, tmp_path):
    if request.param == "memory":
        yield "memory:"
    elif request.param == "journal":
        yield str(tmp_path / "journal-storage")
    else:
        with temporary_database() as url:
            yield url


@pytest.fixture
def storage(storage_url):
    store = open_storage(storage_url, lock_timeout=5.0)
    yield store
    store.close()
