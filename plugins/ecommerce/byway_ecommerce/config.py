"""The plugin's settings: ``[plugin.ecommerce]`` in the TOML file, ``BYWAY_ECOMMERCE_<KEY>`` in the environment.

Secrets (``stripe_secret_key``, ``stripe_webhook_secret``, ``admin_token``) belong in the
environment: ``BYWAY_ECOMMERCE_STRIPE_SECRET_KEY``, ``BYWAY_ECOMMERCE_STRIPE_WEBHOOK_SECRET``,
``BYWAY_ECOMMERCE_ADMIN_TOKEN``.
"""

from __future__ import annotations

from dataclasses import dataclass

import byway
from byway.settings import ConfigurationError

#: Where a test may pause the server (``pause_at``), to kill it there: never in production.
PAUSE_POINTS = frozenset({"after_dev_payment", "before_enroll_call", "after_enroll_call"})


@dataclass(frozen=True)
class EcommerceConfig:
    """Every ``ecommerce`` setting with its default."""

    #: Stripe API secret key; without it the built-in dev provider is used (refused in production).
    stripe_secret_key: str = ""
    #: Secret that verifies ``Stripe-Signature`` headers (required with a secret key).
    stripe_webhook_secret: str = ""
    #: Stripe API base URL (tests point it at a fake server); empty means api.stripe.com.
    stripe_api_base: str = ""
    #: Retries of a failed Stripe request inside the SDK (safe: requests carry idempotency keys).
    stripe_max_network_retries: int = 2
    #: Seconds per Stripe request.
    stripe_timeout_seconds: float = 30.0
    #: Token accepted in ``X-Byway-Admin-Token`` by ``POST /api/ecommerce/reconcile``; empty disables it.
    admin_token: str = ""
    #: How often the outbox worker job runs (it is also woken right after each fulfilment).
    outbox_interval_seconds: float = 2.0
    #: Rows a worker claims at once.
    outbox_batch_size: int = 50
    #: Attempts before an outbox row is marked failed (reconcile re-drives failed rows).
    outbox_max_attempts: int = 8
    #: Backoff after the n-th failure: ``outbox_backoff_seconds * 2**(n-1)``, capped below.
    outbox_backoff_seconds: float = 2.0
    outbox_max_backoff_seconds: float = 600.0
    #: How long a worker holds a claimed row before another worker may take it over.
    outbox_lease_seconds: float = 120.0
    #: How often the reconcile job runs (0 switches the job off).
    reconcile_interval_seconds: float = 300.0
    #: Reconcile re-checks the enrollments of orders paid within this many days.
    reconcile_days: int = 7
    #: verifyCheckout waits up to this long for enrollments another worker is delivering.
    verify_wait_seconds: float = 3.0
    #: Lifetime of a dev provider checkout session (Stripe's default is 24 hours).
    dev_session_ttl_seconds: float = 86400.0
    #: How often the dev provider retries events the webhook has not accepted yet (backoff per event).
    dev_delivery_interval_seconds: float = 1.0
    #: Deliveries of one dev event before it is given up (logged at ERROR; Stripe tries for 3 days).
    dev_delivery_max_attempts: int = 16
    #: How often the email outbox job sends receipts and refund notices (also woken after each change).
    email_interval_seconds: float = 5.0
    #: Path (under the public base URL) of the buyer's orders page, linked from emails.
    orders_path: str = "/my/orders"
    #: Path of a course's page, linked from emails (``{course_id}`` is replaced).
    course_path: str = "/courses/{course_id}"
    #: Tests only: pause the server at this point (see ``PAUSE_POINTS``) so a test can kill it there.
    pause_at: str = ""

    def __post_init__(self) -> None:
        for name in ("stripe_secret_key", "stripe_webhook_secret", "stripe_api_base", "admin_token", "pause_at"):
            object.__setattr__(self, name, getattr(self, name).strip())
        self.check()

    def check(self) -> None:
        """Refuse values that would break the worker or the provider."""
        positive = {
            "outbox_interval_seconds": self.outbox_interval_seconds,
            "outbox_batch_size": self.outbox_batch_size,
            "outbox_max_attempts": self.outbox_max_attempts,
            "outbox_lease_seconds": self.outbox_lease_seconds,
            "reconcile_days": self.reconcile_days,
            "stripe_timeout_seconds": self.stripe_timeout_seconds,
            "dev_session_ttl_seconds": self.dev_session_ttl_seconds,
            "dev_delivery_interval_seconds": self.dev_delivery_interval_seconds,
            "dev_delivery_max_attempts": self.dev_delivery_max_attempts,
            "email_interval_seconds": self.email_interval_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigurationError(f"[plugin.ecommerce] {name} must be positive, not {value}")
        non_negative = {
            "stripe_max_network_retries": self.stripe_max_network_retries,
            "outbox_backoff_seconds": self.outbox_backoff_seconds,
            "outbox_max_backoff_seconds": self.outbox_max_backoff_seconds,
            "reconcile_interval_seconds": self.reconcile_interval_seconds,
            "verify_wait_seconds": self.verify_wait_seconds,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ConfigurationError(f"[plugin.ecommerce] {name} must not be negative, not {value}")
        if self.stripe_secret_key and not self.stripe_webhook_secret:
            raise ConfigurationError(
                "[plugin.ecommerce] stripe_secret_key is set but stripe_webhook_secret is not: "
                "set BYWAY_ECOMMERCE_STRIPE_WEBHOOK_SECRET (webhooks could not be verified)"
            )
        if self.pause_at and self.pause_at not in PAUSE_POINTS:
            raise ConfigurationError(f"[plugin.ecommerce] pause_at must be one of {sorted(PAUSE_POINTS)}")
        if "{course_id}" not in self.course_path:
            raise ConfigurationError("[plugin.ecommerce] course_path must contain {course_id}")
        if self.stripe_api_base and not self.stripe_api_base.startswith(("http://", "https://")):
            raise ConfigurationError("[plugin.ecommerce] stripe_api_base must be an http(s) URL")

    @property
    def uses_stripe(self) -> bool:
        """True when a Stripe secret key is configured."""
        return bool(self.stripe_secret_key)

    def backoff_seconds(self, attempts: int) -> float:
        """Delay before the next try after ``attempts`` failures (exponential, bounded)."""
        exponent = min(max(attempts - 1, 0), 30)
        return float(min(self.outbox_backoff_seconds * 2**exponent, self.outbox_max_backoff_seconds))


def load_config(plugin: byway.PluginRuntime) -> EcommerceConfig:
    """Parse and check the plugin's settings (types from the fields; bad values → ConfigurationError)."""
    return byway.load_plugin_config(EcommerceConfig, plugin)


def config_of(plugin: byway.PluginRuntime) -> EcommerceConfig:
    """The runtime's parsed configuration (parsed once per runtime)."""
    return plugin.slot(load_config)
