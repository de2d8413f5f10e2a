"""HTTP connections: outgoing requests with a base URL and an
Authorization header kept in a connection's vars.

    client = autokitteh.http.http_client("api")
    r = client.get("/v1/items", params={"q": "x"})
    r.status, r.headers, r.body, r.text, r.json()

The connection (integration: http) has the vars base_url and, optionally,
auth_header (the whole Authorization value: "Bearer ..."); sessions see
them as <conn>__base_url and <conn>__auth_header. Requests are made with
the standard library's urllib.request, in the worker. Each request method
is an activity in durable sessions: it runs once, and replay returns the
recorded Response. HTTP error statuses come back as a Response (check
.ok or call .raise_for_status()); network failures raise AutoKittehError.
"""

import json as _json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

from . import activity
from .errors import AutoKittehError, ConnectionInitError

__all__ = ["http_client", "HTTPClient", "Response"]

_NAME = re.compile(r"^\w+$", re.ASCII)


class Response:
    """What a request returned; it pickles, so activities can record it."""

    def __init__(self, url, status, reason, headers, body):
        self.url = url
        self.status = status
        self.reason = reason
        self.headers = headers          # dict, last value of each name
        self.body = body                # bytes

    @property
    def ok(self):
        return 200 <= self.status < 400

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return _json.loads(self.body)

    def raise_for_status(self):
        if not self.ok:
            raise AutoKittehError(f"HTTP {self.status} {self.reason} from {self.url}")
        return self

    def __repr__(self):
        return f"<Response {self.status} {self.url}>"


class HTTPClient:
    """Requests relative to the connection's base_url."""

    def __init__(self, connection, base_url, auth_header=None, timeout=30):
        self.connection = connection
        self.base_url = base_url
        self.auth_header = auth_header
        self.timeout = timeout

    def url(self, path="", params=None):
        if path.startswith(("http://", "https://")):
            url = path
        elif path:
            url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        else:
            url = self.base_url
        if params:
            sep = "&" if urllib.parse.urlsplit(url).query else "?"
            url += sep + urllib.parse.urlencode(params, doseq=True)
        return url

    @activity
    def request(self, method, path="", *, params=None, headers=None,
                data=None, json=None, timeout=None):
        url = self.url(path, params)
        hdrs = {}
        if self.auth_header:
            hdrs["Authorization"] = self.auth_header
        if json is not None:
            data = _json.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        elif isinstance(data, dict):
            data = urllib.parse.urlencode(data, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(data, str):
            data = data.encode()
        hdrs.update(headers or {})
        req = urllib.request.Request(url, data=data, headers=hdrs,
                                     method=method.upper())
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as r:
                return Response(url, r.status, r.reason, dict(r.headers.items()), r.read())
        except urllib.error.HTTPError as e:
            return Response(url, e.code, e.reason, dict(e.headers.items()), e.read())
        except (urllib.error.URLError, OSError) as e:
            raise AutoKittehError(f"{method.upper()} {url}: {getattr(e, 'reason', e)}") from None

    @activity
    def get(self, path="", **kwargs):
        return self.request("GET", path, **kwargs)

    @activity
    def post(self, path="", **kwargs):
        return self.request("POST", path, **kwargs)

    @activity
    def put(self, path="", **kwargs):
        return self.request("PUT", path, **kwargs)

    @activity
    def patch(self, path="", **kwargs):
        return self.request("PATCH", path, **kwargs)

    @activity
    def delete(self, path="", **kwargs):
        return self.request("DELETE", path, **kwargs)


def http_client(connection: str, timeout: float = 30) -> HTTPClient:
    """A client for the http connection named connection."""
    if not isinstance(connection, str) or not _NAME.match(connection):
        raise ValueError(f"invalid connection name {connection!r}: letters, "
                         "digits and underscores")
    base = os.getenv(f"{connection}__base_url")
    if not base:
        raise ConnectionInitError(connection)
    if not base.startswith(("http://", "https://")):
        raise AutoKittehError(f"connection {connection!r}: base_url must start "
                              "with http:// or https://")
    return HTTPClient(connection, base, os.getenv(f"{connection}__auth_header") or None,
                      timeout)
