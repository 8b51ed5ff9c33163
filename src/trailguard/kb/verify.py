"""Static checks of knowledge-base guidance against botocore's service models.

A page that tells a responder to run a command or call an API that does not exist is a
defect, so every entry is checked here (and these checks run in tests/kb):

* :func:`check_entry_model`: ``api_operation`` exists in the service's model and
  ``event_source`` is the service's endpoint.
* :func:`check_cli_command`: an ``aws <service> <operation> --options`` line maps to a real
  operation and input members, required members are present, and no password or secret is
  on the command line.
* :func:`check_snippet`: a boto3 snippet compiles, calls only real client methods with real
  parameter names (required ones present), pages pageable operations, reads only keys AWS
  returns, and never passes a string literal as a password or secret.

Each function returns a list of problems (empty when fine), each naming what is wrong.
"""

from __future__ import annotations

import ast
import difflib
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import jmespath
import jmespath.exceptions
from botocore import xform_name
from botocore.model import OperationModel, Shape

from trailguard.kb import botocore_index as bi
from trailguard.kb.schema import Boto3Snippet, Entry

# ------------------------------------------------------------------ entries


def check_entry_model(entry: Entry) -> list[str]:
    """Problems with an entry's service, event source and API operation versus botocore."""
    problems: list[str] = []
    model = bi.service_model(entry.service)
    expected_source = bi.event_source(entry.service)
    if model is None:
        if entry.api_operation is not None:
            problems.append(
                f"api_operation: {entry.api_operation!r} given, but botocore has no model "
                f"for service {entry.service!r}"
            )
        if entry.event_source != f"{entry.service}.amazonaws.com":
            problems.append(
                f"event_source: {entry.event_source!r}, expected {entry.service}.amazonaws.com"
            )
        return problems
    if entry.event_source != expected_source:
        problems.append(f"event_source: {entry.event_source!r}, expected {expected_source!r}")
    if entry.api_operation is None:
        # Allowed only for events that are not API calls, e.g. signin's ConsoleLogin (the
        # signin model exists in recent botocore, but has no ConsoleLogin operation).
        if entry.event_name in model.operation_names:
            problems.append(
                f"api_operation: null, but {entry.event_name} is an operation of "
                f"{entry.service}: set it"
            )
    elif entry.api_operation not in model.operation_names:
        close = difflib.get_close_matches(entry.api_operation, model.operation_names, n=3)
        problems.append(
            f"api_operation: {entry.api_operation!r} is not an operation of {entry.service}"
            + (f" (closest: {', '.join(close)})" if close else "")
        )
    return problems


# ------------------------------------------------------------------ secrets

# Member names that carry a secret (matched on the botocore member name).
SECRET_MEMBER_RE = re.compile(
    r"(Password|Passphrase|SecretAccessKey|SecretKey|SecretString|SecretBinary|ClientSecret"
    r"|PrivateKey|SessionToken)$"
)
SECRETISH_RE = re.compile(r"password|secret|passphrase|token|credential|privatekey", re.I)
# CLI options that put a secret on the command line (ps, shell history, CloudTrail of CI logs).
SECRET_OPTION_RE = re.compile(
    r"^(password|new-password|old-password|service-password|master-user-password"
    r"|secret-access-key|aws-secret-access-key|secret-string|secret-binary|client-secret"
    r"|private-key|session-token)$"
)
# A 40-character AWS secret access key: base64 alphabet with upper, lower and digits.
SECRET_KEY_RE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])")


_URL_RE = re.compile(r"https?://\S+")


def looks_like_secret_key(text: str) -> bool:
    """True when `text` contains something shaped like an AWS secret access key.

    URLs are left out: a documentation path such as
    ``com/AmazonS3/latest/userguide/cloudtrail`` has the same 40-character shape.
    """
    for m in SECRET_KEY_RE.finditer(_URL_RE.sub(" ", text)):
        s = m.group(0)
        if re.search(r"[A-Z]", s) and re.search(r"[a-z]", s) and re.search(r"[0-9]", s):
            return True
    return False


def is_secret_member(name: str, shape: Shape | None) -> bool:
    """Whether an input member carries a secret (by name, or a sensitive string by model)."""
    if shape is not None and shape.type_name not in ("string", "blob"):
        return False
    if SECRET_MEMBER_RE.search(name):
        return True
    sensitive = bool(shape is not None and shape.metadata.get("sensitive"))
    return sensitive and bool(SECRETISH_RE.search(name))


ACCOUNT_ID_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
# Account ids AWS documentation uses as examples; anything else may be someone's real account.
FAKE_ACCOUNT_IDS = frozenset(
    {"123456789012", "111122223333", "444455556666", "777788889999", "210987654321"}
)


def is_fake_account_id(account_id: str) -> bool:
    """True for documented example account ids and obvious patterns (000000000000 ...)."""
    if account_id in FAKE_ACCOUNT_IDS or len(set(account_id)) == 1:
        return True
    groups = {account_id[i : i + 4] for i in range(0, 12, 4)}
    return all(len(set(g)) == 1 for g in groups)  # 111122223333 style


def check_text_hygiene(text: str) -> list[str]:
    """Problems in any text of an entry: real-looking account ids, secret-key-shaped strings."""
    problems = [
        f"account id {acct} is not a documented fake (use 123456789012 or 111122223333)"
        for acct in sorted(set(ACCOUNT_ID_RE.findall(text)))
        if not is_fake_account_id(acct)
    ]
    if looks_like_secret_key(text):
        problems.append("contains a string shaped like an AWS secret access key")
    return problems


# ------------------------------------------------------------------ AWS CLI

GLOBAL_VALUE_OPTIONS = frozenset(
    {
        "region",
        "profile",
        "output",
        "query",
        "endpoint-url",
        "cli-input-json",
        "cli-input-yaml",
        "color",
        "ca-bundle",
        "cli-read-timeout",
        "cli-connect-timeout",
        "cli-binary-format",
    }
)
GLOBAL_FLAGS = frozenset(
    {"debug", "no-verify-ssl", "no-cli-pager", "no-sign-request", "no-cli-auto-prompt"}
)
PAGING_VALUE_OPTIONS = frozenset({"max-items", "starting-token", "page-size"})
PAGING_FLAGS = frozenset({"no-paginate"})

# awscli high-level customizations and extra options we accept, each for a reason:
# (cli service, cli operation) -> {option: takes a value}. Anything else that is not in
# botocore's model is rejected, because we cannot check it.
CLI_CUSTOMIZATIONS: dict[tuple[str, str], dict[str, bool]] = {
    # awscli.customizations.iamvirtmfa: writes the QR code PNG or Base32 seed to a local file
    # instead of printing the seed; --outfile and --bootstrap-method are awscli-only options.
    ("iam", "create-virtual-mfa-device"): {"outfile": True, "bootstrap-method": True},
}
# awscli renames a few model arguments (awscli.customizations.argrename): (svc, op|*) -> map.
CLI_ARG_RENAMES: dict[tuple[str, str], dict[str, str]] = {
    ("ec2", "create-image"): {"reboot": "no-no-reboot"},
    ("ec2", "*"): {"ingress": "no-egress", "enable-api-termination": "no-disable-api-termination"},
    ("sns", "subscribe"): {"notification-endpoint": "endpoint"},
}
# Top-level CLI commands that are awscli programs, not API services.
CLI_HIGH_LEVEL = frozenset({"s3", "configure", "ddb", "history", "cli-dev"})


def cli_service_name(cli_name: str) -> str:
    """The botocore service name for an AWS CLI service name (s3api -> s3 ...)."""
    return bi.SERVICE_FOR_CLI_NAME.get(cli_name, cli_name)


def _cli_members(service: str, op: OperationModel, cli_op: str) -> dict[str, tuple[str, Shape]]:
    """CLI option name -> (member name, shape) for an operation's input."""
    out: dict[str, tuple[str, Shape]] = {}
    shape = op.input_shape
    if shape is None:
        return out
    renames: dict[str, str] = {}
    for key in ((service, "*"), (service, cli_op)):
        renames.update({orig: new for new, orig in CLI_ARG_RENAMES.get(key, {}).items()})
    for name, member in shape.members.items():  # type: ignore[attr-defined]
        opt = xform_name(name, "-")
        out[renames.get(opt, opt)] = (name, member)
    return out


def _cli_negations(
    service: str, cli_op: str, members: dict[str, tuple[str, Shape]]
) -> dict[str, str]:
    """``--no-X`` flag -> option X for boolean members, with awscli's renames applied
    (ec2 create-image: --no-no-reboot is spelled --reboot)."""
    out = {f"no-{opt}": opt for opt, (_, shape) in members.items() if shape.type_name == "boolean"}
    for key in ((service, "*"), (service, cli_op)):
        for new, orig in CLI_ARG_RENAMES.get(key, {}).items():
            if orig in out:
                out[new] = out.pop(orig)
    return out


@dataclass
class CliParse:
    """A parsed AWS CLI command: service, operation and options with their values."""

    service: str = ""
    operation: str = ""
    waiter: str = ""  # for `aws <svc> wait <waiter>`
    options: dict[str, list[str]] = field(default_factory=dict)


def parse_cli_command(command: str) -> tuple[CliParse, list[str]]:
    """Tokenize an ``aws ...`` line into service, operation and options; return problems too."""
    problems: list[str] = []
    parsed = CliParse()
    text = command.replace("\\\n", " ").strip()
    if "\n" in text:
        problems.append("more than one line: give one command per entry")
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError as exc:
        return parsed, [f"cannot tokenize: {exc}"]
    if re.search(r"(^|\s)(\||&&|;|\|\|)(\s|$)", text) or "$(" in text or "`" in text:
        problems.append("shell pipelines, chains or substitutions: give a single aws command")
    if not tokens or tokens[0] != "aws":
        return parsed, [*problems, "does not start with 'aws'"]
    pos = 1
    # Global options may come before the service.
    while pos < len(tokens) and tokens[pos].startswith("--"):
        opt = tokens[pos][2:]
        parsed.options.setdefault(opt, [])
        pos += 1
        if opt in GLOBAL_VALUE_OPTIONS and pos < len(tokens):
            parsed.options[opt].append(tokens[pos])
            pos += 1
    if pos >= len(tokens):
        return parsed, [*problems, "no service given"]
    parsed.service = tokens[pos]
    pos += 1
    if pos >= len(tokens) or tokens[pos].startswith("-"):
        return parsed, [*problems, "no operation given"]
    parsed.operation = tokens[pos]
    pos += 1
    if parsed.operation == "wait":
        if pos >= len(tokens) or tokens[pos].startswith("-"):
            return parsed, [*problems, "no waiter given after 'wait'"]
        parsed.waiter = tokens[pos]
        pos += 1
    current: str | None = None
    for tok in tokens[pos:]:
        if tok.startswith("--") and len(tok) > 2:
            current = tok[2:]
            if "=" in current:  # --opt=value
                current, value = current.split("=", 1)
                if current in parsed.options:
                    problems.append(f"--{current} given twice")
                parsed.options.setdefault(current, []).append(value)
                continue
            if current in parsed.options:
                problems.append(f"--{current} given twice")
            parsed.options.setdefault(current, [])
        elif current is None:
            problems.append(f"unexpected argument {tok!r} before any option")
        else:
            parsed.options[current].append(tok)
    return parsed, problems


def check_cli_command(command: str) -> list[str]:
    """Problems with one AWS CLI command line, checked against botocore's model."""
    parsed, problems = parse_cli_command(command)
    if not parsed.operation:
        return problems
    for opt, values in parsed.options.items():
        from_file = bool(values) and all(v.startswith(("file://", "fileb://")) for v in values)
        if SECRET_OPTION_RE.match(opt) and not from_file:
            problems.append(
                f"--{opt} puts a secret on the command line (shell history, process list): "
                f"read it from a file (--{opt} file://...) or use the console"
            )
        if any(looks_like_secret_key(v) for v in values):
            problems.append(f"--{opt}: value looks like a secret access key")
    cli_svc, cli_op = parsed.service, parsed.operation
    extras = CLI_CUSTOMIZATIONS.get((cli_svc, cli_op), {})
    if cli_svc in CLI_HIGH_LEVEL and not extras:
        problems.append(
            f"'aws {cli_svc}' is an awscli high-level command, not checkable against botocore"
            + (": use 'aws s3api'" if cli_svc == "s3" else "")
        )
        return problems
    service = cli_service_name(cli_svc)
    model = bi.service_model(service)
    if model is None or cli_svc in bi.CLI_NAME_FOR_SERVICE:
        hint = bi.CLI_NAME_FOR_SERVICE.get(cli_svc)
        close = difflib.get_close_matches(cli_svc, list(bi.services()), n=3)
        problems.append(
            f"unknown AWS CLI service {cli_svc!r}"
            + (f" (the CLI calls it {hint!r})" if hint else "")
            + (f" (closest: {', '.join(close)})" if close and not hint else "")
        )
        return problems
    ops = bi.cli_operations(service)
    if cli_op == "wait":
        waiters = {xform_name(w, "-"): w for w in bi.waiters(service)}
        if parsed.waiter not in waiters:
            close = difflib.get_close_matches(parsed.waiter, list(waiters), n=3)
            problems.append(
                f"'aws {cli_svc} wait' has no waiter {parsed.waiter!r}"
                + (f" (closest: {', '.join(close)})" if close else "")
            )
            return problems
        waiter = bi.session().get_waiter_model(service).get_waiter(waiters[parsed.waiter])
        op_name = waiter.operation
        pageable = False
    elif cli_op not in ops:
        close = difflib.get_close_matches(cli_op, list(ops), n=3)
        problems.append(
            f"'{cli_op}' is not an operation of 'aws {cli_svc}'"
            + (f" (closest: {', '.join(close)})" if close else "")
        )
        return problems
    else:
        op_name = ops[cli_op]
        pageable = op_name in bi.paginators(service)
    op = model.operation_model(op_name)
    members = _cli_members(service, op, cli_op)
    negations = _cli_negations(service, cli_op, members)
    seen: set[str] = set()
    for opt, values in parsed.options.items():
        if opt in GLOBAL_VALUE_OPTIONS:
            if len(values) != 1:
                problems.append(f"--{opt} takes one value")
            continue
        if opt in GLOBAL_FLAGS:
            if values:
                problems.append(f"--{opt} takes no value")
            continue
        if opt in PAGING_VALUE_OPTIONS | PAGING_FLAGS and pageable and opt not in members:
            if (opt in PAGING_FLAGS) == bool(values):
                problems.append(f"--{opt}: wrong number of values")
            continue
        if opt in extras:
            if extras[opt] != bool(values):
                problems.append(f"--{opt}: wrong number of values")
            continue
        negated = opt in negations
        key = negations[opt] if negated else opt
        if key not in members and opt.startswith("no-") and opt[3:] in members:
            problems.append(f"--{opt}: only boolean options have a --no- form")
            continue
        if key not in members:
            close = difflib.get_close_matches(key, list(members), n=3)
            problems.append(
                f"--{opt} is not an option of 'aws {cli_svc} {cli_op}'"
                + (f" (closest: {', '.join('--' + c for c in close)})" if close else "")
            )
            continue
        member, shape = members[key]
        seen.add(member)
        if (
            is_secret_member(member, shape)
            and not SECRET_OPTION_RE.match(opt)
            and not all(v.startswith(("file://", "fileb://")) for v in values)
        ):
            problems.append(
                f"--{opt} ({member}) is a secret: never put it on a command line "
                f"(read it from a file: --{opt} file://...)"
            )
        if shape.type_name == "boolean":
            if values:
                problems.append(f"--{opt} is a boolean flag and takes no value: {values}")
        elif not values:
            problems.append(f"--{opt} needs a value")
        elif len(values) > 1 and shape.type_name not in ("list", "map"):
            problems.append(f"--{opt} takes one value, got {len(values)}: {values}")
        elif not values[0].startswith(("file://", "fileb://")):
            enum = shape.enum if shape.type_name == "string" else None  # type: ignore[attr-defined]
            if enum and values[0] not in enum:
                problems.append(
                    f"--{opt} {values[0]!r} is not an allowed value ({', '.join(enum[:12])})"
                )
            if shape.type_name in ("integer", "long") and not re.fullmatch(r"-?\d+", values[0]):
                problems.append(f"--{opt} needs an integer, got {values[0]!r}")
    if not ({"cli-input-json", "cli-input-yaml"} & set(parsed.options)):
        required = op.input_shape.required_members if op.input_shape else []  # type: ignore[attr-defined]
        for member in required:
            if member not in seen:
                problems.append(
                    f"required option --{xform_name(member, '-')} missing for "
                    f"'aws {cli_svc} {cli_op}'"
                )
    return problems


# ------------------------------------------------------------------ boto3 snippets

CLIENT_HELPERS = frozenset(
    {
        "get_paginator",
        "get_waiter",
        "can_paginate",
        "close",
        "meta",
        "exceptions",
        "generate_presigned_url",
        "generate_presigned_post",
        "waiter_names",
    }
)


@dataclass(frozen=True)
class _Op:
    service: str
    operation: str


class _SnippetChecker(ast.NodeVisitor):
    """Walks a snippet in source order, tracking clients, paginators and response shapes."""

    def __init__(self, clients: dict[str, str]) -> None:
        self.clients = clients
        self.paginators: dict[str, _Op] = {}
        self.page_iterators: dict[str, _Op] = {}  # name = paginator.paginate(...)
        self.waiters: dict[str, tuple[str, str]] = {}
        self.shapes: dict[str, Shape] = {}
        self.problems: list[str] = []
        self.secret_reads: set[int] = set()  # ids of expressions that read a returned secret

    # -------------------------------------------------------------- helpers

    def used_methods(self) -> set[str]:
        """Client method names of every service the snippet creates a client for."""
        out: set[str] = set()
        for svc in set(self.clients.values()):
            out |= set(bi.python_methods(svc))
        return out

    def problem(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", "?")
        text = f"line {line}: {message}"
        if text not in self.problems:
            self.problems.append(text)

    def client_of(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name) and node.id in self.clients:
            return self.clients[node.id]
        return None

    def op_of_call(self, node: ast.AST) -> _Op | None:
        """The operation a call `client.method(...)` invokes, if it is one."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return None
        svc = self.client_of(node.func.value)
        if svc is None:
            return None
        op = bi.python_methods(svc).get(node.func.attr)
        return _Op(svc, op) if op else None

    def paginator_of(self, node: ast.AST) -> _Op | None:
        """The operation behind a paginator expression (a name or client.get_paginator(...))."""
        if isinstance(node, ast.Name):
            return self.paginators.get(node.id)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get_paginator"
        ):
            svc = self.client_of(node.func.value)
            name = _const_str(node.args[0]) if node.args else None
            if svc and name:
                op = bi.python_methods(svc).get(name)
                if op and op in bi.paginators(svc):
                    return _Op(svc, op)
        return None

    def shape_of(self, node: ast.AST) -> Shape | None:
        """The botocore shape an expression evaluates to, when it is a response or part of one."""
        if isinstance(node, ast.Name):
            return self.shapes.get(node.id)
        if isinstance(node, ast.Call):
            op = self.op_of_call(node)
            if op:
                return bi.operation_model(op.service, op.operation).output_shape  # type: ignore[union-attr]
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr == "build_full_result":
                    pag = self.page_iterator_of(func.value)
                    if pag:
                        return bi.operation_model(pag.service, pag.operation).output_shape  # type: ignore[union-attr]
                if func.attr == "get" and node.args:
                    key = _const_str(node.args[0])
                    base = self.shape_of(func.value)
                    if key is not None and base is not None:
                        return self.member(node, base, key)
            return None
        if isinstance(node, ast.Subscript):
            base = self.shape_of(node.value)
            if base is None:
                return None
            if base.type_name == "structure":
                key = _const_str(node.slice)
                return self.member(node, base, key) if key is not None else None
            if base.type_name == "list":
                if isinstance(node.slice, ast.Slice):
                    return base
                return base.member  # type: ignore[attr-defined]
            if base.type_name == "map":
                return base.value  # type: ignore[attr-defined]
        return None

    def member(self, node: ast.AST, shape: Shape, key: str) -> Shape | None:
        if shape.type_name != "structure":
            return None
        members = shape.members  # type: ignore[attr-defined]
        if key in members:
            if SECRET_MEMBER_RE.search(key):
                self.secret_reads.add(id(node))
            return members[key]
        if key == "ResponseMetadata":
            return None
        self.problem(
            node,
            f"{shape.name} has no key {key!r}: AWS never returns it "
            f"(keys: {', '.join(members) or 'none'})",
        )
        return None

    def bind(self, target: ast.AST, shape: Shape | None) -> None:
        if isinstance(target, ast.Name):
            if shape is None:
                self.shapes.pop(target.id, None)
                self.paginators.pop(target.id, None)
            else:
                self.shapes[target.id] = shape
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.bind(elt, None)

    def page_iterator_of(self, node: ast.AST) -> _Op | None:
        """The operation paged by `node`: ``paginator.paginate(...)`` or a name bound to it."""
        if isinstance(node, ast.Name):
            return self.page_iterators.get(node.id)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "paginate"
        ):
            return self.paginator_of(node.func.value)
        return None

    def iter_shape(self, node: ast.AST) -> Shape | None:
        """The shape of each item when iterating `node`."""
        pages = self.page_iterator_of(node)
        if pages is not None:
            return bi.operation_model(pages.service, pages.operation).output_shape  # type: ignore[union-attr]
        shape = self.shape_of(node)
        if shape is not None and shape.type_name == "list":
            return shape.member  # type: ignore[attr-defined]
        return None

    # -------------------------------------------------------------- statements

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        pag = None
        value = node.value
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "get_paginator"
        ):
            pag = self.paginator_of(value)
        pages = self.page_iterator_of(value) if isinstance(value, ast.Call) else None
        for target in node.targets:
            self.visit(target)
            if isinstance(target, ast.Name):
                self.page_iterators.pop(target.id, None)
            if pag is not None and isinstance(target, ast.Name):
                self.paginators[target.id] = pag
                self.shapes.pop(target.id, None)
            elif pages is not None and isinstance(target, ast.Name):
                self.page_iterators[target.id] = pages
                self.shapes.pop(target.id, None)
            elif isinstance(target, ast.Name) and target.id in self.clients:
                continue
            else:
                self.bind(target, self.shape_of(value))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.bind(node.target, self.shape_of(node.value))

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.bind(node.target, self.iter_shape(node.iter))
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    def _visit_comprehension(self, node: ast.AST, results: list[ast.AST]) -> None:
        saved = dict(self.shapes)
        for gen in node.generators:  # type: ignore[attr-defined]
            self.visit(gen.iter)
            self.bind(gen.target, self.iter_shape(gen.iter))
            for cond in gen.ifs:
                self.visit(cond)
        for res in results:
            self.visit(res)
        self.shapes = saved

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._visit_comprehension(node, [node.elt])

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._visit_comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._visit_comprehension(node, [node.elt])

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._visit_comprehension(node, [node.key, node.value])

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        saved = dict(self.shapes)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            self.shapes.pop(arg.arg, None)
        for stmt in node.body:
            self.visit(stmt)
        self.shapes = saved

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    # -------------------------------------------------------------- expressions

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.generic_visit(node)
        self.shape_of(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        svc = self.client_of(node.value)
        if svc is not None:
            methods = bi.python_methods(svc)
            if node.attr not in methods and node.attr not in CLIENT_HELPERS:
                close = difflib.get_close_matches(node.attr, list(methods), n=3)
                self.problem(
                    node,
                    f"{svc} client has no method {node.attr!r}"
                    + (f" (closest: {', '.join(close)})" if close else ""),
                )
            return
        inner = node.value
        if isinstance(inner, ast.Attribute) and inner.attr == "exceptions":
            svc = self.client_of(inner.value)
            model = bi.service_model(svc) if svc else None
            if model is not None:
                errors = {s.name for s in model.error_shapes}
                if node.attr not in errors and node.attr != "ClientError":
                    close = difflib.get_close_matches(node.attr, sorted(errors), n=3)
                    self.problem(
                        node,
                        f"{svc} has no exception {node.attr!r}"
                        + (f" (closest: {', '.join(close)})" if close else ""),
                    )

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if _is_output_call(func) and any(
            id(sub) in self.secret_reads for arg in node.args for sub in ast.walk(arg)
        ):
            self.problem(
                node,
                "prints a secret AWS returned (password, secret key, token): hand it over "
                "through a secure channel, never stdout or logs",
            )
        if not isinstance(func, ast.Attribute):
            return
        svc = self.client_of(func.value)
        if svc is not None:
            self.check_client_call(node, svc, func.attr)
            return
        if isinstance(func.value, ast.Name) and func.attr in self.used_methods():
            self.problem(
                node,
                f"{func.value.id}.{func.attr}(...) is called on something that is not a boto3 "
                "client created in the snippet, so it cannot be checked: create clients with "
                "boto3.client('svc') and use them by that name",
            )
            return
        if func.attr == "paginate":
            pag = self.paginator_of(func.value)
            if pag:
                self.check_kwargs(node, pag, extra={"PaginationConfig"}, pageable_ok=True)
        elif func.attr == "wait" and isinstance(func.value, ast.Name):
            waiter = self.waiters.get(func.value.id)
            if waiter:
                self.check_kwargs(node, _Op(*waiter), extra={"WaiterConfig"}, pageable_ok=True)
        elif func.attr in ("resource", "Resource") and _is_boto3(func.value):
            self.problem(node, "boto3 resources are not model-checked: use boto3.client(...)")

    def check_client_call(self, node: ast.Call, svc: str, method: str) -> None:
        methods = bi.python_methods(svc)
        if method == "get_paginator":
            name = _const_str(node.args[0]) if node.args else None
            if name is None:
                self.problem(node, "get_paginator needs a literal operation name")
                return
            op = methods.get(name)
            if op is None or op not in bi.paginators(svc):
                self.problem(node, f"{svc} has no paginator {name!r}")
        elif method == "get_waiter":
            name = _const_str(node.args[0]) if node.args else None
            names = {xform_name(w): w for w in bi.waiters(svc)}
            if name is None or name not in names:
                self.problem(node, f"{svc} has no waiter {name!r}")
        elif method in methods:
            self.check_kwargs(node, _Op(svc, methods[method]), extra=set(), pageable_ok=False)

    def check_kwargs(self, node: ast.Call, op: _Op, extra: set[str], pageable_ok: bool) -> None:
        model = bi.operation_model(op.service, op.operation)
        assert model is not None
        method = xform_name(op.operation)
        if not pageable_ok and op.operation in bi.paginators(op.service):
            self.problem(
                node,
                f"{method} is pageable: iterate client.get_paginator({method!r}).paginate(...) "
                "so no page is missed",
            )
        if node.args:
            self.problem(node, f"{method} takes keyword arguments only")
        shape = model.input_shape
        members = dict(shape.members) if shape is not None else {}  # type: ignore[attr-defined]
        given = {kw.arg for kw in node.keywords if kw.arg is not None}
        has_splat = any(kw.arg is None for kw in node.keywords)
        for kw in node.keywords:
            if kw.arg is None or kw.arg in extra:
                continue
            if kw.arg not in members:
                close = difflib.get_close_matches(kw.arg, list(members), n=3)
                self.problem(
                    node,
                    f"{method} has no parameter {kw.arg!r}"
                    + (f" (closest: {', '.join(close)})" if close else ""),
                )
                continue
            if is_secret_member(kw.arg, members[kw.arg]) and _has_literal_string(kw.value):
                self.problem(
                    node,
                    f"{method}({kw.arg}=...) is a secret passed as a string literal: "
                    "read it with getpass.getpass() or from the environment",
                )
            self.check_value(kw.value, members[kw.arg], f"{method}({kw.arg})")
        if not has_splat and shape is not None:
            for req in shape.required_members:  # type: ignore[attr-defined]
                if req not in given:
                    self.problem(node, f"{method} is missing required parameter {req!r}")

    def check_value(self, node: ast.AST, shape: Shape, where: str) -> None:
        """Check a literal argument against its input shape: keys, enums, scalar types."""
        kind = shape.type_name
        if isinstance(node, ast.Constant):
            self._check_constant(node, shape, where)
        elif isinstance(node, ast.Dict):
            if kind == "map":
                for value in node.values:
                    self.check_value(value, shape.value, f"{where}[...]")  # type: ignore[attr-defined]
            elif kind == "structure":
                self._check_struct_literal(node, shape, where)
            else:
                self.problem(node, f"{where} must be a {kind}, not a dict")
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            if kind != "list":
                self.problem(node, f"{where} must be a {kind}, not a list")
                return
            for elt in node.elts:
                if not isinstance(elt, ast.Starred):
                    self.check_value(elt, shape.member, f"{where}[]")  # type: ignore[attr-defined]

    def _check_constant(self, node: ast.Constant, shape: Shape, where: str) -> None:
        value, kind = node.value, shape.type_name
        if value is None:
            return
        if kind == "string":
            if not isinstance(value, str):
                self.problem(node, f"{where} must be a string, not {value!r}")
            elif shape.enum and value not in shape.enum:  # type: ignore[attr-defined]
                self.problem(
                    node,
                    f"{where}={value!r} is not an allowed value ({', '.join(shape.enum[:12])})",  # type: ignore[attr-defined]
                )
        elif kind == "boolean" and not isinstance(value, bool):
            self.problem(node, f"{where} must be True or False, not {value!r}")
        elif kind in ("integer", "long") and (
            isinstance(value, bool) or not isinstance(value, int)
        ):
            self.problem(node, f"{where} must be an integer, not {value!r}")
        elif kind in ("structure", "list", "map"):
            self.problem(node, f"{where} must be a {kind}, not {value!r}")

    def _check_struct_literal(self, node: ast.Dict, shape: Shape, where: str) -> None:
        members = shape.members  # type: ignore[attr-defined]
        given: set[str] = set()
        dynamic = False
        for key_node, value in zip(node.keys, node.values, strict=True):
            key = _const_str(key_node) if key_node is not None else None
            if key is None:
                dynamic = True
                continue
            if key not in members:
                close = difflib.get_close_matches(key, list(members), n=3)
                self.problem(
                    node,
                    f"{where} has no key {key!r}"
                    + (
                        f" (closest: {', '.join(close)})"
                        if close
                        else f" (keys: {', '.join(members)})"
                    ),
                )
                continue
            given.add(key)
            self.check_value(value, members[key], f"{where}.{key}")
        if not dynamic:
            missing = [m for m in shape.required_members if m not in given]  # type: ignore[attr-defined]
            if missing:
                self.problem(node, f"{where} is missing required key(s) {missing}")


def _is_output_call(func: ast.AST) -> bool:
    """print(...), logging.info(...), logger.warning(...), sys.stdout.write(...)."""
    if isinstance(func, ast.Name):
        return func.id == "print"
    if isinstance(func, ast.Attribute):
        return func.attr in {"debug", "info", "warning", "error", "critical", "exception", "write"}
    return False


def _const_str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _has_literal_string(node: ast.AST) -> bool:
    """True for a literal string, an f-string with literal text, or a concatenation of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return bool(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and v.value for v in node.values)
    if isinstance(node, ast.BinOp):
        return _has_literal_string(node.left) or _has_literal_string(node.right)
    return False


def _is_boto3(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "boto3"


def _client_service(call: ast.AST) -> str | None:
    """The service name of a `<anything>.client("svc", ...)` call, else None."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    if call.func.attr != "client":
        return None
    if call.args:
        return _const_str(call.args[0])
    for kw in call.keywords:
        if kw.arg == "service_name":
            return _const_str(kw.value)
    return None


def find_clients(tree: ast.AST) -> tuple[dict[str, str], list[str]]:
    """Variables bound to boto3 clients (name -> service) and problems with their services."""
    clients: dict[str, str] = {}
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            svc = _client_service(node.value)
            if svc is None:
                continue
            if bi.service_model(svc) is None:
                close = difflib.get_close_matches(svc, list(bi.services()), n=3)
                problems.append(
                    f"line {node.lineno}: no AWS service {svc!r}"
                    + (f" (closest: {', '.join(close)})" if close else "")
                )
                continue
            for target in node.targets:
                if isinstance(target, ast.Name):
                    clients[target.id] = svc
    return clients, problems


def check_snippet(code: str) -> list[str]:
    """Problems with a boto3 snippet: syntax, client methods, parameters, pages, response keys."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: does not compile: {exc.msg}"]
    clients, problems = find_clients(tree)
    if not clients and not problems:
        problems.append("creates no boto3 client (boto3.client('svc') or session.client('svc'))")
    checker = _SnippetChecker(clients)
    # Waiters: name -> (service, operation) of the waiter's polling operation.
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "get_waiter"
        ):
            svc = checker.client_of(node.value.func.value)
            name = _const_str(node.value.args[0]) if node.value.args else None
            if svc and name:
                waiters = {xform_name(w): w for w in bi.waiters(svc)}
                if name in waiters:
                    wmodel = bi.session().get_waiter_model(svc).get_waiter(waiters[name])
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            checker.waiters[target.id] = (svc, wmodel.operation)
    for stmt in tree.body:
        checker.visit(stmt)
    return problems + checker.problems


def top_level_constants(code: str) -> dict[str, int]:
    """UPPER_CASE names assigned at the top level of a snippet -> line number."""
    tree = ast.parse(code)
    out: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    out.setdefault(target.id, node.lineno)
    return out


# ------------------------------------------------------------------ moto blocks

_PLACEHOLDER_ONLY = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")


def _check_data(value: Any, shape: Shape, where: str) -> list[str]:
    """Check YAML data (setup/expect args) against an input shape: keys and required keys."""
    if isinstance(value, str) and _PLACEHOLDER_ONLY.match(value):
        return []  # filled at run time; its type is the saved value's
    kind = shape.type_name
    problems: list[str] = []
    if isinstance(value, dict):
        if kind == "map":
            for k, v in value.items():
                problems += _check_data(v, shape.value, f"{where}.{k}")  # type: ignore[attr-defined]
        elif kind == "structure":
            members = shape.members  # type: ignore[attr-defined]
            for k, v in value.items():
                if k not in members:
                    problems.append(f"{where} has no key {k!r} (keys: {', '.join(members)})")
                else:
                    problems += _check_data(v, members[k], f"{where}.{k}")
            missing = [m for m in shape.required_members if m not in value]  # type: ignore[attr-defined]
            if missing:
                problems.append(f"{where} is missing required key(s) {missing}")
        else:
            problems.append(f"{where} must be a {kind}, not a mapping")
    elif isinstance(value, list):
        if kind != "list":
            problems.append(f"{where} must be a {kind}, not a list")
        else:
            for item in value:
                problems += _check_data(item, shape.member, f"{where}[]")  # type: ignore[attr-defined]
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{where} must be true or false, not {value!r}")
    elif kind in ("integer", "long") and (isinstance(value, bool) or not isinstance(value, int)):
        problems.append(f"{where} must be an integer, not {value!r}")
    elif kind == "string" and isinstance(value, str) and "{" not in value:
        enum = shape.enum  # type: ignore[attr-defined]
        if enum and value not in enum:
            problems.append(f"{where}={value!r} is not an allowed value ({', '.join(enum[:12])})")
    return problems


def check_call_data(call: str, args: dict[str, Any]) -> list[str]:
    """Problems with a ``"service.method"`` call and its args, as written in a moto block."""
    service, _, method = call.partition(".")
    model = bi.service_model(service)
    if model is None:
        return [f"{call}: no AWS service {service!r}"]
    op = bi.python_methods(service).get(method)
    if op is None:
        close = difflib.get_close_matches(method, list(bi.python_methods(service)), n=3)
        return [f"{call}: no such method" + (f" (closest: {', '.join(close)})" if close else "")]
    shape = model.operation_model(op).input_shape
    if shape is None:
        return [f"{call} takes no arguments"] if args else []
    return _check_data(args, shape, call)


def check_moto_block(snippet: Boto3Snippet) -> list[str]:
    """Problems with a snippet's moto block: setup and expect calls against botocore,
    JMESPath expressions that do not compile, and bindings to constants that do not exist."""
    run = snippet.moto
    problems: list[str] = []
    for i, step in enumerate(run.setup, 1):
        problems += [f"setup {i}: {p}" for p in check_call_data(step.call, step.args)]
        for name, path in step.save.items():
            problems += [f"setup {i}: save {name}: {p}" for p in _jmespath_problems(path)]
    for i, exp in enumerate(run.expect, 1):
        problems += [f"expect {i}: {p}" for p in check_call_data(exp.call, exp.args)]
        problems += [f"expect {i}: {p}" for p in _jmespath_problems(exp.path)]
    try:
        constants = top_level_constants(snippet.code)
    except SyntaxError:
        constants = {}
    for const in run.bind:
        if const not in constants:
            problems.append(f"bind: {const} is not a top-level UPPER_CASE constant of the snippet")
    return problems


def _jmespath_problems(path: str) -> list[str]:
    try:
        jmespath.compile(path)
    except jmespath.exceptions.JMESPathError as exc:
        return [f"JMESPath {path!r} does not compile: {exc}"]
    return []


def snippet_operations(code: str) -> set[tuple[str, str]]:
    """``(service, operation)`` pairs a snippet calls on its clients (directly or paged)."""
    tree = ast.parse(code)
    clients, _ = find_clients(tree)
    out: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        if not (isinstance(target, ast.Name) and target.id in clients):
            continue
        svc = clients[target.id]
        name = node.func.attr
        if name == "get_paginator" and node.args:
            name = _const_str(node.args[0]) or ""
        op = bi.python_methods(svc).get(name)
        if op:
            out.add((svc, op))
    return out


def snippet_changes_state(code: str) -> bool:
    """Whether a snippet calls an operation that is not read-only (inferred from its name)."""
    return any(not bi.is_read_only(op) for _, op in snippet_operations(code))
