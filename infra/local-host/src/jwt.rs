//! The HTTP API's JWT authorizer, as API Gateway runs it: the issuer's OIDC discovery document
//! (`<issuer>/.well-known/openid-configuration`) gives `jwks_uri`, the JWKS gives the key of the
//! token's `kid` (RSA: HTTP API JWT authorizers support RSA-based algorithms only, so a token
//! of another algorithm is refused), and the token must verify with it, be
//! current (`exp`, `nbf`), come from the issuer (`iss`) and name one of the configured audiences
//! in `aud` or `client_id`.
//!
//! The platform's own issuer is its public origin (template parameter `PublicOrigin`), which
//! this host serves: URLs under that origin are fetched from the host's own API address, as DNS
//! would route them to the HTTP API. Any other issuer (a province's identity platform) is
//! fetched where it is.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow, bail};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use crate::stack::AuthorizerSpec;

pub struct JwtVerifier {
    /// (public origin, where this host serves it)
    own_origin: Option<(String, String)>,
    http: reqwest::Client,
    /// issuer -> kid -> key
    keys: RwLock<HashMap<String, HashMap<String, DecodingKey>>>,
}

impl JwtVerifier {
    /// A verifier; `public_origin` (if any) is served at `served_at` (e.g. `http://127.0.0.1:3000`).
    pub fn new(public_origin: Option<&str>, served_at: &str) -> Self {
        Self {
            own_origin: public_origin
                .filter(|o| o.starts_with("http://") || o.starts_with("https://"))
                .map(|o| {
                    (
                        o.trim_end_matches('/').to_owned(),
                        served_at.trim_end_matches('/').to_owned(),
                    )
                }),
            http: reqwest::Client::new(),
            keys: RwLock::default(),
        }
    }

    /// Where to fetch `url` from: the host itself for URLs of the platform's public origin.
    pub fn fetch_url(&self, url: &str) -> String {
        if let Some((origin, local)) = &self.own_origin
            && let Some(rest) = url.strip_prefix(origin.as_str())
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return format!("{local}{rest}");
        }
        url.to_owned()
    }

    async fn get_json(&self, url: &str) -> Result<Value> {
        Ok(self
            .http
            .get(self.fetch_url(url))
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    async fn key(&self, issuer: &str, kid: &str) -> Result<DecodingKey> {
        if let Some(k) = self.keys.read().await.get(issuer).and_then(|m| m.get(kid)) {
            return Ok(k.clone());
        }
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            bail!("issuer {issuer} is not a URL");
        }
        let discovery = self
            .get_json(&format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ))
            .await
            .context("discovery document")?;
        if discovery["issuer"].as_str() != Some(issuer) {
            bail!(
                "the discovery document names issuer {}",
                discovery["issuer"]
            );
        }
        let jwks_uri = discovery["jwks_uri"]
            .as_str()
            .ok_or_else(|| anyhow!("no jwks_uri"))?;
        let jwks = self.get_json(jwks_uri).await.context("jwks")?;
        let mut found = HashMap::new();
        for k in jwks["keys"].as_array().into_iter().flatten() {
            let Some(id) = k["kid"].as_str() else {
                continue;
            };
            if k["kty"].as_str() != Some("RSA") {
                continue;
            }
            if let (Some(n), Some(e)) = (k["n"].as_str(), k["e"].as_str()) {
                found.insert(id.to_owned(), DecodingKey::from_rsa_components(n, e)?);
            }
        }
        let key = found.get(kid).cloned();
        self.keys.write().await.insert(issuer.to_owned(), found);
        key.ok_or_else(|| anyhow!("no key {kid} in the issuer's JWKS"))
    }

    /// The token's claims, as API Gateway puts them in `requestContext.authorizer.jwt.claims`
    /// (every value a string).
    ///
    /// # Errors
    /// Why the token is refused (the caller answers 401 whatever the reason).
    pub async fn verify(
        &self,
        auth: &AuthorizerSpec,
        header_value: &str,
    ) -> Result<Map<String, Value>> {
        let token = header_value
            .strip_prefix("Bearer ")
            .unwrap_or(header_value)
            .trim();
        if token.is_empty() {
            bail!("no token");
        }
        let header = decode_header(token)?;
        if header.alg != Algorithm::RS256 {
            bail!("algorithm {:?} is not accepted", header.alg);
        }
        let kid = header.kid.ok_or_else(|| anyhow!("token has no kid"))?;
        let key = self.key(&auth.issuer, &kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&auth.issuer]);
        validation.validate_aud = false; // access tokens carry client_id instead: checked below
        validation.validate_nbf = true;
        validation.leeway = 0;
        let data = decode::<Map<String, Value>>(token, &key, &validation)?;
        let claims = data.claims;
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => claims
                .get("client_id")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
        };
        if !auth.audience.is_empty()
            && !audiences
                .iter()
                .any(|a| auth.audience.iter().any(|w| w == a))
        {
            bail!("audience {audiences:?} is not accepted");
        }
        Ok(claims
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    Value::Array(a) => format!(
                        "[{}]",
                        a.iter()
                            .map(|x| x
                                .as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| x.to_string()))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    other => other.to_string(),
                };
                (k, Value::String(s))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_the_public_origin_are_fetched_from_this_host() {
        let v = JwtVerifier::new(Some("https://12336.example.cn/"), "http://127.0.0.1:3000");
        assert_eq!(
            v.fetch_url("https://12336.example.cn/.well-known/jwks.json"),
            "http://127.0.0.1:3000/.well-known/jwks.json"
        );
        assert_eq!(
            v.fetch_url("https://12336.example.cn.evil.test/.well-known/jwks.json"),
            "https://12336.example.cn.evil.test/.well-known/jwks.json"
        );
        assert_eq!(
            v.fetch_url("https://idp.zj.gov.cn/jwks"),
            "https://idp.zj.gov.cn/jwks"
        );
        let v = JwtVerifier::new(Some("*"), "http://127.0.0.1:3000");
        assert_eq!(v.fetch_url("https://a.test/x"), "https://a.test/x");
    }
}
