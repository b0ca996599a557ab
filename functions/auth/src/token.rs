//! Access tokens: RS256 JWTs signed by a KMS asymmetric key (RSA_2048,
//! RSASSA_PKCS1_V1_5_SHA_256 through `kms:Sign`; the private key never leaves KMS), and the JWKS
//! built from the key's `GetPublicKey`.
//!
//! RS256, not ES256: the HTTP API's JWT authorizer verifies RSA signatures only ("currently, only
//! RSA-based algorithms are supported", API Gateway developer guide, JWT authorizers for HTTP
//! APIs, docs.amazonaws.cn); an ES256 token would be refused in production.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use der::Decode;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// Why a token could not be signed or the key published.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("kms {op} failed: {message}")]
    Kms { op: &'static str, message: String },
    #[error("the signing key is not an RSA key: {0}")]
    Key(String),
}

/// The public half of the signing key as a JWK, and its key id.
#[derive(Debug, Clone)]
pub struct PublicJwk {
    pub kid: String,
    pub jwk: Value,
}

/// Signs with one KMS key; its public key is read once per cold start.
pub struct KmsSigner {
    kms: aws_sdk_kms::Client,
    key_id: String,
    public: OnceCell<PublicJwk>,
}

impl KmsSigner {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            kms,
            key_id: key_id.into(),
            public: OnceCell::new(),
        }
    }

    /// The key's JWK (`GetPublicKey`, once).
    ///
    /// # Errors
    /// [`TokenError`] when KMS fails or the key is not RSA.
    pub async fn public_jwk(&self) -> Result<&PublicJwk, TokenError> {
        self.public
            .get_or_try_init(|| async {
                let out = self
                    .kms
                    .get_public_key()
                    .key_id(&self.key_id)
                    .send()
                    .await
                    .map_err(|e| TokenError::Kms {
                        op: "GetPublicKey",
                        message: format!("{}", aws_sdk_kms::error::DisplayErrorContext(&e)),
                    })?;
                let der = out
                    .public_key()
                    .ok_or_else(|| TokenError::Key("no public key".into()))?
                    .as_ref();
                jwk_of_spki(der)
            })
            .await
    }

    /// A signed compact JWT of `claims` (header `RS256`, the key's `kid`).
    ///
    /// # Errors
    /// [`TokenError`] when KMS fails.
    pub async fn sign<C: Serialize>(&self, claims: &C) -> Result<String, TokenError> {
        let kid = self.public_jwk().await?.kid.clone();
        self.sign_with_kid(&kid, claims).await
    }

    /// A compact JWT of `claims` with header `kid` signed by this key (tests forge tokens of
    /// another key with it).
    ///
    /// # Errors
    /// [`TokenError`] when KMS fails.
    pub async fn sign_with_kid<C: Serialize>(
        &self,
        kid: &str,
        claims: &C,
    ) -> Result<String, TokenError> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(serde_json::to_vec(claims).map_err(|e| TokenError::Key(e.to_string()))?)
        );
        let out = self
            .kms
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(input.as_bytes()))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
            .send()
            .await
            .map_err(|e| TokenError::Kms {
                op: "Sign",
                message: format!("{}", aws_sdk_kms::error::DisplayErrorContext(&e)),
            })?;
        let signature = out
            .signature()
            .ok_or_else(|| TokenError::Key("no signature".into()))?
            .as_ref();
        Ok(format!("{input}.{}", B64.encode(signature)))
    }
}

/// The JWK of an RSA SubjectPublicKeyInfo (what `GetPublicKey` returns); `kid` is the first 16
/// bytes of the SHA-256 of the DER, base64url.
///
/// # Errors
/// [`TokenError::Key`] unless it is an RSA public key.
pub fn jwk_of_spki(der: &[u8]) -> Result<PublicJwk, TokenError> {
    let spki =
        spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| TokenError::Key(e.to_string()))?;
    if spki.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(TokenError::Key(format!("algorithm {}", spki.algorithm.oid)));
    }
    let key = pkcs1::RsaPublicKey::from_der(spki.subject_public_key.raw_bytes())
        .map_err(|e| TokenError::Key(e.to_string()))?;
    let kid = B64.encode(&Sha256::digest(der)[..16]);
    Ok(PublicJwk {
        jwk: json!({
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": B64.encode(key.modulus.as_bytes()),
            "e": B64.encode(key.public_exponent.as_bytes()),
        }),
        kid,
    })
}

/// The claims of an access token.
#[derive(Debug, Serialize)]
pub struct AccessClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    /// The audience again under the name access tokens use (API Gateway accepts either).
    pub client_id: &'a str,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub token_use: &'static str,
    pub preferred_username: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    /// An RSA-2048 public key (SubjectPublicKeyInfo, base64) and its modulus (base64url).
    const SPKI: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsLgfdHNch4fROyz6F3K7AiJGegOi5M6iVVXl6UrB5MiZwIpwUj7r5jm1s7JmxdAcealW28Kx+DGDf9alONRq+tA0L12k0Vwb5VomLuwZpiSaq0ZzPv4DwRiACQc0bMPFiz0+z+adMUNOrbG/HbLvTCb04GUwcC4wSOW/YG+2ltvwa0EHjQtQkSHie1/hfCdKjEiIFH5rmxsvcWDvJzeRTeK5+HipfsR4wP6t3jyk2uvA43gywS4fbDUrRtn59zjxDlCPnuCnvdRQF1Cx3W1ZaauX0gqne7AoIXivZCfKu+mWpsKMIKt5T7YZ59cqCHoPzxCjO/M7VJrNVjx4NQsJvwIDAQAB";
    const N: &str = "sLgfdHNch4fROyz6F3K7AiJGegOi5M6iVVXl6UrB5MiZwIpwUj7r5jm1s7JmxdAcealW28Kx-DGDf9alONRq-tA0L12k0Vwb5VomLuwZpiSaq0ZzPv4DwRiACQc0bMPFiz0-z-adMUNOrbG_HbLvTCb04GUwcC4wSOW_YG-2ltvwa0EHjQtQkSHie1_hfCdKjEiIFH5rmxsvcWDvJzeRTeK5-HipfsR4wP6t3jyk2uvA43gywS4fbDUrRtn59zjxDlCPnuCnvdRQF1Cx3W1ZaauX0gqne7AoIXivZCfKu-mWpsKMIKt5T7YZ59cqCHoPzxCjO_M7VJrNVjx4NQsJvw";

    #[test]
    fn the_jwk_carries_the_rsa_modulus_and_exponent_of_the_kms_public_key() {
        let der = STANDARD.decode(SPKI).expect("b64");
        let jwk = jwk_of_spki(&der).expect("jwk");
        assert_eq!(jwk.jwk["kty"], "RSA");
        assert_eq!(jwk.jwk["alg"], "RS256");
        assert_eq!(jwk.jwk["n"], N);
        assert_eq!(jwk.jwk["e"], "AQAB");
        assert_eq!(jwk.jwk["kid"], jwk.kid);
        assert_eq!(jwk.kid.len(), 22);
        assert!(jwk_of_spki(b"not spki").is_err());
        assert!(jwk_of_spki(&der[..der.len() - 1]).is_err());
    }
}
