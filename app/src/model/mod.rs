//! The wire types of the /v1 contract (SPEC.md sections 1-4 and 9-11): one definition each,
//! used by the server's handlers, the browser UI and the tests. Field names are the seed's
//! camelCase. One module an area: `users`, `business`, `paging`, `audit`, `accounts`
//! (SPEC.md section 9), `webhooks`; here the envelope every answer comes in and the number
//! readers they share. Everything is re-exported, so each type is `model::Name`.

// The macros come before the modules, which use them.

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

/// Deserialises a status-like enum from its code, as a whole number.
#[cfg(feature = "ssr")]
macro_rules! deserialize_code {
    ($($name:ident: $rule:expr),*) => {$(
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = $crate::model::whole_number(deserializer)?;
                Self::from_code(code).ok_or_else(|| serde::de::Error::custom($rule))
            }
        }
    )*};
}

/// A status as a query parameter (`status=0`): query values arrive as text. Its OpenAPI
/// schema is the status's own, under the filter's name.
macro_rules! status_filter {
    ($(#[$doc:meta])* $name:ident($status:ident)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(pub $status);

        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <$status as utoipa::PartialSchema>::schema()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const RULE: &'static str = "must be 0, 1, 2 or 3";
        }

        impl TryFrom<String> for $name {
            type Error = $crate::rules::RuleError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                $crate::model::whole_text(&raw)
                    .and_then(|digits| digits.parse().ok())
                    .and_then($status::from_code)
                    .map($name)
                    .ok_or($crate::rules::RuleError(Self::RULE))
            }
        }

        impl From<$name> for String {
            fn from(filter: $name) -> String {
                (filter.0 as i64).to_string()
            }
        }
    };
}

mod accounts;
mod audit;
mod business;
mod oauth;
mod paging;
mod users;
mod webhooks;

pub use accounts::*;
pub use audit::*;
pub use business::*;
pub use oauth::*;
pub use paging::*;
pub use users::*;
pub use webhooks::*;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

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

/// `{id}` of a created resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Created {
    pub id: i64,
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
    }

    #[test]
    fn envelopes_leave_out_what_is_absent() {
        let json = serde_json::to_string(&Envelope::success()).unwrap();
        assert_eq!(json, r#"{"code":200,"message":"success"}"#);
        let json = serde_json::to_string(&Envelope::page(vec![1], 7)).unwrap();
        assert_eq!(json, r#"{"code":200,"message":"success","data":[1],"total":7}"#);
    }
}
