"""Password hashing with argon2id (argon2-cffi), off the event loop.

Parameters come from the plugin's configuration (``[plugin.authentication]`` or
``BYWAY_AUTHENTICATION_PASSWORD_*``): ``password_time_cost``, ``password_memory_kib`` and
``password_parallelism``; the defaults are argon2-cffi's (RFC 9106 low-memory profile). Production
refuses anything weaker than OWASP's minimum (m=19 MiB, t=2, p=1). Hashes made with other
parameters still verify, and are re-hashed at the next successful login.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from byway_authentication.config import AuthenticationConfig

#: Hard bounds on what a user may choose (the upper one caps the work an attacker can ask for).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

#: The most common passwords of 10 characters or more in public breach lists (compared case-folded).
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0987654321",
        "12345678910",
        "123456789a",
        "1234567890a",
        "123123123123",
        "1111111111",
        "0000000000",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "qwertyuiop123",
        "asdfghjkl1",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "password12",
        "password123",
        "password1234",
        "password12345",
        "passw0rd123",
        "p@ssw0rd123",
        "iloveyou12",
        "iloveyou123",
        "abcdefghij",
        "abc1234567",
        "abcd123456",
        "aaaaaaaaaa",
        "letmein123",
        "welcome123",
        "welcome1234",
        "football123",
        "baseball123",
        "princess123",
        "sunshine123",
        "starwars123",
        "superman123",
        "monkey12345",
        "dragon12345",
        "trustno1234",
        "changeme123",
        "administrator",
        "admin12345",
        "admin123456",
        "adminadmin",
        "computer123",
        "internet123",
        "michael123",
        "jennifer123",
        "basketball",
        "basketball1",
        "football1",
        "1234qwerasdf",
        "qwertyqwerty",
        "passwordpassword",
        "1234512345",
        "9876543210",
        "1122334455",
        "5555555555",
        "7777777777",
        "9999999999",
        "byway-password",
    }
)

T = TypeVar("T")
_DEFAULT = PasswordHasher()
# Each hash holds memory_kib of RAM while it runs: a pool of its own bounds how many run at once,
# so a burst of logins queues instead of exhausting memory or the loop's default executor.
_POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="byway-argon2")


@dataclass(frozen=True)
class HashParams:
    """argon2id cost parameters."""

    time_cost: int = _DEFAULT.time_cost
    memory_kib: int = _DEFAULT.memory_cost
    parallelism: int = _DEFAULT.parallelism

    @classmethod
    def from_config(cls, config: AuthenticationConfig) -> HashParams:
        """The parameters of the plugin's configuration."""
        return cls(config.password_time_cost, config.password_memory_kib, config.password_parallelism)

    def is_strong_enough(self) -> bool:
        """True when the parameters meet the OWASP minimum for argon2id (m=19 MiB, t=2, p=1)."""
        return self.memory_kib >= 19456 and self.time_cost >= 2 and self.parallelism >= 1


class _Hasher:
    def __init__(self, params: HashParams) -> None:
        self.hasher = PasswordHasher(
            time_cost=params.time_cost, memory_cost=params.memory_kib, parallelism=params.parallelism
        )
        # Verified against when the email is unknown, so both refusals cost the same time.
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(24))


_hashers: dict[HashParams, _Hasher] = {}


def _hasher(params: HashParams) -> _Hasher:
    hasher = _hashers.get(params)
    if hasher is None:
        hasher = _hashers[params] = _Hasher(params)
    return hasher


def prepare(params: HashParams) -> None:
    """Build the hasher for ``params`` now (start-up): bad parameters fail here, not at a login."""
    _hasher(params)


async def _off_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_POOL, work)


async def hash_password(params: HashParams, password: str) -> str:
    """The argon2id hash of ``password`` (computed in a worker thread)."""
    return await _off_loop(lambda: _hasher(params).hasher.hash(password))


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a password: ``ok``, and whether the stored hash should be renewed."""

    ok: bool
    needs_rehash: bool = False


async def verify_password(params: HashParams, stored_hash: str | None, password: str) -> Verification:
    """Check ``password`` against ``stored_hash``; with no hash, spend the same time and fail."""

    def run() -> Verification:
        hasher = _hasher(params)
        try:
            hasher.hasher.verify(stored_hash or hasher.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return Verification(ok=False)
        if stored_hash is None:
            return Verification(ok=False)
        return Verification(ok=True, needs_rehash=hasher.hasher.check_needs_rehash(stored_hash))

    return await _off_loop(run)


def check_startup(config: AuthenticationConfig, *, production: bool) -> None:
    """Build the hasher now (bad parameters fail start-up); refuse weak parameters in production."""
    params = HashParams.from_config(config)
    if production and not params.is_strong_enough():
        raise RuntimeError(
            f"password hashing parameters {params} are below the OWASP minimum for argon2id "
            "(password_memory_kib >= 19456, password_time_cost >= 2)"
        )
    prepare(params)
