"""Shared field types of the API contracts and the Swedish rendering of model errors.

A request model checks the *shape* of a body (types, lengths, known fields, valid
Unicode); the rules that need the tenant (category list, kommun outline, date window)
stay in the services. :func:`field_errors` turns a :class:`pydantic.ValidationError`
into ``[{"field", "code", "message"}]`` with Swedish messages, the form every 400 of
the JSON API uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

M = TypeVar("M", bound=BaseModel)


def _valid_unicode(value: str) -> str:
    """Refuse text that cannot be stored as UTF-8 (lone surrogates such as ``\\ud800``)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "unicode", "Texten innehåller ogiltiga tecken (ogiltig Unicode)."
        ) from None
    return value


def _number(value: Any) -> Any:
    """A JSON number (int or float, never a bool or a string); range rules come later."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("number", "Ska vara ett tal.")
    return value


#: Text that is valid Unicode (no lone surrogates).
Text = Annotated[str, Field(strict=True), AfterValidator(_valid_unicode)]
#: A JSON number (int or float; a bool or a numeric string is refused).
Number = Annotated[Any, PlainValidator(_number), WithJsonSchema({"type": "number"})]


def text(max_length: int, min_length: int = 0, pattern: str | None = None, **schema: Any) -> Any:
    """:data:`Text` of ``min_length..max_length`` characters matching ``pattern`` (a
    regular expression searched in the text); ``schema`` adds JSON-schema keys."""
    return Annotated[
        Text,
        Field(
            max_length=max_length,
            min_length=min_length,
            pattern=pattern,
            json_schema_extra=schema or None,
        ),
    ]


def form_number(minimum: float, maximum: float) -> Any:
    """A number sent as form text (documented as a number in ``minimum..maximum``)."""
    return Annotated[
        Text,
        Field(max_length=64),
        WithJsonSchema({"type": "number", "minimum": minimum, "maximum": maximum}),
    ]


#: Tenant key of a kommun (``norrtalje``).
KommunKey = text(64)


class Contract(BaseModel):
    """Base of the request models: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Base of the query models: arguments a route does not read are ignored."""

    model_config = ConfigDict(extra="ignore")


class Reply(BaseModel):
    """Base of the response models (documentation of what the routes answer)."""

    model_config = ConfigDict(extra="allow")


class FieldProblem(Reply):
    """One problem of one field (``code`` is stable, ``message`` is Swedish)."""

    field: str
    code: str
    message: str


class ErrorBody(Reply):
    """Every JSON error: a Swedish message, for invalid bodies every problem."""

    error: str
    errors: list[FieldProblem] | None = None


# -- Swedish messages of pydantic's error types ---------------------------------------------

_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("required", "Fältet saknas."),
    "extra_forbidden": ("unknown_field", "Okänt fält."),
    "string_type": ("type", "Ska vara en text."),
    "string_too_short": ("too_short", "Ska vara minst {min_length} tecken."),
    "string_too_long": ("too_long", "Får vara högst {max_length} tecken."),
    "too_short": ("too_short", "Ska vara minst {min_length} tecken."),
    "too_long": ("too_long", "Får vara högst {max_length} tecken."),
    "string_pattern_mismatch": ("invalid", "Har fel format."),
    "int_type": ("type", "Ska vara ett heltal."),
    "int_parsing": ("type", "Ska vara ett heltal."),
    "float_type": ("type", "Ska vara ett tal."),
    "float_parsing": ("type", "Ska vara ett tal."),
    "finite_number": ("invalid", "Ska vara ett ändligt tal."),
    "bool_type": ("type", "Ska vara sant eller falskt."),
    "bool_parsing": ("type", "Ska vara sant eller falskt."),
    "greater_than_equal": ("too_small", "Ska vara minst {ge}."),
    "less_than_equal": ("too_large", "Får vara högst {le}."),
    "literal_error": ("unknown", "Okänt värde; giltiga: {expected}."),
    "enum": ("unknown", "Okänt värde; giltiga: {expected}."),
    "date_type": ("invalid", "Ska vara ett datum (ÅÅÅÅ-MM-DD)."),
    "date_parsing": ("invalid", "Ska vara ett datum (ÅÅÅÅ-MM-DD)."),
    "date_from_datetime_parsing": ("invalid", "Ska vara ett datum (ÅÅÅÅ-MM-DD)."),
    "datetime_parsing": ("invalid", "Ska vara en tidpunkt (ISO 8601)."),
    "model_type": ("type", "Ska vara ett objekt."),
    "dict_type": ("type", "Ska vara ett objekt."),
    "list_type": ("type", "Ska vara en lista."),
    "json_invalid": ("invalid", "Ogiltig JSON."),
}


def _message(err: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(err.get("type", ""))
    if kind in _MESSAGES:
        code, template = _MESSAGES[kind]
        try:
            ctx = dict(err.get("ctx") or {})
            if "expected" in ctx:
                ctx["expected"] = str(ctx["expected"]).replace(" or ", " eller ")
            return code, template.format(**ctx)
        except (KeyError, IndexError):
            return code, template.split(";")[0].split("{")[0].strip()
    if kind in ("number", "unicode", "value_error"):
        ctx_error = (err.get("ctx") or {}).get("error")
        return ("invalid" if kind != "number" else "type"), str(ctx_error or err.get("msg"))
    return "invalid", "Ogiltigt värde."


def _field(loc: tuple[Any, ...]) -> str:
    # the first element is the field of the body (or parameter); deeper parts are
    # list indexes and keys
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) or "body"


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """``[{"field", "code", "message"}]`` (Swedish) of every problem in ``exc``."""
    out = []
    for err in exc.errors(include_url=False):
        code, message = _message(err)
        out.append({"field": _field(tuple(err.get("loc", ()))), "code": code, "message": message})
    return out


def parse(model: type[M], data: Any) -> M:
    """``model`` validated from ``data`` (raises :class:`pydantic.ValidationError`,
    which the app answers with a Swedish 400 naming every field)."""
    return model.model_validate(data)


__all__ = [
    "Contract",
    "ErrorBody",
    "FieldProblem",
    "KommunKey",
    "Number",
    "Query",
    "Reply",
    "Text",
    "field_errors",
    "form_number",
    "parse",
    "text",
]
