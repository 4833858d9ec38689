"""Planning: projected inventory with pegging, multi-level netting, backward scheduling."""
