"""Persistence: every table, imported here so Alembic sees the whole metadata."""

from app.models.audit import AuditEvent
from app.models.bulk import BulkJob, BulkJobItem
from app.models.device_checks import DeviceCheck
from app.models.devices import DeploymentGroup, Device
from app.models.operations import Operation, OutboxStep, SyncAttempt
from app.models.queue_reports import PhoneQueueReport
from app.models.rate_limits import RateLimitCounter
from app.models.settings import AdminSetting
from app.models.sign_ins import SignIn
from app.models.users import User
from app.models.verifications import InstallVerification

__all__ = [
    "AdminSetting",
    "AuditEvent",
    "BulkJob",
    "BulkJobItem",
    "DeploymentGroup",
    "DeviceCheck",
    "Device",
    "InstallVerification",
    "Operation",
    "OutboxStep",
    "PhoneQueueReport",
    "RateLimitCounter",
    "SignIn",
    "SyncAttempt",
    "User",
]
