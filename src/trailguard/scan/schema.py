"""The one description of how CloudTrail records sit in DuckDB for scanning.

Readers load records with an explicit schema (fast, and immune to type inference on the
first files); the Sigma backend turns a field path such as ``userIdentity.type`` or
``requestParameters.userName`` into the SQL that reads it from this schema. Both use the
names below, so the two cannot drift apart.

* Scalar top-level fields are VARCHAR (also ``eventTime``: CloudTrail's own ISO text; parse
  it where needed), except ``readOnly``/``managementEvent`` which are BOOLEAN.
* Free-form parts of a record (``requestParameters`` ...) are DuckDB ``JSON``; read a value
  as text with ``col->>'$.path'`` (never ``->``, which keeps JSON quotes).
* ``userIdentity`` is loaded as ``JSON`` too, but its members are known (:data:`SHAPES`): a
  rule's path into it is checked against that shape, so a typo is an error, not a rule that
  never fires. Parsing it into a STRUCT for every row cost about 15% of the load (measured:
  0.56 -> 0.48 CPU-s for 250k events), and only rows a rule can match are ever read.
"""

from __future__ import annotations

TABLE = "events"

SESSION_ISSUER = (
    "STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR)"
)
SESSION_CONTEXT = (
    f"STRUCT(sessionIssuer {SESSION_ISSUER}, "
    "attributes STRUCT(creationDate VARCHAR, mfaAuthenticated VARCHAR), "
    "sourceIdentity VARCHAR, webIdFederationData JSON, ec2RoleDelivery VARCHAR)"
)
USER_IDENTITY = (
    "STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, "
    "accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR, identityProvider VARCHAR, "
    "credentialId VARCHAR, onBehalfOf JSON, "
    f"sessionContext {SESSION_CONTEXT})"
)

# JSON columns whose members are known: column -> their shape, as a DuckDB STRUCT type.
SHAPES: dict[str, str] = {"userIdentity": USER_IDENTITY}

# Column name -> DuckDB type, in the order readers select them.
COLUMNS: dict[str, str] = {
    "eventVersion": "VARCHAR",
    "userIdentity": "JSON",
    "eventTime": "VARCHAR",
    "eventSource": "VARCHAR",
    "eventName": "VARCHAR",
    "awsRegion": "VARCHAR",
    "sourceIPAddress": "VARCHAR",
    "userAgent": "VARCHAR",
    "errorCode": "VARCHAR",
    "errorMessage": "VARCHAR",
    "requestParameters": "JSON",
    "responseElements": "JSON",
    "additionalEventData": "JSON",
    "requestID": "VARCHAR",
    "eventID": "VARCHAR",
    "readOnly": "BOOLEAN",
    "resources": "JSON",
    "eventType": "VARCHAR",
    "apiVersion": "VARCHAR",
    "managementEvent": "BOOLEAN",
    "recipientAccountId": "VARCHAR",
    "sharedEventID": "VARCHAR",
    "vpcEndpointId": "VARCHAR",
    "eventCategory": "VARCHAR",
    "serviceEventDetails": "JSON",
    "tlsDetails": "JSON",
    "sessionCredentialFromConsole": "VARCHAR",
}

JSON_COLUMNS: frozenset[str] = frozenset(k for k, v in COLUMNS.items() if v == "JSON")
STRUCT_COLUMNS: frozenset[str] = frozenset(k for k, v in COLUMNS.items() if v.startswith("STRUCT"))
