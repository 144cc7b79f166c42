"""API contracts: every JSON request and response body as a pydantic v2 model.

One module per audience: :mod:`~webmap.contracts.citizen` (citizen channel and public
API), :mod:`~webmap.contracts.open311`, :mod:`~webmap.contracts.patrol`,
:mod:`~webmap.contracts.planner`; shared field types and the Swedish rendering of
model errors in :mod:`~webmap.contracts.common`. The OpenAPI document served at
``/api/openapi.json`` is generated from these models by
:mod:`~webmap.contracts.openapi`.

Why the document is generated here and not by flask-openapi3, spectree or apiflask
---------------------------------------------------------------------------------
All three were considered (flask-openapi3 4.3, spectree 3.0, apiflask 3.1):

* flask-openapi3 and apiflask document only routes registered through their own
  classes: the app becomes ``OpenAPI`` / ``APIFlask`` and every blueprint an
  ``APIBlueprint``, with parsed models handed to the views as arguments. The app
  factory registers plain :class:`flask.Blueprint` objects listed in
  ``webmap.app.BLUEPRINTS`` (with per-module ``PUBLIC_ENDPOINTS``, rate limits and CSRF
  exemptions keyed by endpoint) while the views are being regrouped by audience, so
  the switch would touch every view module and the app factory at once.
* Their validation answers by default with their own 422 body (flask-openapi3 and
  spectree can be configured), while this API answers 400
  ``{"error", "errors": [{field, code, message}]}`` in Swedish and Open311 must keep
  its ``[{code, description}]`` list. Open311's ``.json``/``.xml`` pair is one Flask
  rule (``requests.<fmt>``) with a form-encoded body; the document describes its JSON
  form only, which none of the three derives from the rule by itself.
* spectree fits plain blueprints best, but validation and error rendering would
  still happen inside its decorator, next to the app-wide handlers of
  :mod:`webmap.errors` that every other route (HTML forms included) needs anyway.

pydantic itself already produces JSON Schema 2020-12, which OpenAPI 3.1 uses as is;
what remains is a short table of operations (path, method, query model, body model,
model per status) in :mod:`webmap.contracts.openapi`. Views call
:func:`webmap.contracts.common.parse`, and the app maps a
:class:`pydantic.ValidationError` to a Swedish 400 (:mod:`webmap.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel


def body_contracts() -> dict[str, type[BaseModel]]:
    """Request-body model of every route that reads a JSON or API form body, by endpoint.

    ``tests/webmap/test_contracts.py`` checks that every POST route answering JSON is
    listed here and that an invalid body gives a 400 naming the field.
    """
    from webmap.contracts.citizen import PhotoUpload, ReportForm, ReportInput, StatusQuery
    from webmap.contracts.open311 import ServiceRequestInput
    from webmap.contracts.patrol import ObservationInput

    return {
        "api.create_report": ReportInput,
        "api.add_photos": PhotoUpload,
        "open311.requests_create": ServiceRequestInput,
        "patrol.observation": ObservationInput,
        "citizen.submit": ReportForm,
        "mine.statuses": StatusQuery,
    }
