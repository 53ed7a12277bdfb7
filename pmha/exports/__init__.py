"""Exports: documents and messages that leave PMHA for other systems (HL7 v2 VXU, ...)."""
