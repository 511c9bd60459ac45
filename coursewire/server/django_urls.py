"""Coursewire's routes in a Django project's URLconf (CPython only; needs Django):

    urlpatterns = [
        path("api/embed-url", embed_url),                      # your own view mints
        path("", include("coursewire.server.django_urls")),    # api/events, webhooks/coassemble, ...
    ]

Each path of mount.ROUTES becomes a view that runs the same WSGI application gunicorn runs, with
the request Django received. The views are exempt from Django's CSRF check, as the routes
authenticate themselves: a report token, the webhook's HMAC signature, the admin token or the
staff session (whose sign-in checks the page's origin).
"""

import io
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from coursewire.server.mount import PREFIXES, ROUTES, coursewire_app


def _view(route: "str | None", prefix: str = "") -> Callable[..., HttpResponse]:
    """A view running the Coursewire application on `route` (None: on the request's own path,
    for the paths under mount.PREFIXES, which carry an id)."""

    @csrf_exempt
    def view(request: HttpRequest, **ignored: str) -> HttpResponse:
        try:
            body = request.body  # read once by Django (bounded by DATA_UPLOAD_MAX_MEMORY_SIZE)
        except RequestDataTooBig:
            return JsonResponse({"error": "The request body is larger than this site accepts."}, status=413)
        environ = dict(request.META)  # the WSGI environ Django was given: headers, method, query
        # Django decoded the path as UTF-8 text; a WSGI route reads it as the URL's bytes in
        # latin-1 characters (PEP 3333). From the prefix on, wherever the URLconf includes it.
        own = request.path_info
        own = own[max(0, own.find(prefix)) :].encode("utf-8").decode("latin-1") if prefix else own
        environ.update(
            {
                "PATH_INFO": route or own,
                "SCRIPT_NAME": "",
                "wsgi.input": io.BytesIO(body),
                "CONTENT_LENGTH": str(len(body)),
            }
        )
        answered: list = []

        def start_response(status: str, headers: list, exc_info: object = None) -> None:
            answered[:] = [status, headers]

        chunks = coursewire_app()(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        status, headers = answered
        response = HttpResponse(content, status=int(status.split(" ", 1)[0]))
        for name, value in headers:
            response[name] = value
        return response

    view.__name__ = "coursewire" + (route or "_prefixed").replace("/", "_").replace("-", "_")
    return view


app_name = "coursewire"
urlpatterns = [path(route.lstrip("/"), _view(route), name=route.strip("/").replace("/", "-")) for route in ROUTES]
urlpatterns += [
    path(prefix.lstrip("/") + "<path:rest>", _view(None, prefix), name=prefix.strip("/").replace("/", "-"))
    for prefix in PREFIXES
]
