"""Deep Zoom and overlay API: tiles, caching, scoping by department and role, audited denials."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from orchestrator.accounts.models import Department, Role, User
from orchestrator.audit.models import AuditEvent
from orchestrator.cases.models import Case, Specimen
from orchestrator.cases.services import create_case
from orchestrator.demo_data import DemoData, load_demo_data, with_demo_slide
from tests.conftest import PASSWORD, case_document
from tests.factories import UserFactory
from tests.orchestrator.cases.recorded import record_analysis

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(department: Department, demo_slide: str) -> Case:
    return create_case(department, with_demo_slide(case_document("breast-resection")))


@pytest.fixture
def base(case: Case) -> str:
    specimen = case.specimens.get()
    return f"/api/v1/specimens/{specimen.pk}/slides/0"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_descriptor_describes_the_pyramid_and_the_view_is_audited(
    pathologist: User, case: Case, base: str
) -> None:
    response = client_for(pathologist).get(f"{base}.dzi")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    body = response.content.decode()
    assert 'TileSize="254" Overlap="1" Format="jpeg"' in body
    assert '<Size Width="4096" Height="4096"' in body
    event = AuditEvent.objects.get(action="slide.viewed")
    assert event.actor == pathologist
    assert event.object_id == str(case.specimens.get().pk)
    assert event.detail == {"index": 0, "slide": "demo/ihc-ki67.tiff"}


@pytest.mark.parametrize(
    ("level", "col", "row", "size"),
    [
        (12, 0, 0, (255, 255)),  # a corner tile: overlap on the inner edges only
        (12, 5, 7, (256, 256)),  # an inner tile: 254 + 1 px overlap each side
        (12, 16, 16, (33, 33)),  # last column and row: 4096 - 16 * 254 = 32 px + 1 overlap
        (0, 0, 0, (1, 1)),
    ],
)
def test_tiles_are_jpeg_of_254_px_plus_overlap(
    admin: User, base: str, level: int, col: int, row: int, size: tuple[int, int]
) -> None:
    response = client_for(admin).get(f"{base}_files/{level}/{col}_{row}.jpeg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as tile:
        assert tile.format == "JPEG"
        assert tile.size == size


def test_a_tile_carries_an_etag_and_a_repeat_request_is_not_modified(
    pathologist: User, base: str
) -> None:
    client = client_for(pathologist)
    first = client.get(f"{base}_files/11/3_3.jpeg")
    again = client.get(f"{base}_files/11/3_3.jpeg", HTTP_IF_NONE_MATCH=first["ETag"])
    neighbour = client.get(f"{base}_files/11/3_4.jpeg")

    assert re.fullmatch(r'"[0-9a-f]{16}-11-3-3"', first["ETag"])
    assert first["Cache-Control"] == "private, max-age=86400"
    assert again.status_code == 304
    assert again.content == b""
    assert neighbour["ETag"] != first["ETag"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("_files/13/0_0.jpeg", "level 13 does not exist: this slide has Deep Zoom levels 0-12"),
        (
            "_files/12/17_0.jpeg",
            "tile 17_0 does not exist at level 12: columns are 0-16, rows 0-16",
        ),
        ("_files/2/0_1.jpeg", "tile 0_1 does not exist at level 2: columns are 0-0, rows 0-0"),
    ],
)
def test_a_tile_outside_the_pyramid_is_404_saying_what_exists(
    pathologist: User, base: str, path: str, message: str
) -> None:
    response = client_for(pathologist).get(base + path)

    assert response.status_code == 404
    assert response.json()["detail"] == message


def test_a_specimen_tile_that_is_not_a_slide_is_404(pathologist: User, case: Case) -> None:
    specimen = case.specimens.get()
    specimen.tiles = [{"uri": "sample:immunohistochemistry"}]
    specimen.save()

    response = client_for(pathologist).get(f"/api/v1/specimens/{specimen.pk}/slides/0.dzi")
    missing = client_for(pathologist).get(f"/api/v1/specimens/{specimen.pk}/slides/3.dzi")

    assert response.status_code == 404
    assert "has no whole-slide image at index 0" in response.json()["detail"]
    assert missing.status_code == 404


def test_another_departments_slide_is_404_and_the_denial_is_audited(
    other_department_pathologist: User, case: Case, base: str
) -> None:
    client = client_for(other_department_pathologist)

    responses = [
        client.get(f"{base}.dzi"),
        client.get(f"{base}_files/12/0_0.jpeg"),
        client.get(f"{base}/overlay?x=0&y=0&width=256&height=256"),
        client.get(f"/api/v1/cases/{case.pk}/slides"),
    ]
    nonexistent = client.get("/api/v1/specimens/999999/slides/0.dzi")

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    # Exactly what a specimen that does not exist gets: the id reveals nothing.
    assert {r.content for r in responses} == {nonexistent.content}
    denials = AuditEvent.objects.filter(action="access.denied").order_by("pk")
    assert [(e.object_type, e.detail["attempted"]) for e in denials] == [
        ("cases.specimen", "GET slide descriptor"),
        ("cases.specimen", "GET slide tile"),
        ("cases.specimen", "GET slide overlay"),
        ("cases.case", "GET case slides"),
    ]
    assert {e.actor for e in denials} == {other_department_pathologist}
    assert {e.detail["reason"] for e in denials} == {"another department"}
    assert {e.detail["permission"] for e in denials} == {"slide.view"}
    assert not AuditEvent.objects.filter(action="slide.viewed").exists()


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.INTEGRATION, Role.MODEL_TEAM])
def test_roles_other_than_admin_and_pathologist_may_not_view_slides_and_are_audited(
    department: Department, case: Case, base: str, role: Role
) -> None:
    user = UserFactory.create(username=f"a-{role}", department=department, role=role)
    client = client_for(user)

    dzi = client.get(f"{base}.dzi")
    tile = client.get(f"{base}_files/12/0_0.jpeg")
    listing = client.get(f"/api/v1/cases/{case.pk}/slides")

    assert (dzi.status_code, tile.status_code, listing.status_code) == (403, 403, 403)
    assert f"your role is {Role(role).label.lower()}" in dzi.json()["detail"]
    denials = AuditEvent.objects.filter(action="access.denied", actor=user)
    assert [e.outcome for e in denials] == ["denied", "denied", "denied"]
    assert {e.detail["permission"] for e in denials} == {"slide.view"}
    assert not AuditEvent.objects.filter(action="slide.viewed").exists()


def test_an_anonymous_request_gets_no_tile(case: Case, base: str) -> None:
    assert Client().get(f"{base}_files/12/0_0.jpeg").status_code == 403


def test_the_case_lists_its_slides_with_their_urls(
    pathologist: User, case: Case, base: str
) -> None:
    response = client_for(pathologist).get(f"/api/v1/cases/{case.pk}/slides")

    assert response.status_code == 200
    specimen = case.specimens.get()
    assert response.json() == {
        "case": case.pk,
        "accession": "S26-00001",
        "slides": [
            {
                "specimen": specimen.pk,
                "specimen_label": "A",
                "index": 0,
                "name": "demo/ihc-ki67.tiff",
                "stain": "Ki-67 (DAB)",
                "region": [0, 0, 512, 512],
                "width": 4096,
                "height": 4096,
                "microns_per_pixel": 0.5,
                "dzi_url": f"{base}.dzi",
                "overlay_url": f"{base}/overlay",
                "error": None,
            }
        ],
    }
    assert AuditEvent.objects.filter(action="case.slides_listed", actor=pathologist).count() == 1


def test_a_missing_slide_file_is_listed_with_the_reason(pathologist: User, case: Case) -> None:
    Specimen.objects.filter(case=case).update(tiles=[{"uri": "slide:gone.svs"}])

    slides = client_for(pathologist).get(f"/api/v1/cases/{case.pk}/slides").json()["slides"]

    assert slides[0]["error"] == "slide 'gone.svs' is not a file in the slide store"
    assert slides[0]["width"] is None


@pytest.fixture
def demo(department: Department) -> DemoData:
    """The demo workflow a recorded run belongs to (loaded before anyone logs in: loading
    sets the demo users' passwords, which ends their sessions)."""
    return load_demo_data(PASSWORD, "http://127.0.0.1:9")


def features(overlay: dict[str, Any]) -> list[tuple[float, float, bool]]:
    return [
        (*f["geometry"]["coordinates"], f["properties"]["positive"]) for f in overlay["features"]
    ]


def test_the_overlay_draws_the_nuclei_the_run_recorded_placed_on_the_slide(
    demo: DemoData, pathologist: User, case: Case, base: str
) -> None:
    # Level 1 is downsampled by 2: tile pixel (10, 20) is slide pixel (512 + 20, 1024 + 40).
    run = record_analysis(demo, case, [[10.0, 20.0, 1.0], [100.5, 200.0, 0.0], [600.0, 10.0, 1.0]])

    response = client_for(pathologist).get(f"{base}/overlay?x=512&y=1024&width=1024&height=1024")

    assert response.status_code == 200
    overlay = response.json()
    assert overlay["type"] == "FeatureCollection"
    assert overlay["region"] == [512, 1024, 1024, 1024]
    # The third nucleus lies at x = 512 + 1200, right of the asked region.
    assert features(overlay) == [(532.0, 1064.0, True), (713.0, 1424.0, False)]
    assert (overlay["positive_nuclei"], overlay["total_nuclei"]) == (1, 2)
    assert (overlay["run"], overlay["node"], overlay["endpoint"]) == (run.pk, "ihc", "ihc-dab")


def test_the_newest_analysing_run_is_drawn_and_test_runs_are_not(
    demo: DemoData, pathologist: User, case: Case, base: str
) -> None:
    client = client_for(pathologist)
    cell = f"{base}/overlay?x=0&y=0&width=2048&height=2048"
    nothing = client.get(cell).json()
    older = record_analysis(demo, case, [[10.0, 10.0, 1.0]], version="1")
    newer = record_analysis(demo, case, [[30.0, 30.0, 0.0], [40.0, 40.0, 1.0]], version="2")
    record_analysis(demo, case, [[50.0, 50.0, 1.0]], is_test=True)

    drawn = client.get(cell).json()

    assert (nothing["run"], nothing["features"], nothing["total_nuclei"]) == (None, [], 0)
    assert older.pk < newer.pk
    assert (drawn["run"], drawn["model_version"]) == (newer.pk, "2")
    assert features(drawn) == [(572.0, 1084.0, False), (592.0, 1104.0, True)]


def test_neighbouring_overlay_cells_never_show_a_nucleus_twice(
    demo: DemoData, pathologist: User, case: Case, base: str
) -> None:
    # Nuclei on both sides of x = 1280 and one exactly on it (level 0: tile = slide pixels).
    rows = [[float(x), 100.0, float(x % 2)] for x in range(0, 512, 16)]
    record_analysis(demo, case, rows, region=(1024, 1024, 512, 512), level=0)
    client = client_for(pathologist)
    cells = [
        client.get(f"{base}/overlay?x={x}&y=1024&width=256&height=256").json() for x in (1024, 1280)
    ]
    both = client.get(f"{base}/overlay?x=1024&y=1024&width=512&height=256").json()

    left, right = ({tuple(f["geometry"]["coordinates"]) for f in c["features"]} for c in cells)
    assert all(x < 1280 for x, _ in left)
    assert all(x >= 1280 for x, _ in right)
    assert (1280.0, 1124.0) in right
    assert not left & right
    assert len(left | right) == both["total_nuclei"] == len(rows)


def test_a_bad_overlay_region_is_400_listing_every_problem(pathologist: User, base: str) -> None:
    client = client_for(pathologist)

    fields = client.get(f"{base}/overlay?x=-1&width=5000&height=abc")
    outside = client.get(f"{base}/overlay?x=4000&y=4000&width=512&height=512")

    assert fields.status_code == 400
    assert sorted(p.split(":")[0] for p in fields.json()["problems"]) == [
        "height",
        "width",
        "x",
        "y",
    ]
    assert outside.json()["problems"] == [
        "region [4000, 4000, 512, 512] is not inside the slide (4096x4096)"
    ]
