"""Users, API tokens and web sessions (master data's people point at users)."""

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    """
    auth_user
    id             integer
    username       string 64
    full_name      string 200
    password_hash  string 200 null
    roles          document
    active         flag
    created_at     moment
    UNIQUE username
    """,
    """
    auth_api_token
    id            integer
    name          string 100
    prefix        string 16
    token_hash    string 64
    roles         document
    user_id       integer null
    created_at    moment
    revoked_at    moment null
    last_used_at  moment null
    REF user_id auth_user ON DELETE SET NULL
    UNIQUE name
    UNIQUE token_hash
    INDEX prefix
    """,
    """
    auth_web_session
    id          integer
    token_hash  string 64
    user_id     integer
    csrf_token  string 64
    created_at  moment
    expires_at  moment
    REF user_id auth_user ON DELETE CASCADE
    UNIQUE token_hash
    """,
)
