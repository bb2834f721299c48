"""URL configuration of the sample application."""

from django.urls import include, path
from polls import views

urlpatterns = [
    path("", views.index, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("polls/", include("polls.urls")),
]
