"""Settings of the ``authentication`` plugin (``[plugin.authentication]`` or ``BYWAY_AUTHENTICATION_<KEY>``).

Passwords (argon2id): ``password_time_cost``, ``password_memory_kib``, ``password_parallelism``
(argon2-cffi's defaults; production refuses less than OWASP's minimum).

Sessions: ``refresh_token_ttl_seconds`` (30 days), ``reset_token_ttl_seconds`` (1 hour),
``verification_token_ttl_seconds`` (2 days). The access token's lifetime is the host's
``BYWAY_TOKEN_TTL_SECONDS`` (15 minutes).

Rate limits (counted in the database, shared by every worker):

* ``login_account_failures`` (5) failed logins per account per ``login_window_seconds`` (900);
  from the ``login_backoff_after`` (2)-th failure on, each next attempt waits
  ``login_backoff_seconds`` (2) doubled per failure;
* ``login_address_failures`` (50) failed logins per client address per window;
* ``reset_account_requests`` (3) and ``reset_address_requests`` (20) reset (and verification)
  emails asked for per account and per address per ``reset_window_seconds`` (3600);
* ``token_address_failures`` (20) invalid reset/verification tokens per address per login window.

Email outbox: ``outbox_interval_seconds`` (2), ``outbox_retry_base_seconds`` (5, doubled per
attempt), ``outbox_retry_max_seconds`` (600), ``outbox_give_up_after_seconds`` (3 days).
"""

from __future__ import annotations

from dataclasses import dataclass

import byway


@dataclass(frozen=True)
class AuthenticationConfig:
    """The plugin's settings (``byway.load_plugin_config`` converts and checks them)."""

    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    reset_token_ttl_seconds: int = 3600
    verification_token_ttl_seconds: int = 2 * 24 * 3600
    login_window_seconds: int = 900
    login_account_failures: int = 5
    login_backoff_after: int = 2
    login_backoff_seconds: float = 2.0
    login_address_failures: int = 50
    reset_window_seconds: int = 3600
    reset_account_requests: int = 3
    reset_address_requests: int = 20
    token_address_failures: int = 20
    outbox_interval_seconds: float = 2.0
    outbox_retry_base_seconds: float = 5.0
    outbox_retry_max_seconds: float = 600.0
    outbox_give_up_after_seconds: float = 3 * 24 * 3600.0


def config_of(plugin: byway.PluginRuntime) -> AuthenticationConfig:
    """The plugin's configuration (parsed once per runtime)."""
    return plugin.slot(_load)


def _load(plugin: byway.PluginRuntime) -> AuthenticationConfig:
    return byway.load_plugin_config(AuthenticationConfig, plugin)
