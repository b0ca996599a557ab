//! DynamoDB requests counted as the SDK sends them: an interceptor ([`Requests`]) that counts
//! each request by operation (`x-amz-target`) and by the label of the task that sent it
//! ([`labelled`]), and a client on the emulator with it ([`Requests::client`]). Tests use it to
//! prove what a call costs, or that something (unsigned junk) made no request at all.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_dynamodb::error::BoxError;

tokio::task_local! {
    static LABEL: &'static str;
}

/// The label of requests sent outside [`labelled`].
pub const UNLABELLED: &str = "-";

/// Runs `f` with its DynamoDB requests counted under `label` (see [`Requests::by_label`]).
pub async fn labelled<F: Future>(label: &'static str, f: F) -> F::Output {
    LABEL.scope(label, f).await
}

#[derive(Debug, Default)]
struct Counts {
    by_operation: BTreeMap<String, u64>,
    by_label: BTreeMap<&'static str, u64>,
}

/// Counts DynamoDB requests; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct Requests(Arc<Mutex<Counts>>);

impl Requests {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The requests by operation since the last take (and resets both counts).
    pub fn take(&self) -> BTreeMap<String, u64> {
        self.with(|c| {
            c.by_label.clear();
            std::mem::take(&mut c.by_operation)
        })
    }

    /// The requests by the label of the task that sent them, since the last take.
    pub fn by_label(&self) -> BTreeMap<&'static str, u64> {
        self.with(|c| c.by_label.clone())
    }

    /// A DynamoDB client on the emulator at `endpoint` whose requests this counts.
    pub fn client(&self, endpoint: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
                .interceptor(self.clone())
                .build(),
        )
    }
}

impl Intercept for Requests {
    fn name(&self) -> &'static str {
        "test request counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?")
            .to_owned();
        let label = LABEL.try_with(|l| *l).unwrap_or(UNLABELLED);
        self.with(|c| {
            *c.by_operation.entry(op).or_default() += 1;
            *c.by_label.entry(label).or_default() += 1;
        });
        Ok(())
    }
}
