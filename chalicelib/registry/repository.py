"""DynamoDB storage of the program registry: the only registry code that touches boto3.

One table, partitioned by program so that no agency and no program shares a
hot key with another:

* ``PROGRAM#<agency>#<code> / PROGRAM`` the program; its key holds the owning
  agency, so a read or write for one agency cannot reach another's program;
* ``PROGRAM#<agency>#<code> / OFFICER#<nip>`` its officers (penanggung jawab);
* ``PROGRAM#<agency>#<code> / REPORT#<period>`` its implementation reports,
  one per quarter, written once;
* the sparse ``by_agency`` index (``agency`` / ``code``, carried by program
  items only) lists one agency's programs without a scan.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.errors import DependencyUnavailable
from chalicelib.registry.model import ImplementationReport, Officer, Program, program_from_item, program_to_item

AGENCY_INDEX = "by_agency"
_RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "InternalServerError", "ServiceUnavailable", "TransactionConflictException"}


class RegistryUnavailable(DependencyUnavailable):
    pass


def _translate(error: ClientError) -> Exception:
    if error.response["Error"]["Code"] in _RETRYABLE:
        return RegistryUnavailable("STORE_UNAVAILABLE", "the registry store is busy; retry")
    return error


def _conditional_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def program_key(agency: str, code: str) -> dict[str, str]:
    return {"pk": f"PROGRAM#{agency}#{code}", "sk": "PROGRAM"}


class ProgramRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, program: Program, content_hash: str) -> bool:
        """Store a new program; False when the agency already has one with this code."""
        item = {**program_key(program.agency, program.code), **program_to_item(program),
                "content_hash": content_hash}
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise _translate(error) from error
        return True

    def get(self, agency: str, code: str) -> tuple[Program, str] | None:
        """The agency's program and the hash of its content as created, or None."""
        try:
            item = self._table.get_item(Key=program_key(agency, code), ConsistentRead=True).get("Item")
        except ClientError as error:
            raise _translate(error) from error
        if item is None:
            return None
        return program_from_item(item), item.get("content_hash", "")

    def replace(self, program: Program, expected_updated_at: str) -> bool:
        """Write ``program`` over the stored one if nobody changed it since it was read; False otherwise."""
        item = {**program_key(program.agency, program.code), **program_to_item(program),
                "content_hash": program.content_hash()}
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_exists(pk) AND updated_at = :seen",
                                 ExpressionAttributeValues={":seen": expected_updated_at})
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise _translate(error) from error
        return True

    def of_agency(self, agency: str) -> list[Program]:
        return [program_from_item(item) for item in self._query(
            IndexName=AGENCY_INDEX, KeyConditionExpression="agency = :agency",
            ExpressionAttributeValues={":agency": agency})]

    def all_programs(self) -> list[Program]:
        """Every program (the index holds program items only: a few hundred, not recipients)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"IndexName": AGENCY_INDEX}
        try:
            while True:
                page = self._table.scan(**kwargs)
                items.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as error:
            raise _translate(error) from error
        return [program_from_item(item) for item in items]

    def put_child(self, program: Program, sort_key: str, attributes: dict[str, Any]) -> dict[str, Any] | None:
        """Write an officer or report item once; the stored one if it already exists."""
        key = {"pk": program_key(program.agency, program.code)["pk"], "sk": sort_key}
        try:
            self._table.put_item(Item={**key, **attributes}, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _conditional_failed(error):
                try:
                    return self._table.get_item(Key=key, ConsistentRead=True)["Item"]
                except ClientError as again:
                    raise _translate(again) from again
            raise _translate(error) from error
        return None

    def children(self, program: Program, prefix: str) -> list[dict[str, Any]]:
        return self._query(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                           ExpressionAttributeValues={":pk": program_key(program.agency, program.code)["pk"],
                                                      ":prefix": prefix})

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        try:
            while True:
                page = self._table.query(**kwargs)
                items.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as error:
            raise _translate(error) from error


def officer_item(officer: Officer, appointed_by: str, at: str) -> dict[str, Any]:
    return {"nip": officer.nip, "name": officer.name, "position": officer.position,
            "appointed_by": appointed_by, "appointed_at": at}


def report_item(report: ImplementationReport) -> dict[str, Any]:
    return {"period": report.period, "recipients_served": report.recipients_served,
            "budget_realised_rupiah": report.budget_realised_rupiah, "summary": report.summary,
            "filed_by": report.filed_by, "filed_at": report.filed_at}


def report_from_item(item: dict[str, Any]) -> ImplementationReport:
    return ImplementationReport(period=item["period"], recipients_served=int(item["recipients_served"]),
                                budget_realised_rupiah=int(item["budget_realised_rupiah"]),
                                summary=item["summary"], filed_by=item["filed_by"], filed_at=item["filed_at"])
