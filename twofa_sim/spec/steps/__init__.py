"""The step types of the scenario format, one class each, registered by their YAML key.

Importing this package defines every step type; :data:`STEP_TYPES` maps each action key of a
scenario file to its class. Adding a step type is adding one class to one of these modules (or a
new module imported here): a subclass of :class:`Step` with ``key="..."`` and its ``parse``,
``describe`` and ``run``.
"""

from .base import STEP_TYPES, CheckStep, Step
from .login_mask import LoginStep, LogOutStep, StartOverStep, TypeStep
from .devices import CorrectClockStep, DeviceClockStep, DeviceStep, EnterKeyStep, InstallStep, MoveEntriesStep, ScanStep
from .app_screens import (AnswerStep, AutomaticTimeStep, ImportTextStep, OpenLinkStep, ScanOtherQrStep, ScanUnsavedStep,
                          TapStep)
from .clock import ClockStep, WaitStep
from .admin import (AdminStep, CompanySettingStep, CreateUserStep, IssueRecoveryCodesStep, PolicyStep, ResetStep,
                    TickStep, UnlockStep, UntickStep)

__all__ = [
    "STEP_TYPES", "Step", "CheckStep", "LoginStep", "TypeStep", "LogOutStep", "StartOverStep", "DeviceStep",
    "InstallStep", "ScanStep", "EnterKeyStep", "DeviceClockStep", "CorrectClockStep", "MoveEntriesStep",
    "WaitStep", "ClockStep", "AdminStep", "TickStep", "UntickStep", "ResetStep", "UnlockStep",
    "IssueRecoveryCodesStep", "CompanySettingStep", "CreateUserStep", "PolicyStep", "ScanUnsavedStep", "OpenLinkStep",
    "AnswerStep", "TapStep", "AutomaticTimeStep", "ScanOtherQrStep", "ImportTextStep",
]
