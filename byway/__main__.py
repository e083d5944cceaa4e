"""``python -m byway``: the ``byway`` command line."""

from byway.cli import main

main()
