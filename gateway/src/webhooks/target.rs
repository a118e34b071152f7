//! Where a webhook may be sent: http(s) URLs whose host is a public address. One table of the
//! IANA special-purpose ranges (IPv4 and IPv6) decides "public"; it is consulted when an
//! endpoint is registered, before each delivery, and by the delivery client's resolver at
//! connect time, so DNS cannot be switched in between.
//!
//! A refusal never says what a name resolved to: a registered URL is not a way to learn the
//! internal network's names and addresses.

use ipnet::IpNet;
use protocol::Problem;
use std::net::IpAddr;
use std::sync::LazyLock;

const MAX_URL_CHARS: usize = 2048;

/// The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates), with
/// multicast and the reserved 240.0.0.0/4: none of them is a public webhook receiver.
const SPECIAL_PURPOSE: &[&str] = &[
    "0.0.0.0/8",       // "this network"
    "10.0.0.0/8",      // private
    "100.64.0.0/10",   // shared address space (carrier-grade NAT)
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local (cloud metadata services)
    "172.16.0.0/12",   // private
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation (TEST-NET-1)
    "192.31.196.0/24", // AS112-v4
    "192.52.193.0/24", // AMT
    "192.88.99.0/24",  // 6to4 relay anycast (deprecated)
    "192.168.0.0/16",  // private
    "192.175.48.0/24", // direct delegation AS112
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation (TEST-NET-2)
    "203.0.113.0/24",  // documentation (TEST-NET-3)
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, and the limited broadcast address
    "::/128",          // unspecified
    "::1/128",         // loopback
    "::/96",           // IPv4-compatible (deprecated): ::a.b.c.d
    "::ffff:0:0/96",   // IPv4-mapped
    "64:ff9b::/96",    // NAT64 well-known prefix: reaches IPv4 space through a translator
    "64:ff9b:1::/48",  // local-use NAT64
    "100::/64",        // discard-only
    "2001::/23",       // IETF protocol assignments (Teredo, ORCHID, ...)
    "2001:db8::/32",   // documentation
    "2002::/16",       // 6to4: embeds an IPv4 address
    "3fff::/20",       // documentation
    "5f00::/16",       // SRv6 SIDs
    "fc00::/7",        // unique local
    "fe80::/10",       // link-local
    "fec0::/10",       // site-local (deprecated)
    "ff00::/8",        // multicast
];

static SPECIAL_NETWORKS: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    SPECIAL_PURPOSE
        .iter()
        .filter_map(|net| net.parse().ok())
        .collect()
});

/// Whether the address is in a special-purpose range: not a public receiver.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    SPECIAL_NETWORKS.iter().any(|net| net.contains(&ip))
}

/// The one refusal for a host that is not public, whether it does not resolve or resolves to
/// a special-purpose address: telling them apart would be a DNS oracle.
pub fn not_public(host: &str) -> Problem {
    Problem::NotPublic {
        host: host.to_owned(),
    }
}

/// Checks a target URL: http(s), no credentials in it, and (unless `allow_private`) a host that
/// resolves only to public addresses. Called when an endpoint is registered and again before
/// each delivery, since DNS can change in between.
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), Problem> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(Problem::AtMostCharacters {
            max: MAX_URL_CHARS as u64,
        });
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| Problem::Url)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Problem::Url);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Problem::UrlCredentials);
    }
    let host = parsed.host_str().ok_or(Problem::Url)?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((bare, port)).await {
            Ok(found) => found.map(|socket| socket.ip()).collect(),
            Err(_) if !allow_private => return Err(not_public(host)),
            Err(_) => {
                return Err(Problem::Unresolved {
                    host: host.to_owned(),
                })
            }
        },
    };
    if addresses.is_empty() {
        return Err(Problem::Unresolved {
            host: host.to_owned(),
        });
    }
    if !allow_private && addresses.into_iter().any(is_special_purpose) {
        return Err(not_public(host));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_parses() {
        assert_eq!(SPECIAL_NETWORKS.len(), SPECIAL_PURPOSE.len());
    }

    #[test]
    fn special_purpose_addresses_are_recognised() {
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.170",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::10.0.0.1",
            "2002:a00:1::1",
            "2001:db8::1",
            "2001::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(is_special_purpose(special.parse().unwrap()), "{special}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "100.128.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:2800:220:1::1",
            "2a00:1450:4001::1",
        ] {
            assert!(!is_special_purpose(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn target_urls_are_checked() {
        assert!(check_target("https://93.184.216.34/hook", false)
            .await
            .is_ok());
        for (url, allow) in [
            ("ftp://93.184.216.34/hook", false),
            ("https://user:pw@93.184.216.34/hook", false),
            ("http://127.0.0.1:9000/hook", false),
            ("http://[::1]/hook", false),
            ("http://[64:ff9b::7f00:1]/hook", false),
            ("http://localhost/hook", false),
            ("not a url", true),
        ] {
            assert!(check_target(url, allow).await.is_err(), "{url}");
        }
        assert!(check_target("http://127.0.0.1:9000/hook", true)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn a_refusal_does_not_say_what_a_name_resolved_to() {
        let resolved = check_target("http://localhost:9/hook", false)
            .await
            .unwrap_err()
            .to_string();
        let unresolvable = check_target("http://no-such-host.invalid/hook", false)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            !resolved.contains("127.0.0.1") && !resolved.contains("::1"),
            "{resolved}"
        );
        assert_eq!(
            resolved.replace("localhost", "H"),
            unresolvable.replace("no-such-host.invalid", "H"),
            "a private name and a name that does not resolve are refused alike"
        );
    }
}
