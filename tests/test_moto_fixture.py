"""The moto fixture isolates tests: state from one test is gone in the next."""

import boto3


def test_first_creates_user(aws: str) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName="fixture-probe")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["fixture-probe"]


def test_second_sees_clean_account(aws: str) -> None:
    assert boto3.client("iam").list_users()["Users"] == []
