from django.urls import path

from . import import_views

app_name = "imports"
urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("template.csv", import_views.template_csv, name="template"),
    path("<int:pk>/", import_views.detail, name="detail"),
    path("<int:pk>/confirm/", import_views.confirm, name="confirm"),
    path("<int:pk>/cancel/", import_views.cancel, name="cancel"),
]
