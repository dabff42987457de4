"""Contains all the data models used in inputs/outputs"""

from .accept_in import AcceptIn
from .attempt import Attempt
from .delivery import Delivery
from .endpoint import Endpoint
from .endpoint_create import EndpointCreate
from .endpoint_update import EndpointUpdate
from .endpoint_with_secret import EndpointWithSecret
from .erasure_in import ErasureIn
from .erasure_out import ErasureOut
from .erasure_out_counts import ErasureOutCounts
from .erasure_out_kind import ErasureOutKind
from .erasure_out_status import ErasureOutStatus
from .event_type_info import EventTypeInfo
from .event_type_info_schema import EventTypeInfoSchema
from .fire_result import FireResult
from .invitation_in import InvitationIn
from .invitation_in_role import InvitationInRole
from .invitation_out import InvitationOut
from .invitation_out_role import InvitationOutRole
from .list_users_role_type_0 import ListUsersRoleType0
from .log_in_in import LogInIn
from .log_in_out import LogInOut
from .message_in import MessageIn
from .message_out import MessageOut
from .mfa_disable_in import MfaDisableIn
from .panel_in import PanelIn
from .panel_in_minerals import PanelInMinerals
from .panel_out import PanelOut
from .panel_out_minerals import PanelOutMinerals
from .panel_out_status import PanelOutStatus
from .password_change_in import PasswordChangeIn
from .problem import Problem
from .recovery_codes_out import RecoveryCodesOut
from .refresh_request import RefreshRequest
from .replay_message_response_replay_message import ReplayMessageResponseReplayMessage
from .replay_request import ReplayRequest
from .replay_since_response_replay_since import ReplaySinceResponseReplaySince
from .reset_confirm_in import ResetConfirmIn
from .reset_request_in import ResetRequestIn
from .reset_requested_out import ResetRequestedOut
from .result_out import ResultOut
from .result_out_analysis import ResultOutAnalysis
from .result_out_recommendations_type_0 import ResultOutRecommendationsType0
from .rotate_request import RotateRequest
from .session_out import SessionOut
from .sessions_revoked_out import SessionsRevokedOut
from .sign_up_in import SignUpIn
from .sign_up_out import SignUpOut
from .token_out import TokenOut
from .token_response import TokenResponse
from .totp_confirm_in import TotpConfirmIn
from .totp_enrolment_out import TotpEnrolmentOut
from .user_in import UserIn
from .user_in_role import UserInRole
from .user_out import UserOut
from .user_out_role import UserOutRole
from .validation_problem import ValidationProblem
from .validation_problem_errors_item import ValidationProblemErrorsItem

__all__ = (
    "AcceptIn",
    "Attempt",
    "Delivery",
    "Endpoint",
    "EndpointCreate",
    "EndpointUpdate",
    "EndpointWithSecret",
    "ErasureIn",
    "ErasureOut",
    "ErasureOutCounts",
    "ErasureOutKind",
    "ErasureOutStatus",
    "EventTypeInfo",
    "EventTypeInfoSchema",
    "FireResult",
    "InvitationIn",
    "InvitationInRole",
    "InvitationOut",
    "InvitationOutRole",
    "ListUsersRoleType0",
    "LogInIn",
    "LogInOut",
    "MessageIn",
    "MessageOut",
    "MfaDisableIn",
    "PanelIn",
    "PanelInMinerals",
    "PanelOut",
    "PanelOutMinerals",
    "PanelOutStatus",
    "PasswordChangeIn",
    "Problem",
    "RecoveryCodesOut",
    "RefreshRequest",
    "ReplayMessageResponseReplayMessage",
    "ReplayRequest",
    "ReplaySinceResponseReplaySince",
    "ResetConfirmIn",
    "ResetRequestedOut",
    "ResetRequestIn",
    "ResultOut",
    "ResultOutAnalysis",
    "ResultOutRecommendationsType0",
    "RotateRequest",
    "SessionOut",
    "SessionsRevokedOut",
    "SignUpIn",
    "SignUpOut",
    "TokenOut",
    "TokenResponse",
    "TotpConfirmIn",
    "TotpEnrolmentOut",
    "UserIn",
    "UserInRole",
    "UserOut",
    "UserOutRole",
    "ValidationProblem",
    "ValidationProblemErrorsItem",
)
