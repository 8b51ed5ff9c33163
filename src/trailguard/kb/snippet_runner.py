"""Run an entry's boto3 snippet the way its ``moto`` block says, and check the result.

Used by the tests (tests/kb) against a moto server; it only calls boto3, so it runs against
whatever endpoint and credentials boto3 is configured for (the tests set AWS_ENDPOINT_URL).
Never point it at a real account: snippets change state.

Steps (see kb/schema.py): fill ``{placeholders}`` from the fixtures and saved values, run the
``setup`` calls and ``save`` JMESPath values, rewrite the snippet's top-level UPPER_CASE
constants named in ``bind``, exec the snippet in a fresh namespace with stdout captured, then
evaluate every ``expect``. An ``expect`` call that fails with an AWS error is evaluated on
``{"Error": {"Code": ..., "Message": ...}}``, so ``path: Error.Code`` / ``equals:
NoSuchEntity`` checks that something is gone.

While the snippet runs, ``getpass.getpass()`` returns the ``password`` fixture, ``input()``
fails, and ``time.sleep`` returns at once (polling loops run instantly against moto).
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import jmespath
from botocore.exceptions import ClientError

from trailguard.kb.schema import Boto3Snippet

PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SnippetRunError(AssertionError):
    """The snippet's moto block could not run: bad setup, missing constant, snippet raised."""


class ExpectationFailed(AssertionError):
    """The snippet ran, but the account is not in the state its ``expect`` describes."""


@dataclass
class RunResult:
    """What a run produced: the snippet's stdout and the final placeholder values."""

    stdout: str
    values: dict[str, Any]


def fill(value: Any, values: dict[str, Any]) -> Any:
    """Substitute ``{name}`` placeholders in strings nested in `value`.

    A string that is exactly one placeholder becomes the raw value (which may be a list or
    a number); unknown placeholders raise SnippetRunError. Other braces (JSON) are left alone.
    """
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(name: str) -> Any:
        if name not in values:
            raise SnippetRunError(
                f"unknown placeholder {{{name}}}; known: {', '.join(sorted(values))}"
            )
        return values[name]

    whole = PLACEHOLDER_RE.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return PLACEHOLDER_RE.sub(lambda m: str(lookup(m.group(1))), value)


def aws_call(spec: str, args: dict[str, Any]) -> dict[str, Any]:
    """Make a boto3 call written as ``"service.method"`` with keyword `args`."""
    service, _, method = spec.partition(".")
    if not service or not method:
        raise SnippetRunError(f"call {spec!r} is not 'service.method'")
    client = boto3.client(service)
    if not hasattr(client, method):
        raise SnippetRunError(f"call {spec!r}: the {service} client has no method {method!r}")
    return getattr(client, method)(**args)


def bind_constants(code: str, bindings: dict[str, Any]) -> ast.Module:
    """Parse `code` and replace the values of its top-level constants named in `bindings`."""
    tree = ast.parse(code)
    missing = set(bindings)
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id in bindings:
            node.value = ast.copy_location(_literal(bindings[target.id]), node.value)
            missing.discard(target.id)
    if missing:
        raise SnippetRunError(
            f"bind names constants the snippet does not assign at top level: {sorted(missing)}"
        )
    return ast.fix_missing_locations(tree)


def _literal(value: Any) -> ast.expr:
    return ast.parse(repr(value), mode="eval").body


def _no_input(*_args: Any, **_kwargs: Any) -> str:
    raise SnippetRunError("the snippet asked for input(); read inputs from constants")


def run_snippet(
    snippet: Boto3Snippet, fixtures: dict[str, Any], *, run_code: bool = True
) -> RunResult:
    """Run one snippet's moto block and check its expectations (raises AssertionError).

    ``run_code=False`` runs the setup and the expectations without the snippet: a
    mutation check that the expectations really depend on what the snippet does.
    """
    run = snippet.moto
    if run.skip_reason is not None:
        raise SnippetRunError(f"snippet is not runnable: {run.skip_reason}")
    values = dict(fixtures)
    for i, step in enumerate(run.setup, 1):
        try:
            response = aws_call(step.call, fill(step.args, values))
        except ClientError as exc:
            raise SnippetRunError(f"setup step {i} ({step.call}) failed: {exc}") from exc
        for name, path in step.save.items():
            found = jmespath.search(path, response)
            if found is None:
                raise SnippetRunError(
                    f"setup step {i} ({step.call}): save {name}: {path!r} matched nothing"
                )
            values[name] = found
    bindings = {const: fill(placeholder, values) for const, placeholder in run.bind.items()}
    tree = bind_constants(snippet.code, bindings)
    code = compile(tree, "<snippet>", "exec")
    out = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    password = str(values.get("password", ""))
    real_sleep = time.sleep
    if not run_code:
        code = compile("", "<no snippet>", "exec")
    with (
        tempfile.TemporaryDirectory(prefix="tg-snippet-") as workdir,
        contextlib.chdir(workdir),  # a snippet that writes a file leaves nothing behind
        contextlib.redirect_stdout(out),
        mock.patch("getpass.getpass", return_value=password),
        mock.patch("builtins.input", _no_input),
        mock.patch("time.sleep", lambda s: real_sleep(0)),
    ):
        try:
            exec(code, namespace)  # noqa: S102 - the point of the harness
        except SnippetRunError:
            raise
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit from the snippet
            raise SnippetRunError(
                f"snippet raised {type(exc).__name__}: {exc}\n--- stdout ---\n{out.getvalue()}"
            ) from exc
    for i, exp in enumerate(run.expect, 1):
        try:
            response: Any = aws_call(exp.call, fill(exp.args, values))
        except ClientError as exc:
            response = {"Error": exc.response.get("Error", {})}
        got = jmespath.search(exp.path, response)
        want = fill(exp.equals, values)
        if got != want:
            raise ExpectationFailed(
                f"expect {i}: {exp.call}({exp.args}) at {exp.path!r}: got {got!r}, "
                f"expected {want!r}\n--- snippet stdout ---\n{out.getvalue()}"
            )
    return RunResult(stdout=out.getvalue(), values=values)
