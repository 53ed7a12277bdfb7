"""PMHA: migration health assessment service."""
