"""Casework: the staff worklist (what needs a person today) and each patient's timeline.

The worklist is read from the rows that already record what happened (flagged replies,
rebook requests, cancellations, opt-outs, failed messages); only the handling of an item
is stored here (`HandledItem`).
"""
