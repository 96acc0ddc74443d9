//! Where a webhook may point (SPEC.md section 10): by default only public addresses;
//! with `OTE_WEBHOOK_ALLOWED_NETWORKS`, only addresses inside those networks. Checked when
//! an endpoint is saved (422) and again at every delivery, on the addresses the request
//! really connects to (the HTTP client resolves names through `Destinations`), so a name
//! cannot be re-pointed at an inside address later.

use crate::config::TrustedProxies;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

#[derive(Debug, Clone, Default)]
pub struct Destinations {
    allowed: Option<TrustedProxies>,
}

impl Destinations {
    pub fn new(allowed: Option<TrustedProxies>) -> Self {
        Self { allowed }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        match &self.allowed {
            Some(networks) => networks.contains(ip),
            None => is_public(ip),
        }
    }

    /// Every address `url`'s host names is allowed: `Err` says why not, as `url: ...`.
    pub async fn check(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|err| format!("is not a valid URL ({err})"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".into());
        }
        let host = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => return self.verdict(&[IpAddr::V4(ip)], url),
            Some(url::Host::Ipv6(ip)) => return self.verdict(&[IpAddr::V6(ip)], url),
            Some(url::Host::Domain(name)) => name.to_owned(),
            None => return Err("must name a host".into()),
        };
        let addresses = resolve(&host)
            .await
            .map_err(|err| format!("host {host} does not resolve ({err})"))?;
        let addresses: Vec<IpAddr> = addresses.iter().map(SocketAddr::ip).collect();
        self.verdict(&addresses, url)
    }

    fn verdict(&self, addresses: &[IpAddr], url: &str) -> Result<(), String> {
        let url = shown_url(url);
        match addresses.iter().find(|ip| !self.allows(**ip)) {
            Some(ip) if self.allowed.is_some() => Err(format!(
                "{url} points to {ip}, outside OTE_WEBHOOK_ALLOWED_NETWORKS"
            )),
            Some(ip) => Err(format!(
                "{url} points to {ip}, not a public address (loopback, private, link-local, \
                 unique-local, reserved, or one carrying such an IPv4 address)"
            )),
            None if addresses.is_empty() => Err("the host has no address".into()),
            None => Ok(()),
        }
    }
}

async fn resolve(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host, 0)).await?.collect())
}

/// The HTTP client's resolver: only allowed addresses are ever connected to.
impl Resolve for Destinations {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses = resolve(&host).await?;
            if let Some(bad) = addresses.iter().find(|a| !this.allows(a.ip())) {
                return Err(format!("{host} resolves to {}, which webhooks may not reach", bad.ip()).into());
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// A URL as logs, audit details and events show it: scheme, host and port, never the
/// path or query, where endpoints often carry a secret of their own.
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => match (parsed.host_str(), parsed.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", parsed.scheme()),
            (Some(host), None) => format!("{}://{host}", parsed.scheme()),
            _ => format!("{}:", parsed.scheme()),
        },
        Err(_) => "(not a URL)".into(),
    }
}

/// An address on the public internet: not loopback, private, link-local, unique-local,
/// site-local, unspecified, shared (100.64/10), broadcast, documentation, benchmarking,
/// reserved or multicast. An IPv6 address that carries an IPv4 one (mapped, compatible,
/// NAT64, 6to4) is judged by that IPv4 address; local-use NAT64 and Teredo, which hide
/// theirs, are refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match carried_ipv4(v6) {
            Carried::Ipv4(v4) => is_public_v4(v4),
            Carried::Hidden => false,
            Carried::None => is_public_v6(v6),
        },
    }
}

enum Carried {
    Ipv4(Ipv4Addr),
    /// A prefix that reaches IPv4 hosts in a way the address does not tell plainly.
    Hidden,
    None,
}

fn carried_ipv4(ip: Ipv6Addr) -> Carried {
    let s = ip.segments();
    let last32 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Carried::Ipv4(v4);
    }
    match s {
        // NAT64, well-known prefix 64:ff9b::/96 (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Carried::Ipv4(last32),
        // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): the IPv4 address may sit anywhere.
        [0x64, 0xff9b, 1, ..] => Carried::Hidden,
        // IPv4-compatible ::a.b.c.d (deprecated), but :: and ::1 themselves.
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_unspecified() && !ip.is_loopback() => Carried::Ipv4(last32),
        // 6to4 2002:AABB:CCDD::/48 (RFC 3056).
        [0x2002, high, low, ..] => Carried::Ipv4(Ipv4Addr::new(
            (high >> 8) as u8,
            high as u8,
            (low >> 8) as u8,
            low as u8,
        )),
        // Teredo 2001::/32 (RFC 4380): the server's IPv4 address, and the client's obfuscated.
        [0x2001, 0, ..] => Carried::Hidden,
        _ => Carried::None,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || (a == 100 && (64..128).contains(&b)) // shared 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved 240.0.0.0/4
        || a == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique-local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still routed inside)
        || first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            // Reserved IPv4 ranges.
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.254",
            "240.0.0.1",
            // IPv6 addresses that carry an inside IPv4 address, or hide one.
            "64:ff9b::a00:5",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:5",
            "::a00:5",
            "::127.0.0.1",
            "2002:a00:5::1",
            "2002:7f00:1::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for outside in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "198.20.0.1",
        ] {
            assert!(is_public(outside.parse().unwrap()), "{outside}");
        }
    }

    #[test]
    fn a_shown_url_keeps_scheme_host_and_port_only() {
        assert_eq!(
            shown_url("https://hooks.example.com/hook/S3CRETPATH?token=abc#x"),
            "https://hooks.example.com:443"
        );
        assert_eq!(
            shown_url("http://user:pw@127.0.0.1:8080/a"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(shown_url("http://[::1]/p"), "http://[::1]:80");
        assert_eq!(shown_url("not a url"), "(not a URL)");
    }

    #[tokio::test]
    async fn a_configured_network_replaces_the_rule() {
        let only_loopback = Destinations::new(Some(TrustedProxies::parse("127.0.0.1/32").unwrap()));
        assert!(only_loopback.check("http://127.0.0.1:9/hook").await.is_ok());
        let refused = only_loopback.check("http://127.0.0.2:9/hook").await.unwrap_err();
        assert!(
            refused.contains("outside OTE_WEBHOOK_ALLOWED_NETWORKS"),
            "{refused}"
        );
        let public_only = Destinations::default();
        assert!(public_only.check("http://127.0.0.1:9/hook").await.is_err());
        assert!(public_only.check("http://[::1]:9/hook").await.is_err());
        assert!(public_only.check("ftp://example.com/").await.is_err());
    }
}
