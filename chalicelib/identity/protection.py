"""Personal data at rest: KMS envelope encryption and a keyed NIK index.

A person's NIK, KK number, name, birth date and bank account are sealed
together with AES-256-GCM under a data key that KMS generates and wraps; only
the wrapped key is stored beside the ciphertext. Lookups by NIK use an HMAC
computed inside KMS (the key never leaves it), so the index reveals nothing
and cannot be recomputed by whoever reads the table.
"""
from __future__ import annotations

import base64
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


class PersonalDataVault:
    def __init__(self, kms: Any, data_key_id: str, index_key_id: str) -> None:
        self._kms = kms
        self._data_key_id = data_key_id
        self._index_key_id = index_key_id
        self._lock = threading.Lock()
        self._current: tuple[bytes, bytes] | None = None
        self._unwrapped: dict[bytes, bytes] = {}

    def index(self, nik: str) -> str:
        mac = self._kms.generate_mac(KeyId=self._index_key_id, MacAlgorithm="HMAC_SHA_256",
                                     Message=f"NIK:{nik}".encode())["Mac"]
        return mac.hex()

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
