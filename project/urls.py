from __future__ import annotations

from django.urls import path

from project.apps.y_helpdesk import views

urlpatterns = [
    path("api/y_helpdesk/", views.helpdesk, name="y_helpdesk"),
]
