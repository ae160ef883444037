"""OpenAPI descriptions of plain Django views, next to the views themselves.

drf-spectacular documents only DRF views. Endpoints that stay plain Django views on purpose
(an upload streamed to disk by its own upload handler, media with byte ranges, async views)
are described with ``@api_operation``: its keyword arguments are exactly those of
drf-spectacular's ``extend_schema`` (``parameters``, ``request``, ``responses``,
``description``, ...), one decorator per HTTP method::

    @api_operation("GET", operation_id="interview_export_status", parameters=[...],
                   responses={200: ExportStatusSerializer, 403: ApiErrorSerializer})
    @require_GET
    def export_status(request, interview_id): ...

The decorator gives the view a ``cls`` attribute: an ``APIView`` subclass that is never
routed, whose handler methods carry the descriptions. That is how DRF's endpoint
enumerator recognises a view, so the view lands in ``/api/schema/`` with the same
components (serializers, parameters, error shapes) as the DRF endpoints. The view itself
still runs as written. ``tests/security/test_schemathesis.py`` checks every described
response against the running server, so a description cannot drift from the code.
"""

from collections.abc import Callable, Sequence

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

_METHODS = {"get", "post", "put", "patch", "delete"}


def api_operation(
    method: str, *, authentication: Sequence[type] = (), **schema
) -> Callable[[Callable], Callable]:
    """Describe ``method`` of a plain Django view (``extend_schema`` keyword arguments).

    ``authentication`` lists DRF authentication classes whose security schemes the
    operation accepts besides credentials it checks itself (an invitation token is an
    ordinary parameter): for example the staff session. Anonymous calls stay allowed in
    the description, because such views answer them (with 403/404) rather than 401.
    """
    name = method.lower()
    if name not in _METHODS:
        raise ValueError(f"api_operation: unsupported method {method!r}")

    def decorate(view: Callable) -> Callable:
        operations = {**getattr(view, "api_operations", {}), name: (tuple(authentication), schema)}
        view.api_operations = operations
        view.cls = _describing_class(view, operations)
        view.initkwargs = {}
        return view

    return decorate


def _describing_class(view: Callable, operations: dict) -> type[APIView]:
    handlers = {}
    authentication: list[type] = []
    for name, (auth, schema) in operations.items():
        authentication += [cls for cls in auth if cls not in authentication]

        def handler(self, request, *args, **kwargs):  # pragma: no cover - never routed
            raise AssertionError("a description class is never dispatched")

        handler.__name__ = name
        handler.__doc__ = view.__doc__
        handlers[name] = extend_schema(**schema)(handler)
    return type(
        f"{view.__name__}_description",
        (APIView,),
        {
            "__module__": view.__module__,
            "__doc__": view.__doc__,
            "authentication_classes": authentication,
            "permission_classes": [AllowAny],
            "http_method_names": [*handlers, "options"],
            **handlers,
        },
    )
