"""The adapter contract suite run against the in-memory adapter (the reference)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sessionkit.adapters.memory import InMemoryUnitOfWork, MemoryStore
from sessionkit.testing.contract import StoreUnderTest, UnitOfWorkContract


class TestMemoryContract(UnitOfWorkContract):
    """Every contract test against :class:`InMemoryUnitOfWork` over one :class:`MemoryStore`."""

    @contextlib.contextmanager
    def open_store(self) -> Iterator[StoreUnderTest]:
        """A new empty store; "reopening" keeps the same committed state."""
        store = MemoryStore()

        def factory() -> InMemoryUnitOfWork:
            return InMemoryUnitOfWork(store)

        yield StoreUnderTest(factory, reopen=lambda: factory)
