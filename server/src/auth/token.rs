//! JWTs of SPEC.md section 6: HS256 only, `iss`, `aud`, `exp`, `jti` required, a few
//! seconds of leeway. `ver` is the user's token version: raising it ends every token
//! issued before (password change, reset, audit to 2 or 3). `sid` is the session the
//! token belongs to (SPEC.md section 9): kept through refreshes, ended with the session.

use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "ote-portal";
pub const AUDIENCE: &str = "ote-portal";
pub const LIFETIME_SECONDS: i64 = 3600;
/// How long past `exp` a token is still accepted (clocks of replicas differ a little).
pub const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub ver: i64,
    pub sid: String,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }

    /// Past `exp` and the leeway, as `verify` judges it: for claims verified before.
    pub fn expired(&self, now: i64) -> bool {
        self.exp < now - LEEWAY_SECONDS as i64
    }
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Self {
        // `Validation::new` accepts exactly the one algorithm given: `none` and every
        // other `alg` fail before the signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // `sid` and `ver` are required too: `Claims` has no defaults.
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(
        &self,
        user_id: i64,
        name: &str,
        version: i64,
        sid: &str,
        now: i64,
    ) -> Result<(String, Claims), ApiError> {
        let claims = Claims {
            sub: user_id.to_string(),
            name: name.to_owned(),
            iat: now,
            exp: now + LIFETIME_SECONDS,
            jti: format!("{:032x}", rand::random::<u128>()),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            ver: version,
            sid: sid.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
        Ok((token, claims))
    }

    /// Signature, algorithm and claims; revocation is the caller extractor's job.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                let reason = match err.kind() {
                    ErrorKind::ExpiredSignature => "has expired",
                    ErrorKind::InvalidSignature => "has a bad signature",
                    ErrorKind::InvalidAlgorithm => "must be signed with HS256",
                    _ => "is not a valid token",
                };
                ApiError::Unauthorized(format!("Authorization: the token {reason}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_secret_only() {
        let tokens = Tokens::new(&[7; 32]);
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let (token, claims) = tokens.issue(42, "ann", 3, "s1", now).unwrap();
        let back = tokens.verify(&token).unwrap();
        assert_eq!((back.user_id(), back.ver, back.jti), (Some(42), 3, claims.jti));
        assert!(Tokens::new(&[8; 32]).verify(&token).is_err());
    }

    #[test]
    fn expired_tokens_fail_beyond_the_leeway() {
        let tokens = Tokens::new(&[7; 32]);
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let (token, _) = tokens
            .issue(1, "ann", 0, "s1", now - LIFETIME_SECONDS - 10)
            .unwrap();
        let err = tokens.verify(&token).unwrap_err().to_string();
        assert!(err.contains("expired"), "{err}");
        let (token, claims) = tokens
            .issue(1, "ann", 0, "s1", now - LIFETIME_SECONDS + 2)
            .unwrap();
        assert!(tokens.verify(&token).is_ok());
        // The caller cache's check of claims it verified before agrees at the boundary.
        let leeway = LEEWAY_SECONDS as i64;
        assert!(!claims.expired(now));
        assert!(!claims.expired(claims.exp + leeway));
        assert!(claims.expired(claims.exp + leeway + 1));
    }
}
