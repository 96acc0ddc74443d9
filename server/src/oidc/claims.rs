//! What applications learn of a person (SPEC.md section 12): the user's facts read once,
//! the scopes that say which of them an application may have, the claims of ID tokens and
//! userinfo, and the two kinds of token signed with the provider's key.

use crate::auth::keys::{Key, KeySet};
use crate::error::{ApiError, ApiResult};
use app::model::{BusinessStatus, Role, UserStatus};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::AnyConnection;

/// The scopes the portal knows, in the order they are shown and written.
pub const SCOPES: [&str; 5] = ["openid", "profile", "phone", "groups", "offline_access"];

/// The role groups: exactly one of them is in every `groups` claim.
pub const SYSTEM_ADMIN_GROUP: &str = "ote:system-admin";
pub const BUSINESS_ADMIN_GROUP: &str = "ote:business-admin";
pub const MEMBER_GROUP: &str = "ote:member";

/// A set of known scopes; unknown ones asked for are left out (RFC 6749 3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(Vec<&'static str>);

impl Scope {
    pub fn parse(raw: &str) -> Self {
        let asked: Vec<&str> = raw.split(' ').collect();
        Self(SCOPES.into_iter().filter(|s| asked.contains(s)).collect())
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `other` is in this one.
    pub fn covers(&self, other: &Scope) -> bool {
        other.0.iter().all(|s| self.has(s))
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| (*s).to_owned()).collect()
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// A user as applications see it, read at each code exchange, refresh and userinfo.
#[derive(sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    user_name: String,
    real_name: String,
    phone: String,
    status: i64,
    is_admin: i64,
    is_system_admin: i64,
    business_name: Option<String>,
    business_status: Option<i64>,
}

impl Person {
    /// User `id` unless deleted.
    pub async fn read(conn: &mut AnyConnection, id: i64) -> ApiResult<Option<Self>> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.user_name, u.real_name, u.phone, u.status, u.is_admin, u.is_system_admin, \
             b.name AS business_name, b.status AS business_status \
             FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
             WHERE u.id = $1 AND u.deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(conn)
        .await?)
    }

    /// Only approved users (and the system administrator) sign in to the platform's tools.
    pub fn may_sign_in(&self) -> bool {
        self.is_system_admin != 0 || self.status == UserStatus::Approved as i64
    }

    fn in_approved_business(&self) -> bool {
        self.business_status == Some(BusinessStatus::Approved as i64)
    }

    /// The business (when the user is approved and the business is) and one role group.
    pub fn groups(&self) -> Vec<String> {
        let status = UserStatus::from_code(self.status).unwrap_or(UserStatus::Pending);
        let role = Role::derive(
            self.is_system_admin != 0,
            status,
            self.is_admin != 0,
            self.in_approved_business(),
        );
        let role_group = match role {
            Role::SystemAdmin => SYSTEM_ADMIN_GROUP,
            Role::BusinessAdmin => BUSINESS_ADMIN_GROUP,
            _ => MEMBER_GROUP,
        };
        let business = self
            .business_name
            .clone()
            .filter(|_| status == UserStatus::Approved && self.in_approved_business());
        business.into_iter().chain([role_group.to_owned()]).collect()
    }

    /// The claims about the person `scope` allows: userinfo's answer, and part of the ID
    /// token.
    pub fn claims(&self, scope: &Scope) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(self.id.to_string()));
        claims.insert("preferred_username".into(), json!(self.user_name));
        if scope.has("profile") {
            claims.insert("name".into(), json!(self.real_name));
        }
        if scope.has("phone") {
            claims.insert("phone_number".into(), json!(self.phone));
        }
        if scope.has("groups") {
            claims.insert("groups".into(), json!(self.groups()));
        }
        claims
    }
}

/// What an ID token says besides the person: the sign-in it stands for.
pub struct SignIn<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub session_id: &'a str,
    pub auth_time: i64,
    /// `pwd`, or `pwd otp`.
    pub amr: &'a str,
    pub nonce: Option<&'a str>,
    pub scope: &'a Scope,
}

fn sign(key: &Key, typ: &str, claims: &Map<String, Value>) -> ApiResult<String> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(ApiError::internal)
}

/// An ID token (OpenID Connect Core 2), living `lifetime` seconds.
pub fn id_token(
    keys: &KeySet,
    person: &Person,
    sign_in: &SignIn,
    lifetime: i64,
    now: i64,
) -> ApiResult<String> {
    let mut claims = person.claims(sign_in.scope);
    claims.insert("iss".into(), json!(sign_in.issuer));
    claims.insert("aud".into(), json!(sign_in.client_id));
    claims.insert("azp".into(), json!(sign_in.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + lifetime));
    claims.insert("auth_time".into(), json!(sign_in.auth_time));
    claims.insert("sid".into(), json!(sign_in.session_id));
    claims.insert("amr".into(), json!(sign_in.amr.split(' ').collect::<Vec<_>>()));
    if let Some(nonce) = sign_in.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    sign(&keys.signing, "JWT", &claims)
}

/// The claims of an access token (RFC 9068): good at `GET /oauth/userinfo` while its
/// grant lives.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The grant it belongs to: ending the grant ends the token.
    pub gid: String,
}

pub fn access_token(keys: &KeySet, claims: &AccessClaims) -> ApiResult<String> {
    let Value::Object(map) = serde_json::to_value(claims).map_err(ApiError::internal)? else {
        return Err(ApiError::internal("access claims are an object"));
    };
    sign(&keys.signing, "at+jwt", &map)
}

/// Why a token presented to the provider was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the token is not a JWT of this portal")]
    Malformed,
    #[error("the token's key is not one of this portal's")]
    UnknownKey,
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

/// Checks a token the provider signed: RS256 with a published key (`none`, HS256 and
/// unknown `kid`s fail here), the issuer, and `typ` (an ID token is no access token).
/// `expired_ok` for the logout's `id_token_hint`, which may be old.
pub fn verify<T: serde::de::DeserializeOwned>(
    keys: &KeySet,
    issuer: &str,
    token: &str,
    typ: &str,
    expired_ok: bool,
) -> Result<T, Refused> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refused::Malformed)?;
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.find(kid))
        .ok_or(Refused::UnknownKey)?;
    if header.typ.as_deref() != Some(typ) {
        return Err(Refused::Invalid(format!("typ must be {typ}")));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = crate::auth::token::LEEWAY_SECONDS;
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.validate_exp = !expired_ok;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|err| Refused::Invalid(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_keep_the_known_ones_in_order() {
        let scope = Scope::parse("groups openid  made-up profile");
        assert_eq!(scope.to_string(), "openid profile groups");
        assert!(scope.covers(&Scope::parse("openid groups")));
        assert!(!scope.covers(&Scope::parse("openid offline_access")));
    }

    fn person(status: UserStatus, is_admin: bool, business: Option<BusinessStatus>) -> Person {
        Person {
            id: 7,
            user_name: "ann".into(),
            real_name: "Ann".into(),
            phone: "12345".into(),
            status: status as i64,
            is_admin: i64::from(is_admin),
            is_system_admin: 0,
            business_name: business.map(|_| "acme".into()),
            business_status: business.map(|s| s as i64),
        }
    }

    #[test]
    fn groups_hold_an_approved_business_and_one_role() {
        use BusinessStatus as B;
        use UserStatus as U;
        let groups = |p: Person| p.groups();
        assert_eq!(
            groups(person(U::Approved, true, Some(B::Approved))),
            ["acme", BUSINESS_ADMIN_GROUP]
        );
        assert_eq!(
            groups(person(U::Approved, false, Some(B::Approved))),
            ["acme", MEMBER_GROUP]
        );
        assert_eq!(
            groups(person(U::Approved, true, Some(B::Pending))),
            [MEMBER_GROUP]
        );
        assert_eq!(groups(person(U::Approved, true, None)), [MEMBER_GROUP]);
        assert_eq!(
            groups(person(U::Pending, true, Some(B::Approved))),
            [MEMBER_GROUP]
        );
        let admin = Person {
            is_system_admin: 1,
            ..person(U::Approved, true, None)
        };
        assert_eq!(groups(admin), [SYSTEM_ADMIN_GROUP]);
    }
}
