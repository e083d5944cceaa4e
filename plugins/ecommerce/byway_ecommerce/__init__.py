"""Byway ``ecommerce`` plugin: Stripe Checkout orders whose payments become enrollments exactly once."""
