"""The review cockpit's API: the queue, one draft with per-field provenance, per-field
overrides, sign-out (one report or a batch with one password), recall and amendments.

    GET  review/queue                  drafts waiting in the department (sort, filter)
    GET  review/reports/{id}           fields, AI values, provenance, problems, overrides
    POST review/reports/{id}/fields    {"element", "value"}: a person's value for one field
    POST review/reports/{id}/sign      {"password"}: sign out (electronic signature)
    POST review/sign-batch             {"reports": [ids], "password"}: each signed separately
    POST reports/{id}/recall           take a sign-out back inside the recall window
    POST reports/{id}/amend            {"kind", "reason", "changes", "password"}

Scoped by the policy (``PolicyPermission``): another department's report is 404, a role that
may not is 403, both audited. A signed version is never changed: 409, audited.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import (
    Decision,
    Permission,
    PolicyPermission,
    audit_denial,
    enforce,
)
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.reports import lifecycle
from orchestrator.reports.lifecycle import (
    LifecycleError,
    SignatureRejected,
    VersionConflict,
)
from orchestrator.reports.models import Report
from orchestrator.reports.review import QUEUE_ORDERINGS, next_in_queue, review_detail, review_queue


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # PolicyPermission admits signed-in users only
    return user


def _django_request(request: Request) -> HttpRequest:
    django_request = request._request
    assert isinstance(django_request, HttpRequest)
    return django_request


def report_for(request: Request, pk: int, permission: Permission) -> Report:
    """The report ``pk`` if the policy lets the user ``permission`` it; 404 (audited) for
    another department's report, one they may not read, or one that does not exist."""
    user = _user(request)
    found = Report.objects.select_related("case__department", "template_version").filter(pk=pk)
    report = found.first()
    if report is None:
        raise NotFound("no such report")
    attempted = f"{request.method} {request.path}"
    enforce(user, permission, report, attempted=attempted)
    if not report.readable_by_role(user.role):
        audit_denial(user, permission, report, Decision(False, "unsigned version"), attempted)
        raise NotFound("no such report")
    return report


_REFUSAL_ACTIONS = {
    "fields": AuditAction.REPORT_EDIT_REFUSED,
    "sign": AuditAction.REPORT_SIGN_REFUSED,
    "recall": AuditAction.REPORT_RECALL_REFUSED,
    "amend": AuditAction.REPORT_SIGN_REFUSED,
}


def refused(report: Report, user: User, step: str, exc: LifecycleError) -> Response:
    """Audit a refused lifecycle step and answer with every problem."""
    action = _REFUSAL_ACTIONS[step]
    if isinstance(exc, SignatureRejected):
        action = AuditAction.REPORT_SIGNATURE_DENIED
    record_event(
        action,
        report,
        actor=user,
        department=report.case.department,
        step=step,
        problems=len(exc.problems),
    )
    return Response({"detail": str(exc), "problems": exc.problems}, status=exc.status_code)


# --- serializers (the OpenAPI schema and the generated client read these) --------------------


class QueueItemSerializer(serializers.Serializer[Any]):
    report_id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    accession = serializers.CharField()
    case_id = serializers.IntegerField()
    case_type = serializers.CharField()
    priority = serializers.CharField()
    template = serializers.CharField()
    created_at = serializers.DateTimeField()
    age_seconds = serializers.IntegerField()
    triage = serializers.FloatField(allow_null=True)
    run_id = serializers.IntegerField(allow_null=True)
    run_status = serializers.CharField(allow_null=True)


class AnswerSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField())


class ReviewCaseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    accession = serializers.CharField()
    case_type = serializers.CharField()
    priority = serializers.CharField()
    patient_name = serializers.CharField()
    patient_mrn = serializers.CharField()
    clinical_info = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()


class ReviewTemplateSerializer(serializers.Serializer[Any]):
    name = serializers.DictField(child=serializers.CharField())
    version = serializers.IntegerField()


class ReviewFieldSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    section = serializers.DictField(child=serializers.CharField())
    labels = serializers.DictField(child=serializers.CharField())
    type = serializers.CharField()
    is_required = serializers.BooleanField()
    unit = serializers.CharField()
    answers = AnswerSerializer(many=True)
    value = serializers.JSONField(allow_null=True)
    ai_value = serializers.JSONField(allow_null=True)
    differs_from_ai = serializers.BooleanField()
    provenance = serializers.ListField(child=serializers.DictField())
    confidence = serializers.FloatField(allow_null=True)
    # A rule computes this element from others; a different value needs a reason.
    derived = serializers.BooleanField()
    override_reason = serializers.CharField(allow_blank=True)


class OverrideSerializer(serializers.Serializer[Any]):
    element = serializers.CharField()
    old_value = serializers.JSONField(allow_null=True)
    new_value = serializers.JSONField(allow_null=True)
    user = serializers.CharField()
    at = serializers.DateTimeField()


class ReviewDetailSerializer(serializers.Serializer[Any]):
    report_id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    signed = serializers.BooleanField()
    template = ReviewTemplateSerializer()
    case = ReviewCaseSerializer()
    elements = ReviewFieldSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField())
    overrides = OverrideSerializer(many=True)
    pdf_url = serializers.CharField()


class SignedSerializer(serializers.Serializer[Any]):
    report_id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    signed_by = serializers.CharField()
    signed_at = serializers.DateTimeField()
    sha256 = serializers.CharField()
    recall_until = serializers.DateTimeField()
    pdf_url = serializers.CharField()
    next_report_id = serializers.IntegerField(allow_null=True)


class ProblemsSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class FieldBody(serializers.Serializer[Any]):
    element = serializers.CharField(max_length=100)
    value = serializers.JSONField(allow_null=True)
    # Why the value differs from the one a derived rule computes (e.g. a Nottingham grade).
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class PasswordBody(serializers.Serializer[Any]):
    password = serializers.CharField(trim_whitespace=False)


class BatchBody(PasswordBody):
    reports = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=50)


class BatchResultSerializer(serializers.Serializer[Any]):
    report_id = serializers.IntegerField()
    signed = SignedSerializer(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())


class AmendBody(PasswordBody):
    kind = serializers.CharField(help_text="amended, corrected or addendum")
    reason = serializers.CharField(max_length=2000)
    changes = serializers.DictField(default=dict)


def signed_summary(version: Report, next_id: int | None = None) -> dict[str, Any]:
    signature = version.signature
    return {
        "report_id": version.pk,
        "version": version.version_no,
        "status": version.status,
        "signed_by": str(signature.signer),
        "signed_at": signature.signed_at,
        "sha256": signature.pdf_sha256,
        "recall_until": signature.recall_until,
        "pdf_url": f"/api/v1/reports/{version.pk}/pdf",
        "next_report_id": next_id,
    }


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


# --- views ------------------------------------------------------------------------------------


class ReviewQueueView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_REVIEW

    @extend_schema(
        operation_id="review_queue",
        parameters=[
            OpenApiParameter("ordering", str, enum=list(QUEUE_ORDERINGS)),
            OpenApiParameter("case_type", str),
            OpenApiParameter("priority", str, enum=["stat", "urgent", "routine"]),
            OpenApiParameter("min_triage", float, description="AI triage value at least"),
        ],
        responses=QueueItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Drafts waiting for review in your department (the newest version of each case)."""
        params = request.query_params
        ordering = params.get("ordering") or "priority"
        if ordering not in QUEUE_ORDERINGS:
            return Response(
                {"detail": f"ordering must be one of {', '.join(QUEUE_ORDERINGS)}"}, status=400
            )
        try:
            min_triage = float(params["min_triage"]) if params.get("min_triage") else None
        except ValueError:
            return Response({"detail": "min_triage must be a number"}, status=400)
        user = _user(request)
        items = review_queue(
            user,
            ordering=ordering,
            case_type=params.get("case_type", ""),
            priority=params.get("priority", ""),
            min_triage=min_triage,
        )
        assert user.department is not None
        record_event(
            AuditAction.REPORT_QUEUE_LISTED,
            user.department,
            actor=user,
            department=user.department,
            count=len(items),
            ordering=ordering,
        )
        return Response(QueueItemSerializer([i.as_dict() for i in items], many=True).data)


class ReviewDetailView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_READ_DRAFT

    @extend_schema(operation_id="review_report", responses=ReviewDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        """One draft (or signed version) as the cockpit shows it."""
        report = report_for(request, pk, Permission.REPORT_READ_DRAFT)
        record_event(
            AuditAction.REPORT_VIEWED,
            report,
            actor=_user(request),
            department=report.case.department,
            version=report.version_no,
        )
        return Response(ReviewDetailSerializer(review_detail(report)).data)


class ReviewFieldView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_REVIEW

    @extend_schema(
        operation_id="review_override_field",
        request=FieldBody,
        responses={200: ReviewDetailSerializer, 400: ProblemsSerializer, 409: ProblemsSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """A person's value for one field of the draft (null clears it): old value, new value,
        who and when are recorded; the field's provenance becomes the person."""
        report = report_for(request, pk, Permission.REPORT_REVIEW)
        user = _user(request)
        if report.is_signed:
            return refused(
                report,
                user,
                "fields",
                VersionConflict(["a signed version is never changed: amend it"]),
            )
        body = _valid(FieldBody, request)
        try:
            lifecycle.override_field(report, user, body["element"], body["value"], body["reason"])
        except LifecycleError as exc:
            return refused(report, user, "fields", exc)
        return Response(ReviewDetailSerializer(review_detail(report)).data)


class SignView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_SIGN
    asks_password = True  # a wrong one counts towards the login lockout: 429 documented

    @extend_schema(
        operation_id="review_sign",
        request=PasswordBody,
        responses={201: SignedSerializer, 400: ProblemsSerializer, 403: ProblemsSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Sign out the draft: your password again is the electronic signature."""
        report = report_for(request, pk, Permission.REPORT_SIGN)
        user = _user(request)
        password = _valid(PasswordBody, request)["password"]
        try:
            version = lifecycle.sign_out_report(
                report, user, password, request=_django_request(request)
            )
        except LifecycleError as exc:
            return refused(report, user, "sign", exc)
        summary = signed_summary(version, next_in_queue(user, report))
        return Response(SignedSerializer(summary).data, status=status.HTTP_201_CREATED)


class SignBatchView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_SIGN
    asks_password = True  # a wrong one counts towards the login lockout: 429 documented

    @extend_schema(
        operation_id="review_sign_batch",
        request=BatchBody,
        responses={200: BatchResultSerializer(many=True), 403: ProblemsSerializer},
    )
    def post(self, request: Request) -> Response:
        """Sign several drafts with one password entry; each gets its own signature record.
        A blocked one is answered with its problems, the others are signed."""
        user = _user(request)
        body = _valid(BatchBody, request)
        reports = [report_for(request, pk, Permission.REPORT_SIGN) for pk in body["reports"]]
        try:
            results = lifecycle.sign_out_batch(
                reports, user, body["password"], request=_django_request(request)
            )
        except SignatureRejected as exc:
            for report in reports:
                refused(report, user, "sign", exc)
            return Response({"detail": str(exc), "problems": exc.problems}, status=403)
        answer = []
        for result, report in zip(results, reports, strict=True):
            if result.signed is None:
                refused(report, user, "sign", LifecycleError(result.problems))
            answer.append(
                {
                    "report_id": result.report_id,
                    "signed": signed_summary(result.signed) if result.signed else None,
                    "problems": result.problems,
                }
            )
        return Response(BatchResultSerializer(answer, many=True).data)


class RecallView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_SIGN

    @extend_schema(
        operation_id="report_recall",
        request=None,
        responses={201: ReviewDetailSerializer, 409: ProblemsSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Take your sign-out back inside the recall window: nothing was delivered; a new draft
        with the same values is opened."""
        report = report_for(request, pk, Permission.REPORT_SIGN)
        user = _user(request)
        try:
            draft = lifecycle.recall_sign_out(report, user)
        except LifecycleError as exc:
            return refused(report, user, "recall", exc)
        return Response(ReviewDetailSerializer(review_detail(draft)).data, status=201)


class AmendView(APIView):
    permission_classes = [PolicyPermission]
    policy = Permission.REPORT_SIGN
    asks_password = True  # a wrong one counts towards the login lockout: 429 documented

    @extend_schema(
        operation_id="report_amend",
        request=AmendBody,
        responses={201: SignedSerializer, 400: ProblemsSerializer, 409: ProblemsSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Amend, correct or add an addendum to a signed report: a new signed version with its
        reason in the banner; the original stays reachable."""
        report = report_for(request, pk, Permission.REPORT_SIGN)
        user = _user(request)
        body = _valid(AmendBody, request)
        try:
            version = lifecycle.amend_report(
                report,
                user,
                body["password"],
                kind=body["kind"],
                reason=body["reason"],
                changes=body["changes"],
                request=_django_request(request),
            )
        except LifecycleError as exc:
            return refused(report, user, "amend", exc)
        return Response(SignedSerializer(signed_summary(version)).data, status=201)
