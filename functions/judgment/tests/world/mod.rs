//! The officer API as the judgment tests drive it: the app on the store's in-memory twin
//! ([`World::twin`]) or, for what needs the table itself (raw items, the reporting side table,
//! the evidence bucket), on a fresh moto with the template deployed ([`World::on_table`]);
//! officers put in the store, requests carrying only the subject claim, and the answers'
//! helpers.
#![allow(dead_code)]

use std::collections::HashMap;

use api::{Req, Resp};
use chrono::{DateTime, Utc};
use domain::{Officer, Role};
use judgment::App;
use outbox::MemoryNoticeQueue;
use serde_json::{Value, json};
use store::roles::*;
use store::{DynamoClueStore, InMemoryClueStore};

use crate::support::{self, Env, officer};

/// The app and the store it runs on.
pub struct World<S = InMemoryClueStore> {
    pub app: App<S, MemoryNoticeQueue>,
    /// The moto stack of a world on the table.
    env: Option<Env>,
    /// Each button press of the console has its own idempotency key.
    pub presses: std::sync::atomic::AtomicU64,
}

impl World<InMemoryClueStore> {
    /// The app on the in-memory twin. It has no reporting side table (the routes that block
    /// reporters or list surges answer 503): those are tested on [`World::on_table`].
    pub async fn twin() -> Self {
        Self::with(
            App::new(support::twin().await, MemoryNoticeQueue::default()),
            None,
        )
    }

    /// Receives clue `clue` from reporter `n` at `division` (a county of the fixtures).
    pub async fn receive(
        &self,
        clue: &str,
        n: u32,
        division: &str,
        now: DateTime<Utc>,
    ) -> store::Received {
        support::receive_on(self.store(), clue, n, division, now).await
    }
}

impl World<DynamoClueStore> {
    /// The app on a fresh moto table (as the officer API builds its store).
    pub async fn on_table() -> Self {
        let env = Env::start().await;
        let app = App::new(env.officer_store(), MemoryNoticeQueue::default())
            .with_reporting(env.reporting());
        Self::with(app, Some(env))
    }

    /// The moto stack.
    pub fn env(&self) -> &Env {
        self.env.as_ref().expect("a world on the table")
    }

    /// Receives clue `clue` from reporter `n` at `division` through the keyed store of the
    /// stack (the officer API's own store holds no reporter keys).
    pub async fn receive(
        &self,
        clue: &str,
        n: u32,
        division: &str,
        now: DateTime<Utc>,
    ) -> store::Received {
        self.env().receive(clue, n, division, now).await
    }
}

impl<S: ClueStore> World<S> {
    fn with(app: App<S, MemoryNoticeQueue>, env: Option<Env>) -> Self {
        Self {
            app,
            env,
            presses: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The store the app runs on.
    pub fn store(&self) -> &S {
        &self.app.store
    }

    pub async fn officer(&self, name: &str, bureau: &str, roles: &[Role]) -> Officer {
        let o = officer(name, bureau, roles);
        self.store().put_officer(&o).await.expect("officer");
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
        let c = self.store().clue(&support::cid(clue)).await.expect("clue");
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
