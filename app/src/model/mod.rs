//! The wire types of the /v1 contract (SPEC.md sections 1-4): one definition each, used by
//! the server's handlers, the browser UI and the tests. Field names are the seed's camelCase.
//! Those of the accounts (SPEC.md section 9) are in `accounts`.

mod accounts;
mod audit;
mod webhooks;

pub use accounts::*;
pub use audit::*;
pub use webhooks::*;

use crate::rules::{BusinessName, Comment, LongText, Password, Phone, RealName, Scale, Text, UserName};
use serde::{Deserialize, Serialize};
use serde_repr::{Deserialize_repr, Serialize_repr};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

/// Every response, success or error: `code` equals the HTTP status.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Envelope<T> {
    pub code: u16,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl<T> Envelope<T> {
    pub const SUCCESS: &'static str = "success";

    pub fn data(data: T) -> Self {
        Self {
            code: 200,
            message: Self::SUCCESS.into(),
            data: Some(data),
            total: None,
            token: None,
        }
    }

    pub fn page(data: T, total: i64) -> Self {
        Self {
            total: Some(total),
            ..Self::data(data)
        }
    }
}

impl Envelope<()> {
    pub fn success() -> Self {
        Self {
            code: 200,
            message: Self::SUCCESS.into(),
            data: None,
            total: None,
            token: None,
        }
    }

    pub fn token(token: String) -> Self {
        Self {
            token: Some(token),
            ..Self::success()
        }
    }

    pub fn error(code: u16, message: String) -> Self {
        Self {
            code,
            message,
            ..Self::success()
        }
    }
}

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

/// Business `status`: 0 pending, 1 approved, 2 disapproved, 3 deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize_repr, Deserialize_repr)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[repr(u8)]
pub enum BusinessStatus {
    Pending = 0,
    Approved = 1,
    Disapproved = 2,
    Deleted = 3,
}

/// Reads a stored status code back into its enum.
macro_rules! from_code {
    ($($name:ident { $($variant:ident),* }),*) => {$(
        impl $name {
            pub fn from_code(code: i64) -> Option<Self> {
                [$(Self::$variant),*].into_iter().find(|v| *v as i64 == code)
            }
        }
    )*};
}

from_code!(
    UserStatus {
        Pending,
        Approved,
        NotApproved,
        Forbidden
    },
    BusinessStatus {
        Pending,
        Approved,
        Disapproved,
        Deleted
    }
);

/// The verdict of a business audit: only approve (1) or disapprove (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize_repr)]
#[cfg_attr(not(feature = "ssr"), derive(Deserialize_repr))]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[repr(u8)]
pub enum BusinessVerdict {
    Approve = 1,
    Disapprove = 2,
}

impl BusinessVerdict {
    pub fn from_code(code: i64) -> Option<Self> {
        [Self::Approve, Self::Disapprove]
            .into_iter()
            .find(|v| *v as i64 == code)
    }
}

/// Reads a JSON number that is a whole number, written `1` or `1.0` alike: JSON Schema
/// (and so the OpenAPI document) calls both integers.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("must be a whole number of at most 19 digits"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            // 2^63 is exact as a float; anything from it upwards does not fit.
            if v.fract() == 0.0 && v >= -(2f64.powi(63)) && v < 2f64.powi(63) {
                Ok(v as i64)
            } else {
                Err(E::custom("must be a whole number"))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

/// A whole number as query or path text: `7`, or `7.0` (JSON Schema's integers include
/// it, so clients that read the OpenAPI document may send it). The digits before any
/// point of zeros, or `None` when it is not such a number.
pub fn whole_text(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    let digits = match raw.split_once('.') {
        Some((digits, zeros)) if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => digits,
        Some(_) => return None,
        None => raw,
    };
    let unsigned = digits.strip_prefix(['-', '+']).unwrap_or(digits);
    (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// An optional id in a body: a positive whole number.
pub fn optional_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "whole_number")] i64);
    match Option::<Wrapped>::deserialize(deserializer)? {
        Some(Wrapped(id)) if id < 1 => Err(serde::de::Error::custom("must be a positive whole number")),
        other => Ok(other.map(|Wrapped(id)| id)),
    }
}

/// Deserialises a status-like enum from its code, as a whole number.
#[cfg(feature = "ssr")]
macro_rules! deserialize_code {
    ($($name:ident: $rule:expr),*) => {$(
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = whole_number(deserializer)?;
                Self::from_code(code).ok_or_else(|| serde::de::Error::custom($rule))
            }
        }
    )*};
}

#[cfg(feature = "ssr")]
deserialize_code!(
    UserStatus: "must be 0, 1, 2 or 3",
    BusinessVerdict: "must be 1 (approve) or 2 (disapprove)"
);

impl From<BusinessVerdict> for BusinessStatus {
    fn from(verdict: BusinessVerdict) -> Self {
        match verdict {
            BusinessVerdict::Approve => Self::Approved,
            BusinessVerdict::Disapprove => Self::Disapproved,
        }
    }
}

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

/// `{id}` of a created resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Created {
    pub id: i64,
}

/// `POST /v1/business`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NewBusiness {
    pub name: BusinessName,
    pub introduce: LongText,
    pub objective: LongText,
    pub scale: Scale,
}

/// `PUT /v1/admin/business/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct BusinessAudit {
    pub status: BusinessVerdict,
    #[serde(default)]
    pub comment: Comment,
}

/// A business, in the list and in the detail view alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Business {
    pub id: i64,
    pub name: String,
    pub user_id: i64,
    /// Beyond the seed: the owner's user name, so that people are shown by name.
    pub owner_name: String,
    pub comment: String,
    pub status: BusinessStatus,
    pub introduce: String,
    pub objective: String,
    pub scale: String,
    pub create_time: i64,
    pub update_time: i64,
}

/// `GET /v1/admin/queue`: who waits for the system administrator, and since when (Unix
/// seconds of the oldest registration or request still waiting; `null` when none waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub pending_users: i64,
    pub pending_businesses: i64,
    pub oldest_user_time: Option<i64>,
    pub oldest_business_time: Option<i64>,
}

/// An entry of `GET /v1/admin/audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: i64,
    pub detail: String,
    pub create_time: i64,
}

/// `page`: a whole number from 1; default 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "u32")]
pub struct Page(u32);

/// `pageSize`: a whole number from 1 to 100; default 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "u32")]
pub struct PageSize(u32);

macro_rules! bounded_number {
    ($name:ident, $min:expr, $max:expr, $default:expr, $rule:expr) => {
        impl $name {
            pub const RULE: &'static str = $rule;

            pub fn new(value: u32) -> Result<Self, crate::rules::RuleError> {
                if ($min..=$max).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(crate::rules::RuleError(Self::RULE))
                }
            }

            pub fn get(self) -> u32 {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self($default)
            }
        }

        impl TryFrom<String> for $name {
            type Error = crate::rules::RuleError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                let value = whole_text(&raw)
                    .and_then(|digits| digits.parse().ok())
                    .ok_or(crate::rules::RuleError(Self::RULE))?;
                Self::new(value)
            }
        }

        impl From<$name> for u32 {
            fn from(value: $name) -> u32 {
                value.0
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some(Self::RULE))
                    .minimum(Some($min))
                    .maximum(Some($max))
                    .default(Some($default.into()))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}
    };
}

bounded_number!(Page, 1, u32::MAX, 1, "must be a whole number from 1");
bounded_number!(PageSize, 1, 100, 10, "must be a whole number from 1 to 100");

impl Page {
    /// Rows to skip before this page.
    pub fn offset(self, size: PageSize) -> i64 {
        (i64::from(self.0) - 1) * i64::from(size.0)
    }
}

/// A user status as a query parameter (`status=0`): query values arrive as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StatusFilter(pub UserStatus);

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for StatusFilter {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <UserStatus as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "ssr")]
impl ToSchema for StatusFilter {}

impl StatusFilter {
    pub const RULE: &'static str = "must be 0, 1, 2 or 3";
}

impl TryFrom<String> for StatusFilter {
    type Error = crate::rules::RuleError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        whole_text(&raw)
            .and_then(|digits| digits.parse().ok())
            .and_then(UserStatus::from_code)
            .map(StatusFilter)
            .ok_or(crate::rules::RuleError(Self::RULE))
    }
}

impl From<StatusFilter> for String {
    fn from(filter: StatusFilter) -> String {
        (filter.0 as i64).to_string()
    }
}

/// A business status as a query parameter (`status=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessStatusFilter(pub BusinessStatus);

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for BusinessStatusFilter {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <BusinessStatus as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "ssr")]
impl ToSchema for BusinessStatusFilter {}

impl BusinessStatusFilter {
    pub const RULE: &'static str = "must be 0, 1, 2 or 3";
}

impl TryFrom<String> for BusinessStatusFilter {
    type Error = crate::rules::RuleError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        whole_text(&raw)
            .and_then(|digits| digits.parse().ok())
            .and_then(BusinessStatus::from_code)
            .map(BusinessStatusFilter)
            .ok_or(crate::rules::RuleError(Self::RULE))
    }
}

impl From<BusinessStatusFilter> for String {
    fn from(filter: BusinessStatusFilter) -> String {
        (filter.0 as i64).to_string()
    }
}

/// `order`: `asc` (the default) or `desc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

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

/// `orderBy` of the business list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub enum BusinessOrder {
    #[default]
    #[serde(rename = "id")]
    Id,
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

/// Query of `GET /v1/business`; `name` matches case-insensitively anywhere in the name;
/// `status` (beyond the seed) keeps one status, for the pending queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct BusinessQuery {
    pub order_by: BusinessOrder,
    pub order: SortOrder,
    pub page: Page,
    pub page_size: PageSize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BusinessStatusFilter>,
}

/// Query of a list that only pages (`AuditQuery` adds the audit log's filters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct PageQuery {
    pub page: Page,
    pub page_size: PageSize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_may_carry_a_point_of_zeros() {
        assert_eq!(whole_text("7"), Some("7"));
        assert_eq!(whole_text(" 7.00 "), Some("7"));
        assert_eq!(whole_text("-3.0"), Some("-3"));
        for bad in ["7.5", "7.", ".0", "", "x", "1e3", "0x10", "7.0.0"] {
            assert_eq!(whole_text(bad), None, "{bad:?}");
        }
        assert_eq!(Page::try_from("2.0".to_owned()), Ok(Page(2)));
    }

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

    #[test]
    fn pages_and_sizes_parse_from_query_text() {
        let q: UserQuery =
            serde_json::from_str(r#"{"page":"3","pageSize":"100","orderBy":"user_name","order":"desc"}"#)
                .unwrap();
        assert_eq!((q.page.get(), q.page_size.get()), (3, 100));
        assert_eq!((q.order_by, q.order), (UserOrder::UserName, SortOrder::Desc));
        for bad in [
            r#"{"page":"0"}"#,
            r#"{"pageSize":"101"}"#,
            r#"{"pageSize":"x"}"#,
            r#"{"orderBy":"name"}"#,
        ] {
            assert!(serde_json::from_str::<UserQuery>(bad).is_err(), "{bad}");
        }
        assert_eq!(Page::new(3).unwrap().offset(PageSize::new(10).unwrap()), 20);
    }

    #[test]
    fn envelopes_leave_out_what_is_absent() {
        let json = serde_json::to_string(&Envelope::success()).unwrap();
        assert_eq!(json, r#"{"code":200,"message":"success"}"#);
        let json = serde_json::to_string(&Envelope::page(vec![1], 7)).unwrap();
        assert_eq!(json, r#"{"code":200,"message":"success","data":[1],"total":7}"#);
    }
}
