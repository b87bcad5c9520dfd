"""OpenAPI: every operation documents its error responses, so generated clients can handle them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """A field name (or non_field_errors) mapped to its messages, in the request's language."""

    field_name = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


ERRORS = {
    "400": OpenApiResponse(ValidationErrorSerializer, description="A rule is broken; nothing was saved."),
    "401": OpenApiResponse(ErrorSerializer, description="Not authenticated: send `Authorization: Token <token>`."),
    "403": OpenApiResponse(ErrorSerializer, description="In your scope, but your role may not do this."),
    "404": OpenApiResponse(ErrorSerializer, description="Not found, or outside your scope."),
    "409": OpenApiResponse(ErrorSerializer, description="A concurrent change conflicted; try again."),
    "412": OpenApiResponse(ErrorSerializer, description="If-Match does not match the current ETag."),
    "429": OpenApiResponse(ErrorSerializer, description="Too many requests; wait and retry."),
}


class ProjectAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403", "429"]
        if method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409"]
        if self._is_detail_or_action():
            codes.append("404")
        if method in ("PUT", "PATCH", "DELETE"):
            codes.append("412")
        if getattr(self.view, "authentication_classes", None) == []:
            codes = [code for code in codes if code in ("400", "429")]
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ERRORS[code], code, direction=direction)
        return responses

    def _is_detail_or_action(self) -> bool:
        return "{" in self.path
