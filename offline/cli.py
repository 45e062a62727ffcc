"""How the project's commands are named in their usage text, and how they end: an exit status, and no
traceback when the reader has gone."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

COMMAND_PREFIX = "login-monitoring-"


def program(module: str) -> str:
    """The command as it was typed: the installed one (login-monitoring-replay), else python -m <module>."""
    invoked = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return invoked if invoked.startswith(COMMAND_PREFIX) else f"python -m {module}"


def run(main: Callable[[], int]) -> None:
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # `plan dev | head -1`: the reader closed the pipe. Point stdout at /dev/null so the
        # interpreter's final flush cannot fail again, and end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)


# botocore's errors that mean no call can succeed as things are set up, whatever the call: what to fix, by name.
_SETUP_PROBLEMS = {
    "NoCredentialsError": "no AWS credentials found: sign in first (aws sso login, aws configure, or set AWS_PROFILE)",
    "PartialCredentialsError": "the AWS credentials are incomplete ({error}): check AWS_PROFILE or the AWS_* variables",
    "CredentialRetrievalError": "the AWS credentials could not be loaded ({error}): check AWS_PROFILE",
    "ProfileNotFound": "{error}: set AWS_PROFILE to a profile in ~/.aws/config",
    "TokenRetrievalError": "the AWS SSO session has ended ({error}): run aws sso login",
    "SSOTokenLoadError": "the AWS SSO session has ended ({error}): run aws sso login",
    "UnauthorizedSSOTokenError": "the AWS SSO session has ended ({error}): run aws sso login",
    "NoRegionError": "no AWS Region: set AWS_REGION (or pass the command's --region)",
    "EndpointConnectionError": "cannot reach AWS ({error}): check the network and the Region",
    "ConnectTimeoutError": "cannot reach AWS ({error}): check the network and the Region",
}


def cannot_reach_aws(error: BaseException) -> bool:
    """True when no AWS call can succeed as things are set up: boto3 missing, no credentials, no Region."""
    if isinstance(error, ModuleNotFoundError):
        return error.name in ("boto3", "botocore")
    return _from_botocore(error) and type(error).__name__ in _SETUP_PROBLEMS


def aws_problem(error: BaseException) -> str | None:
    """One line naming what to fix for a failed AWS call, or None when the error is not about AWS at all."""
    if isinstance(error, ModuleNotFoundError) and error.name in ("boto3", "botocore"):
        return "boto3 is not installed: python -m pip install '.[aws]'"
    if not _from_botocore(error):
        return None
    name = type(error).__name__
    text = " ".join(str(error).split())
    if name in _SETUP_PROBLEMS:
        return _SETUP_PROBLEMS[name].format(error=text)
    if name == "ClientError":
        details = getattr(error, "response", {}).get("Error", {})
        operation = getattr(error, "operation_name", "the call")
        return f"AWS refused {operation}: {details.get('Code', '?')}: {details.get('Message', text)}"
    return text


def fail_on_aws_problem(error: Exception) -> int:
    """Print the one line naming what to fix for a failed AWS call and give exit status 1; anything that
    is not about AWS is raised again, traceback and all."""
    problem = aws_problem(error)
    if problem is None:
        raise error
    print(f"error: {problem}", file=sys.stderr)
    return 1


def _from_botocore(error: BaseException) -> bool:
    return any(cls.__module__.split(".")[0] in ("botocore", "boto3") for cls in type(error).__mro__)
