"""Event knowledge base: curated YAML entries plus botocore-derived fallbacks."""
