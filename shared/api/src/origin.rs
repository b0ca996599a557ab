//! The platform's one public origin (`PUBLIC_ORIGIN`, the template's `PublicOrigin`): every link
//! the platform sends, the OAuth `redirect_uri`, the cookies' Secure flag and the check of where
//! a browser request comes from. Never taken from request headers or the execute-api host.

use std::fmt;

/// Why a configured public origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error(
        "PUBLIC_ORIGIN must be scheme://host[:port] without path: https, or http on loopback (127.0.0.1, localhost) for local development; got {0:?}"
    )]
    Invalid(String),
}

/// `https://host[:port]`, or `http://127.0.0.1:port` / `http://localhost:port` locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin {
    origin: String,
    local: bool,
}

impl PublicOrigin {
    /// Parses and checks an origin: lower-case scheme and host, no path, query, fragment or
    /// user info; `http` only on loopback.
    ///
    /// # Errors
    /// [`OriginError::Invalid`].
    pub fn parse(s: &str) -> Result<Self, OriginError> {
        let bad = || OriginError::Invalid(s.to_owned());
        let s = s.strip_suffix('/').unwrap_or(s);
        let (scheme, authority) = s.split_once("://").ok_or_else(bad)?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p))
                if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (h, Some(p))
            }
            Some(_) => return Err(bad()),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !host.starts_with(['.', '-'])
            && !host.ends_with(['.', '-']);
        if !host_ok || port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
            return Err(bad());
        }
        let local = host == "127.0.0.1" || host == "localhost";
        match scheme {
            "https" => {}
            "http" if local => {}
            _ => return Err(bad()),
        }
        Ok(Self {
            origin: s.to_owned(),
            local,
        })
    }

    /// `scheme://host[:port]`.
    pub fn as_str(&self) -> &str {
        &self.origin
    }

    /// Local development (http on loopback): the only place plain callbacks are allowed.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Whether cookies get the Secure flag (https).
    pub fn secure(&self) -> bool {
        self.origin.starts_with("https://")
    }

    /// An absolute URL of `path` (which starts with `/`) on this origin.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The reporter H5 page at `route` (a hash route such as `#/mine`): the page that is
    /// served (`/h5/index.html`), so every link opens it.
    pub fn h5(&self, route: &str) -> String {
        format!("{}/h5/index.html{route}", self.origin)
    }

    /// Whether a browser's `Origin` header names this origin.
    pub fn matches(&self, origin_header: &str) -> bool {
        origin_header == self.origin
    }
}

impl fmt::Display for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        let prod = PublicOrigin::parse("https://12336.example.cn").expect("https");
        assert!(!prod.is_local() && prod.secure());
        assert_eq!(
            prod.h5("#/mine"),
            "https://12336.example.cn/h5/index.html#/mine"
        );
        let local = PublicOrigin::parse("http://127.0.0.1:3000/").expect("loopback");
        assert!(local.is_local() && !local.secure());
        assert_eq!(
            local.url("/api/reporter/oauth"),
            "http://127.0.0.1:3000/api/reporter/oauth"
        );
        for bad in [
            "*",
            "",
            "http://12336.example.cn",
            "https://12336.example.cn/h5",
            "https://user@12336.example.cn",
            "https://12336.example.cn:0",
            "https://12336.example.cn:99999",
            "https://EXAMPLE.cn",
            "ftp://127.0.0.1",
            "http://127.0.0.1.example.cn",
        ] {
            assert!(PublicOrigin::parse(bad).is_err(), "{bad}");
        }
    }
}
