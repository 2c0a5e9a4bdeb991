"""View decorators that ask the permission layer (``academy/rules.py``)."""
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def perm_required(perm):
    """Decorate a view: anonymous users go to sign-in; signed-in users without ``perm`` get 403.

    ``perm`` is a django-rules permission name such as ``"academy.view_dashboard"``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
