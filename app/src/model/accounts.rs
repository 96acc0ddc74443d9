//! Wire types of the accounts (SPEC.md section 9): two-factor sign-in, sessions and
//! personal access tokens.

use crate::rules::{Text, TokenName};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// `POST /v1/user/totp`: a secret waiting for its first code. `qrSvg` is the `uri` as a QR
/// code (an SVG drawn by the server, so the page needs no network and no QR library).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TotpEnrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...`, what the QR code holds.
    pub uri: String,
    pub qr_svg: String,
}

/// `PUT /v1/user/totp`: the first code of a new secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct TotpCode {
    pub code: Text,
}

/// The answer to `PUT /v1/user/totp`: ten single-use codes, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// `DELETE /v1/user/totp`: the caller's current password and a current one-time code
/// (or an unused recovery code): a stolen password alone cannot turn the factor off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct TotpDisable {
    pub password: Text,
    pub code: Text,
}

/// `GET /v1/user/sessions`: one place where the caller is signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub create_time: i64,
    /// Updated at most once a minute.
    pub last_seen_time: i64,
    pub user_agent: String,
    pub ip: String,
    /// The session of the token this list was asked with.
    pub current: bool,
}

/// What a personal access token may do: `read` only `GET`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// `POST /v1/user/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewPersonalToken {
    pub name: TokenName,
    #[serde(deserialize_with = "days")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 365))]
    pub expires_in_days: i64,
    pub scope: TokenScope,
}

pub const MAX_TOKEN_DAYS: i64 = 365;

/// `expiresInDays`: a whole number of days from 1 to 365.
fn days<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let days = super::whole_number(deserializer)?;
    if (1..=MAX_TOKEN_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(serde::de::Error::custom("must be a whole number from 1 to 365"))
    }
}

/// The answer to `POST /v1/user/tokens`: the token itself, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
}

/// `GET /v1/user/tokens`: a token as its owner sees it later (never the token itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PersonalToken {
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    pub create_time: i64,
    pub expire_time: i64,
    /// Updated at most once a minute; `null` until first used.
    pub last_used_time: Option<i64>,
}
