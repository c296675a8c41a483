"""Token verification: only a token signed by the pool, for our app client, unexpired, is used."""
from __future__ import annotations

import base64
import gzip
import importlib.resources
import json
import time

import jwt
import pytest

from archpal_desktop.core.auth import tokens
from archpal_desktop.core.auth import AuthSession
from archpal_desktop.core.auth.tokens import JwksCache, TokenError
from tests.auth.conftest import PASSWORD


def _moto_private_key():
    """moto signs every pool's tokens with this bundled key; we use it to mint tokens whose
    signature is valid but whose claims are not (expired, wrong client)."""
    raw = importlib.resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz")
    doc = json.loads(gzip.decompress(raw.read_bytes()))
    return jwt.PyJWK(doc).key


def _signed_in(pool, student):
    s = AuthSession(pool.settings())
    s.sign_in(student[0], PASSWORD)
    return s


def _claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def _mint(claims, **changes):
    return jwt.encode({**claims, **changes}, _moto_private_key(), algorithm="RS256",
                      headers={"kid": "dummy"})


def test_good_tokens_verify_and_jwks_is_cached_for_offline(pool, student, tmp_path):
    s = _signed_in(pool, student)
    cache = s.data_dir / "jwks" / f"{pool.pool_id}.json"
    assert cache.exists() and oct(cache.stat().st_mode & 0o777) == "0o600"
    offline = JwksCache("us-east-1", pool.pool_id, s.data_dir / "jwks")
    claims = tokens.verify(s._id_token, jwks=offline, client_id=pool.client_id, token_use="id")
    assert claims["sub"] == student[1]


def test_tampered_token_refused(pool, student):
    s = _signed_in(pool, student)
    head, body, sig = s._id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = "someone-else"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        tokens.verify(f"{head}.{forged_body}.{sig}", jwks=s.jwks, client_id=pool.client_id, token_use="id")


def test_expired_token_refused(pool, student):
    s = _signed_in(pool, student)
    old = _mint(_claims_of(s._id_token), exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(old, jwks=s.jwks, client_id=pool.client_id, token_use="id")


def test_token_for_another_app_client_refused(pool, student):
    s = _signed_in(pool, student)
    other = AuthSession(pool.settings(cognito_client_id=pool.other_client_id))
    other.sign_in(student[0], PASSWORD)  # a real token, issued to the other app client
    with pytest.raises(TokenError, match="different app"):
        tokens.verify(other._id_token, jwks=s.jwks, client_id=pool.client_id, token_use="id")
    with pytest.raises(TokenError, match="different app"):
        tokens.verify(other._access_token, jwks=s.jwks, client_id=pool.client_id, token_use="access")


def test_wrong_token_use_and_wrong_issuer_refused(pool, student):
    s = _signed_in(pool, student)
    with pytest.raises(TokenError):
        tokens.verify(s._access_token, jwks=s.jwks, client_id=pool.client_id, token_use="id")
    bad_iss = _mint(_claims_of(s._id_token), iss="https://evil.example/pool")
    with pytest.raises(TokenError, match="different user pool"):
        tokens.verify(bad_iss, jwks=s.jwks, client_id=pool.client_id, token_use="id")


def test_sign_in_refuses_when_the_pool_keys_do_not_match(pool, student, monkeypatch):
    """COGNITO_JWKS pins the keys (pycognito's variable): a pinned key that did not sign the
    token makes the sign-in fail instead of trusting it."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(other.public_key()))
    jwk.update(kid="dummy", alg="RS256")
    monkeypatch.setenv("COGNITO_JWKS", json.dumps({"keys": [jwk]}))
    with pytest.raises(TokenError):
        AuthSession(pool.settings()).sign_in(student[0], PASSWORD)
    assert AuthSession(pool.settings()).restore() is False  # nothing was stored
