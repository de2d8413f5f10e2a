"""Exceptions raised by the autokitteh SDK (names as in AutoKitteh's SDK)."""

__all__ = [
    "AutoKittehError",
    "ConnectionInitError",
    "EnvVarError",
    "OAuthRefreshError",
    "AtlassianOAuthError",
]


class AutoKittehError(Exception):
    """Base class of every error the SDK raises."""


class ConnectionInitError(AutoKittehError):
    """A connection is used before it was initialised."""

    def __init__(self, connection):
        super().__init__(f"AutoKitteh connection {connection!r} not initialized")


class EnvVarError(AutoKittehError):
    """A required environment variable is missing or invalid."""

    def __init__(self, env_var, desc):
        super().__init__(f"Environment variable {env_var!r} is {desc}")


class OAuthRefreshError(AutoKittehError):
    """Refreshing a connection's OAuth token failed."""

    def __init__(self, connection, error):
        super().__init__(f"OAuth refresh failed for {connection!r} connection: {error}")


class AtlassianOAuthError(AutoKittehError):
    """An Atlassian connection's OAuth setup is incomplete."""

    def __init__(self, connection):
        super().__init__(f"Atlassian OAuth error for {connection!r} connection")
