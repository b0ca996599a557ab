//! Reading a Secrets Manager secret's string (feature `secrets`): the one call the functions
//! that hold credentials make, with a typed error.

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading secret {arn} failed")]
    Read {
        arn: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {arn} holds no string")]
    NoString { arn: String },
}

/// The `SecretString` of the secret `arn`.
///
/// # Errors
/// [`SecretError::Read`] when Secrets Manager fails; [`SecretError::NoString`] for a binary
/// secret.
pub async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<String, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Read {
            arn: arn.to_owned(),
            source: Box::new(e),
        })?;
    out.secret_string.ok_or_else(|| SecretError::NoString {
        arn: arn.to_owned(),
    })
}
