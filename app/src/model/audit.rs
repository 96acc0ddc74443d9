//! Wire types of the audit log (SPEC.md sections 4 and 11): its entries, and the query of
//! `GET /v1/admin/audit` (paging, the filters of the audit search, and the CSV export).

use super::{Page, PageSize, whole_text};
use crate::rules::{DateTime, EventPattern, RuleError, TargetType, UserName};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

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

/// Query of `GET /v1/admin/audit`: every filter given must hold. `page` and `pageSize` do
/// not apply to the CSV, which holds every match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct AuditQuery {
    pub page: Page,
    pub page_size: PageSize,
    /// Who acted, by name, whatever the case (`cli`: the server's console).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<UserName>,
    /// Who acted, by user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<PositiveId>,
    /// An action (`user.audit`), a prefix (`business.*`), or `*` for all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<EventPattern>,
    /// What the entry is about: `user`, `business`, `token`, `webhook`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<TargetType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<PositiveId>,
    /// Entries written at or after this moment. With `to`, it must not be after `to`
    /// (the same moment is allowed): a `from` after `to` is refused with 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime>,
    /// Entries written before this moment. With `from`, it must not be before `from`
    /// (the same moment is allowed): a `to` before `from` is refused with 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime>,
    #[serde(skip_serializing_if = "AuditFormat::is_json")]
    pub format: AuditFormat,
}

impl AuditQuery {
    pub const RANGE_RULE: &'static str = "must not be after `to`";
}

/// `format`: the JSON envelope of one page (the default), or a CSV file of every match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    #[default]
    Json,
    Csv,
}

impl AuditFormat {
    pub fn is_json(&self) -> bool {
        *self == Self::Json
    }
}

/// An id as a query parameter: a whole number from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PositiveId(i64);

impl PositiveId {
    pub const RULE: &'static str = "must be a whole number from 1";

    pub fn new(id: i64) -> Result<Self, RuleError> {
        if id >= 1 {
            Ok(Self(id))
        } else {
            Err(RuleError(Self::RULE))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<String> for PositiveId {
    type Error = RuleError;
    fn try_from(raw: String) -> Result<Self, RuleError> {
        whole_text(&raw)
            .and_then(|digits| digits.parse().ok())
            .ok_or(RuleError(Self::RULE))
            .and_then(Self::new)
    }
}

impl From<PositiveId> for String {
    fn from(id: PositiveId) -> String {
        id.0.to_string()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for PositiveId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .description(Some(Self::RULE))
            .minimum(Some(1))
            .maximum(Some(i64::MAX))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl ToSchema for PositiveId {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_query_reads_its_filters_from_query_text() {
        let q: AuditQuery = serde_urlencoded::from_str(
            "actor=Alice&actorId=7.0&action=business.*&targetType=user&targetId=3\
             &from=2024-05-01T00:00:00Z&to=2024-05-02T00:00:00%2B08:00&format=csv&page=2",
        )
        .unwrap();
        assert_eq!(q.actor.unwrap().as_str(), "Alice");
        assert_eq!(q.actor_id.map(PositiveId::get), Some(7));
        assert_eq!(q.action.unwrap().as_str(), "business.*");
        assert_eq!(q.target_id.map(PositiveId::get), Some(3));
        assert_eq!(q.to.unwrap().seconds(), 1_714_579_200);
        assert_eq!((q.format, q.page.get()), (AuditFormat::Csv, 2));
        for bad in [
            "actorId=0",
            "targetId=-1",
            "targetId=x",
            "format=xml",
            "action=user",
            "from=yesterday",
        ] {
            assert!(serde_urlencoded::from_str::<AuditQuery>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_audit_query_says_nothing() {
        assert_eq!(
            serde_urlencoded::to_string(AuditQuery::default()).unwrap(),
            "page=1&pageSize=10"
        );
    }
}
