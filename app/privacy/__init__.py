"""Privacy: erasing a patient, the retention purge of old text, and the provider's
copies of both (message texts and call records at Twilio)."""
