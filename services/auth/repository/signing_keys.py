"""The keys that sign access tokens; the public JWK is stored as JSON text."""

from __future__ import annotations

import abc
import json
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session as OrmSession

from services.auth.domain import SigningKey
from services.auth.models import signing_keys
from services.auth.repository._rows import to_entity, to_values

__all__ = ["SigningKeyRepository", "SqlAlchemySigningKeyRepository"]


class SigningKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: SigningKey) -> None: ...

    @abc.abstractmethod
    def list_all(self) -> list[SigningKey]:
        """Every stored key, in no particular order."""

    @abc.abstractmethod
    def retire(self, kid: str, when: datetime) -> None:
        """Set the key's ``retire_at``."""

    @abc.abstractmethod
    def delete(self, kid: str) -> None: ...


class SqlAlchemySigningKeyRepository(SigningKeyRepository):
    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def add(self, key: SigningKey) -> None:
        row = to_values(key, public_jwk=json.dumps(key.public_jwk, sort_keys=True))
        self._session.execute(insert(signing_keys).values(**row))

    def list_all(self) -> list[SigningKey]:
        return [
            to_entity(SigningKey, row, public_jwk=json.loads(row.public_jwk))
            for row in self._session.execute(select(signing_keys))
        ]

    def retire(self, kid: str, when: datetime) -> None:
        statement = update(signing_keys).where(signing_keys.c.kid == kid).values(retire_at=when)
        self._session.execute(statement)

    def delete(self, kid: str) -> None:
        self._session.execute(delete(signing_keys).where(signing_keys.c.kid == kid))
