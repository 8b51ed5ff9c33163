"""Realistic sample CloudTrail logs for demos and tests: `python -m trailguard.samples OUT_DIR`."""
