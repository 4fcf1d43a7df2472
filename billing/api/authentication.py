"""Token authentication with the token query compiled once (`backoffice.compiled`): every
API request reads its token, and Django's building and compiling of that query cost more
than the database's running it. Same answers as DRF's `TokenAuthentication`."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from backoffice.compiled import CompiledQuery

_TOKEN = CompiledQuery(
    lambda key: Token.objects.select_related("user").filter(key=key), key="compiled-marker"
)


class CompiledTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        found = _TOKEN.all(key=key)
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = found[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
