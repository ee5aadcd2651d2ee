"""The audit log: who saw or changed what, when and from where (ids only, never personal
data), append-only."""
