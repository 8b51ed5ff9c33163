"""MITRE ATT&CK names and tactics for the techniques CloudTrail detections cite.

Findings carry technique ids only (``T1098.001``); OCSF wants names and tactics and ASFF wants
a ``TTPs/<Tactic>`` type. A technique not listed here is still emitted, by id alone.
"""

from __future__ import annotations

TACTICS: dict[str, tuple[str, str]] = {
    # short name -> (ATT&CK tactic id, display name)
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}

TECHNIQUES: dict[str, tuple[str, tuple[str, ...]]] = {
    # technique id -> (name, tactics in ATT&CK's order)
    "T1069.003": ("Permission Groups Discovery: Cloud Groups", ("discovery",)),
    "T1037": ("Boot or Logon Initialization Scripts", ("persistence", "privilege-escalation")),
    "T1070": ("Indicator Removal", ("defense-evasion",)),
    "T1078": ("Valid Accounts",
              ("defense-evasion", "persistence", "privilege-escalation", "initial-access")),
    "T1078.004": ("Valid Accounts: Cloud Accounts",
                  ("defense-evasion", "persistence", "privilege-escalation", "initial-access")),
    "T1087.004": ("Account Discovery: Cloud Account", ("discovery",)),
    "T1098": ("Account Manipulation", ("persistence", "privilege-escalation")),
    "T1098.001": ("Account Manipulation: Additional Cloud Credentials",
                  ("persistence", "privilege-escalation")),
    "T1098.003": ("Account Manipulation: Additional Cloud Roles",
                  ("persistence", "privilege-escalation")),
    "T1098.004": ("Account Manipulation: SSH Authorized Keys",
                  ("persistence", "privilege-escalation")),
    "T1098.005": ("Account Manipulation: Device Registration",
                  ("persistence", "privilege-escalation")),
    "T1110": ("Brute Force", ("credential-access",)),
    "T1110.001": ("Brute Force: Password Guessing", ("credential-access",)),
    "T1110.003": ("Brute Force: Password Spraying", ("credential-access",)),
    "T1110.004": ("Brute Force: Credential Stuffing", ("credential-access",)),
    "T1133": ("External Remote Services", ("persistence", "initial-access")),
    "T1136": ("Create Account", ("persistence",)),
    "T1136.003": ("Create Account: Cloud Account", ("persistence",)),
    "T1484": ("Domain or Tenant Policy Modification",
              ("defense-evasion", "privilege-escalation")),
    "T1484.002": ("Domain or Tenant Policy Modification: Trust Modification",
                  ("defense-evasion", "privilege-escalation")),
    "T1485": ("Data Destruction", ("impact",)),
    "T1489": ("Service Stop", ("impact",)),
    "T1496": ("Resource Hijacking", ("impact",)),
    "T1526": ("Cloud Service Discovery", ("discovery",)),
    "T1528": ("Steal Application Access Token", ("credential-access",)),
    "T1530": ("Data from Cloud Storage", ("collection",)),
    "T1531": ("Account Access Removal", ("impact",)),
    "T1535": ("Unused/Unsupported Cloud Regions", ("defense-evasion",)),
    "T1537": ("Transfer Data to Cloud Account", ("exfiltration",)),
    "T1538": ("Cloud Service Dashboard", ("discovery",)),
    "T1548.005": ("Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access",
                  ("privilege-escalation", "defense-evasion")),
    "T1550.001": ("Use Alternate Authentication Material: Application Access Token",
                  ("defense-evasion", "lateral-movement")),
    "T1552": ("Unsecured Credentials", ("credential-access",)),
    "T1552.005": ("Unsecured Credentials: Cloud Instance Metadata API", ("credential-access",)),
    "T1555.006": ("Credentials from Password Stores: Cloud Secrets Management Stores",
                  ("credential-access",)),
    "T1556": ("Modify Authentication Process",
              ("credential-access", "defense-evasion", "persistence")),
    "T1556.006": ("Modify Authentication Process: Multi-Factor Authentication",
                  ("credential-access", "defense-evasion", "persistence")),
    "T1562": ("Impair Defenses", ("defense-evasion",)),
    "T1562.001": ("Impair Defenses: Disable or Modify Tools", ("defense-evasion",)),
    "T1562.007": ("Impair Defenses: Disable or Modify Cloud Firewall", ("defense-evasion",)),
    "T1562.008": ("Impair Defenses: Disable or Modify Cloud Logs", ("defense-evasion",)),
    "T1578": ("Modify Cloud Compute Infrastructure", ("defense-evasion",)),
    "T1580": ("Cloud Infrastructure Discovery", ("discovery",)),
    "T1606": ("Forge Web Credentials", ("credential-access",)),
    "T1621": ("Multi-Factor Authentication Request Generation", ("credential-access",)),
    "T1648": ("Serverless Execution", ("execution",)),
    "T1651": ("Cloud Administration Command", ("execution",)),
    "T1666": ("Modify Cloud Resource Hierarchy", ("defense-evasion",)),
}

# ASFF "TTPs/<category>" exists for these tactics; the others map to an "Effects/..." type.
_ASFF_TTP_TACTICS = {
    "initial-access", "execution", "persistence", "privilege-escalation", "defense-evasion",
    "credential-access", "discovery", "lateral-movement", "collection", "command-and-control",
}
_ASFF_EFFECTS = {
    "T1496": "Effects/Resource Consumption",
    "T1531": "Effects/Denial of Service",
    "T1485": "Effects/Data Destruction",
}


def technique(tid: str) -> tuple[str | None, tuple[str, ...]]:
    """Name and tactics of a technique; a sub-technique falls back to its parent's tactics."""
    if tid in TECHNIQUES:
        return TECHNIQUES[tid]
    parent = TECHNIQUES.get(tid.split(".", 1)[0])
    return (None, parent[1]) if parent else (None, ())


def asff_types(technique_ids: list[str]) -> list[str]:
    """ASFF ``Types`` for a detection: ``TTPs/Persistence`` and the like, in first-seen order."""
    types: list[str] = []
    for tid in technique_ids:
        _, tactics = technique(tid)
        for tactic in tactics:
            if tactic in _ASFF_TTP_TACTICS:
                t = f"TTPs/{TACTICS[tactic][1]}"
            elif tactic == "exfiltration":
                t = "Effects/Data Exfiltration"
            elif tactic == "impact":
                t = _ASFF_EFFECTS.get(tid.split(".", 1)[0], "Effects/Data Destruction")
            else:
                continue
            if t not in types:
                types.append(t)
    return types
