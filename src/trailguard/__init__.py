"""trailguard: understand, detect, audit and safely remediate security-relevant AWS events."""

__version__ = "0.1.0"
