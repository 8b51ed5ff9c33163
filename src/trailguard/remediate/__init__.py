"""Remediation: plan, apply with a journal, undo."""
