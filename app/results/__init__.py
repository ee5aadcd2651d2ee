"""Results: weighting, estimates and who is not being heard."""
