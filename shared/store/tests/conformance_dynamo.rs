//! The conformance suite against [`store::DynamoClueStore`] on moto with `template.yaml`
//! deployed: every check in turn on one table (one emulator for the suite).

mod conformance;
mod support;

use support::{Env, bounded};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_store_passes_the_conformance_suite() {
    bounded(300, async {
        let env = Env::start().await;
        conformance::all(&env.store).await;
    })
    .await;
}
