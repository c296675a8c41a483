"""AuthSession: every Cognito flow for one person on this computer (see core.auth's docstring).
The form checks live in core/auth/forms.py, the account flows (sign-up, password, MFA set-up) in
core/auth/session_account.py, the browser sign-in's part in core/auth/session_browser.py."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import tokens
from archpal_desktop.core.auth import accounts
from archpal_desktop.core.auth.forms import (EMAIL_RE, Challenge, check_code, check_email, need,
                                             normalize_email)
from archpal_desktop.core.auth.session_account import AccountFlowsMixin
from archpal_desktop.core.errors.cognito import CodeError, map_cognito
from archpal_desktop.core.auth.session_browser import BrowserSessionMixin
from archpal_desktop.core.aws import AwsAccess, static_access
from archpal_desktop.core.errors import (ArchPalError, AuthError, AuthExpiredError, ConfigError,
                                         OfflineError, mapped)
from archpal_desktop.core.auth.keystore import KeyStore
from archpal_desktop.core.layout import validate_sub

log = logging.getLogger(__name__)

#: renew the ID/access tokens this many seconds before they expire
RENEW_MARGIN = 300.0


class AuthSession(BrowserSessionMixin, AccountFlowsMixin):
    """One person's Cognito session on this computer. Thread-safe; blocking calls (network)."""

    def __init__(self, settings: cfg.Settings, keystore: KeyStore | None = None):
        self.settings = settings
        self.pool_id = settings[cfg.COGNITO_USER_POOL_ID]
        self.client_id = settings[cfg.COGNITO_CLIENT_ID]
        if not self.pool_id or not self.client_id:
            raise ConfigError("Sign-in is not set up on this computer.",
                              "Ask your IT administrator to set cognito_user_pool_id and "
                              "cognito_client_id.")
        self.region = settings.cognito_region()
        self.data_dir = Path(settings.data_dir())
        self.keystore = keystore or KeyStore()
        self.jwks = tokens.JwksCache(self.region, self.pool_id, self.data_dir / "jwks")
        # public app client, no AWS keys on a student's laptop: these calls are unsigned
        self._client = boto3.client(
            "cognito-idp", region_name=self.region,
            config=Config(signature_version=UNSIGNED, connect_timeout=3, read_timeout=15,
                          retries={"mode": "standard", "max_attempts": 3}))
        self._lock = threading.RLock()
        self.renew_margin = RENEW_MARGIN
        self._provider = None
        self._reset()

    def _reset(self) -> None:
        self.via = "password"  # how this session signed in: "password" (SRP) or "browser"
        self.revoked = False   # the last sign-out revoked the refresh token at Cognito
        self.sub: str | None = None
        self.email: str = ""
        self.id_claims: dict[str, Any] = {}
        self.access_claims: dict[str, Any] = {}
        self._id_token = ""
        self._access_token = ""
        self._refresh_token = ""
        self._access: AwsAccess | None = None

    # -- state ------------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        """A user is known and has a session (possibly not yet renewed: offline start)."""
        return bool(self.sub and self._refresh_token)

    @property
    def offline_only(self) -> bool:
        """The last user's cache is open without a session (``open_offline``)."""
        return bool(self.sub and not self._refresh_token)

    @property
    def verified(self) -> bool:
        """Tokens were verified in this run (we have been online since the start)."""
        return bool(self.id_claims)

    @property
    def notice(self) -> str:
        return self.keystore.notice

    def __repr__(self) -> str:  # never the tokens
        return f"<AuthSession sub={self.sub!r} email={self.email!r} verified={self.verified}>"

    def _account(self, sub: str) -> str:
        return KeyStore.account(self.pool_id, sub)

    def _pyc(self, username: str | None = None) -> Cognito:
        cog = Cognito(self.pool_id, self.client_id, user_pool_region=self.region, username=username,
                      botocore_config=Config(signature_version=UNSIGNED))
        cog.client = self._client
        return cog

    def _call(self, step: str, fn, *args, **kwargs):
        try:
            # the library's text may quote a token: not kept as the cause
            with mapped("cognito", step=step, keep_cause=False):
                return fn(*args, **kwargs)
        except ArchPalError as err:
            log.info("%s refused: %s", step, err.code)
            raise

    # -- sign in ----------------------------------------------------------------------------
    def sign_in(self, email: str, password: str) -> "AuthSession | Challenge":
        email = check_email(self.settings, email)
        need(password, "your password", "password")
        srp = AWSSRP(username=email, password=password, pool_id=self.pool_id,
                     client_id=self.client_id, client=self._client)

        def run():
            params = srp.get_auth_params()
            first = self._client.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=params,
                                               ClientId=self.client_id)
            if first.get("ChallengeName") != "PASSWORD_VERIFIER":
                raise AuthError(f"The sign-in service asked for an unsupported step "
                                f"({first.get('ChallengeName')}).")
            answer = srp.process_challenge(first["ChallengeParameters"], params)
            return self._client.respond_to_auth_challenge(
                ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER",
                ChallengeResponses=answer), answer["USERNAME"]

        resp, username = self._call("sign_in", run)
        return self._next(resp, email, username)

    def _next(self, resp: dict, email: str, username: str) -> "AuthSession | Challenge":
        if "AuthenticationResult" in resp:
            self._accept(resp["AuthenticationResult"], email)
            return self
        name = resp.get("ChallengeName") or ""
        params = resp.get("ChallengeParameters") or {}
        username = params.get("USERNAME") or username
        if name in ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA", "SMS_MFA"):
            return Challenge(name, email, session=resp.get("Session", ""), username=username)
        if name == "MFA_SETUP":
            can = params.get("MFAS_CAN_SETUP") or ""
            if "SOFTWARE_TOKEN_MFA" not in str(can):
                raise AuthError("Your account must set up text-message codes, which ArchPal "
                                "Desktop does not support.",
                                "Ask your IT administrator to allow an authenticator app.")
            assoc = self._call("mfa_setup", self._client.associate_software_token,
                               Session=resp["Session"])
            secret = assoc["SecretCode"]
            uri = (f"otpauth://totp/ArchPal:{quote(email)}?secret={secret}&issuer=ArchPal")
            return Challenge(name, email, secret_code=secret, otpauth_uri=uri,
                             session=assoc.get("Session") or resp["Session"], username=username)
        raise AuthError(f"The sign-in service asked for an unsupported step ({name or 'none'}).",
                        "Ask your IT administrator.")

    def answer_challenge(self, challenge: Challenge, answer: str) -> "AuthSession | Challenge":
        name = challenge.name
        if name == "NEW_PASSWORD_REQUIRED":
            need(answer, "a new password", "new_password")
            resp = self._call("new_password", self._client.respond_to_auth_challenge,
                              ClientId=self.client_id, ChallengeName=name, Session=challenge.session,
                              ChallengeResponses={"USERNAME": challenge.username,
                                                  "NEW_PASSWORD": answer})
        elif name in ("SOFTWARE_TOKEN_MFA", "SMS_MFA"):
            code = check_code(answer)
            resp = self._call("mfa_code", self._client.respond_to_auth_challenge,
                              ClientId=self.client_id, ChallengeName=name, Session=challenge.session,
                              ChallengeResponses={"USERNAME": challenge.username,
                                                  f"{name}_CODE": code})
        elif name == "MFA_SETUP":
            code = check_code(answer)
            verified = self._call("mfa_code", self._client.verify_software_token,
                                  Session=challenge.session, UserCode=code,
                                  FriendlyDeviceName="ArchPal Desktop")
            if verified.get("Status") != "SUCCESS":
                raise CodeError(field="code")
            resp = self._call("mfa_setup", self._client.respond_to_auth_challenge,
                              ClientId=self.client_id, ChallengeName="MFA_SETUP",
                              Session=verified.get("Session") or challenge.session,
                              ChallengeResponses={"USERNAME": challenge.username})
        else:
            raise AuthError(f"Unknown sign-in step {name!r}.")
        return self._next(resp, challenge.email, challenge.username)

    # -- tokens -----------------------------------------------------------------------------
    def _accept(self, result: dict, email: str, *, nonce: str | None = None,
                via: str | None = None, expect_sub: str | None = None) -> None:
        """Verify freshly issued tokens, then adopt them; nothing is used before this."""
        try:
            id_claims = tokens.verify(result["IdToken"], jwks=self.jwks, client_id=self.client_id,
                                      token_use="id")
            if nonce is not None:
                from archpal_desktop.core.auth.oidc import check_nonce

                check_nonce(id_claims, nonce)
            access_claims = tokens.verify(result["AccessToken"], jwks=self.jwks,
                                          client_id=self.client_id, token_use="access")
        except KeyError:
            raise tokens.TokenError() from None
        if id_claims["sub"] != access_claims["sub"]:
            raise tokens.TokenError()
        sub = validate_sub(id_claims["sub"])
        if expect_sub and sub != expect_sub:
            # a browser's sign-in page may remember someone else (a shared lab computer): never
            # let another account take over a window holding this person's conversations
            other = id_claims.get("email") if isinstance(id_claims.get("email"), str) else ""
            raise AuthError(f"The sign-in page signed in another account{f' ({other})' if other else ''}, "
                            f"not {self.email or 'the one open here'}.",
                            "Sign out of ArchPal to switch accounts; or sign in again as "
                            f"{self.email or 'yourself'} (sign out of the other account on the "
                            "sign-in page first).")
        with self._lock:
            if self.sub != sub:
                self._access, self.email = None, ""
            self.sub = sub
            self.id_claims, self.access_claims = id_claims, access_claims
            self._id_token, self._access_token = result["IdToken"], result["AccessToken"]
            if result.get("RefreshToken"):
                self._refresh_token = result["RefreshToken"]
            if via:
                self.via = via
            self.email = self._email_from(id_claims, email)
            self.keystore.set(self._account(sub), self._refresh_token)
            accounts.remember(self.data_dir, sub, email=self.email, pool_id=self.pool_id,
                              via=self.via)
        log.info("signed in (sub %s)", sub)

    def _email_from(self, claims: dict, typed: str) -> str:
        """The address from the verified ID token when it holds one; otherwise (pools whose ID
        token carries no address, or a non-address in that claim, as moto's does) the address
        Cognito lists for the user (GetUser with the verified access token), else the typed one."""
        claim = claims.get("email")
        if isinstance(claim, str) and EMAIL_RE.match(claim):
            return normalize_email(claim)
        if self.email:
            return self.email
        try:
            attrs = self._client.get_user(AccessToken=self._access_token).get("UserAttributes", [])
            for attr in attrs:
                if attr.get("Name") == "email" and EMAIL_RE.match(attr.get("Value", "")):
                    return normalize_email(attr["Value"])
        except Exception as exc:  # the address is for display; sign-in stands without it
            log.debug("GetUser failed: %s", type(exc).__name__)
        return normalize_email(typed)

    def restore(self) -> bool:
        """Offline start: adopt the last user's stored session without the network.

        True when this computer's last user has a session in the keyring; ``sub``/``email`` then
        come from the local accounts file (written after a verified sign-in) and the tokens are
        renewed and verified on first use (``ensure_fresh``/``access``).
        """
        sub = accounts.last_user(self.data_dir)
        if not sub:
            return False
        info = accounts.user_info(self.data_dir, sub)
        if info.get("pool") not in (None, self.pool_id):
            return False
        refresh = self.keystore.get(self._account(sub))
        if not refresh:
            return False
        with self._lock:
            self._reset()
            self.sub, self.email, self._refresh_token = sub, str(info.get("email") or ""), refresh
            self.via = "browser" if info.get("via") == "browser" else "password"
        return True

    def open_offline(self) -> bool:
        """Issue 11 (broken 5): no session could be kept (no secure keyring) and the network is
        away: open the last user's cache anyway. ``sub``/``email`` come from the accounts file;
        with no refresh token every network use raises AuthExpiredError until a sign-in."""
        sub = accounts.last_user(self.data_dir)
        if not sub or not accounts.has_cache(self.data_dir, sub):
            return False
        info = accounts.user_info(self.data_dir, sub)
        if info.get("pool") not in (None, self.pool_id):
            return False
        with self._lock:
            self._reset()
            self.sub, self.email = sub, str(info.get("email") or "")
        return True

    def renew(self) -> None:
        """New ID/access tokens from the refresh token (network)."""
        with self._lock:
            if not self._refresh_token or not self.sub:
                raise AuthExpiredError("Nobody is signed in on this computer.", "Sign in first.")
            try:
                resp = self._refresh_call()
            except Exception as exc:
                err = map_cognito(exc, step="refresh")
                if isinstance(err, AuthExpiredError):
                    # revoked or expired: forget it, keep the user's cache untouched
                    self.keystore.delete(self._account(self.sub))
                    self._refresh_token = ""
                raise err from None
            expected = self.sub
            result = resp["AuthenticationResult"]
            claims = tokens.verify(result["IdToken"], jwks=self.jwks, client_id=self.client_id,
                                   token_use="id")
            if claims["sub"] != expected:
                raise AuthExpiredError("The stored session belongs to a different account.",
                                       "Sign in again.")
            self._accept(result, self.email)

    def ensure_fresh(self) -> None:
        """Renew when the tokens are missing or expire within ``renew_margin`` seconds."""
        with self._lock:
            if (not self._id_token or tokens.seconds_left(self.id_claims) < self.renew_margin
                    or tokens.seconds_left(self.access_claims) < self.renew_margin):
                self.renew()

    def id_token(self) -> str:
        with self._lock:
            self.ensure_fresh()
            return self._id_token

    def access_token(self) -> str:
        with self._lock:
            self.ensure_fresh()
            return self._access_token

    # -- AWS ----------------------------------------------------------------------------------
    def access(self) -> AwsAccess:
        """AWS access for this user; the S3 prefix is the verified ``sub``."""
        from archpal_desktop.core.auth.credentials import IdentityPoolCredentials

        with self._lock:
            self.ensure_fresh()
            if self._access is not None and self._access.sub == self.sub:
                return self._access
            assert self.sub is not None  # ensure_fresh() signed in or raised
            identity_pool = self.settings[cfg.COGNITO_IDENTITY_POOL_ID]
            if identity_pool:
                creds = IdentityPoolCredentials(identity_pool_id=identity_pool,
                                                user_pool_id=self.pool_id, region=self.region,
                                                id_token=self.id_token)
                session = creds.boto3_session(self.settings[cfg.AWS_REGION] or self.region)
                self._access = AwsAccess(self.sub, session, "identity-pool")
            else:
                self._access = static_access(self.settings, self.sub)
            self._access.id_token = self.id_token   # the coach relay's proof of who this is
            return self._access

    def sign_out(self, global_: bool = True, remove_data: bool = False) -> bool:
        """Forget the session here; with ``global_`` also revoke it everywhere (when online).
        Returns False when the global sign-out could not reach Cognito (local sign-out done)."""
        everywhere = not global_
        with self._lock:
            sub = self.sub
            if global_ and self._refresh_token:
                try:
                    cog = self._pyc()
                    cog.access_token = self.access_token()
                    cog.logout()
                    everywhere = True
                except AuthExpiredError:
                    everywhere = True  # already revoked
                except Exception as exc:
                    err = map_cognito(exc, step="sign_out")
                    everywhere = isinstance(err, AuthExpiredError)
                    if not isinstance(err, (OfflineError, AuthExpiredError)):
                        log.warning("global sign-out failed: %s", err.code)
            revoked = self._revoke()
            if sub:
                self.keystore.delete(self._account(sub))
                accounts.forget_last(self.data_dir, sub)
                if remove_data:
                    accounts.remove_user_data(self.data_dir, sub)
            self._reset()
            self.revoked = revoked
        log.info("signed out%s%s", " everywhere" if everywhere else " on this computer",
                 "; the session is revoked" if revoked else "")
        return everywhere
