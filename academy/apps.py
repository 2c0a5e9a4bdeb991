from django.apps import AppConfig


class AcademyConfig(AppConfig):
    name = "academy"
    verbose_name = "Academy"

    def ready(self):
        # The audit log of sign-ins, failed sign-ins and sign-outs (academy/audit.py).
        from django.contrib.auth import signals

        from . import audit  # in ready: audit imports the models
        from . import checks  # noqa: F401  registers the deployment checks

        signals.user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="academy.audit.sign_in")
        signals.user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="academy.audit.sign_in_failed")
        signals.user_logged_out.connect(audit.on_user_logged_out, dispatch_uid="academy.audit.sign_out")
        # Adding an authenticator app counts as using it in this session (academy/middleware.py).
        from allauth.mfa import signals as mfa_signals

        from .middleware import record_new_authenticator, remember_second_factor

        mfa_signals.authenticator_added.connect(record_new_authenticator, dispatch_uid="academy.mfa.added")
        signals.user_logged_in.connect(remember_second_factor, dispatch_uid="academy.mfa.sign_in")
