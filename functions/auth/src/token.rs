//! Access tokens: ES256 JWTs signed by a KMS asymmetric key (ECC_NIST_P256, `kms:Sign`; the
//! private key never leaves KMS), and the JWKS built from the key's `GetPublicKey`.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::pkcs8::DecodePublicKey;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// Why a token could not be signed or the key published.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("kms {op} failed: {message}")]
    Kms { op: &'static str, message: String },
    #[error("the signing key is not an ECC_NIST_P256 key: {0}")]
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
    /// [`TokenError`] when KMS fails or the key is not P-256.
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

    /// A signed compact JWT of `claims` (header `ES256`, the key's `kid`).
    ///
    /// # Errors
    /// [`TokenError`] when KMS fails.
    pub async fn sign<C: Serialize>(&self, claims: &C) -> Result<String, TokenError> {
        let kid = &self.public_jwk().await?.kid;
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
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
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| TokenError::Kms {
                op: "Sign",
                message: format!("{}", aws_sdk_kms::error::DisplayErrorContext(&e)),
            })?;
        let der = out
            .signature()
            .ok_or_else(|| TokenError::Key("no signature".into()))?
            .as_ref();
        let raw = raw_signature(der)?;
        Ok(format!("{input}.{}", B64.encode(raw)))
    }
}

/// A KMS ECDSA signature (DER) as JWS wants it: r ‖ s, 32 bytes each.
///
/// # Errors
/// [`TokenError::Key`] for a signature that is not P-256 DER.
pub fn raw_signature(der: &[u8]) -> Result<Vec<u8>, TokenError> {
    let sig = p256::ecdsa::Signature::from_der(der).map_err(|e| TokenError::Key(e.to_string()))?;
    Ok(sig.to_bytes().to_vec())
}

/// The JWK of a SubjectPublicKeyInfo (what `GetPublicKey` returns); `kid` is the first 16
/// bytes of the SHA-256 of the DER, base64url.
///
/// # Errors
/// [`TokenError::Key`] unless it is a P-256 public key.
pub fn jwk_of_spki(der: &[u8]) -> Result<PublicJwk, TokenError> {
    let key =
        p256::PublicKey::from_public_key_der(der).map_err(|e| TokenError::Key(e.to_string()))?;
    let point = p256::EncodedPoint::from(key);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(TokenError::Key("compressed point".into()));
    };
    let kid = B64.encode(&Sha256::digest(der)[..16]);
    Ok(PublicJwk {
        jwk: json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": B64.encode(x), "y": B64.encode(y),
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
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    #[test]
    fn a_der_signature_becomes_r_and_s_and_the_jwk_carries_the_point() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
        let sig: p256::ecdsa::Signature = sk.sign(b"message");
        let raw = raw_signature(sig.to_der().as_bytes()).expect("raw");
        assert_eq!(raw, sig.to_bytes().to_vec());
        let der = p256::PublicKey::from(sk.verifying_key())
            .to_public_key_der()
            .expect("spki");
        let jwk = jwk_of_spki(der.as_bytes()).expect("jwk");
        let point = sk.verifying_key().to_encoded_point(false);
        assert_eq!(jwk.jwk["x"], B64.encode(point.x().expect("x")));
        assert_eq!(jwk.jwk["kid"], jwk.kid);
        assert!(raw_signature(b"not der").is_err());
        assert!(jwk_of_spki(b"not spki").is_err());
    }
}
