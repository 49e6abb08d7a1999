"""The demo's program registry part (Art. 6-8, 10), over HTTP with each caller's own token.

The education agency's head registers KJP Plus and KJMU (a retry of the
registration changes nothing), names KJP Plus's officer in charge and files
its first quarterly report; the social agency's head registers a program of
their own and finds DISDIK's KJP Plus as if it did not exist; Diskominfotik
reads the aggregates across agencies. Returns False if any answer is not the
one the regulation calls for.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.access.roles import Role
from demo.client import ApiClient

EDUCATION, SOCIAL = "DISDIK", "DINSOS"
PROGRAMS = {
    EDUCATION: [
        {"code": "KJP-PLUS-2026", "name": "Kartu Jakarta Pintar Plus 2026", "benefitKind": "CASH_AID",
         "legalBasis": "Pergub DKI Jakarta 110/2021", "periodStart": "2026-01-01", "periodEnd": "2026-12-31",
         "budgetRupiah": 4_200_000_000_000, "status": "ACTIVE", "maxRecipientsPerKk": 3, "excludes": ["KJMU-2026"]},
        {"code": "KJMU-2026", "name": "Kartu Jakarta Mahasiswa Unggul 2026", "benefitKind": "CASH_AID",
         "legalBasis": "Pergub DKI Jakarta 110/2021", "periodStart": "2026-01-01", "periodEnd": "2026-12-31",
         "budgetRupiah": 375_000_000_000, "status": "ACTIVE", "excludes": ["KJP-PLUS-2026"]},
    ],
    SOCIAL: [
        {"code": "PANGAN-2026", "name": "Pangan Bersubsidi 2026", "benefitKind": "SERVICE_SUBSIDY",
         "legalBasis": "Pergub DKI Jakarta 145/2017", "periodStart": "2026-01-01", "periodEnd": "2026-12-31",
         "budgetRupiah": 1_100_000_000_000, "status": "ACTIVE", "maxRecipientsPerKk": 1},
    ],
}
OFFICER = {"nip": "198001012005011001", "name": "Siti Rahmawati", "position": "Kepala Seksi Bantuan Pendidikan"}
REPORT = {"period": "2026-Q1", "recipientsServed": 512_344, "budgetRealisedRupiah": 1_024_688_000_000,
          "summary": "Penyaluran tahap pertama KJP Plus"}


def _send(client: ApiClient, method: str, path: str, document: Any = None) -> tuple[int, Any]:
    return client.request(method, path, None if document is None else json.dumps(document).encode())


def run_registry(anyone: ApiClient, cloud: Any) -> bool:
    heads = {agency: anyone.as_caller(cloud.mint(Role.AGENCY_HEAD, agency=agency)) for agency in PROGRAMS}
    admin = anyone.as_caller(cloud.mint(Role.DISKOMINFOTIK_ADMIN))
    print("\n== Program registry (SMPT, Art. 6-8) ==")
    expected: list[tuple[str, tuple[int, Any], int]] = []
    for agency, programs in PROGRAMS.items():
        for program in programs:
            answer = _send(heads[agency], "POST", "/registry/programs", program)
            expected.append((f"{agency} registers {program['code']}", answer, 201))
    retry = _send(heads[EDUCATION], "POST", "/registry/programs", PROGRAMS[EDUCATION][0])
    expected.append(("DISDIK sends the KJP Plus registration again (a retry)", retry, 200))
    kjp = "/registry/programs/KJP-PLUS-2026"
    expected.append(("DISDIK names KJP Plus's officer in charge",
                     _send(heads[EDUCATION], "POST", kjp + "/officers", OFFICER), 201))
    expected.append(("DISDIK files KJP Plus's 2026-Q1 report",
                     _send(heads[EDUCATION], "POST", kjp + "/reports", REPORT), 201))
    expected.append(("DISDIK raises KJP Plus's budget",
                     _send(heads[EDUCATION], "PATCH", kjp, {"budgetRupiah": 4_300_000_000_000}), 200))
    expected.append(("DINSOS's head reads DISDIK's KJP Plus", _send(heads[SOCIAL], "GET", kjp), 404))
    expected.append(("DINSOS's head changes DISDIK's KJP Plus",
                     _send(heads[SOCIAL], "PATCH", kjp, {"budgetRupiah": 1}), 404))
    expected.append(("Diskominfotik's admin reads KJP Plus itself", _send(admin, "GET", kjp), 403))
    overview = _send(admin, "GET", "/analytics/programs")
    expected.append(("Diskominfotik's admin reads the aggregates", overview, 200))

    ok = True
    for what, (status, body), wanted in expected:
        mark = "ok" if status == wanted else "UNEXPECTED"
        code = f" {body.get('code')}" if isinstance(body, dict) and "code" in body and status >= 400 else ""
        print(f"  {what:<58} {status}{code}  {mark}")
        ok = ok and status == wanted
    status, listed = _send(heads[SOCIAL], "GET", "/registry/programs")
    seen_by_social = [p["program"] for p in listed.get("programs", [])] if status == 200 else []
    print(f"  programs DINSOS's head sees: {', '.join(seen_by_social) or 'none'}")
    ok = ok and status == 200 and not any(ref.startswith(EDUCATION + ":") for ref in seen_by_social)
    if overview[0] == 200:
        print("  Diskominfotik's aggregates (agency, kind, status: programs, budget):")
        for cell in overview[1]["cells"]:
            print(f"    {cell['agency']:<8} {cell['benefitKind']:<16} {cell['status']:<7} "
                  f"{cell['programs']:>3}  Rp {cell['budgetRupiah']:,}")
    return ok
