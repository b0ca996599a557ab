//! One HTTPS client for every AWS SDK client of the process, its TLS configuration built once,
//! on the first request.
//!
//! The SDK's default gives each service client its own HTTPS client, and each of them builds a
//! rustls configuration from the system's root certificates twice: once when the client is
//! created (`validate_base_client_config`, only so that the certificates are read during init)
//! and again for the connector of its first request; the default credentials chain adds an STS
//! client that does the same. Reading the system certificates (the bundle file and every file
//! of the certificate directory, PEM-decoded) is most of a cold start: measured on the dev
//! machine, 3.7 ms of `judgment`'s 6.2 ms init.
//!
//! Here all clients share one HTTPS client, whose connectors are cached by connection settings
//! (one connector, one TLS configuration and one connection pool for all clients), and the
//! throw-away validation connector is not built: the certificates are read once, by the first
//! request that needs a connection (behind the SDK's own `LazyLock`), not at client creation.
//! A function whose init makes no request (judgment, deadline-sweep) starts without them.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, the system's root
/// certificates, proxy settings from the environment), shared by every client built from
/// the [`crate::aws_config`] result.
pub fn shared_client() -> SharedHttpClient {
    let inner = Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    });
    SharedHttpClient::new(LazyTls { inner })
}

/// The SDK's HTTPS client without its init-time validation, which only builds a throw-away
/// connector to read the certificates early: the connector of the first request reads them.
#[derive(Debug)]
struct LazyTls {
    inner: SharedHttpClient,
}

impl HttpClient for LazyTls {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        _runtime_components: &RuntimeComponentsBuilder,
        _cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        // The inner client's check always succeeds; it exists only to build a connector early.
        Ok(())
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}
