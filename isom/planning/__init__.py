"""Planning: projected inventory with pegging, multi-level netting, finite scheduling."""
