"""Scanning CloudTrail logs with Sigma rules compiled to DuckDB SQL.

Modules, one job each:

* ``inputs`` - local files/folders/globs and S3 objects as openable inputs;
* ``s3source`` - walks CloudTrail's S3 layout, listing only the day prefixes in the window;
* ``lookup`` - the LookupEvents API, rate limited and retried;
* ``decode`` - format detection and the robust (orjson + isal) decoder, bad-input reasons;
* ``loader`` - one batch of records into the DuckDB ``events`` table (``schema`` is the shape);
* ``engine`` - the batching loop, bad-file isolation, statistics;
* ``convert`` - rule matches to grouped findings;
* ``timerange`` - ``--since``/``--until`` parsing; ``cli`` - the ``trailguard scan`` command.
"""
