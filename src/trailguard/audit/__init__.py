"""Posture audit of a live AWS account (read-only)."""
