"""Keyed hashing of national IDs (HMAC-SHA256 with SWITCHBOARD_PII_KEY) and masking."""

from __future__ import annotations

import hashlib
import hmac

from identity.fnr import compact
from switchboard.settings import PLACEHOLDER_SECRETS, Settings


class PiiKeyMissing(RuntimeError):
    """SWITCHBOARD_PII_KEY is not set (or is a placeholder) while the register is used."""


class PiiHasher:
    """Turns a national ID into the keyed hash stored for matching; never keeps the number."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> PiiHasher:
        """Build from settings; a clear error when the key is missing or a placeholder."""
        secret = settings.pii_key.get_secret_value() if settings.pii_key else ""
        if not secret or secret.lower() in PLACEHOLDER_SECRETS:
            raise PiiKeyMissing(
                "SWITCHBOARD_PII_KEY is not set: the member register needs a secret key to "
                "store national ID numbers as keyed hashes (set it in the environment or .env)"
            )
        return cls(secret.encode())

    def hash_id(self, national_id: str) -> str:
        """Hex HMAC-SHA256 of the compact national ID."""
        return hmac.new(self._key, compact(national_id).encode(), hashlib.sha256).hexdigest()

    def hash_text(self, text: str) -> str:
        """Hex HMAC-SHA256 of any text (a calling number, prefixed by its kind)."""
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def matches(self, national_id: str, stored: str | None) -> bool:
        """Constant-time comparison of a spoken ID against a stored hash."""
        if not stored:
            return False
        return hmac.compare_digest(self.hash_id(national_id), stored)

    def __repr__(self) -> str:  # never print the key
        return "PiiHasher(<key hidden>)"
