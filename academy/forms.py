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
from django.db.models import Q
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting
from django.utils.html import format_html, format_html_join

DATE_HINT = "For example, 27/03/2026"

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
        """Return the hint: the field's ``help_text``, else "For example, 27/03/2026" for dates."""
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


SELECT_LIMIT = 200  # above this many choices, a text input (name or id) with a datalist of the first 200


class DatalistInput(forms.TextInput):
    """A text input followed by a ``<datalist>`` of suggestions (``options``: list of strings)."""

    def __init__(self, attrs=None, options=()):
        super().__init__(attrs)
        self.options = list(options)

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or self.attrs.get('id') or 'id_' + name}-options"
        attrs = {**(attrs or {}), "list": list_id, "autocomplete": "off"}
        html = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}"></option>', ((o,) for o in self.options))
        # ``html`` is the widget's own (escaped, safe) output; format_html keeps it as is.
        return format_html('{}<datalist id="{}">{}</datalist>', html, list_id, options)


class NamedLookupField(forms.ModelChoiceField):
    """A record chosen by id or exact name: a ``<select>`` for up to ``SELECT_LIMIT`` records, else a text input.

    ``prepare(limit=SELECT_LIMIT)`` runs one query (``limit + 1`` rows in the field's
    order): with at most ``limit`` records the field stays a select of them; with more,
    it becomes a text input that accepts the record's id or its exact name (any case, in
    one of ``name_fields``), with a ``<datalist>`` of the first ``limit`` records (the
    order puts the most recent first where that matters). Cleaning costs one query either
    way, so the page's query count does not grow with the data.

    Errors: an unknown id in the address keeps the list's message ("Choose a cohort from
    the list: …"); in the text input, "No cohort is called “X”: enter its name exactly as
    listed, or its id" and, for a name shared by several records, "More than one cohort is
    called “X”: enter its id instead".
    """

    def __init__(self, *args, what: str, name_fields: tuple[str, ...] = ("name",), **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": f"Choose a {what} from the list: the {what} in the address does not exist"},
        )
        super().__init__(*args, **kwargs)
        self.what = what
        self.name_fields = name_fields
        self.as_text = False

    def prepare(self, limit: int | None = None) -> None:
        """Read up to ``limit + 1`` records (one query) and choose the widget: select, or text with a datalist.

        ``limit`` defaults to ``SELECT_LIMIT``.
        """
        limit = SELECT_LIMIT if limit is None else limit
        first = list(self.queryset[: limit + 1])
        if len(first) <= limit:
            # The select draws these rows without querying again.
            self.choices = [("", self.empty_label or "")] + [(obj.pk, self.label_from_instance(obj)) for obj in first]
            return
        self.as_text = True
        label = self.label or self.what.capitalize()
        self.widget = DatalistInput(options=[self.label_from_instance(obj) for obj in first[:limit]])
        self.help_text = f"Type its name exactly (suggestions show the first {limit}) or its number"
        self.label = label

    def to_python(self, value):
        if not self.as_text or value in self.empty_values:
            return super().to_python(value)
        text = str(value).strip()
        if text.isdigit():
            match = self.queryset.filter(pk=int(text)).first()
            if match is None:
                raise forms.ValidationError(
                    f"No {self.what} has the number {text}: enter its name exactly as listed, or its number",
                    code="invalid_choice",
                )
            return match
        query = Q()
        for field in self.name_fields:
            query |= Q(**{f"{field}__iexact": text})
        matches = list(self.queryset.filter(query)[:2])
        if not matches:
            raise forms.ValidationError(
                f"No {self.what} is called “{text}”: enter its name exactly as listed, or its number",
                code="invalid_choice",
            )
        if len(matches) > 1:
            raise forms.ValidationError(
                f"More than one {self.what} is called “{text}”: enter its number instead", code="invalid_choice"
            )
        return matches[0]
