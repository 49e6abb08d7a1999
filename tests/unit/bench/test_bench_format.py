"""The benchmark's output is read by scripts: one ``name: value`` per line, numbers a parser takes."""
import math

import pytest

from bench.calls import CallCounts, item_writes
from bench.ledger import DebitRound
from bench.run import format_figure, ratio


def test_integers_print_as_they_are_and_floats_with_the_decimals_asked():
    assert format_figure("concurrent_conditional_debits_passed", 10) == "concurrent_conditional_debits_passed: 10"
    assert format_figure("txn_rate_small_table", 142.3456) == "txn_rate_small_table: 142.35"
    assert format_figure("txn_rate_ratio_50k_vs_100", 0.98765, 3) == "txn_rate_ratio_50k_vs_100: 0.988"


def test_a_line_splits_back_into_name_and_number():
    name, value = format_figure("enrolment_aws_calls_per_application.dynamodb.GetItem", 4.0).split(": ")
    assert name == "enrolment_aws_calls_per_application.dynamodb.GetItem"
    assert float(value) == 4.0


@pytest.mark.parametrize("name", ["", "two words", "with:colon", "tab\there"])
def test_a_name_that_would_break_the_line_format_is_refused(name):
    with pytest.raises(ValueError):
        format_figure(name, 1)


def test_a_truth_value_is_not_a_figure():
    with pytest.raises(TypeError):
        format_figure("ok", True)


def test_a_ratio_over_zero_is_not_a_number_rather_than_a_crash():
    assert math.isnan(ratio(1.0, 0.0))
    assert format_figure("r", ratio(1.0, 0.0)) == "r: nan"


def test_item_writes_count_what_dynamodb_bills_write_capacity_on():
    assert item_writes("PutItem", {}) == 1
    assert item_writes("UpdateItem", {}) == 1
    assert item_writes("GetItem", {}) == 0
    assert item_writes("TransactWriteItems", {"TransactItems": [
        {"Update": {}}, {"Put": {}}, {"ConditionCheck": {}}, {"Delete": {}}]}) == 3
    assert item_writes("BatchWriteItem", {"RequestItems": {"a": [{}, {}], "b": [{}]}}) == 3


def test_call_counts_of_a_phase_are_the_difference_of_two_snapshots():
    before = CallCounts()
    before.add("dynamodb", "GetItem", 0)
    after = CallCounts()
    for _ in range(3):
        after.add("dynamodb", "GetItem", 0)
    after.add("dynamodb", "PutItem", 1)
    phase = after - before
    assert phase.total_calls == 3 and phase.total_writes == 1
    assert phase.calls["dynamodb.GetItem"] == 2


def test_a_debit_round_is_correct_only_if_exactly_the_balance_passed_with_its_postings():
    assert DebitRound(passed=10, refused=40, server_errors=0, final_balance=0, postings=10).correct
    overdrawn = DebitRound(passed=11, refused=39, server_errors=0, final_balance=-1, postings=11)
    phantom_postings = DebitRound(passed=10, refused=40, server_errors=0, final_balance=0, postings=17)
    assert not overdrawn.correct and not phantom_postings.correct


def test_a_round_reports_debits_the_balance_lost_and_postings_of_cancelled_debits():
    round_ = DebitRound(passed=15, refused=35, server_errors=0, final_balance=0, postings=17)
    assert round_.lost_updates == 5
    assert round_.orphan_postings == 2
