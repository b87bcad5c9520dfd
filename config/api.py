"""The REST API v1: one router over every app's viewsets, token authentication, and the docs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.urls import include, path
from django.utils.translation import gettext as _
from django_otp import user_has_device
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from knox.models import get_token_model
from knox.settings import knox_settings
from knox.views import LogoutAllView, LogoutView
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clusterpacts import api as clusterpacts_api
from core.auth import TokenAuthentication, tokens_expired_delete
from core.logins import lockout_message
from core.two_factor import device_matching, record_failure, second_factor_required
from evaluations import api as evaluations_api
from funding import api as funding_api
from insights.api import BriefingView

router = DefaultRouter()
for module in (clusterpacts_api, evaluations_api, funding_api):
    module.register(router)


class AuthRateThrottle(ScopedRateThrottle):
    """The `auth` scope's rate, read from the settings when a request comes in.

    DRF's throttles read DEFAULT_THROTTLE_RATES once, at import, so a changed setting (a test's
    override) would be ignored; the login limit must be the configured one.
    """

    def get_rate(self) -> str | None:
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return super().get_rate()


class TokenRequestSerializer(serializers.Serializer):
    """Credentials, and the second factor (`otp`) when the user must pass it."""

    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="A current code from the authenticator app, or an unused backup code. Required for a user "
        "who must pass the second factor (an officer when TWO_FACTOR_REQUIRED is on, anyone with a device).",
    )


class LoginLockedOut(exceptions.APIException):
    """Too many failed logins for this username or client address (django-axes)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class TokenObtainView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token <token>`).

    Tokens are stored hashed and expire; revoke one with `auth/token/revoke/`, all with `revoke-all/`.
    Attempts are throttled more tightly than reads, and a username or client address with too many
    failed logins is locked out (429) like the login pages, for the same cool-off.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth"
    serializer_class = TokenRequestSerializer

    @extend_schema(
        request=inline_serializer("TokenRequest", TokenRequestSerializer().get_fields()),
        responses={
            200: inline_serializer(
                "TokenResponse", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
            )
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        credentials = TokenRequestSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # Through authenticate(request=...), so axes counts the failure and refuses a locked-out user or
        # address before the password is checked; it flags the request it was given.
        otp = credentials.validated_data.pop("otp", "")
        user = authenticate(request=request, **credentials.validated_data)
        if getattr(request, "axes_locked_out", False):
            raise LoginLockedOut(lockout_message(request._request))
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Unable to log in with provided credentials.")]},
                code="authorization",
            )
        if second_factor_required(user):
            self._check_second_factor(request, user, otp)
        instance, token = get_token_model().objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
        tokens_expired_delete(user=user)  # the token check no longer sweeps them on every request
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response({"token": token, "expiry": instance.expiry})

    @staticmethod
    def _check_second_factor(request: Request, user: Any, otp: str) -> None:
        """A token only for a user who passed the second factor: 400 naming `otp` otherwise."""
        if not user_has_device(user, confirmed=True):
            message = _("Set up two-factor login in the portal first; then send a code in the otp field.")
            raise exceptions.ValidationError({"otp": [message]}, code="two_factor_setup")
        if not otp.strip():
            raise exceptions.ValidationError(
                {"otp": [_("This account needs a two-factor code: send it in the otp field.")]}, code="required"
            )
        if device_matching(user, otp) is None:
            if record_failure(request._request, user):
                raise LoginLockedOut(lockout_message(request._request))
            raise exceptions.ValidationError(
                {"otp": [_("This code is not right, or it was used before.")]}, code="invalid"
            )


class RevokeView(LogoutView):
    """Revoke the token used for this request."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, format: Any = None) -> Response:
        return super().post(request, format)


class RevokeAllView(LogoutAllView):
    """Revoke every token of the requesting user."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, format: Any = None) -> Response:
        return super().post(request, format)


urlpatterns = [
    path("api/v1/auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("api/v1/auth/token/revoke/", RevokeView.as_view(), name="api-token-revoke"),
    path("api/v1/auth/token/revoke-all/", RevokeAllView.as_view(), name="api-token-revoke-all"),
    path("api/v1/briefing/", BriefingView.as_view(), name="api-briefing"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
