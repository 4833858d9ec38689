"""The first schema (revision 0001), one module per domain."""

from isom.migrations.initial import auth, feed, ledger, masterdata, production

# Each domain's tables point only at those of the domains before it.
DOMAINS = (auth, masterdata, ledger, feed, production)
