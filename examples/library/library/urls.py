from __future__ import annotations

from catalog.views import author_books
from django.urls import path

urlpatterns = [path("authors/<int:author_id>/books/", author_books)]
