"""Shared page layout, styles and the per-role "today" page."""
