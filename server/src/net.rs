//! Addresses as the rules see them: one client one address, whichever way it arrived.

use std::net::IpAddr;

/// An address as one client has it: an IPv4 client reaching a dual-stack (`[::]`)
/// listener arrives as `::ffff:a.b.c.d`, and is `a.b.c.d` (otherwise every IPv4 client
/// would fall into one IPv6 /64, and no IPv4 proxy would be trusted).
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}
