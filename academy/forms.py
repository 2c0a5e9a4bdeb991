"""Form rendering in GOV.UK Design System markup (error summary and fields).

Every form uses ``GovUKFormRenderer`` (``FORM_RENDERER`` in settings): ``{{ form }}`` draws
the GOV.UK error summary then each field (``templates/forms/govuk_form.html``), and
``{{ form.field_name.as_field_group }}`` draws one field with its label, hint, error
message and widget (``templates/forms/govuk_field.html``). Widgets get their GOV.UK classes
from ``GovUKBoundField`` (Django 5.2's ``bound_field_class`` hook on the renderer), so plain
``forms.Form``/``ModelForm`` classes need nothing more.

A page that wants the error summary above other content uses
``{% include "forms/error_summary.html" with form=form %}`` and then draws the fields
with ``{% include "forms/fields.html" with form=form %}`` (no second summary).
"""
from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting

DATE_HINT = "For example, 29/11/2026"

# GOV.UK classes per kind of widget: (normal, with an error).
_WIDGET_CLASSES = {
    "input": ("govuk-input", "govuk-input govuk-input--error"),
    "date": ("govuk-input govuk-input--width-10", "govuk-input govuk-input--width-10 govuk-input--error"),
    "select": ("govuk-select", "govuk-select govuk-select--error"),
    "textarea": ("govuk-textarea", "govuk-textarea govuk-textarea--error"),
    "file": ("govuk-file-upload", "govuk-file-upload govuk-file-upload--error"),
    "radios": ("govuk-radios__input", "govuk-radios__input"),
    "checkboxes": ("govuk-checkboxes__input", "govuk-checkboxes__input"),
    "checkbox": ("govuk-checkboxes__input", "govuk-checkboxes__input"),
    "hidden": ("", ""),
}


def widget_kind(widget: forms.Widget) -> str:
    """Return the GOV.UK kind of ``widget``: one of the keys of ``_WIDGET_CLASSES``.

    ``"radios"`` and ``"checkboxes"`` are choice lists drawn one input per option;
    ``"checkbox"`` is a single yes/no box (``BooleanField``); a ``DateInput`` is ``"date"``
    (a text input taking 29/11/2026, per ``DATE_INPUT_FORMATS``).
    """
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.DateInput):
        return "date"
    return "input"


class GovUKBoundField(BoundField):
    """A bound field whose widget carries GOV.UK classes, hint and error ids.

    Adds to the widget's ``class`` (keeping any class set on the widget) the GOV.UK class
    for its kind, with the ``--error`` variant when the field has errors; points
    ``aria-describedby`` at the hint (``<id>_helptext``) and error (``<id>_error``); drops
    any ``placeholder`` (the Design System's advice: use a label or hint instead).
    Properties for the field template: ``govuk_kind``, ``govuk_hint``, ``govuk_error_href``.
    """

    @property
    def govuk_kind(self) -> str:
        return widget_kind(self.field.widget)

    @property
    def govuk_hint(self) -> str:
        """Return the hint: the field's ``help_text``, else "For example, 29/11/2026" for dates."""
        if self.help_text and str(self.help_text).strip():
            return self.help_text
        if self.govuk_kind == "date":
            return DATE_HINT
        return ""

    @property
    def govuk_error_href(self) -> str:
        """Return the ``#id`` the error summary links to: the field's first input."""
        if not self.auto_id:
            return ""
        if self.govuk_kind in ("radios", "checkboxes"):
            return f"#{self.auto_id}_0"
        return f"#{self.id_for_label or self.auto_id}"

    @property
    def aria_describedby(self):
        if self.field.widget.attrs.get("aria-describedby"):
            return None
        ids = []
        if self.auto_id and not self.is_hidden:
            if self.govuk_hint:
                ids.append(f"{self.auto_id}_helptext")
            if self.errors:
                ids.append(f"{self.auto_id}_error")
        return " ".join(ids)

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        normal, with_error = _WIDGET_CLASSES[widget_kind(widget)]
        govuk_class = with_error if self.errors else normal
        if govuk_class:
            existing = attrs.get("class") or widget.attrs.get("class", "")
            attrs["class"] = f"{govuk_class} {existing}".strip()
        # GOV.UK: no placeholder text; labels and hints say what to enter (False drops it).
        if "placeholder" in widget.attrs or "placeholder" in attrs:
            attrs["placeholder"] = False
        if widget_kind(widget) == "date":
            attrs.setdefault("autocomplete", "off")
            attrs.setdefault("inputmode", "numeric")
        return attrs


class GovUKFormRenderer(TemplatesSetting):
    """Renders every Django form with ``templates/forms/govuk_form.html`` and ``govuk_field.html``."""

    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"
    bound_field_class = GovUKBoundField


class GovUKFormMixin:
    """Mix into a form to get GOV.UK widgets whatever renderer it is given.

    Usually unnecessary, as ``FORM_RENDERER`` already does it; use it for a form rendered
    with another renderer.
    """

    bound_field_class = GovUKBoundField
