"""Settings of the ``notifications`` plugin (``[plugin.notifications]`` or ``BYWAY_NOTIFICATIONS_<KEY>``).

===================================  =========================================================
``transport``                        ``dev`` or ``smtp``; default ``smtp`` when ``smtp_url`` is
                                     set, else ``dev``
``smtp_url``                         ``smtp://user:pass@host:587?starttls=1`` (``smtps://`` for
                                     TLS from the first byte); user and password URL-encoded
``sender``                           the ``From`` header (default ``Byway <no-reply@byway.localhost>``)
``allow_dev_transport_in_production`` start in production with the ``dev`` transport anyway
``deliver_interval_seconds``         how often the delivery job looks for due messages (2)
``retry_base_seconds``               first retry delay; doubles per attempt (5)
``retry_max_seconds``                longest delay between two attempts (600)
``max_permanent_failures``           refusals by the server (5xx) before a message is ``failed`` (3)
``give_up_after_seconds``            a message still undelivered this long after it was asked
                                     for is ``failed`` (259200: three days)
``smtp_timeout_seconds``             socket timeout of one SMTP conversation (20)
``smtp_ca_file``                     a CA bundle to verify the server's certificate with
                                     (default: the system's trust store)
===================================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import byway

TRANSPORTS = ("dev", "smtp")


@dataclass(frozen=True)
class NotificationsConfig:
    """The plugin's settings (``byway.load_plugin_config`` converts and checks them)."""

    transport: str = ""
    smtp_url: str = ""
    sender: str = "Byway <no-reply@byway.localhost>"
    allow_dev_transport_in_production: bool = False
    deliver_interval_seconds: float = 2.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 600.0
    max_permanent_failures: int = 3
    give_up_after_seconds: float = 3 * 24 * 3600.0
    smtp_timeout_seconds: float = 20.0
    smtp_ca_file: str = ""
    batch_size: int = 20

    def __post_init__(self) -> None:
        if self.transport_name not in TRANSPORTS:
            raise ValueError(f"notifications transport must be one of {TRANSPORTS}, not {self.transport!r}")
        if self.transport_name == "smtp" and not self.smtp_url:
            raise ValueError("the smtp transport needs BYWAY_NOTIFICATIONS_SMTP_URL")

    @property
    def transport_name(self) -> str:
        """The transport in use: the configured one, else ``smtp`` with a URL, else ``dev``."""
        return self.transport or ("smtp" if self.smtp_url else "dev")


def config_of(plugin: byway.PluginRuntime) -> NotificationsConfig:
    """The plugin's configuration (parsed once per runtime)."""
    return plugin.slot(_load)


def _load(plugin: byway.PluginRuntime) -> NotificationsConfig:
    return byway.load_plugin_config(NotificationsConfig, plugin)


def check_startup(plugin: byway.PluginRuntime) -> NotificationsConfig:
    """The configuration, checked for the environment: production refuses the ``dev`` transport
    (nothing would ever reach anyone) unless ``allow_dev_transport_in_production`` is set."""
    from byway_notifications.transports import SmtpTarget

    config = config_of(plugin)
    if config.transport_name == "smtp":
        SmtpTarget.from_url(config.smtp_url)
    elif plugin.settings.is_production and not config.allow_dev_transport_in_production:
        raise RuntimeError(
            "BYWAY_ENV=production with the dev email transport: no email would leave this machine. "
            "Set BYWAY_NOTIFICATIONS_SMTP_URL, or BYWAY_NOTIFICATIONS_ALLOW_DEV_TRANSPORT_IN_PRODUCTION=1 "
            "to run without email on purpose"
        )
    return config
