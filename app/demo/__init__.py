"""`wesaid demo`: a simulated month for a simulated population, on the production path."""
