"""Write a realistic, deterministic set of CloudTrail logs for demos and end-to-end tests.

Layout as CloudTrail delivers to S3 (5-minute files, gzipped ``{"Records": [...]}``)::

    AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/
        111122223333_CloudTrail_us-east-1_20261120T0905Z_<random>.json.gz
    AWSLogs/o-exampleorg1/444455556666/CloudTrail/us-east-1/2026/11/20/...   (organization trail)
    AWSLogs/o-exampleorg1/555566667777/CloudTrail/us-east-1/2026/11/20/...   (its sandbox member)
    AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/...          (digest: not events)

plus deliberately bad inputs (a truncated .json.gz, a file that is not JSON, a VPC flow log) so a
scan shows its skipped-input reporting. The story on 2026-11-20, around a few thousand routine
read calls from every identity type: users manage their own credentials and an administrator does
routine security work (benign variant of each curated event); then a compromised automation role
session ("mallory", from 203.0.113.66) works through other users' credentials, weakens the
password policy, narrows, blinds and stops CloudTrail, deletes a burst of credentials, turns off
GuardDuty, AWS Config and VPC flow logs, shares an EBS snapshot with an outside account, makes a
bucket public and trusts an outside account on a role, then creates a backdoor administrator user,
writes an Allow-everything inline policy on the build user and a new default version of its own
policy, opens SSH to the internet, schedules a KMS key for deletion, puts the backdoor user in
admins, makes a group and its own role administrator, writes Allow * on a role and registers its
own SAML identity provider, harvests twelve secrets, opens a bucket through its
ACL, shares a database snapshot, disables a KMS key and deletes the CloudTrail log group,
disables Security Hub, shares a server image with its own account, plants user data on an
instance, replaces a Lambda function's code and lets anyone invoke it;
svc-build's stolen key mints a federated session and reads a secret; a stolen user key is
denied; bob signs in without MFA; the root user signs in and creates a root access key. In the
organization trail, the member account's compromised session takes the account out of the
organization, and a sandbox account (555566667777) leaves it as planned.
"""

from __future__ import annotations

import gzip
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from trailguard.samples.records import (
    ACCOUNT,
    ADMIN_POLICY_ARN,
    BOTO3_UA,
    CONSOLE_UA,
    ORG_ID,
    OTHER_ACCOUNT,
    REGION,
    Ids,
    api_call,
    assumed_role,
    aws_account,
    aws_service,
    console_login,
    curated_call,
    federated_user,
    iam_user,
    identity_center_user,
    root,
    service_linked_role,
    ts,
)

DAY = datetime(2026, 11, 20)
START = DAY.replace(hour=9)
END = DAY.replace(hour=12, minute=30)
ATTACKER_IP = "203.0.113.66"
EXTERNAL_ACCOUNT = "999988887777"  # the attacker's own AWS account
SANDBOX_ACCOUNT = "555566667777"  # a member account handed over to a partner
PROBE_IP = "203.0.113.99"
ROOT_IP = "192.0.2.50"
OFFICE_IPS = ("198.51.100.24", "198.51.100.25", "198.51.100.70")
# Secrets the compromised session reads one after another (credential harvesting).
HARVESTED_SECRETS = (
    "prod/orders/db", "prod/payments/stripe-api-key", "prod/billing/db", "prod/crm/api-token",
    "prod/search/admin", "prod/mail/smtp", "prod/analytics/warehouse", "prod/sso/signing-key",
    "prod/backup/archive-passphrase", "prod/partners/sftp", "prod/ci/github-app-key",
    "prod/support/helpdesk-token",
)


@dataclass
class SampleSet:
    """What :func:`generate` wrote: log files, other files, and the notable records."""

    out_dir: Path
    log_files: list[Path] = field(default_factory=list)
    digest_files: list[Path] = field(default_factory=list)
    bad_files: list[Path] = field(default_factory=list)
    records: int = 0
    malicious: list[dict[str, Any]] = field(default_factory=list)
    benign: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_records(self) -> list[dict[str, Any]]:
        """Every record written to the valid log files (reads them back)."""
        out: list[dict[str, Any]] = []
        for path in self.log_files:
            out.extend(orjson.loads(gzip.decompress(path.read_bytes()))["Records"])
        return out


class _Story:
    """Builds the records in time order with shared identities."""

    def __init__(self, seed: int) -> None:
        self.ids = Ids(seed)
        self.rng = random.Random(seed)
        i = self.ids
        self.users = {
            name: iam_user(name, i)
            for name in ("alice", "bob", "dave", "erin", "frank", "svc-build", "admin-jane")
        }
        self.console = {name: iam_user(name, i, console=True) for name in ("alice", "bob")}
        self.mallory = assumed_role("OpsAutomation", "mallory", i)
        self.carol = assumed_role("PlatformAdmin", "carol@example.com", i, mfa=True)
        self.ci = assumed_role("ci-deploy", "i-0a1b2c3d4e5f60718", i)
        self.sso = assumed_role(
            "AWSReservedSSO_ReadOnly_5e1c2b3a4d6f7e8a",
            "grace@example.com",
            i,
            path="/aws-reserved/sso.amazonaws.com/",
        )
        self.config_slr = service_linked_role("config.amazonaws.com", "AWSServiceRoleForConfig", i)
        self.fed = federated_user("reporting-job", "svc-build", i)
        self.partner = aws_account(i)
        self.ic_user = identity_center_user("grace@example.com", i)
        self.root = root(i, console=True)
        self.benign: list[dict] = []
        self.malicious: list[dict] = []
        self.routine: list[dict] = []

    # -- helpers ---------------------------------------------------------------------------
    def good(self, rec: dict) -> None:
        self.benign.append(rec)

    def bad(self, rec: dict) -> None:
        self.malicious.append(rec)

    def call(self, event: str, who: dict, t: datetime, **kw: Any) -> dict:
        return curated_call(event, who, self.ids, time=t, **kw)

    # -- the benign variants: people managing their own credentials --------------------------
    def benign_story(self) -> None:
        u, t0 = self.users, DAY.replace(hour=9, minute=12)
        office = OFFICE_IPS[0]
        seq: list[tuple[str, dict, dict]] = [
            ("CreateAccessKey", u["alice"], {}),
            ("UpdateAccessKey", u["alice"], {"status": "Inactive"}),
            ("DeleteAccessKey", u["alice"], {}),
            ("UploadSSHPublicKey", u["bob"], {}),
            ("UpdateSSHPublicKey", u["bob"], {"status": "Inactive"}),
            ("DeleteSSHPublicKey", u["bob"], {}),
            ("UploadSigningCertificate", u["svc-build"], {}),
            ("UpdateSigningCertificate", u["svc-build"], {"status": "Inactive"}),
            ("DeleteSigningCertificate", u["svc-build"], {}),
            ("CreateServiceSpecificCredential", u["dave"], {}),
            ("ResetServiceSpecificCredential", u["dave"], {}),
            ("UpdateServiceSpecificCredential", u["dave"], {"status": "Inactive"}),
            ("DeleteServiceSpecificCredential", u["dave"], {}),
            ("CreateVirtualMFADevice", u["erin"], {}),
            ("EnableMFADevice", u["erin"], {}),
            ("ResyncMFADevice", u["erin"], {}),
            ("DeactivateMFADevice", u["frank"], {}),
            ("DeleteVirtualMFADevice", u["frank"], {}),
            ("CreateLoginProfile", u["frank"], {}),
            ("UpdateLoginProfile", u["frank"], {}),
            ("DeleteLoginProfile", u["frank"], {}),
        ]
        for n, (event, who, kw) in enumerate(seq):
            self.good(
                self.call(event, who, t0 + timedelta(minutes=2 * n, seconds=7), ip=office, **kw)
            )
        t1 = DAY.replace(hour=9, minute=58)
        self.good(console_login(self.console["alice"], self.ids, time=t1, ip=OFFICE_IPS[1]))
        self.good(
            self.call(
                "ChangePassword",
                self.console["alice"],
                t1 + timedelta(minutes=1),
                ip=OFFICE_IPS[1],
                user_agent=CONSOLE_UA,
            )
        )
        self.good(
            console_login(
                self.sso, self.ids, time=t1 + timedelta(minutes=3), saml=True, ip=OFFICE_IPS[2]
            )
        )
        self.good(
            console_login(
                self.console["bob"],
                self.ids,
                time=t1 + timedelta(minutes=4),
                ip=OFFICE_IPS[0],
                success=False,
            )
        )
        self.good(console_login(self.console["bob"], self.ids, time=t1 + timedelta(minutes=5)))
        def by_carol(event: str, t: datetime, user_agent: str = CONSOLE_UA, **kw: Any) -> None:
            """Carol, the administrator, from her office address."""
            self.good(self.call(event, self.carol, t, ip=OFFICE_IPS[2], user_agent=user_agent,
                                **kw))

        carol_t = DAY.replace(hour=10, minute=2)
        for n, event in enumerate(["UpdateAccountPasswordPolicy", "UpdateTrail",
                                   "PutEventSelectors"]):
            by_carol(event, carol_t + timedelta(minutes=n, seconds=31))
        # Terraform replacing the password policy (delete, then create) and a sandbox trail
        # paused for maintenance and then removed.
        tf_ua = "Terraform/1.9.5 terraform-provider-aws/5.70.0 " + BOTO3_UA
        t2 = DAY.replace(hour=10, minute=9, second=44)
        by_carol("DeleteAccountPasswordPolicy", t2, user_agent=tf_ua)
        by_carol("UpdateAccountPasswordPolicy", t2 + timedelta(seconds=2), user_agent=tf_ua)
        by_carol("StopLogging", t2 + timedelta(minutes=3), trail="sandbox-trail")
        by_carol("DeleteTrail", t2 + timedelta(minutes=4), trail="sandbox-trail")
        # Security tooling and sharing work beyond CloudTrail: GuardDuty moves under the
        # organization's delegated administrator (the standalone detector goes first).
        t3 = DAY.replace(hour=10, minute=15, second=2)
        by_carol("DeleteDetector", t3)
        # The Config recorder of a sandbox region paused while its delivery bucket is replaced.
        by_carol("StopConfigurationRecorder", t3 + timedelta(minutes=1, seconds=40),
                 recorder="sandbox-recorder")
        # The flow log of a VPC being decommissioned.
        by_carol("DeleteFlowLogs", t3 + timedelta(minutes=3, seconds=5),
                 flow_log="fl-09f8e7d6c5b4a3921")
        # A finished partner share of a golden-image snapshot withdrawn.
        by_carol("ModifySnapshotAttribute", t3 + timedelta(minutes=4, seconds=12),
                 operation="remove", snapshot="snap-0c1d2e3f4a5b6c7d8")
        # A TLS-only policy with an in-account reader on the application data bucket.
        by_carol("PutBucketPolicy", t3 + timedelta(minutes=5, seconds=30))
        # The CI role allowed to assume the deployment role.
        by_carol("UpdateAssumeRolePolicy", t3 + timedelta(minutes=6, seconds=48))
        # Privileges and access granted in the day's routine: read-only access for a colleague.
        t4 = DAY.replace(hour=10, minute=24, second=15)
        by_carol("AttachUserPolicy", t4, target_user="grace")
        # The build user may read its artifact bucket (an inline, resource-scoped grant).
        by_carol("PutUserPolicy", t4 + timedelta(minutes=1, seconds=12), target_user="svc-build")
        # The CI deployment policy gains the actions of a new pipeline stage.
        by_carol("CreatePolicyVersion", t4 + timedelta(minutes=2, seconds=40))
        # A service user for a scanner that cannot assume roles.
        by_carol("CreateUser", t4 + timedelta(minutes=3, seconds=55), target_user="svc-scanner",
                 path="/service/")
        # HTTPS opened to the internet on the public load balancer's group.
        by_carol("AuthorizeSecurityGroupIngress", t4 + timedelta(minutes=5, seconds=21),
                 cidr="0.0.0.0/0", port=443)
        # The key of a decommissioned workload retired with the full waiting period.
        by_carol("ScheduleKeyDeletion", t4 + timedelta(minutes=6, seconds=47),
                 key="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
        # A reporting Lambda's role may read S3; the auditors group gets SecurityAudit.
        by_carol("AttachRolePolicy", t4 + timedelta(minutes=8, seconds=3))
        by_carol("AttachGroupPolicy", t4 + timedelta(minutes=9, seconds=10))
        # The CI role may publish to its artifact bucket (a scoped inline grant).
        by_carol("PutRolePolicy", t4 + timedelta(minutes=10, seconds=22))
        # grace joins the auditors.
        by_carol("AddUserToGroup", t4 + timedelta(minutes=11, seconds=40), target_user="grace")
        # IAM Identity Center sets up its own SAML provider through its service-linked role.
        sso = assumed_role(
            "AWSServiceRoleForSSO", "AWS-SSO", self.ids, path="/aws-service-role/sso.amazonaws.com/"
        )
        sso["invokedBy"] = "sso.amazonaws.com"
        self.good(
            self.call(
                "CreateSAMLProvider",
                sso,
                t4 + timedelta(minutes=12, seconds=55),
                ip="sso.amazonaws.com",
                user_agent="sso.amazonaws.com",
                name="AWSSSO_5e1c2b3a4d6f7e8a_DO_NOT_DELETE",
                entity_id="https://portal.sso.us-east-1.amazonaws.com/saml/assertion/EXAMPLE",
            )
        )
        # The reporting broker (svc-build's key, from its server) mints a scoped session: the
        # "reporting-job" federated user of the routine reads.
        self.good(
            self.call(
                "GetFederationToken",
                self.users["svc-build"],
                DAY.replace(hour=9, minute=12, second=40),
                ip="198.51.100.140",
                user_agent=BOTO3_UA,
            )
        )
        # Logs, storage, databases, keys and secrets in the day's routine: the log group of a
        # deleted Lambda function removed, the public website bucket opened, server access
        # logging granted to the log delivery group, a finished snapshot share withdrawn, the
        # retired workload's key disabled before its deletion, and a deploy job reading its token.
        t5 = DAY.replace(hour=9, minute=41, second=5)
        by_carol("DeleteLogGroup", t5)
        by_carol("DeleteBucketPublicAccessBlock", t5 + timedelta(minutes=1, seconds=14))
        by_carol("PutBucketAcl", t5 + timedelta(minutes=2, seconds=30))
        by_carol("ModifyDBSnapshotAttribute", t5 + timedelta(minutes=3, seconds=51))
        by_carol("DisableKey", t5 + timedelta(minutes=5, seconds=2))
        self.good(
            self.call("GetSecretValue", self.ci, t5 + timedelta(minutes=6, seconds=40),
                      ip="198.51.100.200", user_agent=BOTO3_UA)
        )
        # CloudFormation creating a stack user's key: invokedBy, not "another user".
        cfn = assumed_role("cfn-exec", "AWSCloudFormation", self.ids)
        cfn["invokedBy"] = "cloudformation.amazonaws.com"
        self.good(
            self.call(
                "CreateAccessKey",
                cfn,
                DAY.replace(hour=10, minute=20),
                target_user="svc-stack",
                ip="cloudformation.amazonaws.com",
                user_agent="cloudformation.amazonaws.com",
            )
        )
        # Code, function wiring, instances, images and Security Hub: the CI role deploys a
        # release from the artifact bucket; carol lets S3 invoke the thumbnailer for one bucket,
        # resizes a stopped instance, withdraws a partner's AMI launch permission and switches
        # Security Hub off before central configuration re-enables it.
        t6 = DAY.replace(hour=10, minute=40, second=12)
        self.good(self.call("UpdateFunctionCode20150331v2", self.ci, t6, ip="198.51.100.200"))
        by_carol("AddPermission20150331v2", t6 + timedelta(minutes=1, seconds=20))
        by_carol("ModifyInstanceAttribute", t6 + timedelta(minutes=2, seconds=41))
        by_carol("ModifyImageAttribute", t6 + timedelta(minutes=3, seconds=55), operation="remove")
        by_carol("DisableSecurityHub", t6 + timedelta(minutes=5, seconds=9))

    # -- the attack ------------------------------------------------------------------------
    def attack_story(self) -> None:
        m, ip = self.mallory, ATTACKER_IP
        # A stolen key of dave probes first: denied credential and logging changes.
        t = DAY.replace(hour=10, minute=31, second=4)
        probe = iam_user("dave", self.ids)
        for n, (event, kw) in enumerate(
            [
                ("CreateAccessKey", {"target_user": "admin-jane"}),
                ("StopLogging", {}),
                ("PutEventSelectors", {"management": False}),
            ]
        ):
            self.bad(
                self.call(
                    event,
                    probe,
                    t + timedelta(seconds=40 * n),
                    ip=PROBE_IP,
                    error_code="AccessDenied",
                    **kw,
                )
            )
        # The compromised automation role session works through other users' credentials.
        t = DAY.replace(hour=10, minute=44, second=10)
        seq: list[tuple[str, dict]] = [
            ("DeleteAccessKey", {"target_user": "alice"}),
            ("UploadSSHPublicKey", {"target_user": "bob"}),
            ("UpdateSSHPublicKey", {"target_user": "bob", "status": "Active"}),
            ("DeleteSSHPublicKey", {"target_user": "bob"}),
            ("UploadSigningCertificate", {"target_user": "svc-build"}),
            ("UpdateSigningCertificate", {"target_user": "svc-build", "status": "Active"}),
            ("DeleteSigningCertificate", {"target_user": "svc-build"}),
            ("CreateAccessKey", {"target_user": "alice"}),
            ("UpdateAccessKey", {"target_user": "alice", "status": "Active"}),
            ("CreateLoginProfile", {"target_user": "svc-build"}),
            ("UpdateLoginProfile", {"target_user": "bob"}),
            ("CreateServiceSpecificCredential", {"target_user": "dave"}),
            ("ResetServiceSpecificCredential", {"target_user": "dave"}),
            ("UpdateServiceSpecificCredential", {"target_user": "dave", "status": "Active"}),
            ("DeleteServiceSpecificCredential", {"target_user": "dave"}),
            ("CreateVirtualMFADevice", {"target_user": "bob"}),
            ("EnableMFADevice", {"target_user": "bob"}),
            ("ResyncMFADevice", {"target_user": "bob"}),
            ("UpdateAccountPasswordPolicy", {"weak": True}),
        ]
        for n, (event, kw) in enumerate(seq):
            self.bad(self.call(event, m, t + timedelta(minutes=1, seconds=50) * n, ip=ip, **kw))
        # Burst: six credential removals in under eight minutes.
        t = DAY.replace(hour=11, minute=25, second=3)
        burst: list[tuple[str, str]] = [
            ("DeleteAccessKey", "erin"),
            ("DeactivateMFADevice", "erin"),
            ("DeleteVirtualMFADevice", "erin"),
            ("DeleteLoginProfile", "frank"),
            ("DeleteAccessKey", "frank"),
            ("DeleteSSHPublicKey", "dave"),
        ]
        for n, (event, user) in enumerate(burst):
            self.bad(self.call(event, m, t + timedelta(seconds=83 * n), target_user=user, ip=ip))
        # Account password policy gone, CloudTrail narrowed, blinded, stopped, deleted.
        t = DAY.replace(hour=11, minute=40, second=12)
        for n, (event, kw) in enumerate(
            [
                ("DeleteAccountPasswordPolicy", {}),
                ("UpdateTrail", {"multi_region": False, "global_events": False}),
                ("PutEventSelectors", {"management": False}),
                ("StopLogging", {}),
                ("DeleteTrail", {}),
            ]
        ):
            self.bad(self.call(event, m, t + timedelta(minutes=2 * n), ip=ip, **kw))
        # Other defenses blinded, then persistence and exfiltration paths opened.
        t = DAY.replace(hour=11, minute=50, second=41)
        for n, (event, kw) in enumerate(
            [
                ("DeleteDetector", {}),
                ("StopConfigurationRecorder", {}),
                ("DeleteFlowLogs", {}),
                ("ModifySnapshotAttribute", {"share": EXTERNAL_ACCOUNT}),
                ("PutBucketPolicy", {"public": True}),
                ("UpdateAssumeRolePolicy", {"trusted": f"arn:aws:iam::{EXTERNAL_ACCOUNT}:root"}),
                # a second role opened to any AWS principal
                ("UpdateAssumeRolePolicy", {"role": "BreakGlassRole", "trusted": "*"}),
            ]
        ):
            self.bad(self.call(event, m, t + timedelta(minutes=1, seconds=20) * n, ip=ip, **kw))
        # Privilege escalation and persistence: a backdoor administrator.
        backdoor = "backup-admin"
        t = DAY.replace(hour=12, minute=12, second=5)
        for n, (event, kw) in enumerate(
            [
                ("CreateUser", {"target_user": backdoor}),
                ("AttachUserPolicy", {"target_user": backdoor, "policy_arn": ADMIN_POLICY_ARN}),
                (
                    "PutUserPolicy",
                    {"target_user": "svc-build", "policy_name": "maintenance", "actions": "*",
                     "resource": "*"},
                ),
                # The role's own policy rewritten to Allow * (a file passed with file://).
                (
                    "CreatePolicyVersion",
                    {"policy": "ops-automation", "actions": "*", "pretty": True},
                ),
                # SSH on the bastion group opened to everyone.
                (
                    "AuthorizeSecurityGroupIngress",
                    {"group": "sg-0b2c3d4e5f6071829", "port": 22, "cidr": "0.0.0.0/0"},
                ),
                # The application data key scheduled for deletion with the minimum window.
                ("ScheduleKeyDeletion", {"days": 7}),
                # The backdoor user joins the administrators; the developers group and the
                # role itself are made administrator; the break-glass role gets Allow * inline.
                ("AddUserToGroup", {"target_user": backdoor, "group": "admins"}),
                ("AttachGroupPolicy", {"group": "developers", "policy_arn": ADMIN_POLICY_ARN}),
                ("AttachRolePolicy", {"role": "OpsAutomation", "policy_arn": ADMIN_POLICY_ARN}),
                (
                    "PutRolePolicy",
                    {"role": "BreakGlassRole", "policy_name": "break-glass", "actions": "*",
                     "resource": "*"},
                ),
                # An identity provider the attacker runs, for sign-ins that need no IAM user.
                (
                    "CreateSAMLProvider",
                    {"name": "corp-sso-backup", "entity_id": "https://idp.example.net/saml"},
                ),
            ]
        ):
            self.bad(self.call(event, m, t + timedelta(seconds=70) * n, ip=ip, **kw))
        # svc-build's stolen key mints a 36-hour federated session that keeps every permission
        # and outlives the key.
        self.bad(
            self.call(
                "GetFederationToken",
                self.users["svc-build"],
                DAY.replace(hour=12, minute=27, second=31),
                ip=ip,
                user_agent=BOTO3_UA,
                name="admin",
                actions="*",
                duration=129600,
            )
        )
        # Data and evidence: mallory harvests twelve secrets in three minutes, removes the
        # customer exports bucket's Block Public Access and grants AllUsers READ on it, shares
        # the orders database snapshot with the attacker's account, disables the backups key
        # and deletes the CloudTrail log group; svc-build's stolen key reads the payment API key.
        t = DAY.replace(hour=12, minute=0, second=10)
        for n, secret in enumerate(HARVESTED_SECRETS):
            self.bad(self.call("GetSecretValue", m, t + timedelta(seconds=15) * n, ip=ip,
                               secret=secret))
        t = DAY.replace(hour=12, minute=3, second=20)
        for n, (event, kw) in enumerate(
            [
                ("DeleteBucketPublicAccessBlock", {"bucket": "example-customer-exports"}),
                ("PutBucketAcl", {"bucket": "example-customer-exports", "public": True}),
                ("ModifyDBSnapshotAttribute", {"add": (EXTERNAL_ACCOUNT,), "remove": ()}),
                ("DisableKey", {"key": "5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f"}),
                ("DeleteLogGroup", {"group": "/aws/cloudtrail/management-events"}),
            ]
        ):
            self.bad(self.call(event, m, t + timedelta(seconds=25) * n, ip=ip, **kw))
        self.bad(
            self.call(
                "GetSecretValue",
                self.users["svc-build"],
                DAY.replace(hour=12, minute=28, second=44),
                ip=ip,
                user_agent=BOTO3_UA,
                secret="prod/payments/stripe-api-key",
            )
        )
        # Security Hub off, a server image shared with the attacker's account, a boot script
        # planted on a stopped instance, the invoice export function's code replaced and the
        # function opened to anyone.
        t = DAY.replace(hour=12, minute=8, second=15)
        for n, (event, kw) in enumerate(
            [
                ("DisableSecurityHub", {}),
                ("ModifyImageAttribute", {"share": EXTERNAL_ACCOUNT}),
                ("ModifyInstanceAttribute", {"user_data": True}),
                ("UpdateFunctionCode20150331v2", {"bucket": None}),
                (
                    "AddPermission20150331v2",
                    {"function": "invoice-export", "principal": "*",
                     "statement": "public-invoke", "source_arn": None},
                ),
            ]
        ):
            self.bad(self.call(event, m, t + timedelta(seconds=35) * n, ip=ip, **kw))
        # bob's password, without MFA, from the attacker's address.
        t = DAY.replace(hour=11, minute=2, second=40)
        self.bad(console_login(self.console["bob"], self.ids, time=t, ip=ip, mfa_used=False))
        self.bad(
            self.call(
                "ChangePassword",
                self.console["bob"],
                t + timedelta(minutes=1),
                ip=ip,
                user_agent=CONSOLE_UA,
            )
        )
        # Root signs in without MFA and creates a root access key.
        t = DAY.replace(hour=12, minute=5, second=30)
        self.bad(console_login(root(self.ids), self.ids, time=t, ip=ROOT_IP, mfa_used=False))
        self.bad(
            self.call(
                "CreateAccessKey",
                self.root,
                t + timedelta(minutes=2),
                ip=ROOT_IP,
                user_agent=CONSOLE_UA,
            )
        )

    # -- routine reads from every identity type ---------------------------------------------
    def routine_story(self, n: int) -> None:
        rng = self.rng
        who: list[tuple[dict, str]] = [
            (self.users["alice"], OFFICE_IPS[0]),
            (self.users["bob"], OFFICE_IPS[1]),
            (self.users["svc-build"], "198.51.100.140"),
            (self.carol, OFFICE_IPS[2]),
            (self.ci, "198.51.100.200"),
            (self.sso, OFFICE_IPS[2]),
            (self.config_slr, "config.amazonaws.com"),
            (self.fed, "198.51.100.141"),
            (self.partner, "192.0.2.10"),
            (self.ic_user, OFFICE_IPS[1]),
        ]
        weights = [14, 10, 12, 6, 30, 6, 8, 6, 3, 5]
        calls = [
            ("iam.amazonaws.com", "ListUsers", None, REGION),
            ("iam.amazonaws.com", "ListAccessKeys", {"userName": "alice"}, REGION),
            ("iam.amazonaws.com", "GetUser", {"userName": "bob"}, REGION),
            ("iam.amazonaws.com", "ListMFADevices", {"userName": "erin"}, REGION),
            ("iam.amazonaws.com", "GetAccountPasswordPolicy", None, REGION),
            (
                "iam.amazonaws.com",
                "GetAccessKeyLastUsed",
                {"accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
                REGION,
            ),
            ("cloudtrail.amazonaws.com", "DescribeTrails", {"trailNameList": []}, REGION),
            ("cloudtrail.amazonaws.com", "GetTrailStatus", {"name": "management-events"}, REGION),
            ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, None),
            ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupIdSet": {}}, None),
            ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, REGION),
            (
                "s3.amazonaws.com",
                "GetBucketPolicy",
                {"bucketName": "example-app-logs", "policy": ""},
                None,
            ),
            ("sts.amazonaws.com", "GetCallerIdentity", None, None),
            ("kms.amazonaws.com", "DescribeKey", {"keyId": "alias/app"}, None),
            ("lambda.amazonaws.com", "ListFunctions20150331", None, None),
        ]
        # Principals outside IAM's own world call what they really call.
        menus: dict[int, list[tuple[str, str, dict | None, str | None]]] = {
            id(self.partner): [
                (
                    "sts.amazonaws.com",
                    "AssumeRole",
                    {
                        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/partner-read",
                        "roleSessionName": "partner-sync",
                        "externalId": "HIDDEN_DUE_TO_SECURITY_REASONS",
                    },
                    REGION,
                ),
                (
                    "kms.amazonaws.com",
                    "Decrypt",
                    {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                    None,
                ),
            ],
            id(self.ic_user): [
                ("sso.amazonaws.com", "ListAccounts", None, REGION),
                ("sso.amazonaws.com", "ListAccountRoles", {"accountId": ACCOUNT}, REGION),
                (
                    "sso.amazonaws.com",
                    "GetRoleCredentials",
                    {"accountId": ACCOUNT, "roleName": "ReadOnly"},
                    REGION,
                ),
            ],
            id(self.config_slr): [
                c for c in calls if c[0] in ("iam.amazonaws.com", "cloudtrail.amazonaws.com")
            ],
        }
        span = (END - START).total_seconds()
        for _ in range(n):
            ident, ip = rng.choices(who, weights)[0]
            source, name, req, region = rng.choice(menus.get(id(ident), calls))
            t = START + timedelta(seconds=rng.uniform(0, span))
            rec = api_call(
                ident,
                source,
                name,
                self.ids,
                time=t,
                request=req,
                ip=ip,
                user_agent=BOTO3_UA if ident is not self.carol else CONSOLE_UA,
                region=region or rng.choice((REGION, REGION, "eu-west-1")),
                read_only=True,
            )
            if ident is self.partner:
                rec["recipientAccountId"] = ACCOUNT
            self.routine.append(rec)
        # AWS services acting on their own, e.g. Config's service role assuming, KMS rotating.
        for k in range(12):
            t = START + timedelta(minutes=17 * k, seconds=11)
            self.routine.append(
                api_call(
                    aws_service("config.amazonaws.com"),
                    "sts.amazonaws.com",
                    "AssumeRole",
                    self.ids,
                    time=t,
                    request={
                        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/"
                        "config.amazonaws.com/AWSServiceRoleForConfig",
                        "roleSessionName": "AWSConfig-Describe",
                    },
                    read_only=True,
                    recipient=ACCOUNT,
                )
            )


def _org_member_records(ids: Ids, rng: random.Random) -> list[dict]:
    """A member account's events in the organization trail: routine reads and one finding."""
    ops = assumed_role("OrgOps", "ops-bot", ids, account=OTHER_ACCOUNT)
    out = []
    for k in range(40):
        t = START + timedelta(minutes=5 * k, seconds=rng.randint(0, 290))
        out.append(
            api_call(
                ops,
                "iam.amazonaws.com",
                "ListUsers",
                ids,
                time=t,
                read_only=True,
                ip="198.51.100.90",
            )
        )
    out.append(
        curated_call(
            "CreateAccessKey",
            ops,
            ids,
            time=DAY.replace(hour=11, minute=12, second=9),
            target_user="legacy-admin",
            ip=ATTACKER_IP,
        )
    )
    # The same session then takes the account out of the organization: the organization
    # trail has nothing of it after this record.
    out.append(
        curated_call(
            "LeaveOrganization", ops, ids, time=DAY.replace(hour=12, minute=22, second=40),
            ip=ATTACKER_IP,
        )
    )
    return out


def _sandbox_records(ids: Ids) -> list[dict]:
    """A sandbox member account handed over to a partner: its administrator reads the
    organization, then takes the account out of it as planned (the benign LeaveOrganization)."""
    admin = assumed_role("OrgAdmin", "dana@example.com", ids, account=SANDBOX_ACCOUNT, mfa=True)
    t = DAY.replace(hour=10, minute=48, second=2)
    return [
        api_call(admin, "organizations.amazonaws.com", "DescribeOrganization", ids, time=t,
                 read_only=True, ip=OFFICE_IPS[1], user_agent=CONSOLE_UA),
        curated_call("LeaveOrganization", admin, ids, time=t + timedelta(minutes=2, seconds=29),
                     ip=OFFICE_IPS[1], user_agent=CONSOLE_UA),
    ]


def _bucket(t: str) -> datetime:
    dt = datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
    return dt.replace(minute=dt.minute - dt.minute % 5, second=0) + timedelta(minutes=5)


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
        fh.write(data)
    return buf.getvalue()


def _write_logs(
    out_dir: Path, prefix: str, account: str, records: list[dict], ids: Ids, result: SampleSet
) -> None:
    groups: dict[tuple[str, datetime], list[dict]] = defaultdict(list)
    for rec in records:
        groups[(rec["awsRegion"], _bucket(rec["eventTime"]))].append(rec)
    for (region, delivered), recs in sorted(groups.items()):
        recs.sort(key=lambda r: r["eventTime"])
        folder = out_dir / prefix / region / delivered.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"{account}_CloudTrail_{region}_{delivered.strftime('%Y%m%dT%H%MZ')}_"
            f"{ids.token('', 16, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}"
            ".json.gz"
        )
        path = folder / name
        path.write_bytes(_gzip(orjson.dumps({"Records": recs})))
        result.log_files.append(path)
        result.records += len(recs)


def _write_digest(out_dir: Path, result: SampleSet) -> None:
    folder = out_dir / f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/11/20"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (
        f"{ACCOUNT}_CloudTrail-Digest_{REGION}_management-events_{REGION}_20261120T100512Z.json.gz"
    )
    digest = {
        "awsAccountId": ACCOUNT,
        "digestStartTime": "2026-11-20T09:05:12Z",
        "digestEndTime": "2026-11-20T10:05:12Z",
        "digestS3Bucket": f"aws-cloudtrail-logs-{ACCOUNT}-3f1a2b4c",
        "digestS3Object": str(path.relative_to(out_dir)),
        "digestPublicKeyFingerprint": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": "2026-11-20T10:05:03Z",
        "oldestEventTime": "2026-11-20T09:05:19Z",
        "previousDigestS3Bucket": None,
        "previousDigestS3Object": None,
        "logFiles": [],
    }
    path.write_bytes(_gzip(orjson.dumps(digest)))
    result.digest_files.append(path)


def _write_bad_files(out_dir: Path, valid_example: Path, result: SampleSet) -> None:
    day = f"{REGION}/2026/11/20"
    folder = out_dir / f"AWSLogs/{ACCOUNT}/CloudTrail/{day}"
    # 1. a delivery cut short: the gzip stream ends in the middle
    truncated = folder / f"{ACCOUNT}_CloudTrail_{REGION}_20261120T1235Z_TruncatedUpload1.json.gz"
    data = valid_example.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    # 2. not JSON at all (an error page saved under a log name)
    not_json = folder / f"{ACCOUNT}_CloudTrail_{REGION}_20261120T1240Z_NotJsonErrorPage.json.gz"
    not_json.write_bytes(_gzip(b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>\n'))
    # 3. a VPC flow log from the same bucket
    flow_dir = out_dir / f"AWSLogs/{ACCOUNT}/vpcflowlogs/{day}"
    flow_dir.mkdir(parents=True, exist_ok=True)
    flow = flow_dir / (
        f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0a1b2c3d4e5f60718_20261120T0905Z_4f5e6d7c.log.gz"
    )
    lines = [
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
        "start end action log-status",
        f"2 {ACCOUNT} eni-0a1b2c3d4e5f60718 10.0.1.15 198.51.100.24 443 51234 6 10 8400 "
        "1795165500 1795165560 ACCEPT OK",
        f"2 {ACCOUNT} eni-0a1b2c3d4e5f60718 203.0.113.66 10.0.1.15 51514 22 6 3 180 "
        "1795165500 1795165560 REJECT OK",
    ]
    flow.write_bytes(_gzip(("\n".join(lines) + "\n").encode()))
    result.bad_files.extend([truncated, not_json, flow])


def generate(out_dir: Path | str, seed: int = 7, routine_events: int = 3000) -> SampleSet:
    """Write the sample logs under ``out_dir`` (created if needed); same seed, same bytes.

    Returns a :class:`SampleSet` listing the valid log files, the digest and bad files, the
    number of records written, and the benign and malicious records of the story.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    story = _Story(seed)
    story.benign_story()
    story.attack_story()
    story.routine_story(routine_events)
    result = SampleSet(out_dir=out, malicious=story.malicious, benign=story.benign)
    main = story.benign + story.malicious + story.routine
    _write_logs(out, f"AWSLogs/{ACCOUNT}/CloudTrail", ACCOUNT, main, story.ids, result)
    member = _org_member_records(story.ids, story.rng)
    _write_logs(
        out,
        f"AWSLogs/{ORG_ID}/{OTHER_ACCOUNT}/CloudTrail",
        OTHER_ACCOUNT,
        member,
        story.ids,
        result,
    )
    result.malicious.extend(member[-2:])
    sandbox = _sandbox_records(story.ids)
    _write_logs(
        out,
        f"AWSLogs/{ORG_ID}/{SANDBOX_ACCOUNT}/CloudTrail",
        SANDBOX_ACCOUNT,
        sandbox,
        story.ids,
        result,
    )
    result.benign.append(sandbox[-1])
    _write_digest(out, result)
    _write_bad_files(out, result.log_files[0], result)
    return result


__all__ = ["SampleSet", "generate", "ts"]
