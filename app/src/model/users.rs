//! Wire types of the users (SPEC.md sections 2-3): statuses and roles, signing in, the
//! caller, registration and the administrators' user list.

use super::{Page, PageSize, SortOrder, optional_id};
use crate::rules::{Password, Phone, RealName, Text, UserName};
use serde::{Deserialize, Serialize};
use serde_repr::{Deserialize_repr, Serialize_repr};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

/// User `status`: 0 pending, 1 approved, 2 not approved, 3 forbidden. (The server reads
/// it with `deserialize_code!`; the browser, which only reads what the server wrote, with
/// the smaller `Deserialize_repr`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize_repr)]
#[cfg_attr(not(feature = "ssr"), derive(Deserialize_repr))]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[repr(u8)]
pub enum UserStatus {
    Pending = 0,
    Approved = 1,
    NotApproved = 2,
    Forbidden = 3,
}

from_code!(UserStatus {
    Pending,
    Approved,
    NotApproved,
    Forbidden
});

#[cfg(feature = "ssr")]
deserialize_code!(UserStatus: "must be 0, 1, 2 or 3");

/// The caller's role, always derived from the user's row (SPEC.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize_repr, Deserialize_repr)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[repr(u8)]
pub enum Role {
    Pending = 0,
    GeneralAdmin = 1,
    GeneralUser = 2,
    BusinessAdmin = 3,
    SystemAdmin = 4,
}

impl Role {
    /// The one derivation of a role from what is stored.
    pub fn derive(
        is_system_admin: bool,
        status: UserStatus,
        is_admin: bool,
        in_approved_business: bool,
    ) -> Self {
        match (is_system_admin, status, in_approved_business, is_admin) {
            (true, _, _, _) => Role::SystemAdmin,
            (false, UserStatus::Approved, true, true) => Role::BusinessAdmin,
            (false, UserStatus::Approved, true, false) => Role::GeneralUser,
            (false, UserStatus::Approved, false, _) => Role::GeneralAdmin,
            // Users not approved or forbidden never get this far (401); pending is role 0.
            (false, _, _, _) => Role::Pending,
        }
    }
}

/// `POST /v1/authorization`. Free text but for control characters: a login never explains
/// which rule a name breaks (a name that breaks one matches nobody).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Credentials {
    pub user: Text,
    pub password: Text,
    /// The one-time code (or a recovery code) when the user has two-factor sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Text>,
}

/// `GET /v1/authorization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    pub display_name: String,
    pub has_repo_account: bool,
    pub role: Role,
    /// Beyond the seed: whether the caller registered as an administrator (only those may
    /// request a business), so the UI offers the request form to them alone.
    pub is_admin: bool,
    pub private_project: bool,
    pub enable_ingress: bool,
    pub enable_alert: bool,
    pub enable_admin_auto_deploy: bool,
    /// Whether the caller signs in with a one-time code (SPEC.md section 9).
    #[serde(default)]
    pub totp: bool,
    /// Beyond the contract: whether `OTE_REQUIRE_TOTP` covers the caller (who, without
    /// `totp`, may only enrol), so the UI can open the Security page at once.
    #[serde(default)]
    pub totp_required: bool,
}

/// `POST /v1/user` (registration) and `POST /v1/admin/user` (a sub-user). Registration
/// ignores `businessId`; only a system administrator may name one when creating a user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub user: UserName,
    pub password: Password,
    pub phone: Phone,
    pub real_name: RealName,
    pub is_admin: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_id"
    )]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub business_id: Option<i64>,
}

/// `PUT /v1/user`: the old password is checked against the hash, not against the rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PasswordChange {
    pub old_password: Text,
    pub password: Password,
}

/// `PUT /v1/admin/user/{id}/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PasswordReset {
    pub password: Password,
}

/// `PUT /v1/admin/user/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct UserAudit {
    pub status: UserStatus,
}

/// A row of `GET /v1/admin/user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: i64,
    pub user: String,
    pub status: UserStatus,
    pub real_name: String,
    pub phone: String,
    pub create_time: i64,
    pub update_time: i64,
    pub is_admin: bool,
    pub role: Role,
    pub business_id: Option<i64>,
    /// Whether the user signs in with a one-time code (SPEC.md section 9).
    #[serde(default)]
    pub totp: bool,
}

status_filter!(
    /// A user status as a query parameter (`status=0`): query values arrive as text.
    StatusFilter(UserStatus)
);

/// `orderBy` of the user list: a whitelist, so no column name ever comes from a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub enum UserOrder {
    #[default]
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "user_name")]
    UserName,
}

/// Query of `GET /v1/admin/user`. Unknown parameters are ignored, like unknown JSON fields.
/// `status` and `name` (a case-insensitive part of the user name) go beyond the seed: they
/// serve the pending queue and the search box of the users page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct UserQuery {
    pub order_by: UserOrder,
    pub order: SortOrder,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    pub page: Page,
    pub page_size: PageSize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn the_server_reads_status_codes_written_as_whole_numbers() {
        let status: UserStatus = serde_json::from_str("1.0").unwrap();
        assert_eq!(status, UserStatus::Approved);
        assert!(serde_json::from_str::<UserStatus>("1.5").is_err());
        assert!(serde_json::from_str::<UserStatus>("4").is_err());
    }

    #[test]
    fn roles_derive_from_status_membership_and_admin_flag() {
        use UserStatus::*;
        assert_eq!(Role::derive(true, Approved, true, false), Role::SystemAdmin);
        assert_eq!(Role::derive(false, Pending, true, true), Role::Pending);
        // Arguments: system admin?, status, isAdmin, member of an approved business?
        assert_eq!(Role::derive(false, Approved, true, false), Role::GeneralAdmin);
        assert_eq!(Role::derive(false, Approved, false, false), Role::GeneralAdmin);
        assert_eq!(Role::derive(false, Approved, true, true), Role::BusinessAdmin);
        assert_eq!(Role::derive(false, Approved, false, true), Role::GeneralUser);
    }
}
