"""Session authentication that answers 401, not 403, when nobody is logged in."""

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication


class StaffSessionAuthentication(SessionAuthentication):
    """DRF only sends 401 when the first authenticator names a ``WWW-Authenticate`` scheme.

    Plain session auth has none, so anonymous callers would get 403 and could not tell
    "log in" from "not allowed". CSRF checks for unsafe methods are unchanged.
    """

    def authenticate_header(self, request) -> str:
        return 'Session realm="interviewsite admin"'


class StaffSessionScheme(SessionScheme):
    """Describes the class above in the OpenAPI schema as the usual session cookie."""

    target_class = StaffSessionAuthentication
