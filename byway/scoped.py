"""Context managers that only work in a ``with`` statement, and say so when misused."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Generic, TypeVar

log = logging.getLogger("byway.host")

T = TypeVar("T")


class WithOnly(Generic[T]):
    """A context manager that only works in a ``with`` statement, and says so when misused.

    ``host.override_transport(...)`` and ``host.observe_calls()`` return one. Called bare, they
    would silently do nothing; instead, using the unentered object (``len(calls)``,
    ``for call in calls``) raises ``TypeError``, and dropping it unentered logs an error and
    warns (a ``RuntimeWarning``, which fails a test under ``filterwarnings = error``).
    """

    def __init__(self, what: str, manager: AbstractContextManager[T]) -> None:
        self._what = what
        self._manager = manager
        self._entered = False

    def __enter__(self) -> T:
        self._entered = True
        return self._manager.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return self._manager.__exit__(kind, exc, tb)

    def _misused(self) -> TypeError:
        self._entered = True  # one error is enough: no second warning when it is dropped
        return TypeError(f"{self._what} is a context manager: write `with {self._what} as ...:`")

    def __iter__(self) -> Iterator[Any]:
        raise self._misused()

    def __len__(self) -> int:
        raise self._misused()

    def __bool__(self) -> bool:
        raise self._misused()

    def __getitem__(self, index: Any) -> Any:
        raise self._misused()

    def __contains__(self, item: Any) -> bool:
        raise self._misused()

    def __del__(self) -> None:
        if not getattr(self, "_entered", True):
            message = f"{self._what} was called but never entered, so it did nothing: use `with {self._what}:`"
            log.error(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
