//! The Microsoft clouds Exchange Online runs in: admin API base URL, token scope and
//! Entra authority per cloud (`docs/admin-api.md`, "Endpoints").

use std::fmt;
use std::str::FromStr;

/// A Microsoft 365 cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    /// Commercial and GCC: `outlook.office365.com`.
    #[default]
    Global,
    /// US Government GCC High: `outlook.office365.us`.
    GccHigh,
    /// US Government DoD: `webmail.apps.mil` (the module's connection URI).
    Dod,
    /// China, operated by 21Vianet: `partner.outlook.cn`.
    China,
}

impl Cloud {
    /// Every cloud, in the order the docs list them.
    pub const ALL: [Cloud; 4] = [Cloud::Global, Cloud::GccHigh, Cloud::Dod, Cloud::China];

    /// The name used in `sharedbox.yaml` (`tenant.cloud`).
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
            Cloud::China => "china",
        }
    }

    /// The admin API base URL; the client appends `/adminapi/beta/{tenant}/...`.
    pub fn base_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://outlook.office365.com",
            Cloud::GccHigh => "https://outlook.office365.us",
            Cloud::Dod => "https://webmail.apps.mil",
            Cloud::China => "https://partner.outlook.cn",
        }
    }

    /// Further hosts that serve this cloud's Exchange Online (Microsoft's endpoint lists),
    /// which `tenant.endpoint` may name instead of [`Cloud::base_url`].
    pub fn other_hosts(self) -> &'static [&'static str] {
        match self {
            // "Microsoft 365 U.S. Government DoD endpoints": Exchange Online is
            // `outlook-dod.office365.us, webmail.apps.mil`.
            Cloud::Dod => &["outlook-dod.office365.us"],
            Cloud::Global | Cloud::GccHigh | Cloud::China => &[],
        }
    }

    /// The OAuth scope of the Exchange Online resource in this cloud.
    pub fn scope(self) -> &'static str {
        match self {
            Cloud::Global => "https://outlook.office365.com/.default",
            Cloud::GccHigh => "https://outlook.office365.us/.default",
            Cloud::Dod => "https://outlook-dod.office365.us/.default",
            Cloud::China => "https://partner.outlook.cn/.default",
        }
    }

    /// The Entra authority host that issues tokens for this cloud.
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::GccHigh | Cloud::Dod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.partner.microsoftonline.cn",
        }
    }
}

/// Whether `endpoint` is served by the admin API host of a Microsoft cloud (HTTPS), or is a
/// loopback address (the simulator): the hosts a configuration file may send tokens to.
/// Any other host must be chosen outside the repository (`SHAREDBOX_EXO_ENDPOINT`).
pub fn is_service_endpoint(endpoint: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(endpoint) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    is_loopback(&url)
        || (url.scheme() == "https"
            && url.port().is_none()
            && Cloud::ALL.iter().any(|cloud| {
                reqwest::Url::parse(cloud.base_url())
                    .is_ok_and(|base| base.host_str() == Some(host))
                    || cloud.other_hosts().contains(&host)
            }))
}

/// Whether `url` names this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown cloud name.
#[derive(Debug, thiserror::Error)]
#[error("unknown cloud `{0}`; expected one of `global`, `gcc-high`, `dod`, `china`")]
pub struct UnknownCloud(pub String);

impl FromStr for Cloud {
    type Err = UnknownCloud;

    fn from_str(s: &str) -> Result<Cloud, UnknownCloud> {
        Cloud::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCloud(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_clouds_admin_hosts_and_loopback_are_service_endpoints() {
        for endpoint in [
            "https://outlook.office365.com",
            "https://outlook.office365.com/",
            "https://outlook.office365.us",
            "https://outlook-dod.office365.us",
            "https://webmail.apps.mil",
            "https://partner.outlook.cn",
            "http://127.0.0.1:8787",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(is_service_endpoint(endpoint), "{endpoint}");
        }
        for endpoint in [
            "https://evil.example.com",
            "https://outlook.office365.com.evil.example",
            "https://outlook.office365.com:8443",
            "http://outlook.office365.com",
            "https://evil.example.com/outlook.office365.com",
            "not a url",
        ] {
            assert!(!is_service_endpoint(endpoint), "{endpoint}");
        }
    }
}
