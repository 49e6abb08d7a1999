"""Whatever a caller sends, the answer is never a 5xx (DESIGN §6: a bad request gets a clear 4xx).

Properties over arbitrary bodies; hypothesis shrinks any counterexample to the
smallest body that still gets a server error.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from chalicelib.enrolment.intake import CSV_COLUMNS

APPLICATIONS = "/enrolment/applications"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
plausible_cells = (
    st.none() | st.integers() | st.text(max_size=30) | st.lists(st.text(max_size=5), max_size=2)
    | st.from_regex(r"31[0-9]{14}", fullmatch=True) | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True)
    | st.sampled_from(["L", "P", "M", "F", "KJP_PLUS", "KJMU", "RESIDENT_PAYMENT", "SD", "PT", ""])
)
form_shaped = st.fixed_dictionaries({}, optional={name: plausible_cells for name in CSV_COLUMNS})


def assert_a_clear_answer(answer) -> None:
    assert answer.status < 500, answer
    if answer.status >= 400:
        assert isinstance(answer.body, dict) and isinstance(answer.body.get("code"), str), answer


@FUZZ
@given(document=json_values)
def test_any_json_document_as_an_application_gets_a_clear_answer(api, document):
    assert_a_clear_answer(api.post_json(APPLICATIONS, document))


@FUZZ
@given(form=form_shaped)
def test_any_application_shaped_object_gets_a_clear_answer(api, form):
    assert_a_clear_answer(api.post_json(APPLICATIONS, form))


@FUZZ
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_an_application_get_a_clear_answer(api, body):
    assert_a_clear_answer(api.post_raw(APPLICATIONS, body))


@FUZZ
@given(lines=st.lists(st.lists(st.text(max_size=20), max_size=12), max_size=6), header=st.booleans())
def test_any_csv_text_as_an_upload_gets_a_clear_answer(api, lines, header):
    rows = ([",".join(CSV_COLUMNS)] if header else []) + [",".join(json.dumps(c) for c in line) for line in lines]
    assert_a_clear_answer(api.upload("\n".join(rows)))


@FUZZ
@given(application_id=st.text(min_size=1, max_size=80).filter(lambda s: "/" not in s and "?" not in s
                                                               and "#" not in s))
def test_any_application_id_in_the_path_gets_a_clear_answer(api, application_id):
    from urllib.parse import quote

    assert_a_clear_answer(api.get(f"{APPLICATIONS}/{quote(application_id, safe='')}"))


@FUZZ
@given(state=st.text(max_size=20), limit=st.text(max_size=6), next_token=st.text(max_size=60))
def test_any_operator_query_gets_a_clear_answer(api, state, limit, next_token):
    from urllib.parse import urlencode

    assert_a_clear_answer(api.operator_list(urlencode({"state": state, "limit": limit, "nextToken": next_token})))
