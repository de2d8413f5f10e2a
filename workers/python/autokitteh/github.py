"""GitHub connections (AutoKitteh's autokitteh.github).

github_client("<conn>") returns a PyGithub client authenticated with the
connection's pat var, which sessions see as the environment variable
<conn>__pat. PyGithub is not part of autokitteh-c: install python3-github
(or pip's PyGithub) where the worker runs. Its calls are not in the
deterministic allow-list, so in durable sessions each one is an activity.
"""

import os
import re

from .errors import AutoKittehError, ConnectionInitError

__all__ = ["github_client"]

_NAME = re.compile(r"^\w+$", re.ASCII)


def _check_connection_name(connection):
    if not isinstance(connection, str) or not _NAME.match(connection):
        raise ValueError(f"invalid connection name {connection!r}: letters, "
                         "digits and underscores")


def github_client(connection: str, **kwargs):
    """A github.Github client for the connection's personal access token."""
    _check_connection_name(connection)
    try:
        import github                   # PyGithub, not this module
    except ImportError:
        raise AutoKittehError("github_client needs PyGithub: install "
                              "python3-github") from None
    pat = os.getenv(f"{connection}__pat")
    if not pat:
        raise ConnectionInitError(connection)
    auth = getattr(github, "Auth", None)
    if auth is not None:
        return github.Github(auth=auth.Token(pat), **kwargs)
    return github.Github(login_or_token=pat, **kwargs)  # PyGithub < 1.59
