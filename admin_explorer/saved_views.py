"""Saved views: each staff user's named explorer queries (list, save, delete their own).

A view is only the page's query string, so opening one is opening a URL, and the same URL
can be sent to a colleague; the name and the list stay private to their owner.
"""

from django.db import IntegrityError, transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAdminUser

from interviewsite.authentication import StaffSessionAuthentication

from .models import SavedView
from .page import view_query_errors
from .schema import ERROR_RESPONSES
from .serializers import DETAIL

#: Enough for any working set of views; a runaway client cannot fill the table.
MAX_VIEWS_PER_USER = 200


class SavedViewSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The page showing this view.")

    class Meta:
        model = SavedView
        fields = ["id", "name", "query", "url", "created_at"]
        read_only_fields = ["id", "url", "created_at"]
        extra_kwargs = {
            "query": {
                "help_text": "The page's query string (filters, sort, paging, `columns`), "
                "without the leading `?`.",
                "allow_blank": True,
            }
        }

    def get_url(self, view: SavedView) -> str:
        page = reverse("admin_explorer:explorer")
        return f"{page}?{view.query}" if view.query else page

    def validate_name(self, value: str) -> str:
        name = " ".join(value.split())
        if not name:
            raise serializers.ValidationError("Give the view a name.")
        return name

    def validate_query(self, value: str) -> str:
        query = value.strip().removeprefix("?")
        if errors := view_query_errors(query):
            raise serializers.ValidationError(
                [f"{name}: {' '.join(messages)}" for name, messages in errors.items()]
            )
        return query

    def validate(self, attrs):
        owner = self.context["request"].user
        views = SavedView.objects.filter(owner=owner)
        if views.filter(name=attrs["name"]).exists():
            raise serializers.ValidationError({"name": ["You already have a view with this name."]})
        if views.count() >= MAX_VIEWS_PER_USER:
            raise serializers.ValidationError(
                {"name": [f"You have {MAX_VIEWS_PER_USER} views: delete one first."]}
            )
        return attrs

    def create(self, validated_data):
        try:
            with transaction.atomic():
                return SavedView.objects.create(
                    owner=self.context["request"].user, **validated_data
                )
        except IntegrityError:  # the same name saved twice at once
            raise serializers.ValidationError(
                {"name": ["You already have a view with this name."]}
            ) from None


@extend_schema_view(
    list=extend_schema(operation_id="admin_views_list", description="Your saved views, by name."),
    create=extend_schema(
        operation_id="admin_views_create",
        responses={201: SavedViewSerializer, **ERROR_RESPONSES},
        description="A 400 names `name` (blank or already used) or `query` (each bad parameter).",
    ),
    destroy=extend_schema(
        operation_id="admin_views_delete",
        responses={
            204: None,
            401: ERROR_RESPONSES[401],
            403: ERROR_RESPONSES[403],
            404: OpenApiResponse(DETAIL, description="No such view of yours."),
        },
        description="Only your own views; anyone else's is a 404.",
    ),
)
class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    authentication_classes = [StaffSessionAuthentication]
    permission_classes = [IsAdminUser]
    serializer_class = SavedViewSerializer
    pagination_class = None

    def get_queryset(self):
        return SavedView.objects.filter(owner=self.request.user)
