from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from rest_framework.authtoken import admin as authtoken_admin
from rest_framework.authtoken.models import TokenProxy

from accounts.models import User
from backoffice.admin_mixins import LargeTableAdmin

NO_GROUP = "none"


class GroupFilter(admin.SimpleListFilter):
    """Membership as `EXISTS` / `NOT EXISTS` on the user-group table: the admin's own M2M
    filter joins it (LEFT JOIN for "None") and adds DISTINCT, which sorts every user."""

    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [
            (str(pk), name) for pk, name in Group.objects.order_by("name").values_list("pk", "name")
        ] + [(NO_GROUP, "No group")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"))
        if value == NO_GROUP:
            return queryset.filter(~Exists(memberships))
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(Exists(memberships.filter(group_id=int(value))))


@admin.register(User)
class UserAdmin(BaseUserAdmin, LargeTableAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", GroupFilter]
    # email is unique (indexed); full names are not indexed, so they are not searched.
    search_fields = ["email__startswith"]
    search_help_text = "Search by the start of an email address, or a user id."
    search_id_fields = ("id",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]


class TokenAdmin(authtoken_admin.TokenAdmin):
    """DRF's token admin searches `user__username`, which this email-login user model
    does not have (any search was a 500)."""

    search_fields = ["user__email__startswith"]
    search_help_text = "Email of the token's user (starts with)"
    list_select_related = ["user"]


admin.site.unregister(TokenProxy)
admin.site.register(TokenProxy, TokenAdmin)
