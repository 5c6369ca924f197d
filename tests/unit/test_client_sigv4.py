"""auth="iam": requests carry a SigV4 signature (service execute-api) that matches what was sent."""

from __future__ import annotations

import re

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from session_store_client import SessionStoreClient
from session_store_client.auth import SigV4Signer, region_from_host
from tests.support.http_server import serve
from tests.support.scripted_server import Reply, ScriptedServer

ACCESS_KEY, SECRET_KEY, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials in the environment, and no other source botocore could find."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _expected_signature(base_url: str, recorded, region: str, signed_headers: str) -> str:
    """Re-sign the request exactly as the server received it, at the time it was signed."""
    url = base_url + recorded.raw_path + (f"?{recorded.query}" if recorded.query else "")
    headers = {name: value for name, value in recorded.headers.items() if name.lower() in signed_headers.split(";")}
    request = AWSRequest(method=recorded.method, url=url, data=recorded.body, headers=headers)
    request.context["timestamp"] = recorded.headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, TOKEN), "execute-api", region)
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.get_session("a#b/ c", user_id="u 1"),
        lambda client: client.put_session("..", {"session_type": "agent", "session_data": {"ü": 1.5}}),
        lambda client: client.patch_session("s", {"metadata": {"k": None}}, if_match='"2"'),
    ],
)
def test_iam_requests_carry_a_valid_signature(aws_env, call):
    server = ScriptedServer(Reply(200, {"session_id": "s"}))
    with serve(server) as url:
        call(SessionStoreClient(url, auth="iam", region="eu-west-1"))
    recorded = server.requests[0]
    match = AUTHORIZATION.match(recorded.headers["Authorization"])
    assert match, recorded.headers["Authorization"]
    assert (match["key"], match["region"], match["service"]) == (ACCESS_KEY, "eu-west-1", "execute-api")
    assert match["date"] == recorded.headers["X-Amz-Date"][:8]
    assert recorded.headers["X-Amz-Security-Token"] == TOKEN
    assert "host" in match["signed"].split(";")
    assert match["signature"] == _expected_signature(url, recorded, "eu-west-1", match["signed"])


def test_each_retry_is_signed_afresh(aws_env):
    server = ScriptedServer(Reply.problem(503, "Service Unavailable"), Reply(200, {"session_id": "s"}))
    with serve(server) as url:
        client = SessionStoreClient(url, auth="iam", region="eu-west-1")
        client._transport.retry_policy.sleep = lambda seconds: None
        client.get_session("s")
    assert [("Authorization" in request.headers) for request in server.requests] == [True, True]


def test_without_auth_nothing_is_signed():
    server = ScriptedServer(Reply(200, {"session_id": "s"}))
    with serve(server) as url:
        SessionStoreClient(url).get_session("s")
    assert "Authorization" not in server.requests[0].headers
    assert "X-Amz-Date" not in server.requests[0].headers


def test_region_comes_from_the_execute_api_host(aws_env):
    signer = SigV4Signer.from_default_chain("https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod")
    assert signer.region == "ap-southeast-2"


def test_region_argument_wins(aws_env):
    signer = SigV4Signer.from_default_chain("https://abc123.execute-api.ap-southeast-2.amazonaws.com", "us-west-2")
    assert signer.region == "us-west-2"


def test_region_falls_back_to_botocore_configuration(aws_env):
    aws_env.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    assert SigV4Signer.from_default_chain("https://sessions.example.com").region == "ca-central-1"


def test_no_region_anywhere_is_an_error(aws_env):
    with pytest.raises(ValueError, match="region"):
        SessionStoreClient("https://sessions.example.com", auth="iam")


def test_no_credentials_is_an_error(aws_env):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        aws_env.delenv(name)
    with pytest.raises(ValueError, match="credentials"):
        SessionStoreClient("https://abc.execute-api.eu-west-1.amazonaws.com", auth="iam")


@pytest.mark.parametrize(
    "url, region",
    [
        ("https://abc.execute-api.eu-west-1.amazonaws.com/prod/", "eu-west-1"),
        ("https://abc.execute-api.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("https://abc-vpce-123.execute-api.us-east-1.vpce.amazonaws.com", None),
        ("http://127.0.0.1:3000", None),
        ("https://api.example.com", None),
    ],
)
def test_region_from_host(url, region):
    assert region_from_host(url) == region
