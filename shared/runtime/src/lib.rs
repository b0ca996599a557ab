//! Start-up steps shared by every function binary, so each `main` stays a few lines:
//!
//! ```no_run
//! # async fn f() -> Result<(), lambda_runtime::Error> {
//! runtime::init_tracing();                       // JSON logs as the template's LoggingConfig says
//! let aws = runtime::aws_config().await;         // once per cold start
//! let table = runtime::required_env("TABLE_NAME")?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`init_tracing`]: the runtime's tracing subscriber (honours `AWS_LAMBDA_LOG_FORMAT` / `AWS_LAMBDA_LOG_LEVEL`).
//! - [`aws_config`]: the shared SDK configuration (region, credentials, `AWS_ENDPOINT_URL` for the emulator).
//! - [`https`]: the one HTTPS client every SDK client of the process shares.
//! - `secrets` (feature `secrets`): a Secrets Manager secret's string, with a typed error.
//! - [`required_env`], [`optional_env`], [`ConfigError`]: configuration read once, failing fast with the variable's name.

use std::time::Instant;

pub mod https;
#[cfg(feature = "secrets")]
pub mod secrets;

pub use lambda_runtime;

/// Installs the Lambda runtime's tracing subscriber.
///
/// On Lambda (and under the local host) `LoggingConfig: LogFormat: JSON` in the template sets
/// `AWS_LAMBDA_LOG_FORMAT=JSON`, and the subscriber writes one JSON object per event.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Loads the SDK configuration shared by every client of this process.
///
/// Region and credentials come from the Lambda environment; the standard `AWS_ENDPOINT_URL`
/// points every client at the emulator when running locally. Call once per cold start and build
/// clients from the result (`aws_sdk_dynamodb::Client::new(&config)`).
///
/// Two things keep this cheap (see [`https`] for the figures):
/// - credentials: Lambda puts the function's role credentials in the environment, so when
///   `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set they are read from there and the
///   SDK's default chain (profile files, web identity with its own STS client, ECS, IMDS) is
///   not built; without them (a developer's machine) the default chain is used as before;
/// - one HTTPS client ([`https::shared_client`]) for every SDK client of the process, so the
///   TLS configuration (the system's root certificates) is built once, not once per client.
pub async fn aws_config() -> aws_config::SdkConfig {
    let started = Instant::now();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https::shared_client());
    if optional_env("AWS_ACCESS_KEY_ID").is_some()
        && optional_env("AWS_SECRET_ACCESS_KEY").is_some()
    {
        loader = loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    }
    let config = loader.load().await;
    tracing::debug!(
        elapsed_us = started.elapsed().as_micros() as u64,
        "aws config loaded"
    );
    config
}

/// A configuration variable that is missing or unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be set")]
    Missing(&'static str),
    #[error("{name} is not valid")]
    Invalid {
        name: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The value of `name`, or [`ConfigError::Missing`] naming it.
///
/// # Errors
/// When the variable is unset or empty.
pub fn required_env(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// The value of `name`, if set and not empty.
pub fn optional_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Parses the variable `name` with `FromStr`.
///
/// # Errors
/// [`ConfigError::Missing`] or [`ConfigError::Invalid`] with the parse error as its source.
pub fn parsed_env<T>(name: &'static str) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    required_env(name)?
        .parse()
        .map_err(|e| ConfigError::Invalid {
            name,
            source: Box::new(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let err = required_env("RUNTIME_TEST_SURELY_UNSET").expect_err("unset");
        assert_eq!(err.to_string(), "RUNTIME_TEST_SURELY_UNSET must be set");
    }
}
