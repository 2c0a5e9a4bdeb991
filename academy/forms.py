"""Form rendering in GOV.UK Design System markup (error summary and fields)."""
from django.forms.renderers import TemplatesSetting


class GovUKFormRenderer(TemplatesSetting):
    """Renders every Django form with ``templates/forms/govuk_form.html`` and ``govuk_field.html``."""

    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"
