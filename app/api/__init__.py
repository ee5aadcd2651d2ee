"""JSON API v1: clinic systems push patients and appointments with a per-clinic token."""
