"""The `wesaid` commands, one module per area. Each parses its input, calls one service
and prints the result; `app.cli` adds them to the command group."""
