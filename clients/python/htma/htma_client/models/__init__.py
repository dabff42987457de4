"""Contains all the data models used in inputs/outputs"""

from .accept_in import AcceptIn
from .accept_response_400 import AcceptResponse400
from .accept_response_409 import AcceptResponse409
from .accept_response_410 import AcceptResponse410
from .accept_response_413 import AcceptResponse413
from .accept_response_422 import AcceptResponse422
from .accept_response_422_errors_item import AcceptResponse422ErrorsItem
from .add_user_response_400 import AddUserResponse400
from .add_user_response_401 import AddUserResponse401
from .add_user_response_403 import AddUserResponse403
from .add_user_response_404 import AddUserResponse404
from .add_user_response_409 import AddUserResponse409
from .add_user_response_413 import AddUserResponse413
from .add_user_response_422 import AddUserResponse422
from .add_user_response_422_errors_item import AddUserResponse422ErrorsItem
from .add_user_response_429 import AddUserResponse429
from .attempt import Attempt
from .begin_totp_response_400 import BeginTotpResponse400
from .begin_totp_response_401 import BeginTotpResponse401
from .begin_totp_response_403 import BeginTotpResponse403
from .begin_totp_response_409 import BeginTotpResponse409
from .begin_totp_response_413 import BeginTotpResponse413
from .begin_totp_response_422 import BeginTotpResponse422
from .change_response_400 import ChangeResponse400
from .change_response_401 import ChangeResponse401
from .change_response_403 import ChangeResponse403
from .change_response_404 import ChangeResponse404
from .change_response_409 import ChangeResponse409
from .change_response_413 import ChangeResponse413
from .change_response_422 import ChangeResponse422
from .change_response_422_errors_item import ChangeResponse422ErrorsItem
from .change_response_429 import ChangeResponse429
from .confirm_reset_response_400 import ConfirmResetResponse400
from .confirm_reset_response_401 import ConfirmResetResponse401
from .confirm_reset_response_409 import ConfirmResetResponse409
from .confirm_reset_response_413 import ConfirmResetResponse413
from .confirm_reset_response_422 import ConfirmResetResponse422
from .confirm_reset_response_422_errors_item import ConfirmResetResponse422ErrorsItem
from .confirm_reset_response_429 import ConfirmResetResponse429
from .confirm_totp_response_400 import ConfirmTotpResponse400
from .confirm_totp_response_401 import ConfirmTotpResponse401
from .confirm_totp_response_403 import ConfirmTotpResponse403
from .confirm_totp_response_404 import ConfirmTotpResponse404
from .confirm_totp_response_409 import ConfirmTotpResponse409
from .confirm_totp_response_413 import ConfirmTotpResponse413
from .confirm_totp_response_422 import ConfirmTotpResponse422
from .confirm_totp_response_422_errors_item import ConfirmTotpResponse422ErrorsItem
from .create_endpoint_response_400 import CreateEndpointResponse400
from .create_endpoint_response_401 import CreateEndpointResponse401
from .create_endpoint_response_403 import CreateEndpointResponse403
from .create_endpoint_response_404 import CreateEndpointResponse404
from .create_endpoint_response_409 import CreateEndpointResponse409
from .create_endpoint_response_413 import CreateEndpointResponse413
from .create_endpoint_response_422 import CreateEndpointResponse422
from .create_endpoint_response_422_errors_item import CreateEndpointResponse422ErrorsItem
from .delete_endpoint_response_401 import DeleteEndpointResponse401
from .delete_endpoint_response_403 import DeleteEndpointResponse403
from .delete_endpoint_response_404 import DeleteEndpointResponse404
from .delete_endpoint_response_422 import DeleteEndpointResponse422
from .delete_endpoint_response_422_errors_item import DeleteEndpointResponse422ErrorsItem
from .delivery import Delivery
from .disable_endpoint_response_400 import DisableEndpointResponse400
from .disable_endpoint_response_401 import DisableEndpointResponse401
from .disable_endpoint_response_403 import DisableEndpointResponse403
from .disable_endpoint_response_404 import DisableEndpointResponse404
from .disable_endpoint_response_409 import DisableEndpointResponse409
from .disable_endpoint_response_413 import DisableEndpointResponse413
from .disable_endpoint_response_422 import DisableEndpointResponse422
from .disable_endpoint_response_422_errors_item import DisableEndpointResponse422ErrorsItem
from .disable_response_400 import DisableResponse400
from .disable_response_401 import DisableResponse401
from .disable_response_403 import DisableResponse403
from .disable_response_404 import DisableResponse404
from .disable_response_409 import DisableResponse409
from .disable_response_413 import DisableResponse413
from .disable_response_422 import DisableResponse422
from .disable_response_422_errors_item import DisableResponse422ErrorsItem
from .enable_endpoint_response_400 import EnableEndpointResponse400
from .enable_endpoint_response_401 import EnableEndpointResponse401
from .enable_endpoint_response_403 import EnableEndpointResponse403
from .enable_endpoint_response_404 import EnableEndpointResponse404
from .enable_endpoint_response_409 import EnableEndpointResponse409
from .enable_endpoint_response_413 import EnableEndpointResponse413
from .enable_endpoint_response_422 import EnableEndpointResponse422
from .enable_endpoint_response_422_errors_item import EnableEndpointResponse422ErrorsItem
from .endpoint import Endpoint
from .endpoint_attempts_response_401 import EndpointAttemptsResponse401
from .endpoint_attempts_response_403 import EndpointAttemptsResponse403
from .endpoint_attempts_response_404 import EndpointAttemptsResponse404
from .endpoint_attempts_response_422 import EndpointAttemptsResponse422
from .endpoint_attempts_response_422_errors_item import EndpointAttemptsResponse422ErrorsItem
from .endpoint_create import EndpointCreate
from .endpoint_update import EndpointUpdate
from .endpoint_with_secret import EndpointWithSecret
from .erase_clinic_response_400 import EraseClinicResponse400
from .erase_clinic_response_401 import EraseClinicResponse401
from .erase_clinic_response_403 import EraseClinicResponse403
from .erase_clinic_response_404 import EraseClinicResponse404
from .erase_clinic_response_409 import EraseClinicResponse409
from .erase_clinic_response_413 import EraseClinicResponse413
from .erase_clinic_response_422 import EraseClinicResponse422
from .erase_clinic_response_422_errors_item import EraseClinicResponse422ErrorsItem
from .erase_clinic_response_429 import EraseClinicResponse429
from .erase_user_response_400 import EraseUserResponse400
from .erase_user_response_401 import EraseUserResponse401
from .erase_user_response_403 import EraseUserResponse403
from .erase_user_response_404 import EraseUserResponse404
from .erase_user_response_409 import EraseUserResponse409
from .erase_user_response_413 import EraseUserResponse413
from .erase_user_response_422 import EraseUserResponse422
from .erase_user_response_422_errors_item import EraseUserResponse422ErrorsItem
from .erase_user_response_429 import EraseUserResponse429
from .erasure_in import ErasureIn
from .erasure_out import ErasureOut
from .erasure_out_counts import ErasureOutCounts
from .erasure_out_kind import ErasureOutKind
from .erasure_out_status import ErasureOutStatus
from .event_type_info import EventTypeInfo
from .event_type_info_schema import EventTypeInfoSchema
from .fire_result import FireResult
from .get_endpoint_response_401 import GetEndpointResponse401
from .get_endpoint_response_403 import GetEndpointResponse403
from .get_endpoint_response_404 import GetEndpointResponse404
from .get_endpoint_response_422 import GetEndpointResponse422
from .get_endpoint_response_422_errors_item import GetEndpointResponse422ErrorsItem
from .get_erasure_response_404 import GetErasureResponse404
from .get_erasure_response_422 import GetErasureResponse422
from .get_erasure_response_422_errors_item import GetErasureResponse422ErrorsItem
from .get_erasure_response_429 import GetErasureResponse429
from .get_panel_response_401 import GetPanelResponse401
from .get_panel_response_403 import GetPanelResponse403
from .get_panel_response_404 import GetPanelResponse404
from .get_panel_response_422 import GetPanelResponse422
from .get_panel_response_422_errors_item import GetPanelResponse422ErrorsItem
from .get_panel_response_429 import GetPanelResponse429
from .get_result_response_401 import GetResultResponse401
from .get_result_response_403 import GetResultResponse403
from .get_result_response_404 import GetResultResponse404
from .get_result_response_409 import GetResultResponse409
from .get_result_response_422 import GetResultResponse422
from .get_result_response_422_errors_item import GetResultResponse422ErrorsItem
from .get_result_response_429 import GetResultResponse429
from .inbox_response_401 import InboxResponse401
from .inbox_response_403 import InboxResponse403
from .inbox_response_422 import InboxResponse422
from .inbox_response_422_errors_item import InboxResponse422ErrorsItem
from .inbox_response_429 import InboxResponse429
from .invitation_in import InvitationIn
from .invitation_in_role import InvitationInRole
from .invitation_out import InvitationOut
from .invitation_out_role import InvitationOutRole
from .invite_response_400 import InviteResponse400
from .invite_response_401 import InviteResponse401
from .invite_response_403 import InviteResponse403
from .invite_response_404 import InviteResponse404
from .invite_response_409 import InviteResponse409
from .invite_response_413 import InviteResponse413
from .invite_response_422 import InviteResponse422
from .invite_response_422_errors_item import InviteResponse422ErrorsItem
from .list_endpoints_response_401 import ListEndpointsResponse401
from .list_endpoints_response_403 import ListEndpointsResponse403
from .list_panels_response_401 import ListPanelsResponse401
from .list_panels_response_403 import ListPanelsResponse403
from .list_panels_response_422 import ListPanelsResponse422
from .list_panels_response_422_errors_item import ListPanelsResponse422ErrorsItem
from .list_panels_response_429 import ListPanelsResponse429
from .list_sessions_response_401 import ListSessionsResponse401
from .list_sessions_response_403 import ListSessionsResponse403
from .list_users_response_401 import ListUsersResponse401
from .list_users_response_403 import ListUsersResponse403
from .list_users_response_422 import ListUsersResponse422
from .list_users_response_422_errors_item import ListUsersResponse422ErrorsItem
from .list_users_response_429 import ListUsersResponse429
from .list_users_role_type_0 import ListUsersRoleType0
from .log_in_in import LogInIn
from .log_in_out import LogInOut
from .login_response_400 import LoginResponse400
from .login_response_401 import LoginResponse401
from .login_response_409 import LoginResponse409
from .login_response_413 import LoginResponse413
from .login_response_422 import LoginResponse422
from .login_response_422_errors_item import LoginResponse422ErrorsItem
from .login_response_429 import LoginResponse429
from .logout_response_400 import LogoutResponse400
from .logout_response_401 import LogoutResponse401
from .logout_response_403 import LogoutResponse403
from .logout_response_409 import LogoutResponse409
from .logout_response_413 import LogoutResponse413
from .logout_response_422 import LogoutResponse422
from .me_response_401 import MeResponse401
from .me_response_403 import MeResponse403
from .me_response_429 import MeResponse429
from .message_attempts_response_401 import MessageAttemptsResponse401
from .message_attempts_response_403 import MessageAttemptsResponse403
from .message_attempts_response_404 import MessageAttemptsResponse404
from .message_attempts_response_422 import MessageAttemptsResponse422
from .message_attempts_response_422_errors_item import MessageAttemptsResponse422ErrorsItem
from .message_deliveries_response_401 import MessageDeliveriesResponse401
from .message_deliveries_response_403 import MessageDeliveriesResponse403
from .message_deliveries_response_404 import MessageDeliveriesResponse404
from .message_deliveries_response_422 import MessageDeliveriesResponse422
from .message_deliveries_response_422_errors_item import MessageDeliveriesResponse422ErrorsItem
from .message_in import MessageIn
from .message_out import MessageOut
from .mfa_disable_in import MfaDisableIn
from .panel_in import PanelIn
from .panel_in_minerals import PanelInMinerals
from .panel_out import PanelOut
from .panel_out_minerals import PanelOutMinerals
from .panel_out_status import PanelOutStatus
from .password_change_in import PasswordChangeIn
from .recovery_codes_out import RecoveryCodesOut
from .refresh_request import RefreshRequest
from .refresh_response_400 import RefreshResponse400
from .refresh_response_401 import RefreshResponse401
from .refresh_response_403 import RefreshResponse403
from .refresh_response_404 import RefreshResponse404
from .refresh_response_409 import RefreshResponse409
from .refresh_response_413 import RefreshResponse413
from .refresh_response_422 import RefreshResponse422
from .refresh_response_422_errors_item import RefreshResponse422ErrorsItem
from .replay_message_response_400 import ReplayMessageResponse400
from .replay_message_response_401 import ReplayMessageResponse401
from .replay_message_response_403 import ReplayMessageResponse403
from .replay_message_response_404 import ReplayMessageResponse404
from .replay_message_response_409 import ReplayMessageResponse409
from .replay_message_response_413 import ReplayMessageResponse413
from .replay_message_response_422 import ReplayMessageResponse422
from .replay_message_response_422_errors_item import ReplayMessageResponse422ErrorsItem
from .replay_message_response_replay_message import ReplayMessageResponseReplayMessage
from .replay_request import ReplayRequest
from .replay_since_response_400 import ReplaySinceResponse400
from .replay_since_response_401 import ReplaySinceResponse401
from .replay_since_response_403 import ReplaySinceResponse403
from .replay_since_response_404 import ReplaySinceResponse404
from .replay_since_response_409 import ReplaySinceResponse409
from .replay_since_response_413 import ReplaySinceResponse413
from .replay_since_response_422 import ReplaySinceResponse422
from .replay_since_response_422_errors_item import ReplaySinceResponse422ErrorsItem
from .replay_since_response_replay_since import ReplaySinceResponseReplaySince
from .request_reset_response_400 import RequestResetResponse400
from .request_reset_response_409 import RequestResetResponse409
from .request_reset_response_413 import RequestResetResponse413
from .request_reset_response_422 import RequestResetResponse422
from .request_reset_response_422_errors_item import RequestResetResponse422ErrorsItem
from .request_reset_response_429 import RequestResetResponse429
from .reset_confirm_in import ResetConfirmIn
from .reset_request_in import ResetRequestIn
from .reset_requested_out import ResetRequestedOut
from .result_out import ResultOut
from .result_out_analysis import ResultOutAnalysis
from .result_out_recommendations_type_0 import ResultOutRecommendationsType0
from .revoke_session_response_401 import RevokeSessionResponse401
from .revoke_session_response_403 import RevokeSessionResponse403
from .revoke_session_response_404 import RevokeSessionResponse404
from .revoke_session_response_422 import RevokeSessionResponse422
from .revoke_session_response_422_errors_item import RevokeSessionResponse422ErrorsItem
from .rotate_request import RotateRequest
from .rotate_secret_response_400 import RotateSecretResponse400
from .rotate_secret_response_401 import RotateSecretResponse401
from .rotate_secret_response_403 import RotateSecretResponse403
from .rotate_secret_response_404 import RotateSecretResponse404
from .rotate_secret_response_409 import RotateSecretResponse409
from .rotate_secret_response_413 import RotateSecretResponse413
from .rotate_secret_response_422 import RotateSecretResponse422
from .rotate_secret_response_422_errors_item import RotateSecretResponse422ErrorsItem
from .send_message_response_400 import SendMessageResponse400
from .send_message_response_401 import SendMessageResponse401
from .send_message_response_403 import SendMessageResponse403
from .send_message_response_404 import SendMessageResponse404
from .send_message_response_409 import SendMessageResponse409
from .send_message_response_413 import SendMessageResponse413
from .send_message_response_422 import SendMessageResponse422
from .send_message_response_422_errors_item import SendMessageResponse422ErrorsItem
from .send_message_response_429 import SendMessageResponse429
from .session_out import SessionOut
from .sessions_revoked_out import SessionsRevokedOut
from .sign_up_in import SignUpIn
from .sign_up_out import SignUpOut
from .signup_response_400 import SignupResponse400
from .signup_response_403 import SignupResponse403
from .signup_response_409 import SignupResponse409
from .signup_response_413 import SignupResponse413
from .signup_response_422 import SignupResponse422
from .signup_response_422_errors_item import SignupResponse422ErrorsItem
from .signup_response_429 import SignupResponse429
from .submit_panel_response_400 import SubmitPanelResponse400
from .submit_panel_response_401 import SubmitPanelResponse401
from .submit_panel_response_403 import SubmitPanelResponse403
from .submit_panel_response_404 import SubmitPanelResponse404
from .submit_panel_response_409 import SubmitPanelResponse409
from .submit_panel_response_413 import SubmitPanelResponse413
from .submit_panel_response_422 import SubmitPanelResponse422
from .submit_panel_response_422_errors_item import SubmitPanelResponse422ErrorsItem
from .submit_panel_response_429 import SubmitPanelResponse429
from .test_fire_response_400 import TestFireResponse400
from .test_fire_response_401 import TestFireResponse401
from .test_fire_response_403 import TestFireResponse403
from .test_fire_response_404 import TestFireResponse404
from .test_fire_response_409 import TestFireResponse409
from .test_fire_response_413 import TestFireResponse413
from .test_fire_response_422 import TestFireResponse422
from .test_fire_response_422_errors_item import TestFireResponse422ErrorsItem
from .token_out import TokenOut
from .token_response import TokenResponse
from .totp_confirm_in import TotpConfirmIn
from .totp_enrolment_out import TotpEnrolmentOut
from .update_endpoint_response_400 import UpdateEndpointResponse400
from .update_endpoint_response_401 import UpdateEndpointResponse401
from .update_endpoint_response_403 import UpdateEndpointResponse403
from .update_endpoint_response_404 import UpdateEndpointResponse404
from .update_endpoint_response_422 import UpdateEndpointResponse422
from .update_endpoint_response_422_errors_item import UpdateEndpointResponse422ErrorsItem
from .user_in import UserIn
from .user_in_role import UserInRole
from .user_out import UserOut
from .user_out_role import UserOutRole

__all__ = (
    "AcceptIn",
    "AcceptResponse400",
    "AcceptResponse409",
    "AcceptResponse410",
    "AcceptResponse413",
    "AcceptResponse422",
    "AcceptResponse422ErrorsItem",
    "AddUserResponse400",
    "AddUserResponse401",
    "AddUserResponse403",
    "AddUserResponse404",
    "AddUserResponse409",
    "AddUserResponse413",
    "AddUserResponse422",
    "AddUserResponse422ErrorsItem",
    "AddUserResponse429",
    "Attempt",
    "BeginTotpResponse400",
    "BeginTotpResponse401",
    "BeginTotpResponse403",
    "BeginTotpResponse409",
    "BeginTotpResponse413",
    "BeginTotpResponse422",
    "ChangeResponse400",
    "ChangeResponse401",
    "ChangeResponse403",
    "ChangeResponse404",
    "ChangeResponse409",
    "ChangeResponse413",
    "ChangeResponse422",
    "ChangeResponse422ErrorsItem",
    "ChangeResponse429",
    "ConfirmResetResponse400",
    "ConfirmResetResponse401",
    "ConfirmResetResponse409",
    "ConfirmResetResponse413",
    "ConfirmResetResponse422",
    "ConfirmResetResponse422ErrorsItem",
    "ConfirmResetResponse429",
    "ConfirmTotpResponse400",
    "ConfirmTotpResponse401",
    "ConfirmTotpResponse403",
    "ConfirmTotpResponse404",
    "ConfirmTotpResponse409",
    "ConfirmTotpResponse413",
    "ConfirmTotpResponse422",
    "ConfirmTotpResponse422ErrorsItem",
    "CreateEndpointResponse400",
    "CreateEndpointResponse401",
    "CreateEndpointResponse403",
    "CreateEndpointResponse404",
    "CreateEndpointResponse409",
    "CreateEndpointResponse413",
    "CreateEndpointResponse422",
    "CreateEndpointResponse422ErrorsItem",
    "DeleteEndpointResponse401",
    "DeleteEndpointResponse403",
    "DeleteEndpointResponse404",
    "DeleteEndpointResponse422",
    "DeleteEndpointResponse422ErrorsItem",
    "Delivery",
    "DisableEndpointResponse400",
    "DisableEndpointResponse401",
    "DisableEndpointResponse403",
    "DisableEndpointResponse404",
    "DisableEndpointResponse409",
    "DisableEndpointResponse413",
    "DisableEndpointResponse422",
    "DisableEndpointResponse422ErrorsItem",
    "DisableResponse400",
    "DisableResponse401",
    "DisableResponse403",
    "DisableResponse404",
    "DisableResponse409",
    "DisableResponse413",
    "DisableResponse422",
    "DisableResponse422ErrorsItem",
    "EnableEndpointResponse400",
    "EnableEndpointResponse401",
    "EnableEndpointResponse403",
    "EnableEndpointResponse404",
    "EnableEndpointResponse409",
    "EnableEndpointResponse413",
    "EnableEndpointResponse422",
    "EnableEndpointResponse422ErrorsItem",
    "Endpoint",
    "EndpointAttemptsResponse401",
    "EndpointAttemptsResponse403",
    "EndpointAttemptsResponse404",
    "EndpointAttemptsResponse422",
    "EndpointAttemptsResponse422ErrorsItem",
    "EndpointCreate",
    "EndpointUpdate",
    "EndpointWithSecret",
    "EraseClinicResponse400",
    "EraseClinicResponse401",
    "EraseClinicResponse403",
    "EraseClinicResponse404",
    "EraseClinicResponse409",
    "EraseClinicResponse413",
    "EraseClinicResponse422",
    "EraseClinicResponse422ErrorsItem",
    "EraseClinicResponse429",
    "EraseUserResponse400",
    "EraseUserResponse401",
    "EraseUserResponse403",
    "EraseUserResponse404",
    "EraseUserResponse409",
    "EraseUserResponse413",
    "EraseUserResponse422",
    "EraseUserResponse422ErrorsItem",
    "EraseUserResponse429",
    "ErasureIn",
    "ErasureOut",
    "ErasureOutCounts",
    "ErasureOutKind",
    "ErasureOutStatus",
    "EventTypeInfo",
    "EventTypeInfoSchema",
    "FireResult",
    "GetEndpointResponse401",
    "GetEndpointResponse403",
    "GetEndpointResponse404",
    "GetEndpointResponse422",
    "GetEndpointResponse422ErrorsItem",
    "GetErasureResponse404",
    "GetErasureResponse422",
    "GetErasureResponse422ErrorsItem",
    "GetErasureResponse429",
    "GetPanelResponse401",
    "GetPanelResponse403",
    "GetPanelResponse404",
    "GetPanelResponse422",
    "GetPanelResponse422ErrorsItem",
    "GetPanelResponse429",
    "GetResultResponse401",
    "GetResultResponse403",
    "GetResultResponse404",
    "GetResultResponse409",
    "GetResultResponse422",
    "GetResultResponse422ErrorsItem",
    "GetResultResponse429",
    "InboxResponse401",
    "InboxResponse403",
    "InboxResponse422",
    "InboxResponse422ErrorsItem",
    "InboxResponse429",
    "InvitationIn",
    "InvitationInRole",
    "InvitationOut",
    "InvitationOutRole",
    "InviteResponse400",
    "InviteResponse401",
    "InviteResponse403",
    "InviteResponse404",
    "InviteResponse409",
    "InviteResponse413",
    "InviteResponse422",
    "InviteResponse422ErrorsItem",
    "ListEndpointsResponse401",
    "ListEndpointsResponse403",
    "ListPanelsResponse401",
    "ListPanelsResponse403",
    "ListPanelsResponse422",
    "ListPanelsResponse422ErrorsItem",
    "ListPanelsResponse429",
    "ListSessionsResponse401",
    "ListSessionsResponse403",
    "ListUsersResponse401",
    "ListUsersResponse403",
    "ListUsersResponse422",
    "ListUsersResponse422ErrorsItem",
    "ListUsersResponse429",
    "ListUsersRoleType0",
    "LogInIn",
    "LogInOut",
    "LoginResponse400",
    "LoginResponse401",
    "LoginResponse409",
    "LoginResponse413",
    "LoginResponse422",
    "LoginResponse422ErrorsItem",
    "LoginResponse429",
    "LogoutResponse400",
    "LogoutResponse401",
    "LogoutResponse403",
    "LogoutResponse409",
    "LogoutResponse413",
    "LogoutResponse422",
    "MeResponse401",
    "MeResponse403",
    "MeResponse429",
    "MessageAttemptsResponse401",
    "MessageAttemptsResponse403",
    "MessageAttemptsResponse404",
    "MessageAttemptsResponse422",
    "MessageAttemptsResponse422ErrorsItem",
    "MessageDeliveriesResponse401",
    "MessageDeliveriesResponse403",
    "MessageDeliveriesResponse404",
    "MessageDeliveriesResponse422",
    "MessageDeliveriesResponse422ErrorsItem",
    "MessageIn",
    "MessageOut",
    "MfaDisableIn",
    "PanelIn",
    "PanelInMinerals",
    "PanelOut",
    "PanelOutMinerals",
    "PanelOutStatus",
    "PasswordChangeIn",
    "RecoveryCodesOut",
    "RefreshRequest",
    "RefreshResponse400",
    "RefreshResponse401",
    "RefreshResponse403",
    "RefreshResponse404",
    "RefreshResponse409",
    "RefreshResponse413",
    "RefreshResponse422",
    "RefreshResponse422ErrorsItem",
    "ReplayMessageResponse400",
    "ReplayMessageResponse401",
    "ReplayMessageResponse403",
    "ReplayMessageResponse404",
    "ReplayMessageResponse409",
    "ReplayMessageResponse413",
    "ReplayMessageResponse422",
    "ReplayMessageResponse422ErrorsItem",
    "ReplayMessageResponseReplayMessage",
    "ReplayRequest",
    "ReplaySinceResponse400",
    "ReplaySinceResponse401",
    "ReplaySinceResponse403",
    "ReplaySinceResponse404",
    "ReplaySinceResponse409",
    "ReplaySinceResponse413",
    "ReplaySinceResponse422",
    "ReplaySinceResponse422ErrorsItem",
    "ReplaySinceResponseReplaySince",
    "RequestResetResponse400",
    "RequestResetResponse409",
    "RequestResetResponse413",
    "RequestResetResponse422",
    "RequestResetResponse422ErrorsItem",
    "RequestResetResponse429",
    "ResetConfirmIn",
    "ResetRequestedOut",
    "ResetRequestIn",
    "ResultOut",
    "ResultOutAnalysis",
    "ResultOutRecommendationsType0",
    "RevokeSessionResponse401",
    "RevokeSessionResponse403",
    "RevokeSessionResponse404",
    "RevokeSessionResponse422",
    "RevokeSessionResponse422ErrorsItem",
    "RotateRequest",
    "RotateSecretResponse400",
    "RotateSecretResponse401",
    "RotateSecretResponse403",
    "RotateSecretResponse404",
    "RotateSecretResponse409",
    "RotateSecretResponse413",
    "RotateSecretResponse422",
    "RotateSecretResponse422ErrorsItem",
    "SendMessageResponse400",
    "SendMessageResponse401",
    "SendMessageResponse403",
    "SendMessageResponse404",
    "SendMessageResponse409",
    "SendMessageResponse413",
    "SendMessageResponse422",
    "SendMessageResponse422ErrorsItem",
    "SendMessageResponse429",
    "SessionOut",
    "SessionsRevokedOut",
    "SignUpIn",
    "SignUpOut",
    "SignupResponse400",
    "SignupResponse403",
    "SignupResponse409",
    "SignupResponse413",
    "SignupResponse422",
    "SignupResponse422ErrorsItem",
    "SignupResponse429",
    "SubmitPanelResponse400",
    "SubmitPanelResponse401",
    "SubmitPanelResponse403",
    "SubmitPanelResponse404",
    "SubmitPanelResponse409",
    "SubmitPanelResponse413",
    "SubmitPanelResponse422",
    "SubmitPanelResponse422ErrorsItem",
    "SubmitPanelResponse429",
    "TestFireResponse400",
    "TestFireResponse401",
    "TestFireResponse403",
    "TestFireResponse404",
    "TestFireResponse409",
    "TestFireResponse413",
    "TestFireResponse422",
    "TestFireResponse422ErrorsItem",
    "TokenOut",
    "TokenResponse",
    "TotpConfirmIn",
    "TotpEnrolmentOut",
    "UpdateEndpointResponse400",
    "UpdateEndpointResponse401",
    "UpdateEndpointResponse403",
    "UpdateEndpointResponse404",
    "UpdateEndpointResponse422",
    "UpdateEndpointResponse422ErrorsItem",
    "UserIn",
    "UserInRole",
    "UserOut",
    "UserOutRole",
)
