"""Page-number pagination with a capped page size."""
from django.conf import settings
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


class ApiPagination(PageNumberPagination):
    """``?page=N&page_size=M``: 100 a page by default; a ``page_size`` above the maximum
    (``settings.ACADEMY_API_MAX_PAGE_SIZE``, 500) is capped to it, not refused.

    The response is ``{"count", "page", "page_size", "next", "previous", "results"}``;
    ``page_size`` is the size actually used.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return int(getattr(settings, "ACADEMY_API_MAX_PAGE_SIZE", MAX_PAGE_SIZE))

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "page": self.page.number,
                "page_size": self.page.paginator.per_page,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        base = super().get_paginated_response_schema(schema)
        base["properties"]["page"] = {"type": "integer", "example": 1}
        base["properties"]["page_size"] = {"type": "integer", "example": DEFAULT_PAGE_SIZE}
        base["required"] = ["count", "page", "page_size", "next", "previous", "results"]
        return base
