"""The largest numbers the stores keep, so every id, cursor and offset a client sends is held to
them in the schema: past these PostgreSQL refused the query and the client got a 500."""

#: An `Integer` key (PostgreSQL's int4).
MAX_ID = 2**31 - 1
#: A `BigInteger` key or cursor (int8): the feed's sequence, the ledger's event ids.
MAX_BIG = 2**63 - 1
#: The deepest a page may start: far beyond any list a person pages through.
MAX_OFFSET = 1_000_000_000
