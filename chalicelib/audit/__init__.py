"""The PDP processing record (UU 27/2022): who read or changed whose data, when and why.

* :mod:`chalicelib.audit.chain` the entry, its canonical form and the hash chain (pure);
* :mod:`chalicelib.audit.repository` the sharded chains in DynamoDB (the only code here that touches boto3);
* :mod:`chalicelib.audit.service` :class:`~chalicelib.audit.service.AuditTrail`, what the rest of the code calls;
* :mod:`chalicelib.audit.verify` ``python -m chalicelib.audit.verify``, the check an auditor runs.
"""
