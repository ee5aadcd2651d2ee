"""Background processes: RQ workers (any number) and the clock (exactly one)."""
