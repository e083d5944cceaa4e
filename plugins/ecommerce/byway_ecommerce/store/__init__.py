"""ALL SQL of ``ecommerce``, split by concept.

Every function takes an :class:`~sqlalchemy.ext.asyncio.AsyncSession` whose transaction the caller
owns (nothing here commits) and returns plain values, dicts, small dataclasses or rows:

* :mod:`.orders`    — orders, their item snapshots and the ``active_checkouts`` guard (state changes);
* :mod:`.payments`  — payments and refunds (the money trail), duplicate payments;
* :mod:`.history`   — what buyers and other plugins read (``myOrders``, ``courseOrderCount``);
* :mod:`.checkouts` — the buyer's overlapping orders a new checkout must settle first;
* :mod:`.outbox`    — the durable enrollment outbox (claims, leases, outcomes, re-drives);
* :mod:`.events`    — processed webhook event ids;
* :mod:`.dev`       — the dev payment provider's sessions;
* :mod:`.reconcile` — what reconciliation reads.
"""
