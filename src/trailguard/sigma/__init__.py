"""Sigma to DuckDB SQL: a pySigma backend, a CloudTrail pipeline, and rule evaluation."""
