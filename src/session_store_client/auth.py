"""How requests prove who sends them: SigV4 signing with botocore's own signer (auth="iam"), or a
bearer token (auth="jwt").

Credentials come from botocore's default chain (environment, shared config and credentials files,
SSO, container and instance roles) and are re-read per request so refreshed role credentials are
picked up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

SERVICE_NAME = "execute-api"
# https://{api-id}.execute-api.{region}.amazonaws.com[.cn]
_EXECUTE_API_HOST = re.compile(r"^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def region_from_host(url: str) -> str | None:
    match = _EXECUTE_API_HOST.match(urlsplit(url).hostname or "")
    return match.group(1) if match else None


class SigV4Signer:
    def __init__(self, credentials: Any, region: str) -> None:
        self._credentials = credentials
        self.region = region

    @classmethod
    def from_default_chain(cls, base_url: str, region: str | None = None) -> SigV4Signer:
        """A signer with botocore's default credentials.

        The region is the argument, else the one in an execute-api host name, else botocore's
        configured region. The host wins over the configured default because it names the region
        the API actually lives in; a custom domain name carries none, hence the fallback.
        """
        session = botocore.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise ValueError("auth='iam' needs AWS credentials, and botocore's default chain found none")
        region = region or region_from_host(base_url) or session.get_config_variable("region")
        if not region:
            raise ValueError("auth='iam' needs a region: pass region=..., or configure a default AWS region")
        return cls(credentials, region)

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        """The headers to send: the given ones plus Authorization, X-Amz-Date (and the session token)."""
        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
        SigV4Auth(self._credentials.get_frozen_credentials(), SERVICE_NAME, self.region).add_auth(request)
        return dict(request.headers.items())


TokenSource = str | Callable[[], str]


class BearerToken:
    """JWT auth (a stack deployed with auth=jwt): `Authorization: Bearer <token>` on every request.

    `token` is a token (e.g. a Cognito ID token) or a callable returning the current one. The
    callable is asked before every attempt, so a provider that refreshes expiring tokens (a
    Cognito refresh-token flow, an identity provider's SDK) keeps a long-lived client working.
    """

    def __init__(self, token: TokenSource):
        if not callable(token) and not (isinstance(token, str) and token.strip()):
            raise ValueError("auth='jwt' needs token=... (a token string, or a callable returning one)")
        self._token = token

    def current(self) -> str:
        token = self._token() if callable(self._token) else self._token
        if not isinstance(token, str) or not token.strip():
            raise ValueError("the token provider returned no token")
        return token.strip()

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        return {**headers, "Authorization": f"Bearer {self.current()}"}
