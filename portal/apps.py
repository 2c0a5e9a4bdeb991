from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The apprentice's and the line manager's pages, and the invitations that bring them in."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
