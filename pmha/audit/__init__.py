"""The audit trail's pages, search and verification job (the mechanism is pmha.core.audit)."""
