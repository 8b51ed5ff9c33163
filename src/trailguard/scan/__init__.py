"""Scanning CloudTrail logs with Sigma rules compiled to DuckDB SQL."""
