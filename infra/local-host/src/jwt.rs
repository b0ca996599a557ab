//! The HTTP API's JWT authorizer: the token is checked against the issuer's JWKS, fetched from
//! the emulator (`<endpoint>/<pool id>/.well-known/jwks.json` for a Cognito issuer), with the
//! checks API Gateway makes: signature, `exp`/`nbf`, `iss`, and `aud` (ID tokens) or
//! `client_id` (access tokens) among the configured audiences.

use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use crate::stack::AuthorizerSpec;

pub struct JwtVerifier {
    endpoint: String,
    http: reqwest::Client,
    /// issuer -> kid -> key
    keys: RwLock<HashMap<String, HashMap<String, DecodingKey>>>,
}

impl JwtVerifier {
    pub fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            keys: RwLock::default(),
        }
    }

    /// Where the issuer's JWKS is in the emulator: the issuer's path on the emulator's host.
    fn jwks_url(&self, issuer: &str) -> String {
        let path = issuer
            .split_once("://")
            .map_or(issuer, |(_, rest)| rest)
            .split_once('/')
            .map_or("", |(_, p)| p);
        format!(
            "{}/{}/.well-known/jwks.json",
            self.endpoint,
            path.trim_end_matches('/')
        )
    }

    async fn key(&self, issuer: &str, kid: &str) -> Result<DecodingKey> {
        if let Some(k) = self.keys.read().await.get(issuer).and_then(|m| m.get(kid)) {
            return Ok(k.clone());
        }
        let jwks: Value = self
            .http
            .get(self.jwks_url(issuer))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut found = HashMap::new();
        for k in jwks["keys"].as_array().into_iter().flatten() {
            if let (Some(id), Some(n), Some(e)) =
                (k["kid"].as_str(), k["n"].as_str(), k["e"].as_str())
            {
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
    fn a_cognito_issuer_maps_to_its_jwks_in_the_emulator() {
        let v = JwtVerifier::new("http://127.0.0.1:5000/");
        assert_eq!(
            v.jwks_url("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"),
            "http://127.0.0.1:5000/us-east-1_abc/.well-known/jwks.json"
        );
    }
}
