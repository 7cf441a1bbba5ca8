"""The contract register (registr smluv): a read-only mirror of its dumps, the list of its
records and the cross-checks against the procurement trails."""
