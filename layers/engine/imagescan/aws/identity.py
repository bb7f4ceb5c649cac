"""The account the functions run in: ``AWS_ACCOUNT_ID`` when set, else STS ``GetCallerIdentity`` once per
container (it needs no IAM permission)."""

from __future__ import annotations

import threading

from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws import clients
from imagescan.aws.errors import TransientError
from imagescan.aws.settings import Settings

_account: str | None = None
_lock = threading.Lock()


def caller_account(settings: Settings) -> str:
    """The functions' own account id."""
    global _account
    if settings.account_id:
        return settings.account_id
    with _lock:
        if _account is None:
            try:
                _account = str(clients.sts().get_caller_identity()["Account"])
            except (BotoCoreError, ClientError) as exc:
                raise TransientError(f"STS GetCallerIdentity: {exc}") from exc
        return _account


def forget() -> None:
    """Ask STS again next time (tests that switch backends)."""
    global _account
    with _lock:
        _account = None
