"""Whole-slide images of a case as Deep Zoom, with the IHC analysis as an overlay.

GET cases/{case}/slides                                   the case's slides with their URLs
GET specimens/{specimen}/slides/{index}.dzi               Deep Zoom descriptor (XML)
GET specimens/{specimen}/slides/{index}_files/{level}/{col}_{row}.jpeg   one Deep Zoom tile
GET specimens/{specimen}/slides/{index}/overlay?x=&y=&width=&height=     DAB nuclei (GeoJSON)

``index`` is the position of the slide reference in the specimen's ``tiles``. The policy's
``slide.view`` decides (``accounts/policy.py``): another department's case or specimen is 404,
a role without it (only admins and pathologists see slides: the overlay is unsigned AI output)
403, both audited as ``access.denied``.
Opening a slide (its descriptor) and listing a case's slides are audited as views; its tiles
and overlay cells are not — one view fetches hundreds — but every refused request is.
Descriptor and tiles carry an ETag (slide file version + tile address) and may be kept by the
browser (``private``): a tile never changes while the file does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from orchestrator.accounts.models import User
from orchestrator.accounts.policy import Permission, enforce
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.cases.models import Case, Specimen
from orchestrator.cases.slide_overlay import OVERLAY_MAX_SIDE, OVERLAY_METHOD, nuclei_overlay
from orchestrator.cases.slides import (
    OpenedSlide,
    SlideError,
    SlideNotFound,
    TileNotFound,
    deepzoom_tile_jpeg,
    dzi_descriptor,
    open_slide,
    slide_name,
)

# Private: department-scoped pixels must not sit in a shared proxy cache.
CACHE_CONTROL = "private, max-age=86400"

_DETAIL = inline_serializer("SlideProblem", {"detail": serializers.CharField()})
_PROBLEMS = inline_serializer(
    "SlideOverlayProblems", {"problems": serializers.ListField(child=serializers.CharField())}
)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@dataclass(frozen=True)
class SpecimenSlide:
    specimen: Specimen
    index: int
    name: str
    opened: OpenedSlide


def _slide(request: Request, specimen_pk: int, index: int, attempted: str) -> SpecimenSlide:
    """The slide at ``index`` of the specimen's tiles, for a user the policy lets see it (404
    for another department's specimen, 403 for a role without ``slide.view``; both audited)."""
    user = _user(request)
    specimen = Specimen.objects.select_related("case").filter(pk=specimen_pk).first()
    if specimen is None:
        raise NotFound("not found")  # as for another department's: ids reveal nothing
    enforce(user, Permission.SLIDE_VIEW, specimen, attempted=f"GET slide {attempted}")
    tiles = specimen.tiles if isinstance(specimen.tiles, list) else []
    reference = tiles[index] if 0 <= index < len(tiles) else None
    name = slide_name(reference) if isinstance(reference, dict) else None
    if name is None:
        raise Http404(f"specimen {specimen_pk} has no whole-slide image at index {index}")
    try:
        return SpecimenSlide(specimen, index, name, open_slide(name))
    except SlideNotFound as exc:
        raise Http404(str(exc)) from None


def _problems(problems: list[str]) -> Response:
    return Response({"problems": problems}, status=status.HTTP_400_BAD_REQUEST)


def _cached(request: Request, etag: str, content: bytes, content_type: str) -> HttpResponse:
    """``content`` with caching headers, or 304 when the browser already holds this ETag."""
    quoted = f'"{etag}"'
    if quoted in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type=content_type)
    response["ETag"] = quoted
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Cookie"
    return response


@extend_schema(
    operation_id="slide_dzi",
    responses={(200, "application/xml"): OpenApiTypes.STR, 304: None, 403: _DETAIL, 404: _DETAIL},
)
@api_view(["GET"])
def slide_dzi(request: Request, specimen: int, index: int) -> HttpResponse:
    """The Deep Zoom descriptor of a specimen's slide (opened by OpenSeadragon); audited."""
    found = _slide(request, specimen, index, "descriptor")
    opened = found.opened
    record_event(
        AuditAction.SLIDE_VIEWED,
        found.specimen,
        actor=_user(request),
        department=found.specimen.case.department,
        index=index,
        slide=found.name,
    )
    return _cached(
        request, f"{opened.version}-dzi", dzi_descriptor(opened).encode(), "application/xml"
    )


@extend_schema(
    operation_id="slide_tile",
    responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 304: None, 403: _DETAIL, 404: _DETAIL},
)
@api_view(["GET"])
def slide_tile(
    request: Request, specimen: int, index: int, level: int, col: int, row: int
) -> HttpResponse:
    """One Deep Zoom tile (254 px + 1 px overlap) as JPEG; a tile outside the pyramid is 404."""
    opened = _slide(request, specimen, index, "tile").opened
    etag = f"{opened.version}-{level}-{col}-{row}"
    if f'"{etag}"' in request.headers.get("If-None-Match", ""):
        return _cached(request, etag, b"", "image/jpeg")
    try:
        jpeg = deepzoom_tile_jpeg(opened, level, col, row)
    except TileNotFound as exc:
        raise Http404(str(exc)) from None
    return _cached(request, etag, jpeg, "image/jpeg")


class OverlayQuerySerializer(serializers.Serializer[dict[str, int]]):
    x = serializers.IntegerField(min_value=0, help_text="left edge, level-0 pixels")
    y = serializers.IntegerField(min_value=0, help_text="top edge, level-0 pixels")
    width = serializers.IntegerField(min_value=1, max_value=OVERLAY_MAX_SIDE)
    height = serializers.IntegerField(min_value=1, max_value=OVERLAY_MAX_SIDE)


class PointSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["Point"])
    coordinates = serializers.ListField(
        child=serializers.FloatField(), help_text="[x, y] in level-0 slide pixels"
    )


class NucleusPropertiesSerializer(serializers.Serializer[Any]):
    positive = serializers.BooleanField(help_text="DAB-positive, as the model answered")


class NucleusFeatureSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["Feature"])
    geometry = PointSerializer()
    properties = NucleusPropertiesSerializer()


class OverlaySerializer(serializers.Serializer[Any]):
    """A GeoJSON FeatureCollection of nuclei, in level-0 slide pixels (y down)."""

    type = serializers.ChoiceField(choices=["FeatureCollection"])
    region = serializers.ListField(child=serializers.IntegerField(), help_text="[x, y, w, h]")
    method = serializers.CharField()
    run = serializers.IntegerField(
        allow_null=True, help_text="the run whose recorded answer this is; null: none analysed"
    )
    node = serializers.CharField(allow_blank=True, help_text="the run's node that called it")
    endpoint = serializers.CharField(allow_blank=True)
    model_version = serializers.CharField(allow_blank=True)
    positive_nuclei = serializers.IntegerField()
    total_nuclei = serializers.IntegerField()
    features = NucleusFeatureSerializer(many=True)


@extend_schema(
    operation_id="slide_overlay",
    parameters=[OverlayQuerySerializer],
    responses={200: OverlaySerializer, 400: _PROBLEMS, 403: _DETAIL, 404: _DETAIL},
)
@api_view(["GET"])
def slide_overlay(request: Request, specimen: int, index: int) -> Response:
    """DAB-positive and negative nuclei inside a region of the slide, as the IHC model answered
    in the newest run of the case that analysed the slide (its recorded output, not computed
    again); every problem of a bad region is listed."""
    found = _slide(request, specimen, index, "overlay")
    opened = found.opened
    query = OverlayQuerySerializer(data=request.query_params)
    if not query.is_valid():
        return _problems(
            [f"{field}: {error}" for field, errors in query.errors.items() for error in errors]
        )
    try:
        overlay = nuclei_overlay(found.specimen.case, opened, **query.validated_data)
    except SlideError as exc:
        return _problems(str(exc).split("; "))
    analysis = overlay.analysis
    return Response(
        OverlaySerializer(
            {
                "type": "FeatureCollection",
                "region": list(overlay.region),
                "method": OVERLAY_METHOD,
                "run": analysis.run if analysis else None,
                "node": analysis.node if analysis else "",
                "endpoint": analysis.endpoint if analysis else "",
                "model_version": analysis.model_version if analysis else "",
                "positive_nuclei": overlay.positive_nuclei,
                "total_nuclei": len(overlay.nuclei),
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [n.x, n.y]},
                        "properties": {"positive": n.positive},
                    }
                    for n in overlay.nuclei
                ],
            }
        ).data
    )


class SlideSummarySerializer(serializers.Serializer[Any]):
    specimen = serializers.IntegerField()
    specimen_label = serializers.CharField()
    index = serializers.IntegerField(help_text="position of the reference in the specimen's tiles")
    name = serializers.CharField()
    stain = serializers.CharField(allow_blank=True)
    region = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="[x, y, w, h] in level-0 pixels that the workflow's models read, if any",
    )
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    microns_per_pixel = serializers.FloatField(allow_null=True)
    dzi_url = serializers.CharField()
    overlay_url = serializers.CharField(help_text="add ?x=&y=&width=&height=")
    error = serializers.CharField(allow_null=True, help_text="why the slide cannot be shown")


class CaseSlidesSerializer(serializers.Serializer[Any]):
    case = serializers.IntegerField()
    accession = serializers.CharField()
    slides = SlideSummarySerializer(many=True)


def _summary(specimen: Specimen, index: int, reference: dict[str, Any], name: str) -> Any:
    base = f"/api/v1/specimens/{specimen.pk}/slides/{index}"
    summary: dict[str, Any] = {
        "specimen": specimen.pk,
        "specimen_label": specimen.label,
        "index": index,
        "name": name,
        "stain": str(reference.get("stain", "")),
        "region": reference.get("region") if isinstance(reference.get("region"), list) else None,
        "width": None,
        "height": None,
        "microns_per_pixel": None,
        "dzi_url": f"{base}.dzi",
        "overlay_url": f"{base}/overlay",
        "error": None,
    }
    try:
        opened = open_slide(name)
    except SlideNotFound as exc:
        return {**summary, "error": str(exc)}
    width, height = opened.dimensions
    return {
        **summary,
        "width": width,
        "height": height,
        "microns_per_pixel": opened.microns_per_pixel,
    }


@extend_schema(
    operation_id="case_slides", responses={200: CaseSlidesSerializer, 403: _DETAIL, 404: _DETAIL}
)
@api_view(["GET"])
def case_slides(request: Request, case: int) -> Response:
    """The whole-slide images the case's specimens reference, with their Deep Zoom and overlay
    URLs; audited."""
    user = _user(request)
    found = Case.objects.filter(pk=case).first()
    if found is None:
        raise NotFound("not found")
    enforce(user, Permission.SLIDE_VIEW, found, attempted="GET case slides")
    slides = [
        _summary(specimen, index, reference, name)
        for specimen in found.specimens.all()
        for index, reference in enumerate(
            specimen.tiles if isinstance(specimen.tiles, list) else []
        )
        if isinstance(reference, dict) and (name := slide_name(reference)) is not None
    ]
    record_event(AuditAction.CASE_SLIDES_LISTED, found, actor=user, department=found.department)
    return Response(
        CaseSlidesSerializer(
            {"case": found.pk, "accession": found.accession, "slides": slides}
        ).data
    )
