//! Per-client limits (SPEC.md section 8): who the client is (`ClientAddr`, believing
//! `X-Forwarded-For` only from `OTE_TRUSTED_PROXIES`) and how much password work it may
//! ask for (`PasswordWork`, a token bucket per address, `OTE_RATE_PASSWORD_PER_MINUTE`).
//! The buckets live in this process: each replica limits what it is asked to do.

use crate::config::{LimitSettings, TrustedProxies};
use crate::error::ApiError;
use crate::net::canonical;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;

pub struct Limits {
    password: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted: TrustedProxies,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Self {
        let password = NonZeroU32::new(settings.rate_password_per_minute)
            .map(|per_minute| RateLimiter::keyed(Quota::per_minute(per_minute)));
        Self {
            password,
            trusted: settings.trusted_proxies.clone(),
        }
    }

    /// Takes one token of `client`'s password bucket, or says when the next one comes.
    fn take_password_token(&self, client: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.password else {
            return Ok(());
        };
        limiter.check_key(&bucket_key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::TooManyRequests {
                message: "Authorization: too many password attempts from this address; slow down".into(),
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forgets buckets that are full again (the housekeeping task calls this), so the map
    /// holds only addresses seen lately.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.password {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// IPv6 clients are limited per /64, the block one subscriber usually gets: otherwise
/// one attacker would have 2^64 buckets.
fn bucket_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(segments))
        }
    }
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (`a.b.c.d:p`,
/// `[v6]:p`), or a bracketed IPv6 address.
fn forwarded_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(canonical)
}

/// The client's address: the socket's peer, unless that peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not a trusted proxy (each proxy appends
/// the address it saw, so entries left of an untrusted one may be forged). Canonical.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        match forwarded_entry(entry) {
            Some(addr) if trusted.contains(addr) => client = addr,
            Some(addr) => return addr,
            // Garbage from beyond the last trusted hop: that hop is the client we know.
            None => return client,
        }
    }
    client
}

/// The address a request comes from (see `client_addr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip());
        Ok(Self(client_addr(peer, &parts.headers, &state.limits.trusted)))
    }
}

/// A handler that does password work takes this first: one token of the client's
/// bucket, or 429 with `Retry-After`.
pub struct PasswordWork;

impl FromRequestParts<AppState> for PasswordWork {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(client) = ClientAddr::from_request_parts(parts, state).await?;
        state.limits.take_password_token(client)?;
        Ok(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let forged = headers(&["198.51.100.1, 203.0.113.9"]);
        assert_eq!(client_addr(ip("203.0.113.5"), &forged, &none), ip("203.0.113.5"));
        assert_eq!(
            client_addr(ip("203.0.113.5"), &forged, &proxies),
            ip("203.0.113.5")
        );
        // Through two trusted proxies: the right-most untrusted entry, not the forged left one.
        let chain = headers(&["198.51.100.1, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &chain, &proxies), ip("203.0.113.9"));
        // Only proxies in the header: the farthest of them.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &headers(&["10.9.9.9"]), &proxies),
            ip("10.9.9.9")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_addr(ip("10.0.0.2"), &headers(&["unknown"]), &proxies),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv4_clients_of_a_dual_stack_listener_are_their_ipv4_addresses() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            client_addr(
                ip("::ffff:127.0.0.2"),
                &HeaderMap::new(),
                &TrustedProxies::default()
            ),
            ip("127.0.0.2")
        );
        // A mapped proxy is trusted; mapped and ported entries are read.
        let forwarded = headers(&["::ffff:198.51.100.7"]);
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.1"), &forwarded, &proxies),
            ip("198.51.100.7")
        );
        for entry in ["198.51.100.7:5123", "[2001:db8::7]:443", "[2001:db8::7]"] {
            let expected = forwarded_entry(entry).unwrap();
            assert_eq!(
                client_addr(ip("10.0.0.1"), &headers(&[entry]), &proxies),
                expected,
                "{entry}"
            );
        }
        assert_eq!(forwarded_entry("198.51.100.7:5123"), Some(ip("198.51.100.7")));
        assert_eq!(forwarded_entry("[2001:db8::7]:443"), Some(ip("2001:db8::7")));
        // Two IPv4 clients through a dual-stack listener are two buckets.
        let settings = LimitSettings {
            rate_password_per_minute: 1,
            trusted_proxies: TrustedProxies::default(),
            password_queue: 1,
            hsts: false,
            sweep_seconds: 60,
        };
        let limits = Limits::new(&settings);
        let mapped = |text: &str| client_addr(ip(text), &HeaderMap::new(), &settings.trusted_proxies);
        limits.take_password_token(mapped("::ffff:127.0.0.1")).unwrap();
        assert!(limits.take_password_token(mapped("::ffff:127.0.0.1")).is_err());
        limits.take_password_token(mapped("::ffff:127.0.0.2")).unwrap();
    }

    #[test]
    fn a_bucket_holds_the_minutes_quota_then_says_when_to_come_back() {
        let settings = LimitSettings {
            rate_password_per_minute: 3,
            trusted_proxies: TrustedProxies::default(),
            password_queue: 1,
            hsts: false,
            sweep_seconds: 60,
        };
        let limits = Limits::new(&settings);
        let client = ip("192.0.2.1");
        for _ in 0..3 {
            limits.take_password_token(client).unwrap();
        }
        match limits.take_password_token(client) {
            Err(ApiError::TooManyRequests { retry_after, .. }) => assert!((1..=20).contains(&retry_after)),
            other => panic!("expected 429, got {other:?}"),
        }
        limits.take_password_token(ip("192.0.2.2")).unwrap();
        // One IPv6 /64 is one client.
        let limits = Limits::new(&settings);
        for last in 1..=3 {
            limits
                .take_password_token(ip(&format!("2001:db8::{last}")))
                .unwrap();
        }
        assert!(limits.take_password_token(ip("2001:db8::ffff:1")).is_err());
        assert!(limits.take_password_token(ip("2001:db8:0:1::1")).is_ok());
    }
}
