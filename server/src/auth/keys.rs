//! The identity provider's signing keys (SPEC.md section 12): RS256 with 2048-bit RSA keys,
//! generated at the first start and kept in the database, so every replica signs and
//! verifies with the same ones. `rotate` (the console's `admin rotate-keys`) adds a key that
//! signs from then on; the one it replaces is retired and still published until every token
//! it signed has expired. Keys are made by RustCrypto's `rsa`; signing and verifying are
//! `jsonwebtoken`'s (ring). Each process reads the list of keys at most once a second and
//! parses a key once.

use crate::db::Db;
use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The modulus size of new keys (kube-apiserver and every OpenID library take it).
pub const BITS: usize = 2048;
/// How long a process uses the list of keys it read before it reads it again: a rotation on
/// another replica or at the console is seen within this.
const RELOAD: Duration = Duration::from_secs(1);

/// One key, parsed.
pub struct Key {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public half as a JSON Web Key.
    pub jwk: Value,
}

/// The keys in use: the newest active one signs; all of them verify and are published.
pub struct KeySet {
    pub signing: Arc<Key>,
    pub published: Vec<Arc<Key>>,
}

impl KeySet {
    pub fn find(&self, kid: &str) -> Option<&Key> {
        self.published.iter().find(|key| key.kid == kid).map(Arc::as_ref)
    }

    /// `GET /oauth/jwks`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.published.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    retire_time: Option<i64>,
}

pub struct KeyRing {
    /// How long after its retirement a key is still published: the longest a token it
    /// signed lives.
    publish_seconds: i64,
    current: RwLock<Option<(Instant, Arc<KeySet>)>>,
    parsed: RwLock<HashMap<String, Arc<Key>>>,
    /// One generation at a time in this process.
    generating: tokio::sync::Mutex<()>,
}

impl KeyRing {
    pub fn new(publish_seconds: u64) -> Self {
        Self {
            publish_seconds: publish_seconds as i64,
            current: RwLock::new(None),
            parsed: RwLock::new(HashMap::new()),
            generating: tokio::sync::Mutex::new(()),
        }
    }

    /// The keys in use, generating the first one if there is none yet.
    pub async fn current(&self, db: &Db) -> Result<Arc<KeySet>, ApiError> {
        if let Some((read, set)) = self.current.read().expect("key cache").as_ref()
            && read.elapsed() < RELOAD
        {
            return Ok(set.clone());
        }
        let set = match self.load(db).await? {
            Some(set) => set,
            None => {
                let _one = self.generating.lock().await;
                match self.load(db).await? {
                    Some(set) => set,
                    None => {
                        ensure(db).await?;
                        self.load(db)
                            .await?
                            .ok_or_else(|| ApiError::internal("no signing key after generating one"))?
                    }
                }
            }
        };
        *self.current.write().expect("key cache") = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    async fn load(&self, db: &Db) -> Result<Option<Arc<KeySet>>, ApiError> {
        let now = crate::clock::now();
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT kid, retire_time FROM oauth_keys WHERE retire_time IS NULL OR retire_time > $1 \
             ORDER BY create_time DESC, kid",
        )
        .bind(now - self.publish_seconds)
        .fetch_all(&db.pool)
        .await?;
        let Some(signing) = rows.iter().find(|row| row.retire_time.is_none()) else {
            return Ok(None);
        };
        let signing = signing.kid.clone();
        let mut published = Vec::with_capacity(rows.len());
        for row in rows {
            published.push(self.parsed_key(db, &row.kid).await?);
        }
        let signing = published
            .iter()
            .find(|key| key.kid == signing)
            .cloned()
            .ok_or_else(|| ApiError::internal("the signing key vanished"))?;
        Ok(Some(Arc::new(KeySet { signing, published })))
    }

    async fn parsed_key(&self, db: &Db, kid: &str) -> Result<Arc<Key>, ApiError> {
        if let Some(key) = self.parsed.read().expect("key cache").get(kid) {
            return Ok(key.clone());
        }
        let pem: String = sqlx::query_scalar("SELECT private_key FROM oauth_keys WHERE kid = $1")
            .bind(kid)
            .fetch_one(&db.pool)
            .await?;
        let key = Arc::new(parse(&pem)?);
        self.parsed
            .write()
            .expect("key cache")
            .insert(kid.to_owned(), key.clone());
        Ok(key)
    }
}

/// Reads a stored key: its JWK, and the keys `jsonwebtoken` signs and verifies with.
fn parse(pem: &str) -> Result<Key, ApiError> {
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).map_err(ApiError::internal)?;
    let (n, e) = (private.n().to_bytes_be(), private.e().to_bytes_be());
    let (n, e) = (URL_SAFE_NO_PAD.encode(n), URL_SAFE_NO_PAD.encode(e));
    let kid = thumbprint(&n, &e);
    Ok(Key {
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(ApiError::internal)?,
        decoding: DecodingKey::from_rsa_components(&n, &e).map_err(ApiError::internal)?,
        jwk: json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e }),
        kid,
    })
}

/// RFC 7638: the key's id is the SHA-256 of its canonical JWK, so the same key has the same
/// id wherever it is read.
fn thumbprint(n: &str, e: &str) -> String {
    use sha2::{Digest, Sha256};
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A new key as PKCS#8 PEM, and its id (takes a moment: run off the async threads).
async fn generate() -> Result<(String, String), ApiError> {
    tokio::task::spawn_blocking(|| {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, BITS).map_err(ApiError::internal)?;
        let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(ApiError::internal)?;
        let kid = parse(&pem)?.kid;
        Ok((pem.to_string(), kid))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Makes a signing key if there is none (the first start; `KeyRing::current` calls it, one
/// at a time in a process). Two replicas starting together may both make one: both are
/// published, the newer signs.
async fn ensure(db: &Db) -> Result<(), ApiError> {
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_keys WHERE retire_time IS NULL")
        .fetch_one(&db.pool)
        .await?;
    if active > 0 {
        return Ok(());
    }
    let (pem, kid) = generate().await?;
    let mut tx = db.begin_side_write().await?;
    insert(&mut tx, &kid, &pem).await?;
    tx.commit().await?;
    tracing::info!(kid, "identity provider: generated the first signing key");
    Ok(())
}

/// Adds a key that signs from now on and retires the others, in the caller's transaction;
/// returns the new key's id.
pub async fn rotate(conn: &mut sqlx::AnyConnection, now: i64) -> Result<String, ApiError> {
    let (pem, kid) = generate().await?;
    sqlx::query("UPDATE oauth_keys SET retire_time = $1 WHERE retire_time IS NULL")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    insert(conn, &kid, &pem).await?;
    Ok(kid)
}

async fn insert(conn: &mut sqlx::AnyConnection, kid: &str, pem: &str) -> Result<(), ApiError> {
    // The same key twice is impossible in practice; the id is its digest.
    sqlx::query("INSERT INTO oauth_keys (kid, private_key, create_time) VALUES ($1, $2, $3)")
        .bind(kid)
        .bind(pem)
        .bind(crate::clock::now())
        .execute(conn)
        .await?;
    Ok(())
}
