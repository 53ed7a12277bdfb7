"""Shared mechanisms: database, errors, authentication, audit, jobs, HTTP helpers."""
