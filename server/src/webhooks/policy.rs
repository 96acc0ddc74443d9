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
        match addresses.iter().find(|ip| !self.allows(**ip)) {
            Some(ip) if self.allowed.is_some() => Err(format!(
                "{url} points to {ip}, outside OTE_WEBHOOK_ALLOWED_NETWORKS"
            )),
            Some(ip) => Err(format!(
                "{url} points to {ip}, a loopback, private, link-local, unique-local or unspecified address"
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

/// Not loopback, private, link-local, unique-local, unspecified, shared (100.64/10),
/// broadcast, documentation or multicast: an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || (a == 100 && (64..128).contains(&b))
        || a == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique-local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
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
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(outside.parse().unwrap()), "{outside}");
        }
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
