"""Reports made for staff in the background: each board report asked for from the
workspace is a run, laid out by a job and kept for its reader to download."""
