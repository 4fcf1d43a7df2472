"""Workspace content API: members (seats), files and modules, checked against the plan's
limits (orgix §5). Views parse, call `accounts.services.workspace_content`, serialize.

Who may do what: any member reads the lists and records or deletes files (uploading is
everyday work); only the owner or a billing admin adds or removes members and enables or
disables modules (they change what the workspace pays for). Non-members get a 404, other
members a 403. A refused addition is a 400 naming the action (`add_user`, `upload`,
`enable_module`) with the limit and the fix in the message.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import StoredFile, WorkspaceMember, WorkspaceModule
from accounts.services.workspace_content import (
    file_delete,
    file_record_upload,
    member_add,
    member_remove,
    module_disable,
    module_enable,
)
from billing.access import billing_workspace, workspace_membership
from billing.api.cancellations import CustomerAPIView, ErrorSerializer
from billing.api.idempotency import HEADER, idempotent
from billing.api.throttles import CustomerRateThrottle

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Replays the first response for the same key and body.",
)
REFUSALS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


# --- members ----------------------------------------------------------------------------


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = WorkspaceMember
        fields = ["id", "email", "full_name", "role", "joined_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=[WorkspaceMember.Role.MEMBER, WorkspaceMember.Role.BILLING_ADMIN],
        default=WorkspaceMember.Role.MEMBER,
    )


class MemberListAddView(CustomerAPIView):
    @extend_schema(
        operation_id="workspace_members_list",
        summary="The workspace's members (any member may read them)",
        responses={200: MemberSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        workspace = workspace_membership(request.user, slug).workspace
        members = workspace.members.select_related("user").order_by("joined_at", "pk")
        return Response(MemberSerializer(members, many=True).data)

    @extend_schema(
        operation_id="workspace_member_add",
        summary="Give an email a seat (400 naming `add_user` over the plan's seat limit)",
        request=MemberAddSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MemberSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        payload = MemberAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = member_add(
            workspace=workspace, actor=request.user, now=timezone.now(), **payload.validated_data
        )
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberRemoveView(CustomerAPIView):
    @extend_schema(
        operation_id="workspace_member_remove",
        summary="Free a seat (always allowed; may lift a limits restriction)",
        responses={204: None, **REFUSALS},
    )
    def delete(self, request: Request, slug: str, pk: int) -> Response:
        workspace = billing_workspace(request.user, slug)
        member = get_object_or_404(WorkspaceMember, pk=pk, workspace=workspace)
        member_remove(member=member, actor=request.user, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- files ------------------------------------------------------------------------------


class StoredFileSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.EmailField(source="uploaded_by.email", read_only=True, default=None)

    class Meta:
        model = StoredFile
        fields = ["id", "name", "size_mb", "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class FileRecordSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    size_mb = serializers.IntegerField(min_value=0, max_value=2_147_483_647)


class FileListRecordView(generics.ListAPIView):
    """Newest first, paginated with `limit`/`offset` (a workspace may hold many files)."""

    serializer_class = StoredFileSerializer
    pagination_class = LimitOffsetPagination
    throttle_classes = [CustomerRateThrottle]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return StoredFile.objects.none()
        workspace = workspace_membership(self.request.user, self.kwargs["slug"]).workspace
        return workspace.files.select_related("uploaded_by").order_by("-uploaded_at", "-pk")

    @extend_schema(operation_id="workspace_files_list", summary="The workspace's files")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="workspace_file_record",
        summary="Record an uploaded file (400 naming `upload` over the storage limit)",
        request=FileRecordSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: StoredFileSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        workspace = workspace_membership(request.user, slug).workspace
        payload = FileRecordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        stored = file_record_upload(
            workspace=workspace, actor=request.user, now=timezone.now(), **payload.validated_data
        )
        return Response(StoredFileSerializer(stored).data, status=status.HTTP_201_CREATED)


class FileDeleteView(CustomerAPIView):
    @extend_schema(
        operation_id="workspace_file_delete",
        summary="Delete a file and free its storage (always allowed)",
        responses={204: None, **REFUSALS},
    )
    def delete(self, request: Request, slug: str, pk: int) -> Response:
        workspace = workspace_membership(request.user, slug).workspace
        stored = get_object_or_404(StoredFile, pk=pk, workspace=workspace)
        file_delete(stored_file=stored, actor=request.user, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- modules ----------------------------------------------------------------------------


class ModuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkspaceModule
        fields = ["id", "code", "enabled_at"]
        read_only_fields = fields


class ModuleEnableSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)


class ModuleListEnableView(CustomerAPIView):
    @extend_schema(
        operation_id="workspace_modules_list",
        summary="The workspace's enabled modules (any member may read them)",
        responses={200: ModuleSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        workspace = workspace_membership(request.user, slug).workspace
        return Response(ModuleSerializer(workspace.modules.order_by("code"), many=True).data)

    @extend_schema(
        operation_id="workspace_module_enable",
        summary="Enable a module (400 naming `enable_module` over the module limit)",
        request=ModuleEnableSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: ModuleSerializer, **REFUSALS},
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        payload = ModuleEnableSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        module = module_enable(
            workspace=workspace, actor=request.user, now=timezone.now(), **payload.validated_data
        )
        return Response(ModuleSerializer(module).data, status=status.HTTP_201_CREATED)


class ModuleDisableView(CustomerAPIView):
    @extend_schema(
        operation_id="workspace_module_disable",
        summary="Disable a module; its data is kept (always allowed)",
        responses={204: None, **REFUSALS},
    )
    def delete(self, request: Request, slug: str, code: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        module = get_object_or_404(WorkspaceModule, code=code, workspace=workspace)
        module_disable(module=module, actor=request.user, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)
