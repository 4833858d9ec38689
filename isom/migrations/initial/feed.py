"""The outbound feed: subscribers, messages read from the ledger's outbox, dead letters."""

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    """
    feed_state
    name        string 60
    value       big
    updated_at  moment
    KEY name
    """,
    """
    feed_subscriber
    id               integer
    name             string 100
    url              string 1000
    secret           string 200
    topics           document
    paused           flag
    cursor           big
    batch_size       integer
    max_attempts     integer
    attempts         integer
    next_attempt_at  moment null
    last_error       text null
    delivered        big
    created_at       moment
    UNIQUE name
    """,
    """
    feed_dead_letter
    id             integer
    subscriber_id  integer
    seq            big
    attempts       integer
    last_error     text null
    payload        document
    created_at     moment
    replayed_at    moment null
    REF subscriber_id feed_subscriber
    INDEX subscriber_id
    """,
    """
    feed_message
    seq           serial
    outbox_id     serial
    topic         string 100
    message_key   string 200
    created_at    moment
    sequenced_at  moment
    REF outbox_id ledger_outbox
    UNIQUE outbox_id
    KEY seq
    """,
)
