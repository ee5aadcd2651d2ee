"""The JSON API v1 for clinic systems: imports, results and attendance."""
