"""The ledger's operations, one module per sub-concept, all run in the one command frame."""
