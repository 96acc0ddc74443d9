//! Wire types of the businesses (SPEC.md section 4): statuses, requests, the system
//! administrator's verdict, and the business list.

use super::{Page, PageSize, SortOrder};
use crate::rules::{BusinessName, Comment, LongText, Scale, Text};
use serde::{Deserialize, Serialize};
use serde_repr::{Deserialize_repr, Serialize_repr};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

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

/// The verdict of a business audit: only approve (1) or disapprove (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize_repr)]
#[cfg_attr(not(feature = "ssr"), derive(Deserialize_repr))]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[repr(u8)]
pub enum BusinessVerdict {
    Approve = 1,
    Disapprove = 2,
}

from_code!(
    BusinessStatus {
        Pending,
        Approved,
        Disapproved,
        Deleted
    },
    BusinessVerdict { Approve, Disapprove }
);

#[cfg(feature = "ssr")]
deserialize_code!(BusinessVerdict: "must be 1 (approve) or 2 (disapprove)");

impl From<BusinessVerdict> for BusinessStatus {
    fn from(verdict: BusinessVerdict) -> Self {
        match verdict {
            BusinessVerdict::Approve => Self::Approved,
            BusinessVerdict::Disapprove => Self::Disapproved,
        }
    }
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

status_filter!(
    /// A business status as a query parameter (`status=0`).
    BusinessStatusFilter(BusinessStatus)
);

/// `orderBy` of the business list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub enum BusinessOrder {
    #[default]
    #[serde(rename = "id")]
    Id,
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
