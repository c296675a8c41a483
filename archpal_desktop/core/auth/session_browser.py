"""The parts of :class:`~archpal_desktop.core.auth.session.AuthSession` that the browser sign-in
adds (issue 13) and that every session uses to renew and to revoke (issue 18 point 10)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from archpal_desktop.core.errors.cognito import map_cognito
from archpal_desktop.core.errors import AuthExpiredError

if TYPE_CHECKING:
    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.auth.oidc import Provider
    from archpal_desktop.core.auth.session import AuthSession

log = logging.getLogger("archpal_desktop.core.auth.session")


class BrowserSessionMixin:
    """Mixed into AuthSession; uses its settings, client id, boto3 client and tokens."""

    # what AuthSession provides (declared for the type checker)
    settings: cfg.Settings
    client_id: str
    via: str
    _refresh_token: str
    _client: Any
    _provider: Provider | None

    if TYPE_CHECKING:
        def _accept(self, result: dict, email: str, *, nonce: str | None = None,
                    via: str | None = None, expect_sub: str | None = None) -> None: ...

    def sign_in_mode(self) -> str:
        from archpal_desktop.core.auth.browser import sign_in_mode

        return sign_in_mode(self.settings)

    def provider(self):
        """The pool's OIDC endpoints (discovery; network the first time, then kept)."""
        from archpal_desktop.core.auth.browser import cognito_provider

        if self._provider is None:
            self._provider = cognito_provider(self.settings)
        return self._provider

    def browser_sign_in(self, timeout: float | None = None):
        """A :class:`~archpal_desktop.core.auth.browser.BrowserSignIn` for this session."""
        from archpal_desktop.core.auth.browser import BrowserSignIn

        session = cast("AuthSession", self)
        return BrowserSignIn(session) if timeout is None else BrowserSignIn(session, timeout)

    def adopt_browser_tokens(self, token: dict, *, nonce: str, expect_sub: str | None = None) -> None:
        from archpal_desktop.core.auth.browser import as_result

        self._accept(as_result(token), "", nonce=nonce, via="browser", expect_sub=expect_sub)

    def hosted_logout_url(self) -> str:
        from archpal_desktop.core.auth.browser import hosted_logout_url

        return hosted_logout_url(self.settings, self.client_id, self.provider())

    def _refresh_call(self) -> dict:
        if self.via == "browser" or self.sign_in_mode() != "password":
            # the token endpoint: with refresh-token rotation on the app client (the admin kit
            # turns it on) it is the way to renew, and it hands back a new refresh token
            # (kept by _accept); password sessions of a site with a sign-in domain use it too
            from archpal_desktop.core.auth import oidc
            from archpal_desktop.core.auth.browser import as_result
            from archpal_desktop.core.auth.errors import SignInDeniedError

            try:
                token = oidc.refresh(self.provider(), self.client_id, self._refresh_token)
            except SignInDeniedError:
                raise AuthExpiredError() from None
            return {"AuthenticationResult": as_result(token)}
        return self._client.initiate_auth(
            ClientId=self.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": self._refresh_token})

    def _revoke(self) -> bool:
        """Revoke the refresh token at Cognito (issue 18 point 10): the token endpoint's
        /oauth2/revoke for a browser session, the RevokeToken API for a password one.
        False when Cognito could not be reached (the local sign-out goes on)."""
        token = self._refresh_token
        if not token:
            return False
        try:
            if self.via == "browser":
                from archpal_desktop.core.auth import oidc

                oidc.revoke(self.provider(), self.client_id, token)
            else:
                self._client.revoke_token(Token=token, ClientId=self.client_id)
            return True
        except Exception as exc:
            err = map_cognito(exc, step="sign_out")
            if isinstance(err, AuthExpiredError):
                return True  # already revoked or expired
            log.warning("revoking the session failed: %s", err.code)
            return False
