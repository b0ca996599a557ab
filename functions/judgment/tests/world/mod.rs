//! The officer API as the judgment tests drive it: the app on a fresh moto table with the
//! template deployed, officers put in the table, requests carrying only the subject claim, and
//! the answers' helpers.
#![allow(dead_code)]

use std::collections::HashMap;

use api::{Req, Resp};
use chrono::{DateTime, Utc};
use domain::{Officer, Role};
use judgment::App;
use outbox::MemoryNoticeQueue;
use serde_json::{Value, json};
use store::roles::*;
use store::{DynamoClueStore, ReportingStore, StoreConfig};

use crate::support::{self, Env, officer};

pub struct World {
    pub env: Env,
    pub app: App<MemoryNoticeQueue>,
    /// Each button press of the console has its own idempotency key.
    pub presses: std::sync::atomic::AtomicU64,
}

impl World {
    pub async fn start() -> Self {
        let env = Env::start().await;
        let app = App {
            store: DynamoClueStore::new(
                env.db.clone(),
                env.kms.clone(),
                StoreConfig::without_reporter_keys(&env.table, &env.pii_key),
            )
            .expect("store"),
            reporting: ReportingStore::new(env.db.clone(), env.table.clone()),
            notices: MemoryNoticeQueue::default(),
            evidence: None,
            exports: None,
        };
        Self {
            env,
            app,
            presses: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub async fn officer(&self, name: &str, bureau: &str, roles: &[Role]) -> Officer {
        let o = officer(name, bureau, roles);
        self.env.store.put_officer(&o).await.expect("officer");
        o
    }

    pub async fn get(&self, o: &Officer, path: &str, now: DateTime<Utc>) -> Resp {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut r = Req::new("GET", path);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            r.query.insert(k.to_owned(), v.to_owned());
        }
        r.claims = claims(o);
        self.app.handle(&r, now).await
    }

    pub async fn post(
        &self,
        o: &Officer,
        path: &str,
        body: Value,
        key: &str,
        now: DateTime<Utc>,
    ) -> Resp {
        let mut r = Req::new("POST", path);
        r.claims = claims(o);
        r.headers
            .insert("content-type".into(), "application/json".into());
        r.headers.insert("idempotency-key".into(), key.into());
        r.body = body.to_string().into_bytes();
        self.app.handle(&r, now).await
    }

    /// The clue's version as the console sees it.
    pub async fn version(&self, o: &Officer, clue: &str, now: DateTime<Utc>) -> u64 {
        let r = self
            .get(o, &format!("/api/officer/clues/{clue}"), now)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json_body()["version"].as_u64().expect("version")
    }

    /// Acts with the version the officer sees now.
    pub async fn act(
        &self,
        o: &Officer,
        clue: &str,
        action: &str,
        mut body: Value,
        now: DateTime<Utc>,
    ) -> Resp {
        body["version"] = json!(self.version(o, clue, now).await);
        let press = self
            .presses
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let key = format!("{clue}-{action}-{}-{press}", o.id);
        self.post(
            o,
            &format!("/api/officer/clues/{clue}/{action}"),
            body,
            &key,
            now,
        )
        .await
    }

    /// The texts of the notices owed on `clue`.
    pub async fn notices(&self, clue: &str) -> Vec<String> {
        let c = self
            .env
            .store
            .clue(&support::cid(clue))
            .await
            .expect("clue");
        c.clue
            .notices
            .iter()
            .map(|n| n.record.text.clone())
            .collect()
    }
}

pub fn claims(o: &Officer) -> HashMap<String, String> {
    HashMap::from([("sub".to_owned(), o.id.as_str().to_owned())])
}

pub fn ok(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    r.json_body()
}

pub fn refused(r: &Resp) -> (u16, String) {
    (r.status, r.error_code().unwrap_or_default())
}
