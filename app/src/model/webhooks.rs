//! Wire types of the events for the platform (SPEC.md section 10): webhook endpoints and
//! their deliveries.

use crate::rules::{Description, EventPattern, WebhookUrl};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Patterns one endpoint may list.
pub const MAX_EVENT_PATTERNS: usize = 32;

/// `POST /v1/admin/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NewWebhook {
    pub url: WebhookUrl,
    #[serde(deserialize_with = "patterns")]
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 32))]
    pub events: Vec<EventPattern>,
    #[serde(default)]
    pub description: Description,
}

/// `PUT /v1/admin/webhooks/{id}`: what changes; the rest stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WebhookChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<WebhookUrl>,
    #[serde(
        default,
        deserialize_with = "some_patterns",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 32))]
    pub events: Option<Vec<EventPattern>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Description>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

fn patterns<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<EventPattern>, D::Error> {
    let list = Vec::<EventPattern>::deserialize(deserializer)?;
    if (1..=MAX_EVENT_PATTERNS).contains(&list.len()) {
        Ok(list)
    } else {
        Err(serde::de::Error::custom("must list 1-32 patterns"))
    }
}

/// `events` of a change: absent or `null` leaves them as they are.
fn some_patterns<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<EventPattern>>, D::Error> {
    match Option::<Vec<EventPattern>>::deserialize(deserializer)? {
        Some(list) if !(1..=MAX_EVENT_PATTERNS).contains(&list.len()) => {
            Err(serde::de::Error::custom("must list 1-32 patterns"))
        }
        other => Ok(other),
    }
}

/// An endpoint as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub create_time: i64,
    pub update_time: i64,
}

/// The answer to `POST /v1/admin/webhooks`: the signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CreatedWebhook {
    pub id: i64,
    pub secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// `GET /v1/admin/webhooks/{id}/deliveries`: one event sent (or being sent) to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    /// The event's type: the audit action (`business.audit`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    /// Unix seconds; for a pending delivery, when it is sent next.
    pub next_attempt_time: i64,
    pub create_time: i64,
}
