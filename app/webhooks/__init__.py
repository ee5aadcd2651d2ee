"""Webhooks: what Twilio calls. Each checks the signature, stores or asks one service,
and answers at once."""
