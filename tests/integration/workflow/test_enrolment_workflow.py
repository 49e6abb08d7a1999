"""The enrolment state machine executed on the local cloud, through every branch.

The definition is the one in ``step_functions/`` with the timings substituted;
its Lambda tasks are our handlers; Dukcapil and the bank are the emulated
services, told per story how to behave.
"""
from __future__ import annotations

import re

import boto3
import pytest

from chalicelib.enrolment.model import State
from tests.integration.workflow.conftest import (
    execution_of,
    known_to_dukcapil,
    states_entered,
    submit,
    wait_for_final,
)

pytestmark = pytest.mark.e2e


@pytest.mark.regulation("Art. 19")
@pytest.mark.regulation("Art. 20")
def test_a_verified_applicant_gets_an_active_card_when_the_bank_issues_it(cloud, api, people):
    form = known_to_dukcapil(cloud, people("KJP_PLUS", school_level="SMP", beneficiary_proof="NISN:0121234567"))

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)

    assert application.state is State.CARD_ACTIVE
    assert application.card_number_masked and "*" in application.card_number_masked
    assert application.verified_at <= application.issued_at
    assert application.issued_within_deadline is True
    assert states_entered(application_id, cloud) == [
        "Check the documents", "Are the documents complete?", "Verify the NIK with Dukcapil",
        "Does the NIK match?", "Ask the bank to issue the card", "Activate the card"]
    assert execution_of(cloud, application_id)["status"] == "SUCCEEDED"


@pytest.mark.regulation("Art. 17")
def test_an_application_without_a_bank_account_is_rejected_before_anyone_is_asked(cloud, api, people):
    form = known_to_dukcapil(cloud, people(bank_account=""))
    calls_before = cloud.registry.stats()["calls"]

    application = wait_for_final(cloud, submit(api, form))

    assert application.state is State.REJECTED
    assert application.reasons == ["NO_BANK_ACCOUNT"]
    assert cloud.registry.stats()["calls"] == calls_before


@pytest.mark.regulation("Art. 18")
def test_a_resident_of_another_province_gets_a_payment_card_without_registering_documents(cloud, api, people):
    form = people("RESIDENT_PAYMENT", kk_number="", village_code="", beneficiary_proof="")
    form = known_to_dukcapil(cloud, {**form, "nik": "3273" + form["nik"][4:]})

    application = wait_for_final(cloud, submit(api, form))

    assert application.state is State.CARD_ACTIVE


@pytest.mark.regulation("Art. 19")
def test_a_nik_that_does_not_match_dukcapil_is_rejected_and_never_reaches_the_bank(cloud, api, people):
    form = people()
    known_to_dukcapil(cloud, {**form, "full_name": form["full_name"] + " Saputra"})
    requests_before = cloud.bank.stats()["requests"]

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)

    assert application.state is State.REJECTED
    assert application.reasons == ["NIK_NOT_MATCHED"]
    assert application.verified_at is None
    assert cloud.bank.stats()["requests"] == requests_before
    assert "Ask the bank to issue the card" not in states_entered(application_id, cloud)


@pytest.mark.regulation("Art. 19")
def test_verification_is_retried_while_dukcapil_is_briefly_down(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.registry.set_behaviour(down_for_calls=2)

    application = wait_for_final(cloud, submit(api, form))

    assert application.state is State.CARD_ACTIVE
    assert cloud.registry.stats()["unavailable"] >= 2


@pytest.mark.regulation("Art. 19")
def test_an_applicant_goes_to_manual_review_when_dukcapil_stays_down(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.registry.set_behaviour(mode="down")

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)

    assert application.state is State.MANUAL_REVIEW
    assert application.reasons == ["POPULATION_REGISTRY_UNAVAILABLE"]
    entered = states_entered(application_id, cloud)
    assert entered.count("Verify the NIK with Dukcapil") == 1
    assert "Ask the bank to issue the card" not in entered


@pytest.mark.regulation("Art. 20")
def test_the_banks_rejection_is_recorded_with_its_reason(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.bank.set_behaviour(overrides={form["nik"]: {"outcome": "reject", "delayDays": 1}})

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)

    assert application.state is State.REJECTED
    (callback,) = cloud.bank.callbacks(application_id)
    assert callback["status"] == 200
    assert application.reasons == ["BANK_" + re.sub(r"[^A-Z0-9]+", "_", callback["rejectReason"].upper())]


@pytest.mark.regulation("Art. 20")
def test_a_bank_that_misses_the_deadline_leaves_the_application_overdue_for_operators(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.bank.set_behaviour(overrides={form["nik"]: {"outcome": "silent"}})

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)

    assert application.state is State.ISSUANCE_OVERDUE
    listed = [a["applicationId"] for a in api.applications_in("ISSUANCE_OVERDUE")]
    assert application_id in listed
    assert "Record the overdue issuance" in states_entered(application_id, cloud)


@pytest.mark.regulation("Art. 20")
def test_a_card_issued_after_the_deadline_is_answered_409_and_changes_nothing(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.bank.set_behaviour(overrides={form["nik"]: {"outcome": "issue", "delayDays": 10}})

    application_id = submit(api, form)
    overdue = wait_for_final(cloud, application_id)
    assert overdue.state is State.ISSUANCE_OVERDUE
    assert cloud.bank.wait_idle(timeout=20)

    late = cloud.bank.callbacks(application_id)
    assert [(c["status"], c["body"]["code"]) for c in late] == [(409, "ISSUANCE_DEADLINE_PASSED")]
    again = cloud.bank.replay(application_id)
    assert (again["status"], again["body"]["code"]) == (409, "ISSUANCE_DEADLINE_PASSED")
    after = wait_for_final(cloud, application_id)
    assert after.state is State.ISSUANCE_OVERDUE
    assert after.state_since == overdue.state_since
    assert after.late_bank_result["status"] == "ISSUED"


@pytest.mark.regulation("Art. 20")
def test_a_callback_sent_twice_activates_the_card_once(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.bank.set_behaviour(overrides={form["nik"]: {"outcome": "duplicate", "delayDays": 1}})

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)
    assert cloud.bank.wait_idle(timeout=20)

    assert application.state is State.CARD_ACTIVE
    first, second = cloud.bank.callbacks(application_id)
    assert first["status"] == 200
    assert second["externalId"] != first["externalId"]
    assert second["status"] in (200, 409) and second["body"]["code"] in ("ALREADY_RECORDED", "DUPLICATE_CALLBACK")
    replayed = cloud.bank.replay(application_id)
    assert replayed["status"] == second["status"] and replayed["body"] == second["body"]
    history = [entry["to_state"] for entry in _history(application_id)]
    assert history.count("CARD_ACTIVE") == 1


def _history(application_id: str) -> list[dict]:
    from chalicelib import wiring

    return wiring.application_repository().history(application_id)


@pytest.mark.regulation("Art. 20")
def test_an_unreachable_bank_sends_the_verified_applicant_to_manual_review(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    cloud.bank.set_behaviour(mode="down")

    application_id = submit(api, form)
    application = wait_for_final(cloud, application_id)

    assert application.state is State.MANUAL_REVIEW
    assert application.verified_at is not None
    assert "Send to manual review after bank outage" in states_entered(application_id, cloud)


def test_a_retried_submission_starts_one_execution_and_one_issuance(cloud, api, people):
    form = known_to_dukcapil(cloud, people())
    requests_before = cloud.bank.stats()["accepted"]

    first, second = submit(api, form), submit(api, form)
    application = wait_for_final(cloud, first)

    assert first == second
    assert application.state is State.CARD_ACTIVE
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=cloud.settings["ENROLMENT_STATE_MACHINE_ARN"])["executions"]
    assert [e["name"] for e in executions].count(first) == 1
    assert cloud.bank.stats()["accepted"] == requests_before + 1


@pytest.mark.regulation("Art. 18")
def test_a_payment_card_without_an_account_is_rejected_with_the_reason(cloud, api, people):
    form = people("RESIDENT_PAYMENT", kk_number="", village_code="", bank_account="", beneficiary_proof="")
    known_to_dukcapil(cloud, form)

    application = wait_for_final(cloud, submit(api, form))

    assert application.state is State.REJECTED
    assert application.reasons == ["NO_BANK_ACCOUNT"]


@pytest.mark.regulation("Art. 17")
def test_a_rejected_applicant_may_apply_again_with_corrected_documents(cloud, api, people):
    corrected = known_to_dukcapil(cloud, people())
    first = wait_for_final(cloud, submit(api, {**corrected, "bank_account": ""}))
    assert first.state is State.REJECTED

    second_id = submit(api, corrected)
    second = wait_for_final(cloud, second_id)

    assert second_id != first.application_id
    assert second.state is State.CARD_ACTIVE
    status, body = api.submit({**corrected, "bank_account": "9999999999"})
    assert (status, body["code"]) == (409, "NIK_ALREADY_REGISTERED")
