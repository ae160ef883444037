from django.urls import path

from . import views

app_name = "interviews"

urlpatterns = [
    path("interview/<str:token>/", views.candidate_page, name="candidate"),
]
