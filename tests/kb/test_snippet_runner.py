"""The moto harness itself: it must fail snippets that do nothing, and pass ones that work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from trailguard.kb.loader import load_entry_file
from trailguard.kb.schema import Boto3Snippet
from trailguard.kb.snippet_runner import (
    ExpectationFailed,
    SnippetRunError,
    bind_constants,
    fill,
    run_snippet,
)

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge" / "iam" / "DeleteSSHPublicKey.yaml"

DELETE_KEY = {
    "code": (
        "import boto3\n\n"
        'USER_NAME = "alice"\n'
        'KEY_ID = "APKAEXAMPLEEXAMPLE123"\n\n'
        'iam = boto3.client("iam")\n'
        "iam.delete_ssh_public_key(UserName=USER_NAME, SSHPublicKeyId=KEY_ID)\n"
        'print("deleted", KEY_ID)\n'
    ),
    "moto": {
        "setup": [
            {"call": "iam.create_user", "args": {"UserName": "alice"}},
            {
                "call": "iam.upload_ssh_public_key",
                "args": {"UserName": "alice", "SSHPublicKeyBody": "{ssh_public_key}"},
                "save": {"key_id": "SSHPublicKey.SSHPublicKeyId"},
            },
        ],
        "bind": {"KEY_ID": "{key_id}"},
        "expect": [
            {
                "call": "iam.list_ssh_public_keys",
                "args": {"UserName": "alice"},
                "path": "length(SSHPublicKeys)",
                "equals": 0,
            }
        ],
    },
}


def _snippet(**changes: Any) -> Boto3Snippet:
    data = {"code": DELETE_KEY["code"], "moto": {**DELETE_KEY["moto"]}}
    for key, value in changes.items():
        if key == "code":
            data["code"] = value
        else:
            data["moto"][key] = value
    return Boto3Snippet.model_validate(data)


def test_working_snippet_passes(aws: str, placeholders: dict[str, Any]) -> None:
    result = run_snippet(_snippet(), placeholders)
    assert result.stdout.startswith("deleted APKA")
    assert result.values["key_id"].startswith("APKA")


def test_broken_mini_entry_fails_its_expectations(aws: str, placeholders: dict[str, Any]) -> None:
    """A snippet that changes nothing must not pass: the harness checks the account state."""
    noop = _snippet(code='import boto3\n\nKEY_ID = "x"\niam = boto3.client("iam")\nprint("ok")\n')
    with pytest.raises(ExpectationFailed, match=r"got 1, expected 0"):
        run_snippet(noop, placeholders)


def test_fixture_entry_actions(aws: str, placeholders: dict[str, Any]) -> None:
    entry = load_entry_file(FIXTURE)
    result = run_snippet(entry.response[0].boto3, placeholders)
    assert result.stdout.strip().startswith("APKA")
    with pytest.raises(SnippetRunError, match="not runnable: fixture"):
        run_snippet(entry.hardening[0].boto3, placeholders)


def test_snippet_that_raises_is_reported(aws: str, placeholders: dict[str, Any]) -> None:
    # No setup: the user does not exist, so the snippet's call fails.
    with pytest.raises(SnippetRunError, match="snippet raised NoSuchEntityException"):
        run_snippet(_snippet(setup=[], bind={}), placeholders)


def test_unknown_placeholder_is_reported(aws: str, placeholders: dict[str, Any]) -> None:
    with pytest.raises(SnippetRunError, match=r"unknown placeholder \{key_idd\}"):
        run_snippet(_snippet(bind={"KEY_ID": "{key_idd}"}), placeholders)


def test_bind_of_missing_constant_is_reported(aws: str, placeholders: dict[str, Any]) -> None:
    with pytest.raises(SnippetRunError, match="KEY"):
        run_snippet(_snippet(bind={"KEY": "{key_id}"}), placeholders)


def test_save_that_matches_nothing_is_reported(aws: str, placeholders: dict[str, Any]) -> None:
    setup = [
        {"call": "iam.create_user", "args": {"UserName": "alice"}, "save": {"x": "User.Nope"}},
    ]
    with pytest.raises(SnippetRunError, match="matched nothing"):
        run_snippet(_snippet(setup=setup), placeholders)


def test_expect_can_check_an_error_code(aws: str, placeholders: dict[str, Any]) -> None:
    snippet = Boto3Snippet.model_validate(
        {
            "code": (
                'import boto3\n\nUSER = "bob"\nboto3.client("iam").delete_user(UserName=USER)\n'
            ),
            "moto": {
                "setup": [{"call": "iam.create_user", "args": {"UserName": "bob"}}],
                "expect": [
                    {
                        "call": "iam.get_user",
                        "args": {"UserName": "bob"},
                        "path": "Error.Code",
                        "equals": "NoSuchEntity",
                    }
                ],
            },
        }
    )
    run_snippet(snippet, placeholders)


def test_getpass_gets_the_password_fixture(aws: str, placeholders: dict[str, Any]) -> None:
    code = (
        "import getpass\nimport boto3\n\n"
        'USER = "carol"\n'
        'boto3.client("iam").create_login_profile(\n'
        "    UserName=USER, Password=getpass.getpass(), PasswordResetRequired=True\n)\n"
    )
    snippet = Boto3Snippet.model_validate(
        {
            "code": code,
            "moto": {
                "setup": [{"call": "iam.create_user", "args": {"UserName": "carol"}}],
                "expect": [
                    {
                        "call": "iam.get_login_profile",
                        "args": {"UserName": "carol"},
                        "path": "LoginProfile.UserName",
                        "equals": "carol",
                    }
                ],
            },
        }
    )
    run_snippet(snippet, placeholders)
    # The moto account really has the profile: the snippet ran against the server.
    assert boto3.client("iam").get_login_profile(UserName="carol")["LoginProfile"]["UserName"]


def test_fill_keeps_json_braces_and_types() -> None:
    values = {"a": "x", "n": [1, 2]}
    assert fill({"k": '{"Version": "{a}"}', "l": "{n}", "z": 3}, values) == {
        "k": '{"Version": "x"}',
        "l": [1, 2],
        "z": 3,
    }


def test_bind_rewrites_only_top_level_constants() -> None:
    tree = bind_constants('A = "old"\ndef f():\n    A = "inner"\n', {"A": "new"})
    ns: dict[str, Any] = {}
    exec(compile(tree, "<t>", "exec"), ns)  # noqa: S102
    assert ns["A"] == "new"


def test_without_the_snippet_the_expectations_fail(aws: str, placeholders: dict[str, Any]) -> None:
    with pytest.raises(ExpectationFailed, match=r"got 1, expected 0"):
        run_snippet(_snippet(), placeholders, run_code=False)
