//! The client's address: the TCP peer, or, when the peer is a trusted proxy, the address the
//! proxy says it forwarded for; and the key that address is limited by.

use axum::http::HeaderMap;
use ipnet::{IpNet, Ipv6Net};
use std::net::IpAddr;

use crate::config::Config;

/// The client as far as can be trusted: walking the forwarding chain from the nearest hop, the
/// first address that is not one of our proxies. Headers from an untrusted peer are ignored
/// (anyone can write them), and so is a chain that names nothing usable.
pub fn client_ip(config: &Config, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: &IpAddr| config.trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    chain
        .iter()
        .rev()
        .find(|ip| !trusted(ip))
        .or(chain.first())
        .copied()
        .unwrap_or(peer)
}

/// The addresses a request was forwarded for, the client first: from `Forwarded` (RFC 7239)
/// if present, else `X-Forwarded-For`. Entries that are not addresses (`unknown`, obfuscated
/// identifiers) are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|entry| entry.trim().to_owned())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .filter_map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(key, _)| key.eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .filter_map(|entry| parse_node(entry))
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.rsplit_once(':')?.0.parse().ok()
}

/// What limits count by: an IPv4 address, or an IPv6 address's /64 (one subscriber's network:
/// any host in it is as cheap to use as another).
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => Ipv6Net::new(v6, 64)
                .map(|net| IpNet::V6(net.trunc()).to_string())
                .unwrap_or_else(|_| v6.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(proxies: &[&str]) -> Config {
        Config {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..Config::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let xff = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            client_ip(&config(&[]), ip("10.0.0.2"), &xff),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(&config(&["10.0.0.0/8"]), ip("198.51.100.1"), &xff),
            ip("198.51.100.1"),
            "a client cannot claim another address"
        );
        assert_eq!(
            client_ip(&config(&["10.0.0.0/8"]), ip("10.0.0.2"), &xff),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_chain_is_walked_from_the_nearest_hop() {
        let c = config(&["10.0.0.0/8"]);
        // The client wrote a fake first entry; the proxies appended what they saw.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.9"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(client_ip(&c, ip("10.0.0.2"), &h), ip("203.0.113.9"));
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\"",
        )]);
        assert_eq!(client_ip(&c, ip("10.0.0.2"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("x-forwarded-for", "unknown, garbage")]);
        assert_eq!(client_ip(&c, ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_is_limited_by_its_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:bbbb::9")),
            limit_key(ip("2001:db8:1:2:aaaa::1"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:3::1")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(limit_key(ip("192.0.2.1")), "192.0.2.1");
    }
}
