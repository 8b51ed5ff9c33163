"""The static checkers reject what the public pages got wrong, and accept correct guidance."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailguard.kb import verify
from trailguard.kb.loader import load_entry_file


@pytest.mark.parametrize(
    "command",
    [
        "aws iam delete-ssh-public-key --user-name alice --ssh-public-key-id APKAEXAMPLE123",
        "aws iam update-login-profile --user-name alice --password-reset-required",
        "aws iam update-login-profile --user-name alice --no-password-reset-required",
        "aws iam list-users --max-items 50 --output json",
        "aws --region us-east-1 iam list-users --query 'Users[].UserName'",
        "aws iam upload-signing-certificate --user-name alice --certificate-body file://cert.pem",
        "aws iam create-virtual-mfa-device --virtual-mfa-device-name alice "
        "--outfile alice.png --bootstrap-method QRCodePNG",
        "aws iam wait user-exists --user-name alice",
        "aws acm import-certificate --certificate fileb://cert.pem --private-key fileb://key.pem",
        "aws ec2 create-image --instance-id i-0123456789abcdef0 --name golden --reboot",
        "aws ec2 create-image --instance-id i-0123456789abcdef0 --name golden --no-reboot",
        "aws sns subscribe --topic-arn arn:aws:sns:us-east-1:123456789012:alerts "
        "--protocol email --notification-endpoint soc@example.com",
        "aws s3api get-bucket-policy --bucket trail-logs",
        "aws configservice describe-config-rules",
        "aws iam tag-user --user-name alice --tags Key=owner,Value=sec Key=case,Value=42",
        "aws cloudtrail lookup-events --lookup-attributes "
        "AttributeKey=EventName,AttributeValue=StopLogging --max-items 10",
        "aws iam update-access-key --user-name alice --access-key-id AKIAIOSFODNN7EXAMPLE "
        "--status Inactive",
    ],
)
def test_valid_cli_commands_pass(command: str) -> None:
    assert verify.check_cli_command(command) == []


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("aws iam enable-mfa --user-name alice", "not an operation of 'aws iam'"),
        ("aws iam delete-ssh-public-key --user-name alice", "required option --ssh-public-key-id"),
        ("aws iam list-users --user-nam alice", "--user-nam is not an option"),
        (
            "aws iam update-login-profile --user-name a --password Hunter2! "
            "--password-reset-required",
            "secret on the command line",
        ),
        ("aws iam change-password --old-password a --new-password b", "--old-password"),
        (
            "aws secretsmanager put-secret-value --secret-id db --secret-string hunter2",
            "--secret-string puts a secret on the command line",
        ),
        (
            "aws acm import-certificate --certificate fileb://c.pem --private-key MIIEvQIB",
            "--private-key puts a secret",
        ),
        ("aws iam update-login-profile --user-name a --password-reset-required yes", "no value"),
        ("aws iam delete-user --no-user-name", "only boolean options"),
        ("aws s3 ls s3://bucket", "high-level command"),
        ("aws s3api get-bucket-acl", "required option --bucket"),
        ("aws config describe-config-rules", "configservice"),
        ("aws iam create-access-key --user-name a | jq .", "single aws command"),
        ("iam list-users", "does not start with 'aws'"),
        (
            "aws iam update-access-key --access-key-id AKIAIOSFODNN7EXAMPLE --status Disabled",
            "not an allowed value",
        ),
        ("aws iam update-account-password-policy --minimum-password-length x", "integer"),
        ("aws iam", "no operation"),
        ("aws iam wait user-gone --user-name a", "no waiter"),
        ("aws iam create-virtual-mfa-device --virtual-mfa-device-name a --foo 1", "--foo"),
        ("aws iam delete-user --user-name a --user-name b", "given twice"),
        ("aws iam list-users --region", "takes one value"),
        (
            "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "high-level",
        ),
        (
            "aws iam tag-user --user-name a --tags "
            "Key=k,Value=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "secret access key",
        ),
        ("aws iam list-users 'unterminated", "cannot tokenize"),
    ],
)
def test_bad_cli_commands_are_rejected(command: str, problem: str) -> None:
    problems = verify.check_cli_command(command)
    assert any(problem in p for p in problems), problems


# The snippet from the public page we improve on: every line of it is wrong.
SEED_LIKE = """
import boto3

iam_client = boto3.client("iam")
users = iam_client.list_users()["Users"]
for user in users:
    login_profile = iam_client.get_login_profile(UserName=user["UserName"])
    password = login_profile["LoginProfile"].get("Password")
    iam_client.enable_mfa(UserName=user["UserName"])
    iam_client.update_login_profile(UserName=user["UserName"], Password="Weak123!")
"""


def test_seed_page_snippet_is_rejected_for_each_defect() -> None:
    problems = "\n".join(verify.check_snippet(SEED_LIKE))
    assert "list_users is pageable" in problems
    assert "LoginProfile has no key 'Password'" in problems
    assert "no method 'enable_mfa' (closest: enable_mfa_device" in problems
    assert "update_login_profile(Password=...) is a secret passed as a string literal" in problems


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("import boto3\niam = boto3.client('iam')\niam.delete_user(UserNam='a')", "'UserNam'"),
        ("import boto3\niam = boto3.client('iam')\niam.delete_user()", "required parameter"),
        ("import boto3\niam = boto3.client('iam')\niam.delete_user('a')", "keyword arguments"),
        ("import boto3\nx = boto3.client('iamm')", "no AWS service 'iamm'"),
        ("import boto3\niam = boto3.client('iam')\niam.get_paginator('list_user')", "paginator"),
        ("import boto3\niam = boto3.client('iam')\niam.get_waiter('user_gone')", "waiter"),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "for p in iam.get_paginator('list_users').paginate(Bogus=1):\n    pass",
            "'Bogus'",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "for p in iam.get_paginator('list_users').paginate():\n"
            "    print([u['Passwd'] for u in p['Users']])",
            "User has no key 'Passwd'",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "pages = iam.get_paginator('list_users').paginate()\n"
            "for p in pages:\n    print(p['Userz'])",
            "no key 'Userz'",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "p = iam.get_paginator('list_users')\n"
            "print(p.paginate().build_full_result()['Users'][0]['Pwd'])",
            "User has no key 'Pwd'",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "r = iam.get_user(UserName='a')\nprint(r['User']['Secret'])",
            "no key 'Secret'",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "try:\n    pass\nexcept iam.exceptions.NoSuchEntity:\n    pass",
            "NoSuchEntityException",
        ),
        (
            "import boto3\nimport os\niam = boto3.client('iam')\n"
            "iam.create_login_profile(UserName='a', Password=f'Pw-{os.getpid()}')",
            "string literal",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "iam.update_access_key(UserName='a', AccessKeyId='AKIAIOSFODNN7EXAMPLE', "
            "Status='Disabled')",
            "'Disabled' is not an allowed value (Active, Inactive",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "iam.update_account_password_policy(MinimumPasswordLength='14')",
            "must be an integer",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "iam.update_account_password_policy(RequireSymbols='yes')",
            "must be True or False",
        ),
        (
            "import boto3\niam = boto3.client('iam')\niam.tag_user(UserName='a', Tags={'k': 'v'})",
            "tag_user(Tags) must be a list, not a dict",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "iam.tag_user(UserName='a', Tags=[{'Key': 'k', 'Val': 'v'}])",
            "tag_user(Tags)[] has no key 'Val'",
        ),
        (
            "import boto3\nct = boto3.client('cloudtrail')\n"
            "for p in ct.get_paginator('lookup_events').paginate(\n"
            "    LookupAttributes=[{'AttributeKey': 'EventName'}]):\n    pass",
            "missing required key(s) ['AttributeValue']",
        ),
        (
            "import boto3\niam = boto3.client('iam')\n"
            "key = iam.create_access_key(UserName='a')['AccessKey']\n"
            "print(key['AccessKeyId'], key['SecretAccessKey'])",
            "prints a secret AWS returned",
        ),
        (
            "import boto3\nimport logging\niam = boto3.client('iam')\n"
            "cred = iam.create_service_specific_credential(UserName='a', ServiceName='x')\n"
            "logging.info('pw %s', cred['ServiceSpecificCredential']['ServicePassword'])",
            "prints a secret AWS returned",
        ),
        ("import boto3\ns3 = boto3.resource('s3')", "creates no boto3 client"),
        ("import boto3\niam = boto3.client('iam')\nif True\n  pass", "does not compile"),
        (
            "import boto3\niam = boto3.client('iam')\ndef f(c):\n    c.delete_user(UserName='a')",
            "not a boto3 client",
        ),
    ],
)
def test_bad_snippets_are_rejected(code: str, problem: str) -> None:
    problems = verify.check_snippet(code)
    assert any(problem in p for p in problems), problems


def test_correct_snippet_passes() -> None:
    code = """
import getpass
import boto3

USER_NAME = "alice"

iam = boto3.client("iam", region_name="us-east-1")
for page in iam.get_paginator("list_access_keys").paginate(UserName=USER_NAME):
    for key in page["AccessKeyMetadata"]:
        iam.update_access_key(UserName=USER_NAME, AccessKeyId=key["AccessKeyId"], Status="Inactive")
profile = iam.get_login_profile(UserName=USER_NAME)["LoginProfile"]
print(profile["CreateDate"], profile.get("PasswordResetRequired"))
iam.update_login_profile(UserName=USER_NAME, Password=getpass.getpass(), PasswordResetRequired=True)
try:
    iam.delete_login_profile(UserName=USER_NAME)
except iam.exceptions.NoSuchEntityException:
    pass
iam.get_waiter("user_exists").wait(UserName=USER_NAME)
"""
    assert verify.check_snippet(code) == []


def test_constants_are_found() -> None:
    assert verify.top_level_constants("A = 1\nB_C = 'x'\nlower = 2\ndef f():\n    D = 3\n") == {
        "A": 1,
        "B_C": 2,
    }


FIXTURE = Path(__file__).parent / "fixtures" / "knowledge" / "iam" / "DeleteSSHPublicKey.yaml"


def test_entry_model_check_accepts_fixture() -> None:
    assert verify.check_entry_model(load_entry_file(FIXTURE)) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"api_operation": "DeleteSshKey"}, "not an operation of iam"),
        ({"event_source": "iam.aws.com"}, "expected 'iam.amazonaws.com'"),
        ({"api_operation": None}, "is an operation of iam: set it"),
        ({"service": "nosuchservice", "event_source": "nosuchservice.amazonaws.com"}, "no model"),
    ],
)
def test_entry_model_check_rejects(changes: dict[str, object], problem: str) -> None:
    entry = load_entry_file(FIXTURE).model_copy(update=changes)
    problems = verify.check_entry_model(entry)
    assert any(problem in p for p in problems), problems


def test_console_login_may_have_no_api_operation() -> None:
    entry = load_entry_file(FIXTURE).model_copy(
        update={
            "event_name": "ConsoleLogin",
            "service": "signin",
            "event_source": "signin.amazonaws.com",
            "api_operation": None,
        }
    )
    assert verify.check_entry_model(entry) == []


def test_moto_block_problems_are_found() -> None:
    from trailguard.kb.schema import Boto3Snippet

    snippet = Boto3Snippet.model_validate(
        {
            "code": "import boto3\nUSER = 'a'\n",
            "moto": {
                "setup": [
                    {"call": "iam.create_usr", "args": {"UserName": "a"}},
                    {"call": "iam.create_user", "args": {"Name": "a"}, "save": {"x": "User["}},
                    {"call": "iamx.create_user"},
                ],
                "bind": {"USERS": "{x}"},
                "expect": [
                    {
                        "call": "iam.update_access_key",
                        "args": {"AccessKeyId": "{k}", "Status": "Off"},
                        "path": "User.UserName",
                        "equals": "a",
                    }
                ],
            },
        }
    )
    problems = "\n".join(verify.check_moto_block(snippet))
    assert "setup 1: iam.create_usr: no such method (closest: create_user" in problems
    assert "setup 2: iam.create_user has no key 'Name'" in problems
    assert "setup 2: iam.create_user is missing required key(s) ['UserName']" in problems
    assert "setup 2: save x: JMESPath 'User[' does not compile" in problems
    assert "setup 3: iamx.create_user: no AWS service 'iamx'" in problems
    assert "bind: USERS is not a top-level UPPER_CASE constant" in problems
    assert "expect 1: iam.update_access_key.Status='Off' is not an allowed value" in problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("arn:aws:iam::493827164055:user/alice", "account id 493827164055"),
        ("key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret access key"),
    ],
)
def test_text_hygiene_rejects(text: str, problem: str) -> None:
    assert any(problem in p for p in verify.check_text_hygiene(text))


def test_text_hygiene_accepts_documented_fakes() -> None:
    text = "arn:aws:iam::123456789012:user/a arn:aws:iam::111122223333:root 000000000000"
    assert verify.check_text_hygiene(text) == []


def test_text_hygiene_accepts_documentation_urls_of_secret_key_shape() -> None:
    url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html"
    assert verify.check_text_hygiene(f"see {url}") == []
    assert verify.check_text_hygiene(f"{url} key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
