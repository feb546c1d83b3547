"""The application: the processes and their wiring (the `cdm` command, the worker, jobs, the demo, the stack)."""
