"""Protocol, base class, config, run context and concurrency helpers."""
