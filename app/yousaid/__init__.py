""" "You said, we did": what patients said, what the service did about it, and the
masked quotes staff approved for the public page."""
