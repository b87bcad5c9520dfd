"""OpenAPI: every operation documents its error responses, so generated clients can handle them."""

from __future__ import annotations

from typing import Any, Literal

from django.utils import translation
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class TokenScheme(KnoxTokenScheme):
    """The API's token authentication (core/auth.py) is knox's, checked in fewer queries: documented as knox's."""

    target_class = "core.auth.TokenAuthentication"


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """A field name (or non_field_errors) mapped to its messages, in the request's language."""

    field_name = serializers.ListField(child=serializers.CharField(), required=False)  # type: ignore[assignment]
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


ERRORS = {
    "400": OpenApiResponse(ValidationErrorSerializer, description="A rule is broken; nothing was saved."),
    "401": OpenApiResponse(ErrorSerializer, description="Not authenticated: send `Authorization: Token <token>`."),
    "403": OpenApiResponse(ErrorSerializer, description="In your scope, but your role may not do this."),
    "404": OpenApiResponse(ErrorSerializer, description="Not found, or outside your scope."),
    "409": OpenApiResponse(ErrorSerializer, description="A concurrent change conflicted; try again."),
    "412": OpenApiResponse(ErrorSerializer, description="If-Match does not match the current ETag."),
    "428": OpenApiResponse(
        ErrorSerializer, description="If-Match is missing: send the ETag of a GET of this object as If-Match."
    ),
    "429": OpenApiResponse(ErrorSerializer, description="Too many requests; wait and retry."),
}
# Where an operation answers a code for a reason of its own.
LIST_ERRORS = {
    "400": OpenApiResponse(ValidationErrorSerializer, description="A filter value is invalid."),
    "404": OpenApiResponse(ErrorSerializer, description="No such page (`page` past the last one, or not a number)."),
}
DELETE_ERRORS = {
    "400": OpenApiResponse(
        ErrorSerializer,
        description="A rule refuses the deletion (other records still refer to this one, or the document was "
        "accepted); nothing was deleted.",
    ),
}


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of a GET of this object: a write without it gets 428, with a stale one 412.",
)


class ProjectAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method.upper() in ("PUT", "PATCH", "DELETE"):
            parameters.append(IF_MATCH)
        return parameters

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403", "429"]
        errors = ERRORS
        if method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409"]
        elif method == "GET" and self._is_list_view():
            codes += ["400", "404"]
            errors = {**ERRORS, **LIST_ERRORS}
        elif method == "DELETE":
            codes.append("400")
            errors = {**ERRORS, **DELETE_ERRORS}
        if self._is_detail_or_action():
            codes.append("404")
        if method in ("PUT", "PATCH", "DELETE"):
            codes += ["412", "428"]
        if getattr(self.view, "authentication_classes", None) == []:
            codes = [code for code in codes if code in ("400", "429")]
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(errors[code], code, direction=direction)
        return responses

    def _is_detail_or_action(self) -> bool:
        return "{" in self.path

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        """The id in a path is an integer. The router lets anything up to the next slash reach the view
        (so that "1.5" gets the API's JSON 404, not Django's HTML page): do not document that regex."""
        parameters = super()._resolve_path_parameters(variables)
        model = get_view_model(self.view, emit_warnings=False)
        lookup = getattr(self.view, "lookup_url_kwarg", None) or getattr(self.view, "lookup_field", "pk")
        for parameter in parameters:
            if model is not None and parameter["name"] in (lookup, "pk", "id"):
                parameter["schema"] = {"type": "integer"}
                with translation.override("en"):  # as the rest of the descriptions
                    parameter["description"] = f"The id of the {model._meta.verbose_name}."
        return parameters

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        """Every filter is described: by its label, or the one django-filter derives from the field."""
        parameters = super()._get_filter_parameters()
        labels = self._filter_labels() if parameters else {}
        for parameter in parameters:
            if not parameter.get("description") and parameter["name"] in labels:
                parameter["description"] = labels[parameter["name"]]
        return parameters

    def _filter_labels(self) -> dict[str, str]:
        model = get_view_model(self.view, emit_warnings=False)
        if model is None:
            return {}
        queryset = model._default_manager.none()
        filterset_class = DjangoFilterBackend().get_filterset_class(self.view, queryset)
        if filterset_class is None:
            return {}
        # Bound to a queryset, each filter derives its label ("End date is greater than or equal to").
        filterset = filterset_class(queryset=queryset)
        return {name: str(flt.label) for name, flt in filterset.filters.items() if flt.label}
