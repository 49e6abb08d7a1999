"""Personal data at rest: KMS envelope encryption and a keyed NIK index.

A person's NIK, KK number, name, birth date and bank account are sealed
together with AES-256-GCM under a data key that KMS generates and wraps; only
the wrapped key is stored beside the ciphertext.

Lookups by NIK use a keyed index, :meth:`PersonalDataVault.index`, the one
function every context uses. Its key is derived, not stored: once per warm
container the vault asks KMS for ``GenerateMac(NIK index key, "jakarta-one/nik-index/v1")``
and keeps the result as an index subkey; each index is then
``HMAC-SHA256(subkey, "NIK:" + nik)`` computed locally. The trade-off, made
for bulk uploads (one KMS call per NIK made a 50,000-row file KMS-bound):

* the root index key never leaves KMS, and every derivation of the subkey is
  a KMS call, logged by CloudTrail and allowed only to the roles that may
  compute the index;
* but the subkey itself lives in the function's memory for the container's
  life: whoever can read that memory can compute indexes (not reverse them)
  until the key or the label is rotated. The index reveals nothing and cannot
  be recomputed by whoever only reads the table.

The label is versioned: rotating to ``.../v2`` gives new indexes for every
NIK, so a rotation is a re-index, never a silent mix of two schemes.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from typing import Any

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.core.errors import DependencyUnavailable, StoredDataCorrupt

_TRANSIENT_KMS_ERRORS = {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException",
                         "ServiceUnavailableException", "KeyUnavailableException"}


class SealedDataUnreadable(StoredDataCorrupt):
    def __init__(self) -> None:
        super().__init__("SEALED_DATA_UNREADABLE", "sealed personal data failed its integrity check")

_CONTEXT = {"purpose": "jakarta-one-personal-data"}
NIK_INDEX_LABEL = b"jakarta-one/nik-index/v1"
"""What the index subkey is derived from; the version names the index scheme."""


def index_with(subkey: bytes, nik: str, kind: str = "NIK") -> str:
    """The NIK's (or a KK number's) index under an index subkey: pure, so it can be checked without KMS."""
    return hmac.new(subkey, f"{kind}:{nik}".encode(), hashlib.sha256).hexdigest()


class PersonalDataVault:
    def __init__(self, kms: Any, data_key_id: str, index_key_id: str) -> None:
        self._kms = kms
        self._data_key_id = data_key_id
        self._index_key_id = index_key_id
        self._lock = threading.Lock()
        self._current: tuple[bytes, bytes] | None = None
        self._unwrapped: dict[bytes, bytes] = {}
        self._index_subkey: bytes | None = None

    def index(self, nik: str) -> str:
        """The keyed lookup index of a NIK: the same for every container, telling nothing of the NIK."""
        return index_with(self._subkey(), nik)

    def kk_index(self, kk_number: str) -> str:
        """The keyed index of a family card (KK) number, for counting a family's members without the number."""
        return index_with(self._subkey(), kk_number, "KK")

    def _subkey(self) -> bytes:
        subkey = self._index_subkey
        if subkey is None:
            with self._lock:
                if self._index_subkey is None:
                    try:
                        self._index_subkey = self._kms.generate_mac(
                            KeyId=self._index_key_id, MacAlgorithm="HMAC_SHA_256", Message=NIK_INDEX_LABEL)["Mac"]
                    except ClientError as error:
                        if error.response["Error"]["Code"] in _TRANSIENT_KMS_ERRORS:
                            raise DependencyUnavailable("KMS_UNAVAILABLE",
                                                        "the key service did not answer; retry") from error
                        raise
                subkey = self._index_subkey
        return subkey

    def seal(self, record: dict[str, Any]) -> str:
        wrapped, key = self._data_key()
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, json.dumps(record, sort_keys=True).encode(), None)
        return ".".join(base64.b64encode(part).decode() for part in (wrapped, nonce, ciphertext))

    def unseal(self, sealed: str) -> dict[str, Any]:
        """The record as sealed; a blob that was altered or is not ours is refused, never half-read."""
        try:
            wrapped, nonce, ciphertext = (base64.b64decode(part, validate=True) for part in sealed.split("."))
            key = self._unwrap(wrapped)
            return json.loads(AESGCM(key).decrypt(nonce, ciphertext, None))
        except ClientError as error:
            if error.response["Error"]["Code"] in _TRANSIENT_KMS_ERRORS:
                raise DependencyUnavailable("KMS_UNAVAILABLE", "the key service did not answer; retry") from error
            raise SealedDataUnreadable() from None
        except (ValueError, TypeError, InvalidTag):
            raise SealedDataUnreadable() from None

    def _data_key(self) -> tuple[bytes, bytes]:
        with self._lock:
            if self._current is None:
                generated = self._kms.generate_data_key(KeyId=self._data_key_id, KeySpec="AES_256",
                                                        EncryptionContext=_CONTEXT)
                self._current = (generated["CiphertextBlob"], generated["Plaintext"])
                self._unwrapped[generated["CiphertextBlob"]] = generated["Plaintext"]
            return self._current

    def _unwrap(self, wrapped: bytes) -> bytes:
        with self._lock:
            key = self._unwrapped.get(wrapped)
        if key is None:
            key = self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=_CONTEXT)["Plaintext"]
            with self._lock:
                self._unwrapped[wrapped] = key
        return key
