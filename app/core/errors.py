"""Errors shared across domains."""


class WeSaidError(Exception):
    """Base of the errors a service raises for a caller to show to a person."""


class NotFound(WeSaidError):
    """The thing asked for does not exist (or is not visible to the caller's clinic)."""


class Invalid(WeSaidError):
    """The input breaks a rule; the message says which field and why."""
