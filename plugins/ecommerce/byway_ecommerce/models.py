"""The tables of ``ecommerce``: orders and their item snapshots, payments, processed webhook events,
the durable enrollment and email outboxes, the active-checkout guard, and the dev payment
provider's checkout sessions and pending event deliveries.

``orders.student_id`` and ``order_items.course_id`` are cross-plugin references (students-internal
and teach-internal): no foreign key can reach them, the resolvers enforce them (see the plugin's
declared relations).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from byway import UTCDateTime, audit_table

metadata = MetaData()

ID_LENGTH = 32
#: Longest id of another plugin we store (their ids are opaque strings).
FOREIGN_ID_LENGTH = 64
#: Longest provider id (Stripe ids are well below this).
PROVIDER_ID_LENGTH = 255
TITLE_MAX = 500
URL_MAX = 2048
EMAIL_MAX = 254

# Order statuses (the GraphQL enum).
PENDING = "PENDING"
PAID = "PAID"
CANCELLED = "CANCELLED"
REFUNDED = "REFUNDED"
#: Paid, but not the amount or currency of the order: not fulfilled until an admin resolves it.
REVIEW = "REVIEW"

# Outbox statuses: an item is first enrolled, and after a refund its enrollment is revoked.
OUTBOX_PENDING = "pending"
OUTBOX_DONE = "done"
OUTBOX_FAILED = "failed"
OUTBOX_REVOKE_PENDING = "revoke_pending"
OUTBOX_REVOKED = "revoked"
OUTBOX_REVOKE_FAILED = "revoke_failed"
#: Statuses a worker picks up (when due and not leased).
OUTBOX_ACTIVE = (OUTBOX_PENDING, OUTBOX_REVOKE_PENDING)

# Email outbox and dev event deliveries: pending until sent; failed after too many attempts.
EMAIL_PENDING = "pending"
EMAIL_SENT = "sent"
EMAIL_FAILED = "failed"
#: No address to send to (no email on the order and none from authentication).
EMAIL_SKIPPED = "skipped"
DELIVERY_PENDING = "pending"
DELIVERY_DONE = "delivered"
DELIVERY_FAILED = "failed"
#: Longest claim owner id (``host:pid:random``, see :mod:`byway_ecommerce.leases`).
OWNER_MAX = 100


orders = Table(
    "orders",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # students-internal Student.id (the buyer); user_id is the buyer's authentication user, if any.
    Column("student_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    Column("user_id", String(FOREIGN_ID_LENGTH), nullable=True, index=True),
    Column("email", String(EMAIL_MAX), nullable=True),
    Column("status", String(16), nullable=False),
    Column("total_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("provider_session_id", String(PROVIDER_ID_LENGTH), nullable=True, unique=True),
    Column("success_url", String(URL_MAX), nullable=False),
    Column("cancel_url", String(URL_MAX), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("paid_at", UTCDateTime(), nullable=True),
    # Set when a newer checkout of the same buyer for an overlapping cart replaced this PENDING order
    # (its session was expired and it was CANCELLED); a payment arriving later is a duplicate to refund.
    Column("superseded_at", UTCDateTime(), nullable=True),
    # Why a paid order waits in REVIEW (charged amount or currency differs from the order's).
    Column("review_reason", String(300), nullable=True),
    Index("ix_orders_status_created", "status", "created_at"),
    Index("ix_orders_status_paid", "status", "paid_at"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("order_id", String(ID_LENGTH), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    # teach-internal Course.id; title and price are snapshots taken at checkout.
    Column("course_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("order_id", "course_id", name="uq_order_items_order_course"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("order_id", String(ID_LENGTH), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, unique=True),
    # The provider's payment id (Stripe PaymentIntent, else the Checkout Session id).
    Column("provider_reference", String(PROVIDER_ID_LENGTH), nullable=False, unique=True),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("amount_refunded_cents", Integer, nullable=False, default=0),
    # Which path recorded it first: webhook, verify, reconcile or checkout; event_id when it was an event.
    Column("source", String(16), nullable=False),
    Column("event_id", String(PROVIDER_ID_LENGTH), nullable=True),
    Column("raw", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(PROVIDER_ID_LENGTH), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

enrollment_outbox = Table(
    "enrollment_outbox",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("order_id", String(ID_LENGTH), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("order_item_id", String(ID_LENGTH), ForeignKey("order_items.id", ondelete="CASCADE"), nullable=False),
    Column("student_id", String(FOREIGN_ID_LENGTH), nullable=False),
    Column("course_id", String(FOREIGN_ID_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # Due time; while a worker holds the row (claim_token set) it is the end of its lease.
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claim_token", String(ID_LENGTH), nullable=True),
    # The process holding the claim: a restarted server frees the rows of its dead predecessor.
    Column("claimed_by", String(OWNER_MAX), nullable=True),
    Column("last_error", String(1000), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("order_item_id", name="uq_enrollment_outbox_order_item"),
    Index("ix_enrollment_outbox_status_due", "status", "next_attempt_at"),
)

#: At most one PENDING order per buyer and course: a row per item of every PENDING order, inserted
#: with the order (``INSERT ... ON CONFLICT DO NOTHING RETURNING``) and deleted in the transaction
#: that moves the order out of PENDING. Two concurrent checkouts cannot both hold a course.
active_checkouts = Table(
    "active_checkouts",
    metadata,
    Column("student_id", String(FOREIGN_ID_LENGTH), primary_key=True),
    Column("course_id", String(FOREIGN_ID_LENGTH), primary_key=True),
    Column("order_id", String(ID_LENGTH), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

dev_sessions = Table(
    "dev_checkout_sessions",
    metadata,
    Column("id", String(PROVIDER_ID_LENGTH), primary_key=True),
    Column("idempotency_key", String(PROVIDER_ID_LENGTH), nullable=False, unique=True),
    Column("order_id", String(ID_LENGTH), nullable=False, index=True),
    # open -> complete (paid) or expired, like a Stripe Checkout Session.
    Column("status", String(16), nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("amount_total", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_intent", String(PROVIDER_ID_LENGTH), nullable=True),
    Column("customer_email", String(EMAIL_MAX), nullable=True),
    Column("success_url", String(URL_MAX), nullable=False),
    Column("cancel_url", String(URL_MAX), nullable=False),
    Column("line_items", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

#: Receipts and refund notices, written in the transaction of the order's state change and sent
#: through the notifications plugin (``sendEmail``, idempotent on ``key``) by a job.
email_outbox = Table(
    "email_outbox",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("order_id", String(ID_LENGTH), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    # receipt | refund
    Column("kind", String(16), nullable=False),
    # notifications' idempotency key: one email per order and kind, however often it is sent.
    Column("key", String(200), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claim_token", String(ID_LENGTH), nullable=True),
    Column("claimed_by", String(OWNER_MAX), nullable=True),
    Column("last_error", String(1000), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_email_outbox_status_due", "status", "next_attempt_at"),
)

#: Events the dev provider owes the webhook, stored in the transaction that took the payment and
#: retried with backoff until delivered, like Stripe's own deliveries.
dev_deliveries = Table(
    "dev_event_deliveries",
    metadata,
    Column("id", String(PROVIDER_ID_LENGTH), primary_key=True),  # the event id
    Column("session_id", String(PROVIDER_ID_LENGTH), nullable=False, index=True),
    Column("event", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_by", String(OWNER_MAX), nullable=True),
    Column("last_error", String(1000), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_dev_event_deliveries_status_due", "status", "next_attempt_at"),
)

#: Refunds, reconciles and review resolutions: who, what, when, from where (admins read ``auditLog``).
audit_log = audit_table(metadata)

#: One row per reconcile run (job, CLI or admin): its counts and result, for ``byway status``.
#: The latest 100 are kept.
reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("started_at", UTCDateTime(), nullable=False, index=True),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("counts", Text, nullable=False),
    Column("error", String(1000), nullable=True),
)
